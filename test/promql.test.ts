import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as T from '@prometheus-io/lezer-promql';
import { Duration } from '../src/duration.ts';
import { historyNeeded, promqlDiagnostics, selectorUses, unquote, vectorSelectors, type PromqlDiagnostic, type SelectorRef } from '../src/promql/analyze.ts';
import { PROMQL_2_42, PROMQL_2_53, PROMQL_3_5, type PromqlDialect } from '../src/promql/dialect.ts';
import { jobMayMatch, nameMayMatch, namesJob, regexesMayIntersect } from '../src/promql/selector-match.ts';
import { LONG_CHAIN, MAX_NESTING, shape } from '../src/promql/shape.ts';

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

describe('long and deep expressions: what promtool accepts, up to a stated depth; past it a located error', () => {
  const chain = (n: number, op = ' + ', term = (i: number) => `up${i}`) => Array.from({ length: n }, (_, i) => term(i)).join(op);
  const nest = (n: number, open: string, close: string, inner = 'up') => `${open.repeat(n)}${inner}${close.repeat(n)}`;
  const bound = (from: number, to = from + 1): PromqlDiagnostic => err(`the expression nests more than ${MAX_NESTING} levels deep (brackets, unary operators and modifiers); promha checks expressions up to that depth`, from, to);
  const cases: Array<[name: string, expr: string, want: PromqlDiagnostic[]]> = [
    // lezer alone cut these at about 400 terms ("unexpected"), and the walks overflowed the stack at 3,000 (exit 70).
    ['600 terms', chain(600), []],
    ['3,000 terms', chain(3000), []],
    ['5,000 terms without spaces', chain(5000, '+'), []],
    ['1,000 terms of every operator and modifier', chain(1000, ' * on(a) group_left(b) -', (i) => `rate(x${i}[5m] offset 1m) + bool y ^ 2 or z unless w atan2 v`), []],
    ['3,000 arguments of a sum', `sum(${chain(3000)}) by (job)`, []],
    ['a long chain in every one of 100 nested parentheses', nest(100, '(', `${' + up'.repeat(100)})`), []],
    [`${MAX_NESTING} parentheses`, nest(MAX_NESTING, '(', ')'), []],
    [`${MAX_NESTING} calls`, nest(MAX_NESTING, 'abs(', ')'), []],
    [`${MAX_NESTING} signs`, `${'-'.repeat(MAX_NESTING)}up`, []],
    [`${MAX_NESTING + 1} parentheses`, nest(MAX_NESTING + 1, '(', ')'), [bound(MAX_NESTING)]],
    ['5,000 parentheses', nest(5000, '(', ')'), [bound(MAX_NESTING)]],
    ['5,000 calls', nest(5000, 'abs(', ')'), [bound(4 * MAX_NESTING + 3)]],
    ['300 signs', `${'-'.repeat(300)}up`, [bound(MAX_NESTING)]],
    // Operators waiting for their right side nest too: `^` binds to the right.
    ['300 powers', chain(300, '^', () => 'x'), [bound(2 * MAX_NESTING + 1)]],
    // Each one a level of brackets and a modifier of the one before.
    ['300 subqueries of subqueries', `x${'[5m:1m]'.repeat(300)}`, [bound(1 + 7 * (MAX_NESTING - 1))]],
    // Regrouping long chains leaves the first error where it is.
    ['an operator with no operand after 1,000 terms', `${chain(1000)} + * b`, [err('unexpected "*"', chain(1000).length + 3, chain(1000).length + 4)]],
    ['an unknown function inside a long chain', `${chain(500)} + foo_bar(x) + ${chain(500)}`, [err('unknown function with name "foo_bar"', chain(500).length + 3, chain(500).length + 10)]],
    ['a chain left open', `sum(${chain(1000)}`, [err('unexpected end of expression, missing ")"', chain(1000).length + 4, chain(1000).length + 4)]],
    ['4 MB of closing parentheses', ')'.repeat(4_000_000), [err('unexpected ")"', 0, 1)]],
    ['a million metric names in a row', 'up '.repeat(1_000_000), [err('unexpected "up"', 3, 5)]],
  ];
  for (const [name, expr, want] of cases)
    it(name, () => {
      assert.deepEqual(promqlDiagnostics(expr), want);
    });

  it('reads every selector of a long chain, at its own offset', () => {
    const expr = chain(1000);
    const uses = selectorUses(expr);
    assert.equal(uses.length, 1000);
    for (const [i, u] of uses.entries()) {
      assert.equal(u.selector.metric, `up${i}`);
      assert.equal(expr.slice(u.selector.from, u.selector.to), `up${i}`);
    }
  });

  it('reads the history of a long chain and of a deep one', () => {
    assert.equal(historyNeeded(`${chain(999)} + rate(x[2h] offset 1d)`, Duration.parse('5m')).toString(), '1d2h');
    assert.equal(historyNeeded(nest(200, 'max_over_time(', '[1m:])', 'x'), Duration.parse('5m')).toString(), '3h25m');
    assert.equal(historyNeeded(nest(5000, '(', ')'), Duration.parse('5m')).toString(), '0s', 'past the bound nothing is read');
  });

  it('reports what a release refuses inside a long chain, at its place', () => {
    const expr = `${chain(700)} + mad_over_time(x[5m])`;
    const at = chain(700).length + 3;
    assert.deepEqual(promqlDiagnostics(expr), [err('function "mad_over_time" is not supported by Prometheus 2.42', at, at + 13)]);
  });
});

