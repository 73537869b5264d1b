// `promha check --faults`: for every combination of up to K failed hosts, what the
// topology loses, derived statically. Members that share an address host share a fate.
//
// The combinations are not enumerated: their number grows as hosts^K (2,011 hosts and
// K = 2 are two million; 111 hosts and K = 9 are 10^13). Every loss is instead one of a
// few monotone facts over the topology's redundancy groups ("every host of scraper set
// S is down", "every federator host is down", …), and a combination loses something
// exactly when it contains every host of such a group. So the analysis walks the groups:
// for each loss, its minimal combinations (the hosts one group needs down, or the union
// of a blind spot's group and the federators' or active Alertmanagers' for "the
// blind-spot alert cannot be delivered"). Any other combination loses precisely what the
// minimal ones it contains lose, so listing those says everything. There are at most
// 3 × (exporter groups + pushgateway sets) + 3 of them, whatever K is.
import type { Address } from '../address.ts';
import { peerTimeout } from '../plan/derived.ts';
import type { TopologySpec } from '../topology/schema.ts';

/** One thing that can fail: a host, with the members on it. */
export interface FailureUnit {
  /** The member's name, or `host H (a, b)` when several members share host H. */
  readonly id: string;
  readonly members: readonly string[];
}

/** What a set of failed hosts costs. */
export interface FaultImpact {
  readonly failed: readonly string[];
  /** Exporter groups no scraper member collects any more: a blind spot. */
  readonly blindExporters: readonly string[];
  /** Pushed jobs (`set/job`) no gateway member of their set can take any more. */
  readonly blindJobs: readonly string[];
  /** A federator and an active Alertmanager are left: alerts are still evaluated and sent. */
  readonly alerting: boolean;
  /** Whether the blind-spot alerts (`PromhaScraperSetDown`, `PromhaPushgatewaySetDown`) can still be delivered; undefined without a blind spot. */
  readonly blindSpotAlertDelivered?: boolean;
  /** The wait of the first active Alertmanager left, while the failed ones still count as peers (position × peer timeout). */
  readonly addedDelaySeconds: number;
  /** Silences and the notification log are held by a member still running. */
  readonly stateKept: boolean;
  /**
   * Pushgateway set with a failed member → the members its VIP can still go to. A set not
   * listed keeps all its members: listing every set in every combination would make the
   * output grow as combinations × sets.
   */
  readonly vipTargets: Readonly<Record<string, readonly string[]>>;
  /** One line per loss, in the seed's words; empty when nothing is lost. */
  readonly losses: readonly string[];
}

/** What `check --faults K` reports: the minimal combinations that lose something, which stand for all the others. */
export interface FaultAnalysis {
  readonly k: number;
  /** Failure units: hosts. */
  readonly hosts: number;
  /** How many combinations of 1 to k failed hosts there are; all are covered by `losing`, none is enumerated. */
  readonly combinations: bigint;
  /** What is lost with every host up (an exporter group no scraper set scrapes); normally empty. */
  readonly lostWithoutFailure: readonly string[];
  /**
   * Every combination of at most k hosts that is minimal for one of its losses (no smaller
   * combination inside it loses that), with all it loses: single points of failure first,
   * then by size and topology order. A combination not listed loses exactly what the
   * listed ones inside it lose, and nothing when none is inside it.
   */
  readonly losing: readonly FaultImpact[];
  /** The hosts that alone lose something. */
  readonly singlePointsOfFailure: readonly string[];
  /** The largest added notification delay of a combination that still alerts. */
  readonly maxAddedDelaySeconds: number;
}

/** Member names by the host of their address, in the order given. */
export function namesByHost(members: ReadonlyArray<{ readonly name: string; readonly address: Address }>): Map<string, string[]> {
  const byHost = new Map<string, string[]>();
  // Appended in place: copying the list per member is quadratic when many members share a host.
  for (const m of members) {
    const names = byHost.get(m.address.host);
    if (names) names.push(m.name);
    else byHost.set(m.address.host, [m.name]);
  }
  return byHost;
}

/** Every host of the topology, with its members, in the topology's order. */
export function failureUnits(spec: TopologySpec): FailureUnit[] {
  const members = [
    ...spec.scrapers.flatMap((s) => s.members),
    ...spec.pushgateways.flatMap((s) => s.members),
    ...spec.federators.members,
    ...spec.alertmanagers.members,
    spec.alertmanagers.backup,
  ];
  return [...namesByHost(members)].map(([host, names]) => ({ id: names.length === 1 ? (names[0] as string) : `host ${host} (${names.join(', ')})`, members: names }));
}

type Named = { readonly name: string };

/** Name → the indices of the sets it is a member of (a name given twice, an error of its own, belongs to both). */
function setsByMember(sets: ReadonlyArray<{ readonly members: readonly Named[] }>): Map<string, number[]> {
  const bySet = new Map<string, number[]>();
  sets.forEach((s, i) => {
    for (const m of s.members) {
      const list = bySet.get(m.name);
      if (list) list.push(i);
      else bySet.set(m.name, [i]);
    }
  });
  return bySet;
}

