/**
 * `promha drill chaos`: a seeded campaign of random faults on the running stack under a
 * steady alert load, the HA promises judged throughout; `--replay` runs a recorded
 * schedule again, `--shrink` drops faults while a violation still occurs.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as z from 'zod';
import { campaignTargets, chaosMembers, runCampaign, type CampaignReport, type ChaosStatus, type Violation } from '../chaos/campaign.ts';
import { markdownCampaign } from '../chaos/report.ts';
import { CHAOS_FAULTS, faultCountProblem, firstLines, isChaosFault, replaySchedule, type ChaosFault, type ChaosFaultKind, type RecordedFault, type ScheduleBounds } from '../chaos/schedule.ts';
import { Duration } from '../duration.ts';
import { ExitError } from '../errors.ts';
import type { StateDir } from '../runtime/state.ts';
import { readInputFile, UnreadableInput } from '../topology/input-file.ts';
import type { Topology } from '../topology/topology.ts';

export interface ChaosCommandOptions {
  readonly duration?: string;
  readonly seed?: string;
  readonly faults?: string;
  readonly maxConcurrent?: string;
  readonly replay?: string;
  readonly shrink?: boolean;
}

export interface ChaosSettings {
  readonly seed: number;
  readonly durationMs: number;
  readonly faults: readonly ChaosFaultKind[];
  readonly maxConcurrent: number;
  readonly replay?: readonly ChaosFault[];
}

/*
 * A replay file is input like the topology: read through the bounded reader (a FIFO or
 * a device is refused, the size is bounded), then checked against the running stack
 * (replaySchedule): a replayed schedule may do nothing a generated one could not.
 */

/** The envelope of a report; its schedule is checked fault by fault after the count bound. */
const replaySchema = z.object({
  seed: z.number().int().nonnegative(),
  // As --duration: a campaign of less than a minute judges nothing.
  durationMs: z.number().int().min(60_000, 'a campaign lasts at least 1m (60000 ms)'),
  maxConcurrent: z.number().int().positive(),
  faults: z.array(z.enum(CHAOS_FAULTS)),
  mode: z.enum(['loopback', 'netns']),
  schedule: z.array(z.unknown()),
});
const faultSchema = z.object({
  id: z.number().int().positive(),
  kind: z.enum(CHAOS_FAULTS),
  // Names are at most 63 characters; a longer target is no target, and is shown cut.
  target: z.string().min(1).max(256),
  set: z.string().max(256).optional(),
  at: z.number().nonnegative(),
  durationMs: z.number().positive(),
});

/** What a replayed schedule is checked against: the stack's members, groups, sets and mode. */
export type ChaosStack = Omit<ScheduleBounds, 'maxConcurrent' | 'durationMs'>;

const zodLine = (prefix: string, i: z.core.$ZodIssue) => `${prefix}${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || '(top)'}: ${i.message}`;
const REPLAY_FIX = 'pass the JSON report a campaign wrote (its state directory\'s chaos/latest.json, or --json output)';

/** The recorded campaign in `file`, checked against `stack`; exit 2 with at most 20 problem lines. */
async function replaySettings(file: string, stack: ChaosStack): Promise<ChaosSettings> {
  const fail = (what: string, lines: readonly string[], fix: string): never => {
    throw new ExitError(2, `--replay ${file}: ${what}${firstLines(lines).map((l) => `\n    ${l}`).join('')}\n    fix: ${fix}`);
  };
  let data: unknown;
  try {
    data = JSON.parse(await readInputFile(file));
  } catch (e) {
    // The errno code helps with a path that cannot be opened; promha's own codes say nothing more.
    if (e instanceof UnreadableInput) return fail(e.code.startsWith('E') && e.code !== 'ENOTFILE' && e.code !== 'EFBIG' ? `${e.message} (${e.code})` : e.message, [], e.code === 'ENOTFILE' ? `name a regular file: ${REPLAY_FIX}` : REPLAY_FIX);
    // V8 quotes a piece of the text: keep the message on one line.
    return fail(`not JSON: ${(e as Error).message.replace(/\s+/g, ' ')}`, [], REPLAY_FIX);
  }
  const r = replaySchema.safeParse(data);
  if (!r.success) return fail('not a chaos report:', r.error.issues.map((i) => zodLine('', i)), REPLAY_FIX);
  if (r.data.mode !== stack.mode) return fail(`recorded in ${r.data.mode} mode; the stack runs in ${stack.mode} mode`, [], `\`promha up --network ${r.data.mode}\``);
  const bounds: ScheduleBounds = { ...stack, maxConcurrent: r.data.maxConcurrent, durationMs: r.data.durationMs };
  // The count first: no work per fault for a schedule that cannot be one.
  const tooMany = faultCountProblem(r.data.schedule.length, r.data.durationMs);
  if (tooMany) return fail("the schedule breaks the campaign's bounds:", [tooMany], 'replay a report promha wrote, or shorten the schedule');
  const recorded: RecordedFault[] = [];
  const malformed: string[] = [];
  r.data.schedule.forEach((raw, i) => {
    const f = faultSchema.safeParse(raw);
    if (f.success) recorded.push(f.data);
    else malformed.push(...f.error.issues.map((x) => zodLine(`schedule[${i}].`, x)));
  });
  if (malformed.length) return fail('not a chaos report:', malformed, REPLAY_FIX);
  const { schedule, problems } = replaySchedule(recorded, bounds);
  if (problems.length) return fail("the schedule breaks the campaign's bounds:", problems, 'replay the report on the stack it was recorded on (same topology and mode), or edit the faults named');
  return { seed: r.data.seed, durationMs: r.data.durationMs, faults: r.data.faults, maxConcurrent: r.data.maxConcurrent, replay: schedule };
}

