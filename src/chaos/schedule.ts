// The fault schedule of a chaos campaign: seeded, bounded in concurrency, and never more
// than the topology can survive. Pure: the same options give the same schedule, so a
// failing campaign can be replayed and shrunk.
import type { NetworkMode } from '../runtime/local-topology.ts';
import type { Role } from '../plan/node-spec.ts';
import { seededRandom } from '../drills/random.ts';

/** The faults a campaign injects; each heals at the end of its duration. */
export const CHAOS_FAULTS = ['kill', 'pause', 'link-down', 'vip-move', 'exporter-slow', 'am-partition', 'am-data-lost'] as const;
export type ChaosFaultKind = (typeof CHAOS_FAULTS)[number];

/** Faults that need a member's own network stack. */
const NETNS_ONLY: ReadonlySet<ChaosFaultKind> = new Set(['link-down', 'vip-move', 'am-partition']);

export const isChaosFault = (s: string): s is ChaosFaultKind => (CHAOS_FAULTS as readonly string[]).includes(s);

/** A member a fault can hit, in the seed's words. */
export interface ChaosMember {
  readonly name: string;
  readonly role: Role;
  readonly set: string;
  readonly backup: boolean;
}

export interface ChaosFault {
  /** Order in the schedule, from 1: a replay file and a shrunk schedule keep it. */
  readonly id: number;
  readonly kind: ChaosFaultKind;
  /** A member, or an exporter group (exporter-slow), or a pushgateway set (vip-move). */
  readonly target: string;
  /** The set the fault weakens: never two faults on one set at once. */
  readonly set: string;
  /** From the campaign's start, ms. */
  readonly at: number;
  readonly durationMs: number;
}

export interface ScheduleOptions {
  readonly seed: number;
  readonly durationMs: number;
  readonly faults: readonly ChaosFaultKind[];
  /** @default 2 */
  readonly maxConcurrent?: number;
  readonly mode: NetworkMode;
  readonly members: readonly ChaosMember[];
  readonly exporterGroups: readonly string[];
  readonly pushgatewaySets: readonly string[];
  /** How long a fault lasts, ms. @default { min: 5000, max: 30000 } */
  readonly faultMs?: { readonly min: number; readonly max: number };
  /** Between two fault starts, ms. @default { min: 2000, max: 20000 } */
  readonly gapMs?: { readonly min: number; readonly max: number };
  /** Time left at the end for every fault to heal before the campaign is judged. @default 30000 */
  readonly healMs?: number;
  /**
   * The longest an Alertmanager member may hear nothing from the federators (paused, its
   * link down): past the alerts' validity it lets them expire and, once back, notifies
   * them resolved while they fire. @default no bound
   */
  readonly alertmanagerDeafMaxMs?: number;
}

/** The faults of `kinds` that apply in `mode`. */
export function applicableFaults(kinds: readonly ChaosFaultKind[], mode: NetworkMode): ChaosFaultKind[] {
  return kinds.filter((k) => mode === 'netns' || !NETNS_ONLY.has(k));
}

/** What a fault of `kind` can hit: members, exporter groups or pushgateway sets, with the set each weakens. */
function targets(kind: ChaosFaultKind, o: ScheduleOptions): Array<{ target: string; set: string }> {
  const members = (f: (m: ChaosMember) => boolean) => o.members.filter(f).map((m) => ({ target: m.name, set: m.set }));
  switch (kind) {
    case 'kill':
    case 'link-down':
      return members(() => true);
    case 'pause':
      // Behind HAProxy (loopback) nothing wipes a gateway that lost the VIP: frozen, it
      // comes back as the standby with its old groups, which the federators merge with
      // the active one's (found by a campaign: doctor DR602). keepalived wipes it (netns).
      return members((m) => o.mode === 'netns' || m.role !== 'pushgateway');
    case 'vip-move':
      return o.pushgatewaySets.map((s) => ({ target: s, set: s }));
    case 'exporter-slow':
      return o.exporterGroups.map((g) => ({ target: g, set: `exporters ${g}` }));
    case 'am-partition':
    case 'am-data-lost':
      return members((m) => m.role === 'alertmanager');
  }
}

