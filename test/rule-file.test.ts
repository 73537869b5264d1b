import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { promqlDiagnostics } from '../src/promql/analyze.ts';
import { parseRuleFile, type RuleDefinition } from '../src/rules/rule-file.ts';

/** `line:column message` of every problem, the form a user reads. */
function problems(text: string): string[] {
  return parseRuleFile('rules.yml', text).problems.map((p) => `${p.location.line}:${p.location.column} ${p.message}`);
}

function rule(text: string, name: string): RuleDefinition {
  const r = parseRuleFile('rules.yml', text).rules.find((x) => x.name === name);
  assert.ok(r, `rule ${name} not loaded`);
  return r;
}

/** The character of `text` at a 1-based line/column. */
function charAt(text: string, line: number, column: number): string {
  return (text.split('\n')[line - 1] ?? '').charAt(column - 1);
}

const VALID = `groups:
  - name: api
    interval: 30s
    limit: 10
    rules:
      - record: job:http_requests:rate5m
        expr: sum by (job) (rate(http_requests_total[5m]))
        labels:
          team: web
      - alert: HighErrorRate
        expr: |
          sum(rate(errors_total[5m]))
            / sum(rate(requests_total[5m])) > 0.05
        for: 10m
        keep_firing_for: 5m
        labels:
          severity: page
          priority: 1.0
        annotations:
          summary: Too many errors
  - name: other
    rules:
      - alert: Up
        expr: 1
`;

describe('parseRuleFile: valid file', () => {
  const file = parseRuleFile('rules.yml', VALID);
  it('has no problems', () => assert.deepEqual(file.problems, []));
  it('reads every rule', () => {
    assert.deepEqual(
      file.rules.map((r) => [r.kind, r.name, r.group, r.groupInterval?.toString(), r.for?.toString(), r.keepFiringFor?.toString(), r.labels]),
      [
        ['record', 'job:http_requests:rate5m', 'api', '30s', undefined, undefined, { team: 'web' }],
        ['alert', 'HighErrorRate', 'api', '30s', '10m', '5m', { severity: 'page', priority: '1.0' }],
        ['alert', 'Up', 'other', undefined, undefined, undefined, {}],
      ],
    );
  });
  it('keeps the expression text as YAML decodes it', () => {
    assert.deepEqual(
      file.rules.map((r) => r.expr),
      ['sum by (job) (rate(http_requests_total[5m]))', 'sum(rate(errors_total[5m]))\n  / sum(rate(requests_total[5m])) > 0.05\n', '1'],
    );
  });
  it('locates each rule at its alert/record key', () => {
    assert.deepEqual(
      file.rules.map((r) => r.location),
      [
        { file: 'rules.yml', line: 6, column: 9 },
        { file: 'rules.yml', line: 10, column: 9 },
        { file: 'rules.yml', line: 23, column: 9 },
      ],
    );
  });
  it('accepts an empty groups list', () => assert.deepEqual(problems('groups: []\n'), []));
});

