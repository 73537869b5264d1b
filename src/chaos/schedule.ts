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

/** Why a schedule (a replayed or edited one) breaks the campaign's bounds; empty when it does not. */
export function scheduleProblems(schedule: readonly ChaosFault[], o: Pick<ScheduleOptions, 'maxConcurrent' | 'mode' | 'durationMs'>): string[] {
  const problems: string[] = [];
  const k = o.maxConcurrent ?? 2;
  for (const f of schedule) {
    if (applicableFaults([f.kind], o.mode).length === 0) problems.push(`fault ${f.id}: ${f.kind} needs network namespaces`);
    if (f.at < 0 || f.at + f.durationMs > o.durationMs) problems.push(`fault ${f.id}: ${f.kind} ${f.target} does not end within the campaign`);
    const overlapping = schedule.filter((g) => g !== f && g.at < f.at + f.durationMs && f.at < g.at + g.durationMs && g.at <= f.at);
    if (overlapping.length + 1 > k) problems.push(`fault ${f.id}: ${overlapping.length + 1} faults at once (at most ${k})`);
    const sameSet = overlapping.find((g) => g.set === f.set);
    if (sameSet) problems.push(`fault ${f.id}: ${f.target} and fault ${sameSet.id} (${sameSet.target}) weaken ${f.set} at once`);
  }
  return problems;
}
