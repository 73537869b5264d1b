import { Duration } from '../duration.ts';
import { historyNeeded } from '../promql/analyze.ts';
import type { TopologySpec } from '../topology/schema.ts';
import type { Topology } from '../topology/topology.ts';
import { metaRules } from './meta-rules.ts';

/*
 * Values the topology may leave to `auto`, derived in one place so that check,
 * render and doctor always agree on them.
 */

/** TSDB out-of-order window that lets both scraper copies feed one series (DESIGN §3.1). */
export function outOfOrderWindow(spec: TopologySpec): Duration {
  const w = spec.federators.out_of_order_window;
  if (w !== 'auto') return w;
  return Duration.max(Duration.seconds(30), spec.intervals.scrape.plus(spec.intervals.federate).times(2));
}

/** Alertmanager --cluster.peer-timeout: several evaluation intervals (DESIGN §3.7). */
export function peerTimeout(spec: TopologySpec): Duration {
  const t = spec.alertmanagers.peer_timeout;
  return t === 'auto' ? spec.intervals.evaluate.times(3) : t;
}

export interface HistoryNeed {
  readonly need: Duration;
  /** The rule that needs the most, e.g. `rules/app.yml: HighLatency`. */
  readonly rule: string;
}

/** The longest history any federator rule reads: selectors, subqueries, offsets, plus `for` and `keep_firing_for`. */
export function historyNeed(topology: Topology): HistoryNeed {
  const lookback = topology.spec.lookback_delta;
  let best: HistoryNeed = { need: lookback, rule: 'the query lookback (lookback_delta)' };
  const consider = (expr: string, forD: Duration | undefined, keep: Duration | undefined, rule: string) => {
    const need = historyNeeded(expr, lookback)
      .plus(forD ?? Duration.ZERO)
      .plus(keep ?? Duration.ZERO);
    if (need.gt(best.need)) best = { need, rule };
  };
  for (const f of topology.ruleFiles)
    for (const r of f.parsed.rules) consider(r.expr, r.for, r.keepFiringFor, `${f.name}: ${r.name}`);
  for (const r of metaRules(topology.spec)) consider(r.expr, r.for, undefined, `generated: ${r.name}`);
  return best;
}

/** Retention that covers `need` with a margin of 10% (at least 1h), in whole hours. */
export function retentionFor(need: Duration): Duration {
  return need.plus(Duration.max(Duration.hours(1), need.times(0.1))).ceilTo(Duration.hours(1));
}

export function federatorRetention(topology: Topology): Duration {
  const r = topology.spec.federators.storage.retention;
  return r === 'auto' ? retentionFor(historyNeed(topology).need) : r;
}

/** Failover time of a VIP: keepalived declares the master dead after 3 adverts plus skew; ~4 adverts in all. */
export function vipFailoverTime(advertInt: Duration): Duration {
  return advertInt.times(4);
}

/** Federate scrape timeout: the whole interval, so a slow scraper is visible before it fails. */
export function federateTimeout(spec: TopologySpec): Duration {
  return spec.intervals.federate;
}

export const FEDERATE_JOB_PREFIX = 'promha-federate-';
export const PUSHGATEWAY_JOB_PREFIX = 'promha-pushgateway-';
export const PUSH_GROUPS_JOB = 'promha-push-groups';
export const FEDERATOR_JOB = 'promha-federator';
export const ALERTMANAGER_JOB = 'promha-alertmanager';
export const META_RULES_FILE = 'promha-meta.rules.yml';
export const DEFAULT_CLUSTER_PORT = 9094;

/**
 * The federators' --rules.alert.for-grace-period: alerts whose `for` is shorter are
 * not restored from ALERTS_FOR_STATE after a restart (DESIGN §2).
 * @default 10m, Prometheus' own
 */
export function forGracePeriod(spec: TopologySpec): Duration {
  return spec.federators.for_grace_period ?? Duration.minutes(10);
}
