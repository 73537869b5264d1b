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

/**
 * Alertmanager --cluster.peer-timeout: several evaluation intervals (DESIGN §3.7), and half
 * an interval off their beat. Alerts reach the members when the federators evaluate, so
 * the members' groups flush whole evaluation intervals apart; a member that waits a
 * whole number of intervals can check the notification log at the very moment its peer
 * sends, before the gossip brings the entry: measured, both then notified at every
 * group_interval.
 */
export function peerTimeout(spec: TopologySpec): Duration {
  const t = spec.alertmanagers.peer_timeout;
  return t === 'auto' ? spec.intervals.evaluate.times(AUTO_PEER_TIMEOUT_INTERVALS) : t;
}

/** `auto` peer_timeout, in evaluation intervals. */
export const AUTO_PEER_TIMEOUT_INTERVALS = 3.5;

export interface HistoryNeed {
  readonly need: Duration;
  /** The rule that needs the most, e.g. `rules/app.yml: HighLatency`. */
  readonly rule: string;
}

/**
 * The longest history any federator rule reads from storage: its range selectors,
 * subqueries, offsets and the lookback. `for:` and `keep_firing_for` read no stored
 * samples: a restarted federator restores their state from ALERTS_FOR_STATE, which it
 * looks up only within --rules.alert.for-outage-tolerance (1h) of the restart.
 */
/** Per topology: planning, the retention flag and the retention check each ask, and every rule is parsed to answer. */
const historyNeeds = new WeakMap<Topology, HistoryNeed>();

export function historyNeed(topology: Topology): HistoryNeed {
  const known = historyNeeds.get(topology);
  if (known) return known;
  const need = computeHistoryNeed(topology);
  historyNeeds.set(topology, need);
  return need;
}

function computeHistoryNeed(topology: Topology): HistoryNeed {
  const lookback = topology.spec.lookback_delta;
  let best: HistoryNeed = { need: lookback, rule: 'the query lookback (lookback_delta)' };
  const consider = (expr: string, rule: string) => {
    const need = historyNeeded(expr, lookback);
    if (need.gt(best.need)) best = { need, rule };
  };
  for (const f of topology.ruleFiles) for (const r of f.parsed.rules) consider(r.expr, `${f.name}: ${r.name}`);
  for (const r of metaRules(topology.spec)) consider(r.expr, `generated: ${r.name}`);
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

export interface KeepFiringNeed {
  readonly need: Duration;
  /** How `need` adds up, for messages. */
  readonly derivation: string;
}

/**
 * keep_firing_for that bridges a gateway failover (DESIGN §3.4). When the active gateway
 * dies, its series go stale at the federators; the VIP moves to the standby, the next
 * push lands there, the federators scrape it (at the federate interval, like every
 * gateway) and the rule sees it at its next evaluation.
 */
export function pushedKeepFiringFor(spec: TopologySpec, advertInt: Duration, evaluate: Duration): KeepFiringNeed {
  const failover = vipFailoverTime(advertInt);
  const { push, federate } = spec.intervals;
  return {
    need: push.plus(federate).plus(evaluate).plus(failover),
    derivation: `push interval ${push} + gateway scrape ${federate} + evaluation ${evaluate} + VIP failover ${failover} (4 × advert_int ${advertInt})`,
  };
}

/** Failover time of a VIP: keepalived declares the master dead after 3 adverts plus skew; ~4 adverts in all. */
export function vipFailoverTime(advertInt: Duration): Duration {
  return advertInt.times(4);
}

/** The top route's group_wait and group_interval, Alertmanager's defaults where unset. */
export function routeTiming(spec: TopologySpec): { readonly groupWait: Duration; readonly groupInterval: Duration } {
  const route = spec.alertmanagers.route as { group_wait?: string; group_interval?: string };
  return {
    groupWait: Duration.tryParse(route.group_wait ?? '30s') ?? Duration.seconds(30),
    groupInterval: Duration.tryParse(route.group_interval ?? '5m') ?? Duration.minutes(5),
  };
}

/** The federators' --rules.alert.resend-delay. @default 1m, Prometheus' own */
export function resendDelay(spec: TopologySpec): Duration {
  return spec.federators.resend_delay ?? Duration.minutes(1);
}

/**
 * Alertmanager --dispatch.start-delay: how long a started member groups alerts before
 * its first flush. Without it, the first alert of each group that arrives is flushed at
 * once (it is older than group_wait), the flush waits for the gossip to settle (about
 * 10 s) and the peers' waits, and then sends the alerts as they were when they arrived:
 * measured, a restarted member notified resolved an alert that had fired again 7 s
 * before, and repeated what its peer had sent. Its first flush must come after every
 * federator resent every alert (one resend delay and an evaluation) and after the
 * gossip settled (up to about 16 s while a killed incarnation still counts as a member).
 */
export function dispatchStartDelay(spec: TopologySpec): Duration {
  return Duration.max(Duration.seconds(20), resendDelay(spec).plus(spec.intervals.evaluate.times(2)));
}

/**
 * How long an Alertmanager holds an alert active after a federator sent it: Prometheus
 * stamps it valid for 4 × max(resend delay, evaluation interval) (rules/alerting.go).
 */
export function alertValidity(spec: TopologySpec): Duration {
  return Duration.max(resendDelay(spec), spec.intervals.evaluate).times(4);
}

/**
 * The scrapers' scrape timeout: they set none, so Prometheus' global default applies,
 * 10 s, or the scrape interval when that is shorter.
 */
export function scraperScrapeTimeout(spec: TopologySpec): Duration {
  return spec.intervals.scrape.ms < 10_000 ? spec.intervals.scrape : Duration.seconds(10);
}

/**
 * The federators' send timeout to the Alertmanagers. Prometheus sends each batch of
 * alerts to every Alertmanager and waits for all of them (notifier sendAll), so one that
 * hangs (paused, its host unreachable) holds every later batch back for the whole
 * timeout, 10 s by default. Longer than the alerts' validity, the other members let the
 * alerts expire and notify them resolved while they still fire. Half the validity leaves
 * room for one more send before they expire.
 */
export function alertmanagerSendTimeout(spec: TopologySpec): Duration {
  const half = alertValidity(spec).times(0.5);
  return half.ms < 10_000 ? half : Duration.seconds(10);
}

/**
 * How long a pusher must keep retrying a failed push: the longest VIP failover of the
 * topology and a second. A gateway host whose processes died but whose kernel lives
 * keeps the VIP and refuses connections at once until the standby takes it over, so a
 * few quick retries are not enough (measured: 3 pushes lost in a chaos campaign).
 */
export function pushRetryWindow(spec: TopologySpec): Duration {
  return vipFailoverTime(Duration.max(Duration.seconds(1), ...spec.pushgateways.map((s) => s.vip.advert_int))).plus(Duration.seconds(1));
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

/**
 * A range that holds at least one sample of each scraper copy of a merged series: each
 * copy is scraped once per scrape interval and reaches the federators up to one federate
 * interval later; twice that survives one missed scrape.
 */
export function bothCopiesWindow(spec: TopologySpec): Duration {
  return spec.intervals.scrape.plus(spec.intervals.federate).times(2);
}

/** Alertmanager --cluster.label: the topology's, else one named after the set (never shared with another set of this topology); undefined for `false`. */
export function clusterLabel(spec: TopologySpec): string | undefined {
  const label = spec.alertmanagers.cluster_label;
  return label === false ? undefined : (label ?? `promha-${spec.alertmanagers.name}`);
}
