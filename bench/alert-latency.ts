// End-to-end alert latency: a value changed at a demo exporter → the firing notification
// at the receiver, healthy, with one member of each set down, and with the backup
// Alertmanager at peer position 0.
import { setTimeout as sleep } from 'node:timers/promises';
import { openAlerts } from '../src/demo/notifications.ts';
import { DrillContext } from '../src/drills/context.ts';
import { Duration } from '../src/duration.ts';
import { AlertmanagerClient, ownPeerPosition } from '../src/probe/alertmanager.ts';
import { FAST_RULES, fastTopology } from '../test/helpers.ts';
import { withStack } from './stack.ts';
import type { ReleaseName } from '../src/release/release.ts';
import { expectedLatency, latencyFloor, median, p95 } from './stats.ts';

export type LatencyCondition = 'healthy' | 'one-member-down' | 'backup-at-position-0';

export interface LatencyResult {
  readonly condition: LatencyCondition;
  readonly trials: number;
  /** Seconds from the fault to the firing notification, per trial that got one. */
  readonly seconds: readonly number[];
  readonly missed: number;
  readonly median: number;
  readonly p95: number;
  readonly floor: number;
  readonly expected: number;
  /** median / floor. */
  readonly ratio: number;
}

const ALERT = 'PromhaDemoValueHigh';
/** Enough groups that each one rests between its trials (see REST_MS) without the bench waiting long. */
const GROUPS = Array.from({ length: 8 }, (_, i) => `demo${i + 1}`);
/**
 * Alertmanager 0.25 removes an empty aggregation group only at its maintenance, every
 * 30 s. An alert that fires again before then joins the old group and waits for its next
 * group_interval tick instead of group_wait (measured: up to 10 s at group_interval 10 s).
 * Each trial therefore starts 31 s or more after the group's last resolved notification.
 */
const REST_MS = 31_000;

/** fastTopology with eight exporter groups over the two scraper sets, each group its own Alertmanager group. */
export function latencyTopology(): Record<string, unknown> {
  const base = fastTopology();
  const am = base['alertmanagers'] as Record<string, any>;
  const scrapers = base['scrapers'] as Array<Record<string, any>>;
  return {
    ...base,
    exporters: GROUPS.map((g, i) => ({ name: g, targets: [`127.0.0.${101 + i}:9100`] })),
    scrapers: scrapers.map((s, i) => ({ ...s, exporters: GROUPS.filter((_, g) => g % 2 === i) })),
    alertmanagers: { ...am, route: { ...am['route'], group_by: ['alertname', 'group'] } },
  };
}

/** One trial: waits until the group's last episode has closed at the receiver, then changes its value and times the notification. */
async function trial(ctx: DrillContext, group: string): Promise<number | undefined> {
  const isOurs = (l: Readonly<Record<string, string>>) => l['alertname'] === ALERT && l['group'] === group;
  await ctx.waitFor(async () => !openAlerts(await ctx.alertsSince(new Date(0))).some(isOurs), 60_000);
  const lastResolved = (await ctx.alertsSince(new Date(0))).filter((a) => a.status === 'resolved' && isOurs(a.labels)).at(-1);
  if (lastResolved) await sleep(Math.max(0, new Date(lastResolved.receivedAt).getTime() + REST_MS - Date.now()));
  const t0 = new Date();
  await ctx.fault('exporter', group, { value: 1 });
  let seconds: number | undefined;
  await ctx.waitFor(async () => {
    const hit = (await ctx.alertsSince(t0)).find((a) => a.status === 'firing' && isOurs(a.labels));
    if (hit) seconds = (new Date(hit.receivedAt).getTime() - t0.getTime()) / 1000;
    return hit !== undefined;
  }, 60_000);
  await ctx.fault('exporter', group, { value: 0 });
  return seconds;
}

