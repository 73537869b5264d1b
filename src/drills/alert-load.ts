// A steady alert load on a running stack: alert episodes on every demo exporter group and
// every pusher, one after another at seeded random offsets, so that a rollout or a fault
// meets alerts starting, firing and resolving. What the receiver got is judged afterwards
// (episodes.ts).
import { setTimeout as sleep } from 'node:timers/promises';
import { Duration } from '../duration.ts';
import type { PusherStats } from '../demo/pusher.ts';
import { peerTimeout, routeTiming } from '../plan/derived.ts';
import { demoPushedKeepFiringFor } from '../runtime/demo-rules.ts';
import { demoPushJob } from '../runtime/local-topology.ts';
import type { TopologySpec } from '../topology/schema.ts';
import type { NotificationRecord } from '../demo/notifications.ts';
import { judgeEpisodes, latencySummary, type AlertEpisode, type EpisodeJudgement } from './episodes.ts';
import { seededRandom } from './random.ts';

/** How long a cause holds and rests, and how soon its alert must be notified. */
export interface LoadTiming {
  /** From an episode's start to its firing notification, at the latest. */
  readonly notifyWithinMs: number;
  /** How long a cause holds: long enough to be notified while it holds. */
  readonly holdMs: number;
  /** Rest after an exporter episode: its resolved notification goes out before the next one. */
  readonly exporterRestMs: number;
  /** Rest after a pusher episode: keep_firing_for on top. */
  readonly pusherRestMs: number;
}

/**
 * The load's timing from the topology: a cause reaches a notification through a scrape,
 * a federate scrape, two evaluations, group_wait, up to one group_interval (the group
 * may have flushed just before) and the wait of every active member but the last that
 * may be down; 5 s for the machine. A cause that rests shorter than its resolution takes
 * would make the next episode look like the same one to Alertmanager, and it would
 * rightly not notify it again.
 */
export function loadTiming(spec: TopologySpec): LoadTiming {
  const { groupWait, groupInterval } = routeTiming(spec);
  const peers = peerTimeout(spec).times(spec.alertmanagers.members.length);
  const margin = Duration.seconds(5);
  const evaluate2 = spec.intervals.evaluate.times(2);
  const notifyWithin = spec.intervals.scrape.plus(spec.intervals.federate).plus(evaluate2).plus(groupWait).plus(groupInterval).plus(peers).plus(margin);
  const resolve = spec.intervals.federate.plus(evaluate2).plus(groupInterval).plus(peers).plus(margin);
  return {
    notifyWithinMs: notifyWithin.ms,
    holdMs: notifyWithin.ms,
    exporterRestMs: resolve.ms,
    pusherRestMs: resolve.plus(demoPushedKeepFiringFor(spec)).plus(spec.intervals.push.times(2)).ms,
  };
}

/** What the load changes, and the alert that tells. */
export interface LoadSource {
  readonly kind: 'exporter' | 'pusher';
  /** The exporter group or pushgateway set. */
  readonly target: string;
  readonly alertname: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** Every demo exporter group and every pusher of the topology, with the demo alert of each. */
export function loadSources(spec: TopologySpec): LoadSource[] {
  return [
    ...spec.exporters.map((g) => ({ kind: 'exporter' as const, target: g.name, alertname: 'PromhaDemoValueHigh', labels: { group: g.name } })),
    ...spec.pushgateways.map((s) => ({ kind: 'pusher' as const, target: s.name, alertname: 'PromhaDemoPushedValueHigh', labels: { job: demoPushJob(s) } })),
  ];
}

export interface LoadResult extends EpisodeJudgement {
  readonly timing: LoadTiming;
  readonly episodes: readonly AlertEpisode[];
  readonly latency: ReturnType<typeof latencySummary>;
  /** Pushes that failed after every retry, over all pushers, while the load ran. */
  readonly pushesLost: number;
  readonly startedAt: number;
  readonly endedAt: number;
}

/**
 * What the load needs of a deployment: its topology, the demo servers' faults (the value
 * an exporter group or pusher reports), the receiver's records, and each demo server's
 * address (`exporter-<group>`, `pusher-<set>`). The local stack's DrillContext is one.
 */
export interface LoadContext {
  readonly spec: TopologySpec;
  fault(kind: 'exporter' | 'pusher', target: string, body: Record<string, unknown>): Promise<void>;
  notifications(): Promise<NotificationRecord[]>;
  address(name: string): string;
}

export class AlertLoad {
  /** Starts an episode loop per source; the first episodes begin at random within one cycle. */
  static async start(ctx: LoadContext, o: { readonly seed: number; readonly timing?: LoadTiming }): Promise<AlertLoad> {
    const load = new AlertLoad(ctx, o.timing ?? loadTiming(ctx.spec), seededRandom(o.seed), await pushStats(ctx));
    load.loops = loadSources(ctx.spec).map((s) => load.run(s));
    return load;
  }