describe('parseRuleFile: problems', () => {
  const group = (rules: string) => `groups:\n  - name: g\n    rules:\n${rules}`;
  const cases: Array<[name: string, text: string, want: string[]]> = [
    ['YAML syntax error', 'groups:\n  - name: g\n    rules: [\n', ['4:1 YAML: Flow sequence in block collection must be sufficiently indented and end with a ]']],
    ['YAML duplicate key', 'groups:\n  - name: a\n    name: b\n', ['3:5 YAML: Map keys must be unique']],
    ['empty file', '', ['1:1 rule file has no `groups` list']],
    ['top level is a list', '- name: g\n', ['1:1 a rule file must be a mapping with a `groups` list']],
    ['top level is a scalar', 'hello\n', ['1:1 a rule file must be a mapping with a `groups` list']],
    ['no groups key', 'rules: []\n', ['1:1 unknown key "rules" at the top level', '1:1 rule file has no `groups` list']],
    ['groups not a list', 'groups:\n  name: g\n', ['2:3 `groups` must be a list of groups']],
    ['group not a mapping', 'groups:\n  - g\n', ['2:5 each entry of `groups` must be a mapping with `name` and `rules`']],
    ['group without name', 'groups:\n  - rules: []\n', ['2:5 group has no name']],
    ['group with empty name', 'groups:\n  - name: ""\n', ['2:11 group name must be a non-empty string']],
    ['duplicate group names', 'groups:\n  - name: a\n  - name: b\n  - name: a\n', ['4:11 duplicate group name "a" (first used at line 2)']],
    ['unknown group key', 'groups:\n  - name: a\n    evaluation_interval: 1m\n', ['3:5 unknown key "evaluation_interval" in group "a"']],
    ['invalid group interval', 'groups:\n  - name: a\n    interval: 1 minute\n', ['3:15 group "a": interval "1 minute" is not a duration']],
    ['invalid limit', 'groups:\n  - name: a\n    limit: many\n', ['3:12 group "a": limit must be a non-negative integer']],
    ['rules not a list', 'groups:\n  - name: a\n    rules: {}\n', ['3:12 group "a": rules must be a list']],
    ['rule not a mapping', group('      - up\n'), ['4:9 each rule must be a mapping with `alert` or `record` and `expr`']],
    ['both alert and record', group('      - alert: A\n        record: b\n        expr: up\n'), ['5:9 rule has both `alert` and `record`; use one per rule']],
    ['neither alert nor record', group('      - expr: up\n'), ['4:9 rule has neither `alert` nor `record`']],
    ['missing expr', group('      - alert: A\n        for: 1m\n'), ['4:9 alert A: expr is missing']],
    ['null expr', group('      - alert: A\n        expr:\n'), ['5:9 alert A: expr is missing']],
    ['empty expr', group('      - alert: A\n        expr: ""\n'), ['5:15 alert A: expr is empty']],
    ['blank block expr', group('      - alert: A\n        expr: |\n\n      - alert: B\n        expr: up\n'), ['5:15 alert A: expr is empty']],
    ['expr is a list', group('      - alert: A\n        expr: [up]\n'), ['5:15 alert A: expr must be a string']],
    ['expr is a mapping', group('      - record: a\n        expr:\n          sum: x\n'), ['6:11 recording rule a: expr must be a string']],
    ['invalid for', group('      - alert: A\n        expr: up\n        for: 5 minutes\n'), ['6:14 alert A: for "5 minutes" is not a duration']],
    ['for without unit', group('      - alert: A\n        expr: up\n        for: 300\n'), ['6:14 alert A: for "300" is not a duration']],
    ['invalid keep_firing_for', group('      - alert: A\n        expr: up\n        keep_firing_for: 1h5\n'), ['6:26 alert A: keep_firing_for "1h5" is not a duration']],
    ['for on a recording rule', group('      - record: r\n        expr: up\n        for: 5m\n'), ['6:9 recording rule r: `for` is not allowed on a recording rule']],
    [
      'keep_firing_for on a recording rule',
      group('      - record: r\n        expr: up\n        keep_firing_for: 5m\n'),
      ['6:9 recording rule r: `keep_firing_for` is not allowed on a recording rule'],
    ],
    ['annotations on a recording rule', group('      - record: r\n        expr: up\n        annotations: {a: b}\n'), ['6:9 recording rule r: `annotations` is not allowed on a recording rule']],
    ['unknown rule key', group('      - alert: A\n        expr: up\n        severity: page\n'), ['6:9 unknown key "severity" in alert A']],
    ['invalid recording rule name', group('      - record: http-rate\n        expr: up\n'), ['4:17 invalid recording rule name "http-rate"']],
    ['invalid label name', group('      - alert: A\n        expr: up\n        labels:\n          team-name: x\n'), ['7:11 alert A: invalid label name "team-name"']],
    ['labels not a mapping', group('      - alert: A\n        expr: up\n        labels: [a]\n'), ['6:17 alert A: labels must be a mapping of names to strings']],
    [
      'several problems, in file order',
      group('      - alert: A\n        expr: ""\n        for: x\n      - expr: up\n'),
      ['5:15 alert A: expr is empty', '6:14 alert A: for "x" is not a duration', '7:9 rule has neither `alert` nor `record`'],
    ],
  ];
  for (const [name, text, want] of cases)
    it(name, () => {
      assert.deepEqual(problems(text), want);
    });

  it('never throws, whatever the input', () => {
    for (const text of ['\t\t', '{', 'groups: !!binary x', '*a', 'groups:\n  - &g {name: a}\n  - *g\n', '---\na: 1\n---\nb: 2\n'])
      assert.doesNotThrow(() => parseRuleFile('rules.yml', text));
  });
  it('still loads the valid rules next to a broken one', () => {
    const file = parseRuleFile('rules.yml', group('      - alert: A\n        expr: up\n        for: soon\n      - alert: B\n        expr: down\n'));
    assert.deepEqual(
      file.rules.map((r) => [r.name, r.expr, r.for]),
      [
        ['A', 'up', undefined],
        ['B', 'down', undefined],
      ],
    );
  });
});