/**
 * The impact function of a topology. What it needs (which scraper sets scrape each exporter
 * group, which sets each member is in) is looked up once, and an evaluation looks only at
 * the sets a failed member belongs to: the analysis evaluates thousands of combinations on
 * topologies of thousands of hosts, and a pass over the whole topology each time would make
 * it quadratic.
 */
function impactModel(spec: TopologySpec): (failed: readonly FailureUnit[]) => FaultImpact {
  const groupIndex = new Map(spec.exporters.map((g, i) => [g.name, i]));
  const coverers: number[][] = spec.exporters.map(() => []);
  spec.scrapers.forEach((s, si) => {
    for (const g of s.exporters) coverers[groupIndex.get(g) ?? -1]?.push(si);
  });
  // Scraped by no set: blind before anything fails (check reports it as an error of its own).
  const uncovered = coverers.flatMap((c, gi) => (c.length === 0 ? [gi] : []));
  const scraperSetsOf = setsByMember(spec.scrapers);
  const pushSetsOf = setsByMember(spec.pushgateways);
  const peerSeconds = peerTimeout(spec).seconds;
  const actives = spec.alertmanagers.members;
  const everyAm = [...actives, spec.alertmanagers.backup];
  const ascending = (a: number, b: number) => a - b;
  return (failed) => {
    const down = new Set<string>();
    for (const u of failed) for (const m of u.members) down.add(m);
    const alive = (names: readonly Named[]) => names.filter((m) => !down.has(m.name));
    const anyAlive = (names: readonly Named[]) => names.some((m) => !down.has(m.name));
    const touchedScrapers = new Set<number>();
    const touchedPush = new Set<number>();
    for (const name of down) {
      for (const si of scraperSetsOf.get(name) ?? []) touchedScrapers.add(si);
      for (const pi of pushSetsOf.get(name) ?? []) touchedPush.add(pi);
    }
    const scraperDown = (si: number) => !anyAlive((spec.scrapers[si] as (typeof spec.scrapers)[number]).members);
    const blindGroups = new Set(uncovered);
    for (const si of touchedScrapers)
      if (scraperDown(si))
        for (const g of (spec.scrapers[si] as (typeof spec.scrapers)[number]).exporters) {
          const gi = groupIndex.get(g);
          if (gi !== undefined && (coverers[gi] as number[]).every(scraperDown)) blindGroups.add(gi);
        }
    const blindExporters = [...blindGroups].sort(ascending).map((gi) => (spec.exporters[gi] as (typeof spec.exporters)[number]).name);
    const pushSets = [...touchedPush].sort(ascending).map((pi) => spec.pushgateways[pi] as (typeof spec.pushgateways)[number]);
    const blindJobs = pushSets.filter((s) => !anyAlive(s.members)).flatMap((s) => (s.jobs.length ? s.jobs.map((j) => `${s.name}/${j.name}`) : [`${s.name}/*`]));
    const federating = anyAlive(spec.federators.members);
    const firstActive = actives.findIndex((m) => !down.has(m.name));
    const alerting = federating && firstActive >= 0;
    const stateKept = anyAlive(everyAm);
    const vipTargets = Object.fromEntries(pushSets.map((s) => [s.name, alive(s.members).map((m) => m.name)]));
    const blind = blindExporters.length + blindJobs.length > 0;
    const addedDelaySeconds = alerting ? firstActive * peerSeconds : 0;

    const losses: string[] = [];
    if (blindExporters.length) losses.push(`not collected: exporter group(s) ${blindExporters.join(', ')}`);
    if (blindJobs.length) losses.push(`not collected: pushed job(s) ${blindJobs.join(', ')} (the VIP has nowhere to go)`);
    if (!federating) losses.push('nothing is federated: no rule is evaluated, no alert sent (the scrapers keep their short history)');
    else if (firstActive < 0) losses.push('no active Alertmanager: alerts are evaluated but nobody notifies (the backup sends nothing)');
    if (!stateKept) losses.push('no Alertmanager runs: silences and the notification log survive only on their disks');
    if (blind && !alerting) losses.push('the blind-spot alert cannot be delivered');
    return {
      failed: failed.map((u) => u.id),
      blindExporters,
      blindJobs,
      alerting,
      ...(blind ? { blindSpotAlertDelivered: alerting } : {}),
      addedDelaySeconds,
      stateKept,
      vipTargets,
      losses,
    };
  };
}

/** What failing every member of the `failed` hosts costs. */
export function impactOf(spec: TopologySpec, failed: readonly FailureUnit[]): FaultImpact {
  return impactModel(spec)(failed);
}

