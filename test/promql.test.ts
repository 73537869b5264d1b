import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Duration } from '../src/duration.ts';
import { historyNeeded, promqlDiagnostics, selectorUses, unquote, vectorSelectors, type PromqlDiagnostic, type SelectorRef } from '../src/promql/analyze.ts';
import { PROMQL_2_42, PROMQL_2_53, PROMQL_3_5, type PromqlDialect } from '../src/promql/dialect.ts';
import { jobMayMatch, nameMayMatch, namesJob, regexesMayIntersect } from '../src/promql/selector-match.ts';

const err = (message: string, from: number, to: number): PromqlDiagnostic => ({ severity: 'error', message, from, to });
const AT_WARNING = 'the @ modifier pins the evaluation time, so the history this expression reads cannot be computed';

describe('promqlDiagnostics', () => {
  const cases: Array<[string, PromqlDiagnostic[]]> = [
    ['up', []],
    ['sum by (job) (rate(http_requests_total{job="api"}[5m])) > 0', []],
    ['sum(\n  rate(x[5m])\n) # trailing comment', []],
    ['{__name__=~".+"}', []],
    ['x offset -5m', []],
    ['x[5m] @ 100 offset 1m', [{ severity: 'warning', message: AT_WARNING, from: 6, to: 11 }]],
    ['x @ 100', [{ severity: 'warning', message: AT_WARNING, from: 2, to: 7 }]],
    ['x @ start()', [{ severity: 'warning', message: AT_WARNING, from: 2, to: 11 }]],
    // 2.42 has holt_winters; the grammar only knows its 3.0 name.
    ['holt_winters(x[1h], 0.5, 0.5)', []],
    // The grammar binds offset looser than `+`; Prometheus applies it to b only, which is valid.
    ['a + b offset 5m', []],
    ['-x offset 5m', []],

    // Syntax errors: only the first, with offsets into the expression.
    ['', [err('empty expression', 0, 0)]],
    ['  # only a comment', [err('empty expression', 0, 18)]],
    ['sum(rate(x[5m])', [err('unexpected end of expression, missing ")"', 15, 15)]],
    ['foo{', [err('unexpected end of expression, missing "}"', 4, 4)]],
    ['foo{job="a', [err('unexpected end of expression, missing "\\""', 10, 10)]],
    ['rate(x[5m]) +', [err('unexpected end of expression', 13, 13)]],
    ['foo}', [err('unexpected "}"', 3, 4)]],
    ['1 +* 2', [err('unexpected "*"', 3, 4)]],
    ['a b', [err('unexpected "b"', 2, 3)]],
    ['x[1.5m]', [err('unexpected "m"', 5, 6)]],
    ['foo_bar(x)', [err('unknown function with name "foo_bar"', 0, 7)]],

    // Accepted by the grammar, rejected by Prometheus 2.42.
    ['rate(x[5m*2])', [err('duration arithmetic is not supported by Prometheus 2.42', 7, 11)]],
    ['x[1h:5m+1m]', [err('duration arithmetic is not supported by Prometheus 2.42', 5, 10)]],
    ['x offset (1h-5m)', [err('duration arithmetic is not supported by Prometheus 2.42', 9, 16)]],
    // Without parentheses the grammar reads `(x offset 1h) - 5m`, with 5m as the number 300.
    ['x offset 1h-5m', [err('"5m" is a duration, but Prometheus 2.42 needs a number here (in seconds)', 12, 14)]],
    ['x > 5m', [err('"5m" is a duration, but Prometheus 2.42 needs a number here (in seconds)', 4, 6)]],
    ['x[5]', [err('"5" is not a duration in Prometheus 2.42, which needs a unit (e.g. 5m)', 2, 3)]],
    ['x offset 300', [err('"300" is not a duration in Prometheus 2.42, which needs a unit (e.g. 5m)', 9, 12)]],
    ['x[(5m)]', [err('"(5m)" is not a plain duration; Prometheus 2.42 accepts only literals such as 5m', 2, 6)]],
    ['x[1h:step()]', [err('"step()" is not a plain duration; Prometheus 2.42 accepts only literals such as 5m', 5, 11)]],
    ['x offset --5m', [err('"--5m" is not a plain duration; Prometheus 2.42 accepts only literals such as 5m or -5m', 9, 13)]],
    ['rate(x[5m])[5m]', [err('ranges only allowed for vector selectors', 11, 15)]],
    ['x offset 1m [5m]', [err('no offset modifiers allowed before range', 12, 16)]],
    ['rate(x[5m]) offset 5m', [err('offset modifier must be preceded by an instant vector selector or range vector selector or a subquery', 12, 21)]],
    ['x offset 1m offset 2m', [err('offset may not be set multiple times', 12, 21)]],
    ['mad_over_time(x[5m])', [err('function "mad_over_time" is not supported by Prometheus 2.42', 0, 13)]],
    ['limitk(1, x)', [err('aggregation "limitk" is not supported by Prometheus 2.42', 0, 6)]],
    ['{"my.metric"}', [err('a quoted metric or label name is not supported by Prometheus 2.42', 1, 12)]],
    ['a + fill(0) b', [err('fill() in binary operations is not supported by Prometheus 2.42', 4, 11)]],
    ['x anchored', [err('the "anchored" modifier is not supported by Prometheus 2.42', 2, 10)]],
  ];
  for (const [expr, want] of cases)
    it(JSON.stringify(expr), () => {
      assert.deepEqual(promqlDiagnostics(expr), want);
    });
});