export function chaosSchedule(o: ScheduleOptions): ChaosFault[] {
  const random = seededRandom(o.seed);
  const between = (r: { min: number; max: number }) => Math.round(r.min + random() * (r.max - r.min));
  const k = o.maxConcurrent ?? 2;
  const faultMs = o.faultMs ?? { min: 5_000, max: 30_000 };
  const gapMs = o.gapMs ?? { min: 2_000, max: 20_000 };
  const end = o.durationMs - (o.healMs ?? 30_000);
  const kinds = applicableFaults(o.faults, o.mode);
  const out: ChaosFault[] = [];
  if (kinds.length === 0) return out;
  for (let at = between(gapMs); at < end; at += between(gapMs)) {
    const kind = kinds[Math.floor(random() * kinds.length)] as ChaosFaultKind;
    const drawn = between(faultMs);
    if (end - at < faultMs.min) continue;
    const durationMs = Math.min(drawn, end - at);
    const active = out.filter((f) => f.at < at + durationMs && at < f.at + f.durationMs);
    const busy = new Set(active.map((f) => f.set));
    const free = targets(kind, o).filter((t) => !busy.has(t.set));
    if (active.length >= k || free.length === 0) continue;
    const t = free[Math.floor(random() * free.length)] as { target: string; set: string };
    const deaf = (kind === 'pause' || kind === 'link-down') && o.members.some((m) => m.name === t.target && m.role === 'alertmanager');
    out.push({ id: out.length + 1, kind, target: t.target, set: t.set, at, durationMs: deaf && o.alertmanagerDeafMaxMs !== undefined ? Math.min(durationMs, o.alertmanagerDeafMaxMs) : durationMs });
  }
  return out;
}

/** What a schedule is checked against: the running stack's members, groups and sets, and the campaign's bounds. */
export type ScheduleBounds = Pick<ScheduleOptions, 'maxConcurrent' | 'mode' | 'durationMs' | 'members' | 'exporterGroups' | 'pushgatewaySets' | 'alertmanagerDeafMaxMs'>;

/** What each kind takes, in words, for the message when a target does not fit. */
function takes(kind: ChaosFaultKind, mode: NetworkMode): string {
  switch (kind) {
    case 'kill':
    case 'link-down':
      return 'a member';
    case 'pause':
      return mode === 'netns' ? 'a member' : 'a member other than a pushgateway (on loopback nothing wipes a paused gateway that lost the VIP)';
    case 'vip-move':
      return 'a pushgateway set';
    case 'exporter-slow':
      return 'an exporter group';
    case 'am-partition':
    case 'am-data-lost':
      return 'an Alertmanager member';
  }
}

/**
 * Every (kind, target) a campaign may inject on this stack and the set it weakens: the
 * generator's own `targets`, so that a replayed schedule can do nothing a generated one
 * could not. Built once, in time linear in kinds × members.
 */
function targetIndex(o: ScheduleBounds): { fit(kind: ChaosFaultKind, target: string): string | undefined; what(target: string): string } {
  const full: ScheduleOptions = { ...o, seed: 0, faults: CHAOS_FAULTS };
  const index = new Map<ChaosFaultKind, Map<string, string>>(CHAOS_FAULTS.map((k) => [k, new Map(targets(k, full).map((t) => [t.target, t.set]))]));
  const members = new Map(o.members.map((m) => [m.name, m]));
  const groups = new Set(o.exporterGroups);
  const sets = new Set(o.pushgatewaySets);
  return {
    fit: (kind, target) => index.get(kind)?.get(target),
    what(target) {
      const m = members.get(target);
      if (m) return `${target} (${m.role === 'alertmanager' ? 'an Alertmanager' : `a ${m.role}`}${m.backup ? ', the backup' : ''})`;
      if (groups.has(target)) return `${target} (an exporter group)`;
      if (sets.has(target)) return `${target} (a pushgateway set)`;
      return `"${target.length > 80 ? `${target.slice(0, 80)}…` : target}", which is no member, exporter group or pushgateway set of the running stack`;
    },
  };
}