describe('shape: long chains get parentheses of their own, mapped back to the expression', () => {
  const cases: Array<[string, number]> = [
    ['up', 0],
    [Array(LONG_CHAIN + 1).fill('up').join(' + '), 0],
    // 34 operands: 5 runs (4 of 8, one of 2).
    [Array(LONG_CHAIN + 2).fill('up').join(' + '), 2 * 5],
    // 66 operands: 9 runs (8 of 8, one of 2), each in parentheses; then 2 runs of those runs (8, and one left alone).
    [Array(66).fill('up').join(' + '), 2 * (9 + 1)],
    // 100: 13 runs, then 2 runs of those.
    [`sum(${Array(100).fill('x[5m] offset 1m').join(' or ')}) by (a)`, 2 * (13 + 2)],
    // A string holds no operator; a comment none either.
    [`"${'a + '.repeat(100)}" # ${'+ b '.repeat(100)}`, 0],
  ];
  for (const [expr, added] of cases)
    it(`${expr.slice(0, 40)}… (${expr.length} characters)`, () => {
      const s = shape(expr);
      assert.equal(s.tooDeep, undefined);
      assert.equal(s.text.length - expr.length, added);
      // Every character of the new text is the expression's at its offset, or an added parenthesis (which advances no offset).
      let kept = '';
      for (let i = 0; i < s.text.length; i++) {
        const o = s.toOriginal(i);
        if (s.toOriginal(i + 1) === o) assert.match(s.text.charAt(i), /[()]/);
        else {
          assert.equal(s.text.charAt(i), expr.charAt(o));
          kept += s.text.charAt(i);
        }
      }
      assert.equal(kept, expr);
      assert.equal(s.toOriginal(s.text.length), expr.length);
    });
});