/** How many ways there are to choose 1 to k of n: exact, as the counts pass 2^53 quickly. */
export function combinationCount(n: number, k: number): bigint {
  let total = 0n;
  let choose = 1n;
  for (let s = 1; s <= Math.min(k, n); s++) {
    choose = (choose * BigInt(n - s + 1)) / BigInt(s);
    total += choose;
  }
  return total;
}

/** Sorted, duplicate-free host indices. */
type Cut = readonly number[];

function union(a: Cut, b: Cut): Cut {
  return [...new Set([...a, ...b])].sort((x, y) => x - y);
}

/** Whether some proper, non-empty subset of `cut` is in `keys`; cut has at most k ≤ 9 hosts, so at most 2^9 subsets. */
function hasSmaller(cut: Cut, keys: ReadonlySet<string>): boolean {
  const full = (1 << cut.length) - 1;
  for (let mask = 1; mask < full; mask++) if (keys.has(cut.filter((_, i) => mask & (1 << i)).join(','))) return true;
  return false;
}

/**
 * The minimal combinations of 1 to `k` failed hosts that lose something, per redundancy
 * group (see the top of this file): a set's data needs every host of the scraper sets that
 * scrape it down, a pushed job every host of its gateway set, alerting every federator or
 * every active Alertmanager host, the silences every Alertmanager host, and an undelivered
 * blind-spot alert a blind spot's hosts together with the federators' or active
 * Alertmanagers'. Work and memory grow with the number of groups times the topology's size,
 * not with the number of combinations.
 */
export function faultAnalysis(spec: TopologySpec, k: number): FaultAnalysis {
  const units = failureUnits(spec);
  const impact = impactModel(spec);
  const unitsOf = new Map<string, number[]>();
  units.forEach((u, i) => {
    for (const m of u.members) {
      const list = unitsOf.get(m);
      if (list) list.push(i);
      else unitsOf.set(m, [i]);
    }
  });
  // A name given twice (an error of its own) fails with either host, as the impact counts members by name.
  const hostsOf = (members: readonly Named[]): Cut => [...new Set(members.flatMap((m) => unitsOf.get(m.name) ?? []))].sort((x, y) => x - y);

  const scraperHosts = new Map<string, Named[]>(spec.exporters.map((g) => [g.name, []]));
  for (const s of spec.scrapers) for (const g of s.exporters) for (const m of s.members) scraperHosts.get(g)?.push(m);
  const blindSpots: Cut[] = [...[...scraperHosts.values()].map(hostsOf), ...spec.pushgateways.map((s) => hostsOf(s.members))];
  const federators = hostsOf(spec.federators.members);
  const activeAms = hostsOf(spec.alertmanagers.members);
  const everyAm = hostsOf([...spec.alertmanagers.members, spec.alertmanagers.backup]);

  const fits = (c: Cut) => c.length >= 1 && c.length <= k;
  const cuts = new Map<string, Cut>();
  const add = (c: Cut) => {
    if (fits(c)) cuts.set(c.join(','), c);
  };
  // One minimal combination per group-shaped loss: it is the group's hosts.
  for (const c of [...blindSpots, federators, activeAms, everyAm]) add(c);
  // "The blind-spot alert cannot be delivered" has one candidate per blind spot and way to
  // lose alerting; only the candidates with no smaller candidate inside are minimal.
  const undelivered = new Map<string, Cut>();
  for (const b of blindSpots)
    for (const a of [federators, activeAms]) {
      const c = union(b, a);
      if (fits(c)) undelivered.set(c.join(','), c);
    }
  const undeliveredKeys = new Set(undelivered.keys());
  for (const c of undelivered.values()) if (!hasSmaller(c, undeliveredKeys)) add(c);

  const ordered = [...cuts.values()].sort((a, b) => a.length - b.length || lexicographic(a, b));
  const pick = (c: Cut) => c.map((i) => units[i] as FailureUnit);
  const baseline = impact([]);
  // Every candidate loses something by construction; the filter keeps that a fact of the output.
  const losing = ordered.map((c) => impact(pick(c))).filter((i) => i.losses.length > 0);

  // The delay is largest when the active Alertmanagers before one are down and it is not:
  // each such prefix is the smallest combination with that delay.
  let maxAddedDelaySeconds = 0;
  const actives = spec.alertmanagers.members;
  for (let i = 1; i < actives.length; i++) {
    const before = hostsOf(actives.slice(0, i));
    if (before.length > k) break;
    const d = impact(pick(before));
    if (d.alerting) maxAddedDelaySeconds = Math.max(maxAddedDelaySeconds, d.addedDelaySeconds);
  }

  return {
    k,
    hosts: units.length,
    combinations: combinationCount(units.length, k),
    lostWithoutFailure: baseline.losses,
    losing,
    singlePointsOfFailure: losing.filter((i) => i.failed.length === 1).map((i) => i.failed[0] as string),
    maxAddedDelaySeconds,
  };
}

function lexicographic(a: Cut, b: Cut): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  return a.length - b.length;
}