/**
 * Why a schedule (a replayed or edited one) breaks the campaign's bounds; empty when it
 * does not. Each fault must fit its target (a kind the target's role takes, on a target
 * of the running stack, weakening the target's own set), end within the campaign and
 * keep an Alertmanager deaf no longer than the bound; at no moment may more than
 * `maxConcurrent` faults, or two on one set, be active. One sweep over the faults in
 * order of their start: O(n log n) for the sort, linear after it.
 */
export function scheduleProblems(schedule: readonly ChaosFault[], o: ScheduleBounds): string[] {
  const k = o.maxConcurrent ?? 2;
  const index = targetIndex(o);
  const amMembers = new Set(o.members.filter((m) => m.role === 'alertmanager').map((m) => m.name));
  // Problems per fault, printed in the schedule's order whatever order the sweep finds them in.
  const found = schedule.map((): string[] => []);
  const fits = schedule.map((f) => index.fit(f.kind, f.target) === f.set);
  schedule.forEach((f, i) => {
    const say = (p: string) => (found[i] as string[]).push(`fault ${f.id}: ${p}`);
    if (applicableFaults([f.kind], o.mode).length === 0) say(`${f.kind} needs network namespaces`);
    else {
      const set = index.fit(f.kind, f.target);
      if (set === undefined) say(`${f.kind} cannot hit ${index.what(f.target)}: it takes ${takes(f.kind, o.mode)}`);
      else if (set !== f.set) say(`${f.target} is in ${set}, not "${f.set}" (the set is the target's own)`);
    }
    if (f.at < 0 || f.at + f.durationMs > o.durationMs) say(`${f.kind} ${f.target} does not end within the campaign`);
    if (o.alertmanagerDeafMaxMs !== undefined && (f.kind === 'pause' || f.kind === 'link-down') && amMembers.has(f.target) && f.durationMs > o.alertmanagerDeafMaxMs)
      say(`${f.kind} keeps ${f.target} from the federators for ${(f.durationMs / 1000).toFixed(1)} s, longer than the ${(o.alertmanagerDeafMaxMs / 1000).toFixed(1)} s an Alertmanager may hear nothing (its alerts would expire there)`);
  });
  // The sweep: at each start, the faults still active are those begun at or before it and
  // not yet ended (an end at the very start does not overlap). Faults that start together
  // all count for each other, as they would run.
  const at = (i: number) => (schedule[i] as ChaosFault).at;
  const end = (i: number) => at(i) + (schedule[i] as ChaosFault).durationMs;
  const byStart = schedule.map((_, i) => i).sort((a, b) => at(a) - at(b) || a - b);
  const byEnd = [...byStart].sort((a, b) => end(a) - end(b) || a - b);
  // The active faults of each set. Only faults that fit their target are in it (the set
  // of one that does not is made up, and its problem is said above): each lookup below
  // then finds another fault within two steps, keeping the sweep linear.
  const activeIn = new Map<string, Set<number>>();
  const started = new Set<number>();
  let active = 0;
  let ended = 0;
  for (let next = 0; next < byStart.length; ) {
    const now = at(byStart[next] as number);
    for (; ended < byEnd.length && end(byEnd[ended] as number) <= now; ended++) {
      const i = byEnd[ended] as number;
      if (!started.has(i)) continue;
      active--;
      activeIn.get((schedule[i] as ChaosFault).set)?.delete(i);
    }
    const group: number[] = [];
    for (; next < byStart.length && at(byStart[next] as number) === now; next++) group.push(byStart[next] as number);
    for (const i of group) {
      started.add(i);
      active++;
      if (!fits[i]) continue;
      const set = (schedule[i] as ChaosFault).set;
      const members = activeIn.get(set) ?? new Set<number>();
      activeIn.set(set, members.add(i));
    }
    for (const i of group) {
      const f = schedule[i] as ChaosFault;
      const say = (p: string) => (found[i] as string[]).push(`fault ${f.id}: ${p}`);
      if (active > k) say(`${active} faults at once (at most ${k})`);
      if (!fits[i]) continue;
      let other: number | undefined;
      for (const j of activeIn.get(f.set) ?? [])
        if (j !== i) {
          other = j;
          break;
        }
      if (other !== undefined) {
        const g = schedule[other] as ChaosFault;
        say(`${f.target} and fault ${g.id} (${g.target}) weaken ${f.set} at once`);
      }
    }
  }
  return found.flat();
}

