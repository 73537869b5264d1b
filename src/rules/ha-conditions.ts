/**
 * A promtool test group as the federators of this design would see its input series.
 * promtool feeds a rule the samples of one Prometheus scraping each target once; here:
 *
 * - merged copies: both members of a scraper set scrape every exporter, and the
 *   federators merge the two copies into one series (honor_labels, the replica label
 *   dropped, DESIGN §3.1): two samples per scrape interval, half an interval apart.
 *   Pushed series have one copy: the standby gateway holds nothing.
 * - scraper lost: a scraper member dies mid-test; from then on one copy remains.
 * - push gap: the active gateway dies; its series go stale at the federators until the
 *   next push reaches the standby through the VIP and the federators scrape it (push
 *   interval + gateway scrape + VIP failover).
 *
 * Each transformation is pure; `promha test rules` runs every variant through the
 * release's own promtool.
 */
import { Duration } from '../duration.ts';
import { vectorSelectors } from '../promql/analyze.ts';
import { nameMayMatch } from '../promql/selector-match.ts';
import { expandValues, formatValues, MAX_STEPS, type SeriesStep } from './series-values.ts';

export interface InputSeries {
  readonly series: string;
  readonly values: string;
}

/** A test group of a promtool test file; fields promha does not change are kept as they are. */
export interface TestGroup {
  readonly name?: string;
  readonly interval?: string;
  readonly input_series?: readonly InputSeries[];
  readonly alert_rule_test?: ReadonlyArray<{ readonly eval_time?: string }>;
  readonly promql_expr_test?: ReadonlyArray<{ readonly eval_time?: string }>;
  readonly [field: string]: unknown;
}

export type ConditionKind = 'merged-copies' | 'scraper-lost' | 'push-gap';

export interface Condition {
  readonly kind: ConditionKind;
  /** In words, with its time and length: `push gap of 42s ending at 5m`. */
  readonly title: string;
}

export interface Variant {
  readonly condition: Condition;
  /** The transformed group, or why it cannot be made (`promha test rules` reports the condition NOT RUN). */
  readonly group: TestGroup | { readonly skipped: string };
}

/** What the transformations need to know of the topology. */
export interface HaParameters {
  /** Whether an input series is pushed (through a gateway set) rather than scraped. */
  readonly pushed: (series: string) => boolean;
  /** How long pushed series are gone at the federators after a gateway failover. */
  readonly pushGap: Duration;
}

/** The fix to suggest when a condition changes an outcome. */
export const CONDITION_FIX: Readonly<Record<ConditionKind, string>> = {
  'merged-copies':
    'the federators hold two copies of each scraped series: count_over_time and sum_over_time see every value twice; read values (avg_over_time, max_over_time, rate, increase) instead of counting samples, or halve the count',
  'scraper-lost': 'the number of samples per interval halves while a scraper member is down: do not count samples; read values (avg_over_time, max_over_time, rate, increase)',
  'push-gap':
    'pushed series go stale for the whole failover: give alerts on their values keep_firing_for of at least the gap plus one evaluation; alerts on their absence need absent_over_time over the gap, or a `for:` longer than it',
};

/** The step interval of a group: its own, else the file's evaluation_interval, else 1m (as promtool). */
function groupInterval(group: TestGroup, evaluationInterval: string | undefined): Duration | undefined {
  return Duration.tryParse(group.interval ?? evaluationInterval ?? '1m');
}

/** The distinct eval_times of a group, in order. */
function evalTimes(group: TestGroup): Duration[] {
  const ms = new Set([...(group.alert_rule_test ?? []), ...(group.promql_expr_test ?? [])].map((t) => (Duration.tryParse(t.eval_time ?? '0s') ?? Duration.ZERO).ms));
  return [...ms].sort((a, b) => a - b).map((m) => Duration.milliseconds(m));
}

type Expanded = Array<{ readonly source: InputSeries; readonly steps: SeriesStep[]; readonly pushed: boolean }>;

function expandAll(group: TestGroup, p: HaParameters): Expanded | string {
  const out: Expanded = [];
  let total = 0;
  for (const s of group.input_series ?? []) {
    const steps = expandValues(s.values);
    if (typeof steps === 'string') return `${s.series}: ${steps}`;
    total += steps.length;
    if (total > MAX_STEPS) return `the input series hold more than ${MAX_STEPS} samples in all, more than promha rewrites`;
    out.push({ source: s, steps, pushed: p.pushed(s.series) });
  }
  return out;
}

