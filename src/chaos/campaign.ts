// A chaos campaign on the running stack: the faults of a schedule injected and healed on
// time while the steady alert load runs, then the HA promises judged over the whole run,
// each violation with the faults around it.
import { mkdir, rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { Duration } from '../duration.ts';
import { evaluate } from '../doctor/doctor.ts';
import { observe } from '../doctor/observe.ts';
import { resolveTarget } from '../doctor/target.ts';
import { AlertLoad, type LoadResult } from '../drills/alert-load.ts';
import { DrillContext, missingIntervals } from '../drills/context.ts';
import type { AlertEpisode } from '../drills/episodes.ts';
import { alertValidity, peerTimeout, scraperScrapeTimeout, vipFailoverTime } from '../plan/derived.ts';
import type { NetworkMode } from '../runtime/local-topology.ts';
import type { TopologySpec } from '../topology/schema.ts';
import type { StateDir } from '../runtime/state.ts';
import type { Topology } from '../topology/topology.ts';
import { chaosSchedule, type ChaosFault, type ChaosFaultKind, type ChaosMember, type ScheduleOptions } from './schedule.ts';
import { stateRelease } from '../runtime/binaries.ts';

export interface CampaignOptions {
  readonly topology: Topology;
  readonly stateDir: StateDir;
  readonly seed: number;
  readonly durationMs: number;
  readonly faults: readonly ChaosFaultKind[];
  readonly maxConcurrent: number;
  /** A recorded schedule to run instead of the seed's. */
  readonly replay?: readonly ChaosFault[];
  readonly progress?: (line: string) => void;
  /** Told the campaign's state at each fault and at the end: the dashboard shows it. */
  readonly status?: (s: ChaosStatus) => Promise<void>;
}

/** A campaign as the dashboard shows it, while it runs and after. */
export interface ChaosStatus {
  readonly running: boolean;
  readonly seed: number;
  readonly mode: string;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly scheduled: number;
  readonly injected: number;
  readonly active: ReadonlyArray<{ readonly id: number; readonly kind: ChaosFaultKind; readonly target: string; readonly since: number }>;
  /** Known once the campaign is judged. */
  readonly episodes?: number;
  readonly violations?: number;
}

export type ViolationKind = 'missed' | 'duplicate' | 'flap' | 'push-lost' | 'sample-gap' | 'doctor';

export interface Violation {
  readonly kind: ViolationKind;
  /** From the campaign's start, ms. */
  readonly at: number;
  readonly detail: string;
  /** The faults active within a notify bound before it. */
  readonly faults: readonly number[];
}

/** A fault as it ran: when it began and healed, from the campaign's start. */
export interface InjectedFault extends ChaosFault {
  readonly startedAt: number;
  readonly healedAt?: number;
  readonly error?: string;
}

export interface CampaignReport {
  readonly seed: number;
  readonly mode: string;
  readonly release: string;
  readonly durationMs: number;
  readonly maxConcurrent: number;
  readonly faults: readonly ChaosFaultKind[];
  readonly startedAt: string;
  readonly schedule: readonly ChaosFault[];
  readonly injected: readonly InjectedFault[];
  readonly episodes: number;
  readonly latency: LoadResult['latency'];
  readonly latencies: readonly number[];
  /** Duplicates while an Alertmanager partition lasted: at-least-once delivery, counted apart. */
  readonly partitionDuplicates: number;
  readonly violations: readonly Violation[];
}

/**
 * The members a fault can hit: every member of the topology, but not the demo workload
 * and not the loopback stand-in of a VIP (one HAProxy per set: the VIP itself, which a
 * real deployment does not lose with one host).
 */
export function chaosMembers(nodes: ReadonlyArray<{ readonly name: string; readonly role: string; readonly set: string; readonly backup: boolean }>): ChaosMember[] {
  return nodes.filter((n) => n.role !== 'demo' && n.role !== 'vip').map((n) => ({ name: n.name, role: n.role as ChaosMember['role'], set: n.set, backup: n.backup }));
}

/**
 * How much later than on a healthy stack an episode may be notified while a fault is
 * active: an Alertmanager down or cut off costs its gossip settling (about 20 s) and the
 * peers' waits, a moved VIP its failover and two pushes, a paused member its pause, any
 * other fault two scrapes and two federate scrapes.
 */
function stretch(f: ChaosFault, ctx: DrillContext): number {
  const spec = ctx.spec;
  const member = ctx.state.nodes.find((n) => n.name === f.target);
  const am = member?.role === 'alertmanager' || f.kind === 'am-partition' || f.kind === 'am-data-lost';
  const gateway = f.kind === 'vip-move' || member?.role === 'pushgateway';
  let ms = spec.intervals.scrape.plus(spec.intervals.federate).times(2).ms;
  if (am) ms = Math.max(ms, 20_000 + peerTimeout(spec).times(spec.alertmanagers.members.length).ms);
  if (gateway) ms = Math.max(ms, vipFailoverTime(Duration.max(Duration.seconds(1), ...spec.pushgateways.map((s) => s.vip.advert_int))).plus(spec.intervals.push.times(2)).ms);
  if (f.kind === 'pause') ms += f.durationMs;
  return ms;
}

/**
 * The schedule of a campaign on a stack: every member a target, an Alertmanager kept
 * deaf to the federators no longer than half the alerts' validity (longer, it lets them
 * expire and notifies them resolved once back: README, Chaos campaigns).
 */
export function campaignSchedule(spec: TopologySpec, mode: NetworkMode, members: readonly ChaosMember[], s: Pick<CampaignOptions, 'seed' | 'durationMs' | 'faults' | 'maxConcurrent'>): ChaosFault[] {
  return chaosSchedule({ seed: s.seed, durationMs: s.durationMs, faults: s.faults, maxConcurrent: s.maxConcurrent, ...campaignTargets(spec, mode, members) });
}

/** What a campaign's faults may hit on a stack, and for how long an Alertmanager: a replayed schedule is held to the same. */
export function campaignTargets(spec: TopologySpec, mode: NetworkMode, members: readonly ChaosMember[]): Pick<ScheduleOptions, 'mode' | 'members' | 'exporterGroups' | 'pushgatewaySets' | 'alertmanagerDeafMaxMs'> {
  return {
    mode,
    members,
    exporterGroups: spec.exporters.map((g) => g.name),
    pushgatewaySets: spec.pushgateways.map((x) => x.name),
    alertmanagerDeafMaxMs: alertValidity(spec).times(0.5).ms,
  };
}

export async function runCampaign(o: CampaignOptions): Promise<CampaignReport> {
  const say = o.progress ?? (() => {});
  const ctx = await DrillContext.open(o.topology, o.stateDir);
  const spec = ctx.spec;
  const schedule = o.replay ?? campaignSchedule(spec, ctx.state.mode, chaosMembers(ctx.state.nodes), o);
  say(`chaos  ${schedule.length} fault(s) over ${(o.durationMs / 1000).toFixed(0)} s, at most ${o.maxConcurrent} at once, seed ${o.seed}`);
  const open = await ctx.settle(120_000);
  if (open !== undefined) say(`       alerts of an earlier episode are still open (${open}); the campaign may see them`);
  const load = await AlertLoad.start(ctx, { seed: o.seed });
  const t0 = Date.now();
  const injected: InjectedFault[] = [];
  const active = new Map<number, { id: number; kind: ChaosFaultKind; target: string; since: number }>();
  const base = { seed: o.seed, mode: ctx.state.mode, startedAt: new Date(t0).toISOString(), durationMs: o.durationMs, scheduled: schedule.length };
  // One write at a time, each with the state of its moment.
  let told: Promise<void> = Promise.resolve();
  const tell = (extra: Partial<ChaosStatus> = {}) => {
    const now: ChaosStatus = { ...base, running: true, injected: injected.length + active.size, active: [...active.values()], ...extra };
    told = told.then(() => o.status?.(now)).catch(() => {});
    return told;
  };
  await tell();
  const partitions: Array<{ from: number; to: number }> = [];
  // Interrupted (Ctrl-C), the campaign heals what it broke before it exits: a paused
  // member would otherwise stay stopped.
  const healers = new Map<number, () => Promise<void>>();
  const interrupted = () => {
    say(`chaos  interrupted: healing ${healers.size} active fault(s)`);
    void Promise.allSettled([...healers.values()].map((h) => h()))
      .then(() => o.status?.({ ...base, running: false, injected: injected.length, active: [] }))
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    return await judgedCampaign();
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
  }

  async function judgedCampaign(): Promise<CampaignReport> {
    // A heal can outlast its planned end (a restarted Alertmanager waits for its cluster):
    // a fault waits until its set has healed and fewer than K faults are active, so that
    // the topology never takes more than the schedule promised.
    const busySets = new Set<string>();
    const runs = schedule.map(async (f) => {
      await sleep(Math.max(0, t0 + f.at - Date.now()));
      while (busySets.has(f.set) || active.size >= o.maxConcurrent) await sleep(100);
      busySets.add(f.set);
      const startedAt = Date.now() - t0;
      const endsAt = t0 + startedAt + f.durationMs;
      say(`+${(startedAt / 1000).toFixed(1).padStart(6)} s  #${f.id} ${f.kind} ${f.target} for ${(f.durationMs / 1000).toFixed(1)} s`);
      let heal: (() => Promise<void>) | undefined;
      let error: string | undefined;
      active.set(f.id, { id: f.id, kind: f.kind, target: f.target, since: startedAt });
      void tell();
      try {
        heal = await inject(ctx, f);
        healers.set(f.id, heal);
      } catch (e) {
        error = (e as Error).message;
        say(`         #${f.id} could not be injected: ${error}`);
      }
      await sleep(Math.max(0, endsAt - Date.now()));
      try {
        healers.delete(f.id);
        await heal?.();
      } catch (e) {
        error = `${error ? `${error}; ` : ''}heal: ${(e as Error).message}`;
        say(`         #${f.id} did not heal: ${(e as Error).message}`);
      }
      const healedAt = Date.now() - t0;
      if (f.kind === 'am-partition') partitions.push({ from: startedAt, to: healedAt + ctx.groupInterval.ms });
      active.delete(f.id);
      busySets.delete(f.set);
      injected.push({ ...f, startedAt, ...(heal ? { healedAt } : {}), ...(error ? { error } : {}) });
      void tell();
    });
    await Promise.all(runs);
    await sleep(Math.max(0, t0 + o.durationMs - Date.now()));

    const activeAround = (at: number, before: number) => injected.filter((f) => f.startedAt <= at && (f.healedAt ?? Infinity) >= at - before).map((f) => f.id);
    const bound = (e: AlertEpisode) => {
      const from = e.start - t0;
      const extra = injected.filter((f) => f.startedAt < from + load.timing.notifyWithinMs && (f.healedAt ?? Infinity) > from).map((f) => stretch(f, ctx));
      return load.timing.notifyWithinMs + Math.max(0, ...extra);
    };
    const result = await load.finish({ notifyWithinMs: bound });
    const within = load.timing.notifyWithinMs;
    const violations: Violation[] = [];
    for (const v of result.missed)
      violations.push({ kind: 'missed', at: v.episode.start - t0, detail: `${v.episode.source}: episode not notified within ${(bound(v.episode) / 1000).toFixed(0)} s${v.notifiedAt ? ` (after ${v.latencySeconds?.toFixed(1)} s)` : ''}`, faults: activeAround(v.episode.start - t0 + bound(v.episode), bound(v.episode)) });
    let partitionDuplicates = 0;
    for (const d of result.duplicates) {
      const at = d.receivedAt - t0;
      if (partitions.some((p) => at >= p.from && at <= p.to)) partitionDuplicates++;
      else violations.push({ kind: 'duplicate', at, detail: `${d.groupKey}: a notification that repeats the last one (firing ${d.firing.join(',') || 'none'})${d.sender ? ` from ${d.sender}` : ''}`, faults: activeAround(at, within) });
    }
    for (const f of result.flaps)
      violations.push({ kind: 'flap', at: f.receivedAt - t0, detail: `${f.episode.source}: ${f.kind === 'resolved-while-holding' ? 'told resolved while its cause held' : 'told firing again after its resolution'}${f.sender ? ` by ${f.sender}` : ''}`, faults: activeAround(f.receivedAt - t0, within) });
    if (result.pushesLost > 0) violations.push({ kind: 'push-lost', at: o.durationMs, detail: `${result.pushesLost} push(es) failed after every retry`, faults: [] });
    violations.push(...(await sampleGaps(ctx, t0, injected)));
    say('chaos  every fault healed; doctor…');
    const target = await resolveTarget(o.topology, o.stateDir);
    let failing = evaluate(target, await observe(target)).filter((r) => r.verdict === 'fail');
    for (let i = 0; i < 10 && failing.length > 0; i++) failing = await sleep(3_000).then(async () => evaluate(target, await observe(target)).filter((r) => r.verdict === 'fail'));
    for (const r of failing) violations.push({ kind: 'doctor', at: Date.now() - t0, detail: `${r.code} ${r.message}`, faults: [] });
    violations.sort((a, b) => a.at - b.at);
    await tell({ running: false, episodes: result.episodes.length, violations: violations.length });
    return {
      seed: o.seed,
      mode: ctx.state.mode,
      release: ctx.state.release ?? 'bookworm',
      durationMs: o.durationMs,
      maxConcurrent: o.maxConcurrent,
      faults: [...o.faults],
      startedAt: new Date(t0).toISOString(),
      schedule,
      injected: injected.sort((a, b) => a.id - b.id),
      episodes: result.episodes.length,
      latency: result.latency,
      latencies: result.verdicts.flatMap((v) => (v.latencySeconds === undefined ? [] : [v.latencySeconds])),
      partitionDuplicates,
      violations,
    };
  }
}

/**
 * Samples missing at a federator for an exporter group while the federator itself was not
 * faulted: a scraper set keeps one member up, so both copies must not stop at once.
 */
async function sampleGaps(ctx: DrillContext, t0: number, injected: readonly InjectedFault[]): Promise<Violation[]> {
  const out: Violation[] = [];
  const seconds = (Date.now() - t0) / 1000;
  const scrape = ctx.spec.intervals.scrape.ms / 1000;
  for (const f of ctx.spec.federators.members)
    for (const g of ctx.spec.exporters) {
      const times = await ctx.sampleTimes(f.name, `promha_demo_value{group="${g.name}"}`, seconds).catch(() => [] as number[]);
      for (let i = 1; i < times.length; i++) {
        const from = (times[i - 1] as number) * 1000 - t0;
        const to = (times[i] as number) * 1000 - t0;
        // /federate returns only the latest sample of a series: a scrape that ends just after a
        // federate scrape is passed over, so one missing sample is federation, two are a gap.
        if (missingIntervals([from / 1000, to / 1000], scrape) < 2) continue;
        const own = injected.some((x) => x.target === f.name && x.startedAt <= to && (x.healedAt ?? Infinity) >= from);
        if (!own) out.push({ kind: 'sample-gap', at: from, detail: `${f.name}: no sample of group ${g.name} for ${((to - from) / 1000).toFixed(1)} s`, faults: injected.filter((x) => x.startedAt <= to && (x.healedAt ?? Infinity) >= from).map((x) => x.id) });
      }
    }
  return out;
}

/** Injects one fault; returns what heals it. */
async function inject(ctx: DrillContext, f: ChaosFault): Promise<() => Promise<void>> {
  const restartBackupAfter = async (member: string) => {
    const node = ctx.state.nodes.find((n) => n.name === member);
    // Without peer names a restarted active member sorts after the backup (DESIGN §2).
    if (node?.role === 'alertmanager' && !node.backup && !stateRelease(ctx.state).clusterPeerName) await ctx.restartBackup(60_000);
  };
  switch (f.kind) {
    case 'kill':
      await ctx.kill(f.target);
      return async () => {
        await ctx.start(f.target);
        await restartBackupAfter(f.target);
      };
    case 'pause': {
      const pids = ctx.state.nodes.find((n) => n.name === f.target)?.processes.map((p) => p.pid) ?? [];
      for (const pid of pids) signalGroup(pid, 'SIGSTOP');
      return async () => {
        for (const pid of pids) signalGroup(pid, 'SIGCONT');
      };
    }
    case 'link-down': {
      const ns = ctx.netns(f.target);
      await execa('ip', ['-n', ns, 'link', 'set', 'eth0', 'down']);
      return async () => {
        await execa('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
      };
    }
    case 'vip-move': {
      const set = ctx.spec.pushgateways.find((s) => s.name === f.target);
      const holder = set ? await ctx.vipHolder(set) : undefined;
      if (!holder) throw new Error(`the VIP of ${f.target} reaches no member`);
      await ctx.signal(holder, 'keepalived', 'SIGTERM');
      return async () => {
        await ctx.start(holder);
      };
    }
    case 'exporter-slow': {
      // Slower than usual but within the scrape timeout, nothing may change downstream. A
      // third of the interval was 10 s at the seed's 30 s: the whole default timeout.
      await ctx.fault('exporter', f.target, { mode: 'slow', delayMs: Math.round(scraperScrapeTimeout(ctx.spec).ms / 3) });
      return async () => {
        await ctx.fault('exporter', f.target, { mode: 'ok', delayMs: 0 });
      };
    }
    case 'am-partition': {
      const am = ctx.spec.alertmanagers;
      const others = [...am.members.map((m) => m.name), am.backup.name].filter((m) => m !== f.target);
      await ctx.partition(f.target, others, 'cut');
      return async () => {
        await ctx.partition(f.target, others, 'heal');
      };
    }
    case 'am-data-lost': {
      await ctx.kill(f.target);
      const dir = ctx.storagePath(f.target);
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      return async () => {
        await ctx.start(f.target);
        await restartBackupAfter(f.target);
      };
    }
  }
}

/** SIGSTOP/SIGCONT a member's process group (its process and any children). */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* gone */
    }
  }
}