/**
 * The generator starts at most one fault per 2 s (its smallest gap): a schedule that
 * starts faults more often than that is none a campaign of its length would run.
 */
export const MIN_FAULT_GAP_MS = 2_000;
/**
 * Faults a replayed schedule may hold at most, whatever its duration. A 60-minute campaign
 * on the seed topology schedules about 250 (at most 330 over 200 seeds and any
 * `--max-concurrent`), so this covers the schedule of a campaign of a day and more; past
 * it, a replay file is a mistake or an attack on the validation and the campaign's timers.
 */
export const MAX_REPLAY_FAULTS = 10_000;

/** The most faults a replayed campaign of `durationMs` may hold. */
export const maxReplayFaults = (durationMs: number): number => Math.min(MAX_REPLAY_FAULTS, Math.max(1, Math.floor(durationMs / MIN_FAULT_GAP_MS)));

/** Why `count` faults are too many for a replayed campaign of `durationMs`, or undefined. */
export function faultCountProblem(count: number, durationMs: number): string | undefined {
  const most = maxReplayFaults(durationMs);
  if (count <= most) return undefined;
  return `${count} faults; a campaign of ${(durationMs / 1000).toFixed(0)} s takes at most ${most} (one per ${MIN_FAULT_GAP_MS / 1000} s, the smallest gap between two fault starts, and never more than ${MAX_REPLAY_FAULTS})`;
}

/** A fault as a replay file holds it: the set, if given, must be the target's own. */
export interface RecordedFault extends Omit<ChaosFault, 'set'> {
  readonly set?: string | undefined;
}

/**
 * A recorded schedule, checked against the running stack like any input: the count
 * bound first (before any work per fault), ids unique (the campaign tracks faults by id),
 * the set of each fault derived from its target and never taken from the file, then
 * `scheduleProblems`. The schedule returned carries the derived sets.
 */
export function replaySchedule(recorded: readonly RecordedFault[], o: ScheduleBounds): { schedule: ChaosFault[]; problems: string[] } {
  const tooMany = faultCountProblem(recorded.length, o.durationMs);
  if (tooMany) return { schedule: [], problems: [tooMany] };
  const index = targetIndex(o);
  const problems: string[] = [];
  const ids = new Map<number, number>();
  const schedule = recorded.map((f, i): ChaosFault => {
    const first = ids.get(f.id);
    if (first === undefined) ids.set(f.id, i);
    else problems.push(`fault ${f.id}: the id is taken by an earlier fault (the ${ordinal(first + 1)}); ids must be unique`);
    const set = index.fit(f.kind, f.target);
    if (set !== undefined && f.set !== undefined && f.set !== set) problems.push(`fault ${f.id}: ${f.target} is in ${set}, not "${f.set}" (the set is the target's own: leave it out or write ${set})`);
    // A target the kind does not fit keeps a set of its own: scheduleProblems names it, once.
    return { id: f.id, kind: f.kind, target: f.target, set: set ?? f.set ?? `(${f.target})`, at: f.at, durationMs: f.durationMs };
  });
  return { schedule, problems: [...problems, ...scheduleProblems(schedule, o)] };
}

const ordinal = (n: number) => `${n}${n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th')}`;

/** At most `max` lines, then how many were left out: a broken schedule of 20,000 faults is no 20,000-line message. */
export function firstLines(lines: readonly string[], max = 20): string[] {
  return lines.length <= max ? [...lines] : [...lines.slice(0, max), `… and ${lines.length - max} more`];
}