describe('promqlDiagnostics per release: each message names the version and what to do', () => {
  const cases: Array<[PromqlDialect, string, PromqlDiagnostic[]]> = [
    [PROMQL_2_53, 'histogram_avg(x)', []],
    [PROMQL_2_42, 'histogram_avg(x)', [err('function "histogram_avg" is not supported by Prometheus 2.42', 0, 13)]],
    [PROMQL_2_53, '{"my.metric"}', []],
    [PROMQL_2_53, 'mad_over_time(x[5m])', [err('function "mad_over_time" is experimental in Prometheus 2.53: it needs --enable-feature=promql-experimental-functions, which promha does not set', 0, 13)]],
    [PROMQL_3_5, 'holt_winters(x[1h], 0.5, 0.5)', [err('function "holt_winters" is not supported by Prometheus 3.5 (renamed double_exponential_smoothing, experimental)', 0, 12)]],
    [PROMQL_3_5, 'limitk(1, x)', [err('aggregation "limitk" is experimental in Prometheus 3.5: it needs --enable-feature=promql-experimental-functions, which promha does not set', 0, 6)]],
    [PROMQL_3_5, 'rate(x[5m*2])', [err('duration arithmetic needs --enable-feature=promql-duration-expr in Prometheus 3.5, which promha does not set', 7, 11)]],
    [PROMQL_3_5, 'x[(5m)]', [err('"(5m)" is a duration expression: Prometheus 3.5 needs --enable-feature=promql-duration-expr for it, which promha does not set', 2, 6)]],
    // Prometheus 3: numbers are seconds in ranges and offsets, durations are numbers elsewhere.
    [PROMQL_3_5, 'x[90] offset 300', []],
    [PROMQL_3_5, 'x > 5m', []],
    [PROMQL_3_5, 'x offset 0s', []],
    [PROMQL_2_53, 'x offset 0s', [err('duration must be greater than 0', 9, 11)]],
    [PROMQL_3_5, 'x[-5]', [err('duration must be greater than 0', 2, 4)]],
    [PROMQL_3_5, 'x[5m:0]', [err('duration must be greater than 0', 5, 6)]],
  ];
  for (const [dialect, expr, want] of cases)
    it(`${dialect.version}: ${expr}`, () => {
      assert.deepEqual(promqlDiagnostics(expr, dialect), want);
    });
});

describe('historyNeeded', () => {
  const cases: Array<[expr: string, lookback: string, want: string]> = [
    ['up', '20s', '20s'],
    ['up', '5m', '5m'],
    ['vector(1)', '5m', '0s'],
    ['rate(x[5m])', '5m', '5m'],
    ['rate(x[2h])', '5m', '2h'],
    ['rate(x[5m] offset 1h)', '5m', '1h5m'],
    ['x offset 10m', '5m', '15m'],
    ['max_over_time(rate(x[1m])[1h:1m] offset 30m)', '5m', '1h31m'],
    ['max_over_time(x[1h:])', '5m', '1h5m'],
    ['max_over_time(x offset 10m [1h:1m])', '5m', '1h15m'],
    ['max_over_time((rate(x[10m] offset 5m))[1h:5m] offset 1d)', '5m', '1d1h15m'],
    ['max_over_time(avg_over_time(x[10m])[1h:1m])[1d:1h]', '5m', '1d1h10m'],
    ['sum by (job) (rate(x[1h])) > on (job) group_left sum(y)', '5m', '1h'],
    // Prometheus applies the offset to b alone: max(1d, 1h + 5m), not 1h + 1d.
    ['rate(a[1d]) / b offset 1h', '5m', '1d'],
    ['a + b offset 1h', '5m', '1h5m'],
    ['-x offset 1h', '5m', '1h5m'],
    ['x offset -1h', '5m', '5m'],
    ['rate(x[5m] offset -1h)', '5m', '5m'],
    ['x @ 100 offset 1m', '5m', '6m'],
    ['holt_winters(x[2h], 0.5, 0.5)', '5m', '2h'],
    ['rate(x[5m*2])', '5m', '0s'],
    ['x offset (1h*2)', '5m', '5m'],
    ['sum(rate(x[1h])', '5m', '1h'],
  ];
  for (const [expr, lookback, want] of cases)
    it(`${expr} (lookback ${lookback})`, () => {
      assert.equal(historyNeeded(expr, Duration.parse(lookback)).toString(), want);
    });
});

