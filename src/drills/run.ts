import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ExitError } from '../errors.ts';
import type { StateDir } from '../runtime/state.ts';
import type { Topology } from '../topology/topology.ts';
import { DrillContext } from './context.ts';
import type { DrillOutcome, DrillScenario } from './drill.ts';
import { alertmanagerDataLost } from './scenarios/alertmanager-data-lost.ts';
import { alertmanagerKilled } from './scenarios/alertmanager-killed.ts';
import { alertmanagerPartitioned } from './scenarios/alertmanager-partitioned.ts';
import { federatorKilled } from './scenarios/federator-killed.ts';
import { pushgatewayHostLost } from './scenarios/pushgateway-host-lost.ts';
import { scraperKilled } from './scenarios/scraper-killed.ts';
import { scraperSetDown } from './scenarios/scraper-set-down.ts';
import type { ReleaseName } from '../release/release.ts';
import { vipMovedGatewayAlive } from './scenarios/vip-moved-gateway-alive.ts';

export const SCENARIOS: readonly DrillScenario[] = [
  scraperKilled,
  pushgatewayHostLost,
  vipMovedGatewayAlive,
  federatorKilled,
  scraperSetDown,
  alertmanagerKilled,
  alertmanagerDataLost,
  alertmanagerPartitioned,
];

/** How long a drill waits for the last episode to close before it starts anyway. */
const SETTLE_MS = 120_000;

export function selectScenarios(names: readonly string[]): DrillScenario[] {
  if (names.length === 0) return [...SCENARIOS];
  return names.map((n) => {
    const s = SCENARIOS.find((x) => x.name === n);
    if (!s) throw new ExitError(2, `unknown scenario "${n}"; scenarios: ${SCENARIOS.map((x) => x.name).join(', ')}`);
    return s;
  });
}

/** Runs scenarios one after the other on the running stack; each restores what it broke. */
/** `release`: the release the stack must run; a stack of another one is refused before any fault. */
export async function runDrills(
  topology: Topology,
  stateDir: StateDir,
  scenarios: readonly DrillScenario[],
  progress: (line: string) => void = () => {},
  release?: ReleaseName,
): Promise<DrillOutcome[]> {
  const ctx = await DrillContext.open(topology, stateDir);
  const running = ctx.state.release ?? 'bookworm';
  if (release && release !== running)
    throw new ExitError(2, `the stack in ${stateDir.root} runs ${running}, not ${release}\n    fix: \`promha down\`, then \`promha up --release ${release}\``);
  const outcomes: DrillOutcome[] = [];
  for (const s of scenarios) {
    if (!s.modes.includes(ctx.state.mode)) {
      progress(`skip   ${s.name}: ${ctx.state.mode} mode does not apply`);
      continue;
    }
    progress(`drill  ${s.name}: ${s.title}`);
    const settleStart = Date.now();
    const open = await ctx.settle(SETTLE_MS);
    if (open !== undefined) progress(`       alerts of an earlier episode are still open after ${SETTLE_MS / 1000} s (${open}); the drill may see them`);
    else if (Date.now() - settleStart > 1000) progress(`       waited ${((Date.now() - settleStart) / 1000).toFixed(1)} s for the last episode to close`);
    const startedAt = new Date();
    const { expectations, measurements } = await s.run(ctx);
    const outcome: DrillOutcome = {
      scenario: s.name,
      title: s.title,
      mode: ctx.state.mode,
      release: running,
      versions: { ...ctx.state.versions },
      ok: expectations.every((e) => e.ok),
      expectations,
      measurements,
      startedAt: startedAt.toISOString(),
      seconds: (Date.now() - startedAt.getTime()) / 1000,
    };
    outcomes.push(outcome);
    await saveLatest(stateDir, outcomes);
  }
  return outcomes;
}

/** The latest results, for the report and the dashboard. */
async function saveLatest(stateDir: StateDir, outcomes: readonly DrillOutcome[]): Promise<void> {
  const dir = path.join(stateDir.absoluteRoot, 'drills');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'latest.json'), `${JSON.stringify(outcomes, null, 2)}\n`);
}