describe('RuleDefinition.exprLocation', () => {
  const TEXT = `groups:
  - name: g
    rules:
      - alert: Literal
        expr: |
          sum(rate(x[5m]))
            > bad}
      - alert: Folded
        expr: >-
          sum(rate(x[5m]))
          > 1

          or y}
      - alert: DoubleQuoted
        expr: "up{job=\\"a\\"}
          == 0}"
      - alert: SingleQuoted
        expr: 'up{job=''a''}
          == 0}'
      - alert: Plain
        expr: up{job="a"}
          == 0}
      - alert: Inline
        expr: rate(x[5m*2])
      - alert: Indented
        expr: |2
             up
          == 0}
`;
  // [rule, offset in expr, line, column]
  const cases: Array<[string, number, number, number]> = [
    ['Literal', 0, 6, 11],
    ['Literal', 4, 6, 15],
    ['Literal', 17, 7, 11],
    ['Literal', 19, 7, 13],
    ['Folded', 17, 11, 11],
    ['Folded', 20, 11, 14],
    ['Folded', 21, 13, 11],
    ['DoubleQuoted', 7, 15, 23],
    ['DoubleQuoted', 8, 15, 25],
    ['DoubleQuoted', 9, 15, 26],
    ['DoubleQuoted', 12, 16, 11],
    ['SingleQuoted', 7, 18, 23],
    ['SingleQuoted', 8, 18, 25],
    ['SingleQuoted', 12, 19, 11],
    ['Plain', 0, 21, 15],
    ['Plain', 12, 22, 11],
    ['Inline', 7, 24, 22],
    ['Indented', 0, 27, 11],
    ['Indented', 3, 27, 14],
    ['Indented', 6, 28, 11],
  ];
  for (const [name, offset, line, column] of cases)
    it(`${name}: offset ${offset} → ${line}:${column}`, () => {
      assert.deepEqual(rule(TEXT, name).exprLocation(offset), { file: 'rules.yml', line, column });
    });

  it('maps every visible character back onto itself', () => {
    for (const r of parseRuleFile('rules.yml', TEXT).rules)
      for (let i = 0; i < r.expr.length; i++) {
        const c = r.expr.charAt(i);
        if (/\s/.test(c) || c === '"' || c === "'") continue;
        const loc = r.exprLocation(i);
        assert.equal(charAt(TEXT, loc.line, loc.column), c, `${r.name} offset ${i}`);
      }
  });

  it('places a PromQL diagnostic where the user wrote it', () => {
    const found = parseRuleFile('rules.yml', TEXT).rules.map((r) => {
      const [d] = promqlDiagnostics(r.expr);
      assert.ok(d, `${r.name} should have a diagnostic`);
      const loc = r.exprLocation(d.from);
      return `${r.name} ${loc.line}:${loc.column} ${d.message}`;
    });
    assert.deepEqual(found, [
      'Literal 7:18 unexpected "}"',
      'Folded 13:15 unexpected "}"',
      'DoubleQuoted 16:15 unexpected "}"',
      'SingleQuoted 19:15 unexpected "}"',
      'Plain 22:15 unexpected "}"',
      'Inline 24:22 duration arithmetic is not supported by Prometheus 2.42',
      'Indented 28:15 unexpected "}"',
    ]);
  });

  it('points past the end for an unexpected end of expression', () => {
    const r = rule('groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: sum(rate(x[5m])\n', 'A');
    const [d] = promqlDiagnostics(r.expr);
    assert.deepEqual([d?.message, d && r.exprLocation(d.from)], ['unexpected end of expression, missing ")"', { file: 'rules.yml', line: 5, column: 30 }]);
  });
});

describe('parseRuleFile: nesting past what a rule file needs is one located problem', () => {
  const head = 'groups:\n  - name: g\n    rules:\n      - record: x\n        expr: up\n        labels:\n          a: ';
  const flow = (n: number) => `${head}${'['.repeat(n)}x${']'.repeat(n)}\n`;
  const block = (n: number) => `${head.slice(0, -3)}\n${Array.from({ length: n }, (_, i) => `${' '.repeat(10 + i)}a${i}:\n`).join('')}${' '.repeat(10 + n)}x\n`;
  const nested = 'YAML: values nest more than 64 levels deep';
  // The rule file itself is 6 levels deep at `labels`.
  const cases: Array<[name: string, text: string, want: RegExp]> = [
    ['50 flow lists: a label that is no string', flow(50), /^7:14 recording rule x: labels\.a must be a string$/],
    ['60 flow lists', flow(60), new RegExp(`^7:${14 + 64 - 6} ${nested}$`)],
    // The YAML parser recurses: this deep its stack runs out first, and that is told the same way.
    ['5,000 flow lists', flow(5000), new RegExp(`^7:\\d+ ${nested}$`)],
    ['100 block mappings', block(100), new RegExp(`^6\\d:\\d+ ${nested}$`)],
  ];
  for (const [name, text, want] of cases)
    it(name, () => {
      const got = problems(text);
      assert.equal(got.length, 1, got.join('\n'));
      assert.match(got[0] ?? '', want);
    });
});

describe('parseRuleFile: YAML tags as Prometheus reads them', () => {
  const rule = (value: string) => `groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        for: ${value}\n`;
  // promtool 2.42: `for: !!int 2m` is "cannot decode !!str `2m` as a !!int"; `!!str` and local tags load.
  const cases: Array<[string, string[]]> = [
    ['!!int 2m', ['6:20 YAML: cannot decode "2m" as a !!int (Prometheus\' YAML reader refuses it)']],
    ['!!float 2m', ['6:22 YAML: cannot decode "2m" as a !!float (Prometheus\' YAML reader refuses it)']],
    ['!!str 2m', []],
    ['!foo 2m', []],
    ['2m', []],
  ];
  for (const [value, expected] of cases) it(`for: ${value}`, () => assert.deepEqual(problems(rule(value)), expected));
});