/** The campaign's settings from the command line, or from a recorded report with --replay. */
export async function chaosSettings(o: ChaosCommandOptions, stack: ChaosStack): Promise<ChaosSettings> {
  if (o.replay) return replaySettings(o.replay, stack);
  const duration = Duration.tryParse(o.duration ?? '10m');
  if (!duration || duration.ms < 60_000) throw new ExitError(2, `--duration wants a Prometheus duration of at least 1m, got "${o.duration}"`);
  const seed = o.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(o.seed);
  if (!Number.isInteger(seed) || seed < 0) throw new ExitError(2, `--seed wants a non-negative integer, got "${o.seed}"`);
  const maxConcurrent = Number(o.maxConcurrent ?? '2');
  if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1) throw new ExitError(2, `--max-concurrent wants a positive integer, got "${o.maxConcurrent}"`);
  const faults = o.faults === undefined ? [...CHAOS_FAULTS] : o.faults.split(',').map((s) => s.trim());
  const unknown = faults.filter((f) => !isChaosFault(f));
  if (unknown.length || faults.length === 0) throw new ExitError(2, `--faults: unknown fault(s) ${unknown.join(', ') || '(none given)'}\n    fix: choose from ${CHAOS_FAULTS.join(', ')}`);
  return { seed, durationMs: duration.ms, faults: faults as ChaosFaultKind[], maxConcurrent };
}

/** Where the last campaign's report is kept, for --replay and the dashboard. */
export const chaosDir = (stateDir: StateDir) => path.join(stateDir.root, 'chaos');
export const CHAOS_STATUS_FILE = 'status.json';

/** The campaign's state for the dashboard, replaced whole so that a reader never sees half of it. */
async function writeStatus(stateDir: StateDir, status: ChaosStatus): Promise<void> {
  await mkdir(chaosDir(stateDir), { recursive: true });
  const file = path.join(chaosDir(stateDir), CHAOS_STATUS_FILE);
  await writeFile(`${file}.tmp`, JSON.stringify(status));
  await rename(`${file}.tmp`, file);
}

export async function saveCampaign(stateDir: StateDir, report: CampaignReport, markdownFile?: string): Promise<string> {
  await mkdir(chaosDir(stateDir), { recursive: true });
  const file = path.join(chaosDir(stateDir), 'latest.json');
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  if (markdownFile) await writeFile(markdownFile, markdownCampaign(report));
  return file;
}

const sameKinds = (a: readonly Violation[], b: readonly Violation[]) => b.some((v) => a.some((w) => w.kind === v.kind));

/**
 * Drops faults while a violation of a kind the campaign found still occurs: first every
 * fault not active around a violation, in one run, then the others one at a time. Each
 * try is a campaign ending shortly after the last violation it must reproduce.
 */
export async function shrinkCampaign(report: CampaignReport, run: (schedule: readonly ChaosFault[], durationMs: number) => Promise<CampaignReport>, say: (l: string) => void): Promise<CampaignReport> {
  let best = report;
  const lastAt = Math.max(...report.violations.map((v) => v.at));
  const durationMs = Math.min(report.durationMs, lastAt + 120_000);
  const tryWith = async (schedule: readonly ChaosFault[], why: string) => {
    say(`shrink ${why}: ${schedule.length} fault(s), ${(durationMs / 1000).toFixed(0)} s`);
    const r = await run(schedule, durationMs);
    if (r.violations.length > 0 && sameKinds(report.violations, r.violations)) {
      say(`shrink   still fails (${r.violations.map((v) => v.kind).join(', ')})`);
      best = r;
      return true;
    }
    say('shrink   passes: the fault stays');
    return false;
  };
  const around = new Set(report.violations.flatMap((v) => v.faults));
  const within = report.schedule.filter((f) => f.at + f.durationMs <= durationMs);
  const core = within.filter((f) => around.has(f.id));
  if (core.length < within.length) await tryWith(core, 'only the faults around the violations');
  // Down to no fault at all: a violation that still occurs then is the components' own.
  for (const f of [...best.schedule]) {
    await tryWith(best.schedule.filter((x) => x.id !== f.id), `without #${f.id} ${f.kind} ${f.target}`);
  }
  return best;
}

export async function runChaos(topology: Topology, stateDir: StateDir, o: ChaosCommandOptions, say: (l: string) => void): Promise<CampaignReport> {
  const state = await stateDir.read();
  if (!state?.readyAt) throw new ExitError(2, `no running stack in ${stateDir.root}: \`promha up --detach\` first`);
  const s = await chaosSettings(o, campaignTargets(topology.spec, state.mode, chaosMembers(state.nodes)));
  const campaign = (replay: readonly ChaosFault[] | undefined, durationMs: number) =>
    runCampaign({ topology, stateDir, seed: s.seed, durationMs, faults: s.faults, maxConcurrent: s.maxConcurrent, ...(replay ? { replay } : {}), progress: say, status: (st) => writeStatus(stateDir, st) });
  let report = await campaign(s.replay, s.durationMs);
  if (o.shrink && report.violations.length > 0) {
    await saveCampaign(stateDir, report);
    report = await shrinkCampaign(report, (schedule, durationMs) => campaign(schedule, durationMs), say);
  }
  return report;
}
