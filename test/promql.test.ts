import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Duration } from '../src/duration.ts';
import { historyNeeded, promqlDiagnostics, selectorMatchesJob, unquote, vectorSelectors, type PromqlDiagnostic, type SelectorRef } from '../src/promql/analyze.ts';

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

describe('selectorMatchesJob', () => {
  const sel = (expr: string): SelectorRef => {
    const [s] = vectorSelectors(expr);
    assert.ok(s);
    return s;
  };
  const cases: Array<[expr: string, job: string, want: boolean]> = [
    ['up{job="node"}', 'node', true],
    ['up{job="node"}', 'nodes', false],
    ['up{job=~"node|push"}', 'push', true],
    ['up{job=~"node"}', 'node-exporter', false],
    ['up{job=~"push.*"}', 'pushgateway', true],
    ['up{job=~"(?i)PUSH.*"}', 'pushgateway', true],
    ['up{job!="node"}', 'push', true],
    ['up{job!="node"}', 'node', false],
    ['up{job!~"no.*"}', 'node', false],
    ['up{job!~"no.*"}', 'push', true],
    ['up{job=~"push.*", job!="pushgateway"}', 'pushgateway', false],
    ['up{job=~"("}', 'x', false],
    ['up', 'node', false],
    ['up{instance="a"}', 'node', false],
  ];
  for (const [expr, job, want] of cases)
    it(`${expr} ~ ${job}`, () => {
      assert.equal(selectorMatchesJob(sel(expr), job), want);
    });
});