  private readonly episodes: AlertEpisode[] = [];
  private readonly open = new Map<LoadSource, AlertEpisode>();
  private readonly stopping = new AbortController();
  private loops: Promise<void>[] = [];
  private readonly startedAt = Date.now();

  private constructor(
    private readonly ctx: LoadContext,
    readonly timing: LoadTiming,
    private readonly random: () => number,
    private readonly pushedBefore: number,
  ) {}

  private async run(source: LoadSource): Promise<void> {
    const rest = source.kind === 'exporter' ? this.timing.exporterRestMs : this.timing.pusherRestMs;
    const signal = this.stopping.signal;
    const wait = (ms: number) => sleep(ms, undefined, { signal }).then(() => true, () => false);
    if (!(await wait(this.random() * (this.timing.holdMs + rest)))) return;
    for (let n = 1; !signal.aborted; n++) {
      await this.ctx.fault(source.kind, source.target, { value: n });
      this.open.set(source, { source: `${source.kind} ${source.target}`, alertname: source.alertname, labels: source.labels, start: Date.now() });
      // A hold runs to its end even when the load stops: a cause cut short may rightly never be notified.
      await sleep(this.timing.holdMs);
      await this.end(source);
      if (!(await wait(rest + this.random() * 5_000))) return;
    }
  }

  private async end(source: LoadSource): Promise<void> {
    const e = this.open.get(source);
    if (!e) return;
    await this.ctx.fault(source.kind, source.target, { value: 0 });
    this.open.delete(source);
    this.episodes.push({ ...e, end: Date.now() });
  }

  /**
   * Stops the load: no episode begins any more, and those holding run to their end. Then
   * waits until the last episode could have been notified and resolved, and judges what
   * the receiver got since the load began.
   */
  async finish(o: { readonly notifyWithinMs?: (e: AlertEpisode) => number } = {}): Promise<LoadResult> {
    this.stopping.abort();
    await Promise.all(this.loops);
    const endedAt = Date.now();
    await sleep(Math.max(this.timing.notifyWithinMs, this.timing.pusherRestMs));
    const records = (await this.ctx.notifications()).filter((r) => Date.parse(r.receivedAt) >= this.startedAt);
    const episodes = [...this.episodes].sort((a, b) => a.start - b.start);
    const judged = judgeEpisodes(episodes, records, { notifyWithinMs: o.notifyWithinMs ?? this.timing.notifyWithinMs, now: Date.now() });
    return {
      ...judged,
      timing: this.timing,
      episodes,
      latency: latencySummary(judged.verdicts),
      pushesLost: (await pushStats(this.ctx)) - this.pushedBefore,
      startedAt: this.startedAt,
      endedAt,
    };
  }
}

/** Failed pushes over every pusher so far. */
async function pushStats(ctx: LoadContext): Promise<number> {
  let failed = 0;
  for (const s of ctx.spec.pushgateways) failed += ((await (await fetch(`http://${ctx.address(`pusher-${s.name}`)}/-/stats`)).json()) as PusherStats).failed;
  return failed;
}

/** One line per finding, for a test's message or a report. */
export function describeLoad(r: LoadResult): string {
  const at = (ms: number) => `+${((ms - r.startedAt) / 1000).toFixed(1)} s`;
  const lines = [
    `${r.episodes.length} episode(s) over ${((r.endedAt - r.startedAt) / 1000).toFixed(0)} s; latency median ${r.latency.median?.toFixed(1) ?? '-'} s, max ${r.latency.max?.toFixed(1) ?? '-'} s; ${r.missed.length} missed, ${r.duplicates.length} duplicate(s), ${r.flaps.length} flap(s), ${r.pushesLost} push(es) lost`,
    ...r.missed.map((v) => `missed: ${v.episode.source} episode at ${at(v.episode.start)}${v.notifiedAt ? ` (notified only at ${at(v.notifiedAt)})` : ''}`),
    ...r.duplicates.map((d) => `duplicate: ${d.receiver} ${d.groupKey} at ${at(d.receivedAt)} firing ${d.firing.join(',')}`),
    ...r.flaps.map((f) => `flap: ${f.episode.source} episode at ${at(f.episode.start)}: ${f.kind === 'resolved-while-holding' ? 'resolved' : 'firing again'} at ${at(f.receivedAt)}${f.kind === 'resolved-while-holding' ? ' while its cause held' : ' after its resolution was notified'}`),
  ];
  return lines.join('\n');
}