describe('vectorSelectors', () => {
  const cases: Array<[string, SelectorRef[]]> = [
    ['up', [{ metric: 'up', matchers: [], from: 0, to: 2 }]],
    [
      'rate(http_requests_total{job="api", code!~"5.."}[5m])',
      [
        {
          metric: 'http_requests_total',
          matchers: [
            { name: 'job', op: '=', value: 'api' },
            { name: 'code', op: '!~', value: '5..' },
          ],
          from: 5,
          to: 48,
        },
      ],
    ],
    [
      '{__name__="push_time_seconds", job=~"batch.*"}',
      [
        {
          metric: 'push_time_seconds',
          matchers: [
            { name: '__name__', op: '=', value: 'push_time_seconds' },
            { name: 'job', op: '=~', value: 'batch.*' },
          ],
          from: 0,
          to: 46,
        },
      ],
    ],
    ['{__name__=~"a|b"}', [{ matchers: [{ name: '__name__', op: '=~', value: 'a|b' }], from: 0, to: 17 }]],
    [
      'max_over_time(a[1h:]) / b offset 1d',
      [
        { metric: 'a', matchers: [], from: 14, to: 15 },
        { metric: 'b', matchers: [], from: 24, to: 25 },
      ],
    ],
    [
      `x{a='it\\'s', b=\`raw\\n\`, c="tab\\there", d="\\u00e9\\x41"}`,
      [
        {
          metric: 'x',
          matchers: [
            { name: 'a', op: '=', value: "it's" },
            { name: 'b', op: '=', value: 'raw\\n' },
            { name: 'c', op: '=', value: 'tab\there' },
            { name: 'd', op: '=', value: 'éA' },
          ],
          from: 0,
          to: 54,
        },
      ],
    ],
    ['vector(1)', []],
  ];
  for (const [expr, want] of cases)
    it(expr, () => {
      assert.deepEqual(vectorSelectors(expr), want);
    });
});

describe('unquote', () => {
  const cases: Array<[string, string]> = [
    ['"plain"', 'plain'],
    ["'single'", 'single'],
    ['`back\\slash`', 'back\\slash'],
    ['"a\\"b\\\\c"', 'a"b\\c'],
    ['"\\303\\251"', 'é'],
    ['"\\U0001F600"', '😀'],
  ];
  for (const [literal, want] of cases)
    it(literal, () => {
      assert.equal(unquote(literal), want);
    });
});

const sel = (expr: string): SelectorRef => {
  const [s] = vectorSelectors(expr);
  assert.ok(s);
  return s;
};

describe('jobMayMatch and namesJob: every job matcher must accept the job (AND)', () => {
  const cases: Array<[expr: string, job: string, may: boolean, names: boolean]> = [
    ['up{job="node"}', 'node', true, true],
    ['up{job="node"}', 'nodes', false, false],
    ['up{job=~"node|push"}', 'push', true, true],
    ['up{job=~"node"}', 'node-exporter', false, false],
    ['up{job=~"push.*"}', 'pushgateway', true, true],
    ['up{job=~"(?i)PUSH.*"}', 'pushgateway', true, true],
    // Negative matchers accept the job without naming it.
    ['up{job!="node"}', 'push', true, false],
    ['up{job!="node"}', 'node', false, false],
    ['up{job!~"no.*"}', 'node', false, false],
    ['up{job!~"no.*"}', 'push', true, false],
    ['up{job!~"kube-dns|coredns"}', 'batch', true, false],
    ['up{job=~"push.*", job!="pushgateway"}', 'pushgateway', false, false],
    ['up{job=~"push.*", job!="pushgateway"}', 'push', true, true],
    // An invalid regex selects nothing.
    ['up{job=~"("}', 'x', false, false],
    // No job matcher: any job.
    ['up', 'node', true, false],
    ['up{instance="a"}', 'node', true, false],
  ];
  for (const [expr, job, may, names] of cases)
    it(`${expr} ~ ${job}`, () => {
      assert.equal(jobMayMatch(sel(expr), job), may);
      assert.equal(namesJob(sel(expr), job), names);
    });
});