async function measure(ctx: DrillContext, condition: LatencyCondition, trials: number, progress: (l: string) => void): Promise<LatencyResult> {
  const seconds: number[] = [];
  for (let i = 0; i < trials; i++) {
    const s = await trial(ctx, GROUPS[i % GROUPS.length] as string);
    if (s !== undefined) seconds.push(s);
    progress(`latency ${condition} ${i + 1}/${trials}: ${s === undefined ? 'no notification' : `${s.toFixed(2)} s`}`);
    // Three misses and no hit: the pipeline is broken, more trials would only wait.
    if (seconds.length === 0 && i >= 2) break;
  }
  const route = ctx.spec.alertmanagers.route as { group_wait?: string };
  const intervals = { ...ctx.spec.intervals, groupWait: Duration.parse(route.group_wait ?? '30s') };
  const floor = latencyFloor(intervals);
  return { condition, trials, seconds, missed: trials - seconds.length, median: median(seconds), p95: p95(seconds), floor, expected: expectedLatency(intervals), ratio: median(seconds) / floor };
}

const am = (ctx: DrillContext, m: string) => new AlertmanagerClient(`http://${ctx.address(m)}`);

/** Whether every live Alertmanager member sees `size` peers, ready. */
async function clusterOf(ctx: DrillContext, members: readonly string[], size: number): Promise<boolean> {
  const all = await Promise.all(members.map(async (m) => (await am(ctx, m).status()).cluster));
  return all.every((c) => c.status === 'ready' && c.peers.length === size);
}

/** Stops one member of every set, waits until the Alertmanagers have dropped the dead peer, measures, and restores. */
async function oneMemberDown(ctx: DrillContext, trials: number, progress: (l: string) => void): Promise<LatencyResult> {
  const s = ctx.spec;
  const victims = [...s.scrapers, ...s.pushgateways, s.federators].map((set) => set.members[0]?.name as string);
  const amVictim = s.alertmanagers.members[0]?.name as string;
  const survivors = [...s.alertmanagers.members.slice(1).map((m) => m.name), s.alertmanagers.backup.name];
  for (const v of [...victims, amVictim]) await ctx.kill(v);
  const dropped = await ctx.waitFor(() => clusterOf(ctx, survivors, survivors.length), 120_000);
  progress(`latency one-member-down: stopped ${[...victims, amVictim].join(', ')}; the Alertmanagers dropped the dead peer after ${dropped?.toFixed(1) ?? 'never (120 s)'} s`);
  try {
    return await measure(ctx, 'one-member-down', trials, progress);
  } finally {
    for (const v of [...victims, amVictim]) await ctx.start(v);
    await sleep(2000);
    await ctx.restartBackup(120_000);
    await ctx.waitFor(async () => (await ctx.prometheus(s.federators.members[1]?.name as string).targets()).every((t) => t.health === 'up'), 60_000);
  }
}

/** Restarts the Alertmanagers backup first, so that it holds position 0, measures, and restores the order. */
async function backupFirst(ctx: DrillContext, trials: number, progress: (l: string) => void): Promise<LatencyResult> {
  const a = ctx.spec.alertmanagers;
  const all = [...a.members.map((m) => m.name), a.backup.name];
  for (const m of all) await ctx.kill(m);
  await ctx.start(a.backup.name);
  // Peer names are ULIDs: whoever starts first sorts first.
  await sleep(1500);
  for (const m of a.members) await ctx.start(m.name);
  const ready = await ctx.waitFor(async () => (await clusterOf(ctx, all, all.length)) && ownPeerPosition(await am(ctx, a.backup.name).status()) === 0, 120_000);
  progress(`latency backup-at-position-0: backup at position 0 after ${ready?.toFixed(1) ?? 'never (120 s)'} s`);
  try {
    return await measure(ctx, 'backup-at-position-0', trials, progress);
  } finally {
    await ctx.restartBackup(120_000);
  }
}

export async function alertLatency(o: { trials: number; progress: (l: string) => void; release?: ReleaseName }): Promise<LatencyResult[]> {
  return withStack({ 'promha.yaml': latencyTopology(), 'rules/demo.yml': FAST_RULES }, 'loopback', async (stack) => {
    o.progress(`latency stack up in ${stack.upSeconds.toFixed(1)} s (loopback, 1 s profile)`);
    const ctx = await DrillContext.open(stack.topology, stack.stateDir);
    const results = [await measure(ctx, 'healthy', o.trials, o.progress)];
    results.push(await oneMemberDown(ctx, o.trials, o.progress));
    results.push(await backupFirst(ctx, o.trials, o.progress));
    return results;
  }, o.release);
}