describe('U+FFFD: every release refuses it in a string ("invalid UTF-8 rune"), accepts it in a comment', () => {
  const cases: Array<[string, PromqlDiagnostic[]]> = [
    ['up{job="\uFFFD"}', [err('invalid UTF-8 rune: Prometheus refuses U+FFFD (the replacement character) in a string, as it would a byte that is no UTF-8', 8, 9)]],
    ["up{job='a\uFFFD'}", [err('invalid UTF-8 rune: Prometheus refuses U+FFFD (the replacement character) in a string, as it would a byte that is no UTF-8', 9, 10)]],
    ['up{job=`\uFFFD`}', [err('invalid UTF-8 rune: Prometheus refuses U+FFFD (the replacement character) in a string, as it would a byte that is no UTF-8', 8, 9)]],
    ['label_replace(up, "a", "\uFFFD", "b", "c")', [err('invalid UTF-8 rune: Prometheus refuses U+FFFD (the replacement character) in a string, as it would a byte that is no UTF-8', 24, 25)]],
    // Before a later syntax error, as the lexer meets it; after an earlier one, that one.
    ['up{job="\uFFFD"} +', [err('invalid UTF-8 rune: Prometheus refuses U+FFFD (the replacement character) in a string, as it would a byte that is no UTF-8', 8, 9)]],
    ['a b{job="\uFFFD"}', [err('unexpected "b"', 2, 3)]],
    ['up # \uFFFD', []],
    // The escape is a valid string: the character only comes from the bytes of the expression.
    ['up{job="\\uFFFD"}', []],
  ];
  for (const [expr, want] of cases)
    it(JSON.stringify(expr), () => {
      assert.deepEqual(promqlDiagnostics(expr), want);
    });
});

describe('shape: regrouping changes no verdict of the parser (random expressions, seeded)', () => {
  // Chains of 33 to 122 operators: long enough to be regrouped, short enough for lezer as written.
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const operand = (depth: number): string => {
    const r = random();
    if (depth > 2 || r < 0.4) return pick(['up', 'x{a="b", c!~"d"}', '1', '2.5e+3', 'rate(x[5m])', 'x offset -5m', 'x @ start()', '"s"', '-y', 'x[1h:5m]']);
    if (r < 0.6) return `(${chain(depth + 1)})`;
    if (r < 0.8) return `sum by (a) (${chain(depth + 1)})`;
    return `max_over_time((${chain(depth + 1)})[5m:1m])`;
  };
  const operator = () => pick([' + ', ' - ', '*', ' / ', ' % ', '^', ' == bool ', ' > ', ' and ', ' or on(a) ', ' unless ignoring(b) ', ' * on(a) group_left(b) ', ' atan2 ']);
  function chain(depth: number): string {
    const n = depth === 0 ? 33 + Math.floor(random() * 90) : 1 + Math.floor(random() * 6);
    return Array.from({ length: n }, () => operand(depth)).join(operator());
  }
  /** Damage somewhere: an operator doubled, a character dropped (a bracket left open), a word or a stray token added. */
  const damage = (e: string) => {
    const at = Math.floor(random() * e.length);
    const junk = pick(['(', ')', '[', ']', '{', '}', ',', ':', '@', '"', "'", '#', ' offset ', ' by ', ' bool ', ' on(', ' -', '^', ' and ', ' 5m ', '`', '\n', ' group_left ', ' fill(0) ', ' anchored ', '{{', 'x[', ')[5m:]']);
    return pick([() => `${e.slice(0, at)} + * ${e.slice(at)}`, () => `${e.slice(0, at)}${e.slice(at + 1)}`, () => `${e.slice(0, at)} foo ${e.slice(at)}`, () => `${e.slice(0, at)}${junk}${e.slice(at)}`, () => e])();
  };
  const strict = T.parser.configure({ strict: true });
  const failsAt = (text: string): number | undefined => {
    try {
      strict.parse(text);
      return undefined;
    } catch (e) {
      return Number(/No parse at (\d+)/.exec(String(e))?.[1]);
    }
  };
  it('300 expressions: the same verdict, the first error at the same place', () => {
    let regrouped = 0;
    for (let i = 0; i < 300; i++) {
      const expr = i % 2 === 0 ? chain(0) : damage(chain(0));
      const s = shape(expr);
      if (s.tooDeep) continue;
      if (s.text !== expr) regrouped++;
      const written = failsAt(expr);
      const shaped = failsAt(s.text);
      const skip = (at: number | undefined) => (at === undefined ? undefined : at + (/^\s*/.exec(expr.slice(at))?.[0].length ?? 0));
      assert.equal(skip(shaped === undefined ? undefined : s.toOriginal(shaped)), skip(written), expr);
    }
    assert.ok(regrouped > 250, `${regrouped} regrouped`);
  });
});