describe('nameMayMatch: a selector against a declared metric name or regex', () => {
  const cases: Array<[expr: string, declared: string, want: boolean]> = [
    // =
    ['pushed_value', 'pushed_value', true],
    ['pushed_value', 'pushed_values', false],
    ['{__name__="pushed_value"}', 'pushed_value', true],
    ['pushed_value', 'pushed_.*', true],
    ['pushed_value', 'batch_.*', false],
    ['pushed_value{__name__!="pushed_value"}', 'pushed_value', false],
    // !=
    ['{__name__!="pushed_value", job="b"}', 'pushed_value', false],
    ['{__name__!="other", job="b"}', 'pushed_value', true],
    // A regex of names is never excluded by one name.
    ['{__name__!="pushed_value", job="b"}', 'pushed_.*', true],
    // =~
    ['{__name__=~"pushed_.*"}', 'pushed_value', true],
    ['{__name__=~"node_.*"}', 'pushed_value', false],
    ['{__name__=~"pushed_value|x"}', 'pushed_value', true],
    ['{__name__=~"batch_job_.*"}', 'batch_.*', true],
    ['{__name__=~"batch_.*"}', 'batch_job_.*', true],
    ['{__name__=~"node_.*|x"}', 'batch_.*', false],
    ['{__name__=~"x"}', 'x|y', true],
    ['{__name__=~".+"}', 'batch_.*', true],
    ['{__name__=~"(?i)BATCH_.*"}', 'batch_.*', true],
    // !~
    ['{__name__!~"pushed_.*", job="b"}', 'pushed_value', false],
    ['{__name__!~"node_.*", job="b"}', 'pushed_value', true],
    ['{__name__!~"pushed_.*", job="b"}', 'pushed_.*', false],
    ['{__name__!~"node_.*", job="b"}', 'pushed_.*', true],
    // No name matcher: any name.
    ['{job="batch"}', 'pushed_value', true],
    ['{job="batch"}', 'pushed_.*', true],
  ];
  for (const [expr, declared, want] of cases)
    it(`${expr} ~ ${declared}`, () => {
      assert.equal(nameMayMatch(sel(expr), declared), want);
    });
});

describe('regexesMayIntersect: false only when no name can match both', () => {
  const cases: Array<[string, string, boolean]> = [
    ['a.*', 'ab.*', true],
    ['ab.*', 'ac.*', false],
    ['abc', 'a.c', true],
    ['abc', 'a.d', false],
    ['x|ab.*', 'ac.*', false],
    ['x|ab.*', 'x', true],
    ['ab?c', 'ac', true],
    ['ab*c.*', 'ac.*', true],
    ['a\\.b', 'a\\.b', true],
    ['a\\.b', 'a_b', false],
    ['\\d+', 'x', false],
    ['(a|b)c', 'bc', true],
    ['[ab]c', 'zc', false],
    ['(?i)AB', 'ab', true],
  ];
  for (const [a, b, want] of cases)
    it(`${a} ∩ ${b}`, () => {
      assert.equal(regexesMayIntersect(a, b), want);
      assert.equal(regexesMayIntersect(b, a), want);
    });
});

describe('selectorUses', () => {
  const cases: Array<[string, Array<{ metric: string; range: boolean; fn?: string; inSubquery: boolean }>]> = [
    ['up == 0', [{ metric: 'up', range: false, inSubquery: false }]],
    ['absent(up{job="x"})', [{ metric: 'up', range: false, fn: 'absent', inSubquery: false }]],
    ['count_over_time(x[5m] offset 1m)', [{ metric: 'x', range: true, fn: 'count_over_time', inSubquery: false }]],
    ['sum(changes(x[5m]))', [{ metric: 'x', range: true, fn: 'changes', inSubquery: false }]],
    ['max_over_time(up[5m:1m])', [{ metric: 'up', range: false, inSubquery: true }]],
    ['max_over_time(resets(c[1m])[1h:])', [{ metric: 'c', range: true, fn: 'resets', inSubquery: true }]],
    ['holt_winters(x[1h], 0.5, 0.5) / y', [{ metric: 'x', range: true, fn: 'holt_winters', inSubquery: false }, { metric: 'y', range: false, inSubquery: false }]],
    ['sum(up)', [{ metric: 'up', range: false, inSubquery: false }]],
  ];
  for (const [expr, want] of cases)
    it(expr, () => {
      assert.deepEqual(
        selectorUses(expr).map((u) => ({ metric: u.selector.metric, range: u.range, ...(u.fn ? { fn: u.fn } : {}), inSubquery: u.inSubquery })),
        want,
      );
    });
});
