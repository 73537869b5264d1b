// `promha check --faults`: for every combination of up to K failed hosts, what the
// topology loses, derived statically. Members that share an address host share a fate.
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
  /** Pushgateway set → the members its VIP can still go to. */
  readonly vipTargets: Readonly<Record<string, readonly string[]>>;
  /** One line per loss, in the seed's words; empty when nothing is lost. */
  readonly losses: readonly string[];
}

/** Member names by the host of their address, in the order given. */
export function namesByHost(members: ReadonlyArray<{ readonly name: string; readonly address: Address }>): Map<string, string[]> {
  const byHost = new Map<string, string[]>();
  for (const m of members) byHost.set(m.address.host, [...(byHost.get(m.address.host) ?? []), m.name]);
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

/** What failing every member of the `failed` hosts costs. */
export function impactOf(spec: TopologySpec, failed: readonly FailureUnit[]): FaultImpact {
  const down = new Set(failed.flatMap((u) => u.members));
  const alive = (names: readonly { name: string }[]) => names.filter((m) => !down.has(m.name));
  const blindExporters = spec.exporters
    .map((g) => g.name)
    .filter((g) => spec.scrapers.filter((s) => s.exporters.includes(g)).every((s) => alive(s.members).length === 0));
  const blindJobs = spec.pushgateways.filter((s) => alive(s.members).length === 0).flatMap((s) => (s.jobs.length ? s.jobs.map((j) => `${s.name}/${j.name}`) : [`${s.name}/*`]));
  const federators = alive(spec.federators.members);
  const actives = spec.alertmanagers.members;
  const firstActive = actives.findIndex((m) => !down.has(m.name));
  const alerting = federators.length > 0 && firstActive >= 0;
  const everyAm = [...actives, spec.alertmanagers.backup];
  const stateKept = alive(everyAm).length > 0;
  const vipTargets = Object.fromEntries(spec.pushgateways.map((s) => [s.name, alive(s.members).map((m) => m.name)]));
  const blind = blindExporters.length + blindJobs.length > 0;
  const addedDelaySeconds = alerting ? firstActive * peerTimeout(spec).seconds : 0;

  const losses: string[] = [];
  if (blindExporters.length) losses.push(`not collected: exporter group(s) ${blindExporters.join(', ')}`);
  if (blindJobs.length) losses.push(`not collected: pushed job(s) ${blindJobs.join(', ')} (the VIP has nowhere to go)`);
  if (federators.length === 0) losses.push('nothing is federated: no rule is evaluated, no alert sent (the scrapers keep their short history)');
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
}

/** Every combination of `size` units, in order. */
function combinations<T>(items: readonly T[], size: number): T[][] {
  if (size === 0) return [[]];
  return items.flatMap((item, i) => combinations(items.slice(i + 1), size - 1).map((rest) => [item, ...rest]));
}

/**
 * The impact of every combination of 1 to `k` failed hosts: single points of failure first
 * (one host that loses something), then the other combinations that lose something, then
 * those that lose nothing; by size and topology order within each.
 */
export function faultMatrix(spec: TopologySpec, k: number): FaultImpact[] {
  const units = failureUnits(spec);
  const all: FaultImpact[] = [];
  for (let size = 1; size <= Math.min(k, units.length); size++) for (const c of combinations(units, size)) all.push(impactOf(spec, c));
  const rank = (i: FaultImpact) => (i.losses.length === 0 ? 2 : i.failed.length === 1 ? 0 : 1);
  return all.map((impact, index) => ({ impact, index })).sort((a, b) => rank(a.impact) - rank(b.impact) || a.index - b.index).map((x) => x.impact);
}