const withSeries = (group: TestGroup, series: Expanded, interval?: Duration): TestGroup => ({
  ...group,
  ...(interval ? { interval: String(interval) } : {}),
  input_series: series.map((s) => ({ ...s.source, values: formatValues(s.steps) })),
});

/**
 * Two copies half an interval apart: each step of a scraped series becomes two samples
 * of the same value (the second member scraped the exporter half an interval later),
 * a pushed series keeps one. From `lostAt` on, the second copy is gone.
 */
function merged(group: TestGroup, interval: Duration, series: Expanded, lostAt?: Duration): TestGroup | { skipped: string } {
  if (interval.ms % 2 !== 0) return { skipped: `the interval ${interval} cannot be halved in whole milliseconds` };
  const lostStep = lostAt === undefined ? Infinity : Math.ceil(lostAt.ms / interval.ms);
  const doubled = series.map((s) => ({ ...s, steps: s.steps.flatMap((v, i): SeriesStep[] => [v, s.pushed || i >= lostStep ? '_' : v]) }));
  return withSeries(group, doubled, Duration.milliseconds(interval.ms / 2));
}

/** Pushed series stale from `end - gap` and absent up to `end`. */
function pushGap(group: TestGroup, interval: Duration, series: Expanded, gap: Duration, end: Duration): TestGroup {
  const first = Math.max(0, Math.ceil((end.ms - gap.ms) / interval.ms));
  const last = Math.floor(end.ms / interval.ms);
  const cut = series.map((s) =>
    s.pushed ? { ...s, steps: s.steps.map((v, i): SeriesStep => (i < first || i > last ? v : i === first ? 'stale' : '_')) } : s,
  );
  return withSeries(group, cut);
}

/**
 * Every HA variant of a test group, in a fixed order: merged copies, scraper lost, then a
 * push gap before each eval_time (when a series is pushed). A condition that cannot be
 * made is still listed, with the reason, so that it is never taken for one that holds.
 */
export function haVariants(group: TestGroup, evaluationInterval: string | undefined, p: HaParameters): Variant[] {
  const interval = groupInterval(group, evaluationInterval);
  const times = evalTimes(group);
  const lostAt = Duration.milliseconds(Math.floor((times.at(-1)?.ms ?? 0) / 2));
  const mergedCondition: Condition = { kind: 'merged-copies', title: 'merged scraper copies' };
  const lostCondition: Condition = { kind: 'scraper-lost', title: `a scraper member lost at ${lostAt}` };
  // Which series are pushed is known from their selectors alone, even when their samples cannot be rewritten.
  const pushed = (group.input_series ?? []).some((s) => p.pushed(s.series));
  const gaps = pushed ? times.filter((end) => end.ms > 0) : [];
  const gapCondition = (end: Duration): Condition => ({ kind: 'push-gap', title: `a push gap of ${p.pushGap} ending at ${end}` });
  const series = expandAll(group, p);
  if (interval === undefined || typeof series === 'string') {
    const skipped = interval === undefined ? `the interval "${group.interval ?? evaluationInterval}" is no duration` : series;
    return [mergedCondition, lostCondition, ...gaps.map(gapCondition)].map((condition) => ({ condition, group: { skipped } }));
  }
  return [
    { condition: mergedCondition, group: merged(group, interval, series) },
    { condition: lostCondition, group: merged(group, interval, series, lostAt) },
    ...gaps.map((end) => ({ condition: gapCondition(end), group: pushGap(group, interval, series, p.pushGap, end) })),
  ];
}

/**
 * Whether a series of a test file is pushed: its job is a pushed job of the topology, or,
 * without a job label, its name is one a pushed job declares.
 */
export function pushedSeriesMatcher(jobs: ReadonlyArray<{ readonly name: string; readonly metrics: readonly string[] }>): (series: string) => boolean {
  return (series) => {
    let sel;
    try {
      sel = vectorSelectors(series)[0];
    } catch {
      return false;
    }
    if (!sel) return false;
    const job = sel.matchers.find((m) => m.name === 'job' && m.op === '=')?.value;
    if (job !== undefined) return jobs.some((j) => j.name === job);
    return jobs.some((j) => j.metrics.some((m) => nameMayMatch(sel, m)));
  };
}
