/**
 * What the PromQL of one Prometheus version accepts, where the official grammar (which
 * tracks Prometheus main) accepts more. Each fact here was measured with that version's
 * `promtool check rules` (test/promql-releases.test.ts keeps them honest).
 */
export interface PromqlDialect {
  /** `major.minor`, for messages. */
  readonly version: string;
  /** Functions and aggregations available without feature flags. */
  readonly functions: ReadonlySet<string>;
  /**
   * Functions and aggregations behind `--enable-feature=promql-experimental-functions`,
   * which promha does not set: an expression using them fails to load.
   */
  readonly experimental: ReadonlySet<string>;
  /** UTF-8 metric and label names in quotes: `{"my.metric"}` (2.52+). */
  readonly quotedNames: boolean;
  /**
   * Prometheus 3: a number is a duration in seconds in ranges, steps and offsets (`x[90]`,
   * `offset 300`), and a duration literal is a number of seconds elsewhere (`x > 5m`).
   */
  readonly numbersAreDurations: boolean;
  /** `offset 0s` loads (Prometheus 2 says "duration must be greater than 0"). */
  readonly zeroOffset: boolean;
  /**
   * Range windows are left-open (Prometheus 3): `x[1m]` over samples every minute holds
   * exactly one sample, where Prometheus 2's closed window sometimes held two.
   */
  readonly leftOpenRanges: boolean;
  /** Arithmetic in durations (`x[5m*2]`) exists behind this feature flag, which promha does not set. */
  readonly durationArithmeticFlag?: string;
  /** Functions this version knows under another name. */
  readonly renamed?: Readonly<Record<string, string>>;
}

/** The aggregations added after 2.42 (always experimental so far). */
const LIMIT_AGGREGATIONS = ['limitk', 'limit_ratio'];

/** Prometheus 2.42 (promql/parser/functions.go). */
const FUNCTIONS_2_42 = [
  'abs', 'absent', 'absent_over_time', 'acos', 'acosh', 'asin', 'asinh', 'atan', 'atanh', 'avg_over_time', 'ceil',
  'changes', 'clamp', 'clamp_max', 'clamp_min', 'cos', 'cosh', 'count_over_time', 'days_in_month', 'day_of_month',
  'day_of_week', 'day_of_year', 'deg', 'delta', 'deriv', 'exp', 'floor', 'histogram_count', 'histogram_fraction',
  'histogram_quantile', 'histogram_sum', 'holt_winters', 'hour', 'idelta', 'increase', 'irate', 'label_join',
  'label_replace', 'last_over_time', 'ln', 'log10', 'log2', 'max_over_time', 'min_over_time', 'minute', 'month', 'pi',
  'predict_linear', 'present_over_time', 'quantile_over_time', 'rad', 'rate', 'resets', 'round', 'scalar', 'sgn', 'sin',
  'sinh', 'sort', 'sort_desc', 'sqrt', 'stddev_over_time', 'stdvar_over_time', 'sum_over_time', 'tan', 'tanh', 'time',
  'timestamp', 'vector', 'year',
];

/** 2.53 adds the native-histogram statistics. */
const FUNCTIONS_2_53 = [...FUNCTIONS_2_42, 'histogram_avg', 'histogram_stddev', 'histogram_stdvar'];

/** 3.0 renamed holt_winters to double_exponential_smoothing, and made that experimental. */
const FUNCTIONS_3_5 = FUNCTIONS_2_53.filter((f) => f !== 'holt_winters');

export const PROMQL_2_42: PromqlDialect = {
  version: '2.42',
  functions: new Set(FUNCTIONS_2_42),
  experimental: new Set(),
  quotedNames: false,
  numbersAreDurations: false,
  zeroOffset: false,
  leftOpenRanges: false,
};

export const PROMQL_2_53: PromqlDialect = {
  version: '2.53',
  functions: new Set(FUNCTIONS_2_53),
  experimental: new Set(['mad_over_time', 'sort_by_label', 'sort_by_label_desc']),
  quotedNames: true,
  numbersAreDurations: false,
  zeroOffset: false,
  leftOpenRanges: false,
};

export const PROMQL_3_5: PromqlDialect = {
  version: '3.5',
  functions: new Set(FUNCTIONS_3_5),
  experimental: new Set([
    'double_exponential_smoothing', 'info', 'mad_over_time', 'sort_by_label', 'sort_by_label_desc',
    'ts_of_max_over_time', 'ts_of_min_over_time', 'ts_of_last_over_time', ...LIMIT_AGGREGATIONS,
  ]),
  quotedNames: true,
  numbersAreDurations: true,
  zeroOffset: true,
  leftOpenRanges: true,
  durationArithmeticFlag: 'promql-duration-expr',
  renamed: { holt_winters: 'double_exponential_smoothing' },
};

/** What a dialect says of a function or aggregation name: usable, experimental, or absent. */
export function functionProblem(d: PromqlDialect, kind: 'function' | 'aggregation', name: string): string | undefined {
  if (d.functions.has(name)) return undefined;
  if (d.experimental.has(name))
    return `${kind} ${JSON.stringify(name)} is experimental in Prometheus ${d.version}: it needs --enable-feature=promql-experimental-functions, which promha does not set`;
  const now = d.renamed?.[name];
  return `${kind} ${JSON.stringify(name)} is not supported by Prometheus ${d.version}${now ? ` (renamed ${now}${d.experimental.has(now) ? ', experimental' : ''})` : ''}`;
}
