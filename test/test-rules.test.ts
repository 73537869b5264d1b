import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestRulesReport } from '../src/commands/test-rules.ts';
import { validateRules } from '../src/apply/gate.ts';
import { ExitError } from '../src/errors.ts';
import type { NodeSpec } from '../src/plan/node-spec.ts';
import { runLimited } from '../src/release/promtool.ts';
import { RELEASE_NAMES, RELEASES } from '../src/release/release.ts';
import { seedTopology } from '../src/topology/seed.ts';
import { inProcess, promha, releaseBinary, tempProject } from './helpers.ts';

/*
 * `promha test rules` through each release's real promtool: a rule that counts samples
 * changes under the federators' merged copies, an absence alert on a pushed series
 * changes under a gateway failover, and rules that read values hold under both.
 */
const RULES = {
  groups: [
    {
      name: 'app',
      rules: [
        { alert: 'ManyScrapes', expr: 'count_over_time(up{job="node"}[5m]) > 6' },
        { alert: 'NodeDown', expr: 'max_over_time(up{job="node"}[5m]) == 0' },
        { alert: 'BackupMissing', expr: 'absent(backup_last_success_timestamp_seconds{job="batch-backup"})' },
        { alert: 'BackupMissingLong', expr: 'absent_over_time(backup_last_success_timestamp_seconds{job="batch-backup"}[3m])' },
      ],
    },
  ],
};

const TESTS = {
  rule_files: ['app.yml'],
  evaluation_interval: '30s',
  tests: [
    {
      name: 'counting scrapes',
      interval: '1m',
      input_series: [{ series: 'up{job="node", instance="a"}', values: '1x10' }],
      alert_rule_test: [{ eval_time: '10m', alertname: 'ManyScrapes', exp_alerts: [] }],
    },
    {
      name: 'reading values',
      interval: '1m',
      input_series: [{ series: 'up{job="node", instance="a"}', values: '1x10' }],
      alert_rule_test: [{ eval_time: '10m', alertname: 'NodeDown', exp_alerts: [] }],
    },
    {
      name: 'backup present',
      interval: '30s',
      input_series: [{ series: 'backup_last_success_timestamp_seconds{job="batch-backup"}', values: '0x20' }],
      alert_rule_test: [
        { eval_time: '8m', alertname: 'BackupMissing', exp_alerts: [] },
        { eval_time: '8m', alertname: 'BackupMissingLong', exp_alerts: [] },
      ],
    },
  ],
};

describe('promha test rules on the real promtool', () => {
  let project: Awaited<ReturnType<typeof tempProject>>;
  before(async () => {
    project = await tempProject({
      'promha.yaml': seedTopology('promha.schema.json'),
      'rules/app.yml': RULES,
      'rules/app_test.yml': TESTS,
      'rules/broken_test.yml': { ...TESTS, tests: [{ ...TESTS.tests[0], alert_rule_test: [{ eval_time: '10m', alertname: 'ManyScrapes', exp_alerts: [{ exp_labels: { job: 'node' } }] }] }] },
      'rules/bad_test.yml': 'rule_files: [app.yml]\ntests:\n  - input_series:\n      - series: up\n        values: 1\n',
    });
  });
  after(() => project.cleanup());

  for (const release of RELEASE_NAMES)
    it(`${release}: reports exactly the outcomes the HA conditions change, with the fix`, async () => {
      const r = await inProcess(['test', 'rules', 'rules/app_test.yml', '--json', '--release', release], project.dir);
      assert.equal(r.exitCode, 1, r.stderr);
      const report = JSON.parse(r.stdout) as TestRulesReport;
      assert.equal(report.release, release);
      const outcomes = Object.fromEntries(report.files[0]!.groups.map((g) => [g.group, [g.asWritten.outcome, ...g.conditions.map((c) => `${c.condition.kind}:${c.outcome}`)].join(' ')]));
      assert.deepEqual(outcomes, {
        'counting scrapes': 'pass merged-copies:changed scraper-lost:pass',
        'reading values': 'pass merged-copies:pass scraper-lost:pass',
        'backup present': 'pass merged-copies:pass scraper-lost:pass push-gap:changed',
      });
      const changed = report.files[0]!.groups.flatMap((g) => g.conditions).filter((c) => c.outcome === 'changed');
      assert.match(changed[0]?.detail ?? '', /ManyScrapes/);
      assert.match(changed[0]?.fix ?? '', /count_over_time/);
      // Only absent() flips during the gap; absent_over_time over longer than the gap holds.
      assert.match(changed[1]?.detail ?? '', /alertname: BackupMissing,/);
      assert.doesNotMatch(changed[1]?.detail ?? '', /BackupMissingLong/);
      assert.equal(report.changed, 2);
      assert.equal(report.failed, 0);
    });

  it('a test that fails as written is reported as such, and its conditions are not run', async () => {
    const r = await inProcess(['test', 'rules', 'rules/broken_test.yml', '--json', '--release', 'bookworm'], project.dir);
    assert.equal(r.exitCode, 1);
    const g = (JSON.parse(r.stdout) as TestRulesReport).files[0]!.groups[0]!;
    assert.equal(g.asWritten.outcome, 'fail');
    assert.match(g.asWritten.detail ?? '', /ManyScrapes/);
    assert.deepEqual(g.conditions, []);
  });

  it('a series without values: exit 2, located at the entry, nothing run', async () => {
    const r = await promha(['test', 'rules', 'rules/bad_test.yml', '--release', 'bookworm'], project.dir);
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /^rules\/bad_test\.yml:4:\d+: error an input series needs `series` and `values`, both strings\n\s+fix: /m);
    assert.doesNotMatch(r.stderr, /at .*\.(js|ts):\d+/, 'no stack trace');
  });

  it('prints each condition and exits 0 when every outcome holds', async () => {
    const project2 = await tempProject({ 'promha.yaml': seedTopology('promha.schema.json'), 'rules/app.yml': RULES, 'rules/ok_test.yml': { ...TESTS, tests: [TESTS.tests[1]] } });
    try {
      const r = await inProcess(['test', 'rules', 'rules/ok_test.yml', '--release', 'bookworm'], project2.dir);
      assert.equal(r.exitCode, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /^promtool 2\.42\.\d+ \(bookworm\); a gateway failover leaves pushed series out for 1m4s$/m);
      assert.match(r.stdout, /pass merged scraper copies\n\s+pass a scraper member lost at 5m\n1 test group\(s\): every outcome holds/);
    } finally {
      await project2.cleanup();
    }
  });
});

describe('a condition that cannot be run is NOT RUN, never a pass (real promtool)', () => {
  const backup = { series: 'backup_last_success_timestamp_seconds{job="batch-backup"}', values: '0x20' };
  const histogram = { series: 'request_duration_seconds{job="node"}', values: '{{schema:0 sum:1 count:1}}x20' };
  const group = (series: object[]) => ({
    name: 'backup present',
    interval: '30s',
    input_series: series,
    alert_rule_test: [{ eval_time: '8m', alertname: 'BackupMissing', exp_alerts: [] }],
  });
  let project: Awaited<ReturnType<typeof tempProject>>;
  before(async () => {
    project = await tempProject({
      'promha.yaml': seedTopology('promha.schema.json'),
      'rules/app.yml': RULES,
      'rules/plain_test.yml': { rule_files: ['app.yml'], tests: [group([backup])] },
      'rules/hist_test.yml': { rule_files: ['app.yml'], tests: [group([backup, histogram])] },
    });
  });
  after(() => project.cleanup());

  const outcomes = (r: { stdout: string }) =>
    (JSON.parse(r.stdout) as TestRulesReport).files[0]!.groups.map((g) => [g.asWritten.outcome, ...g.conditions.map((c) => `${c.condition.kind}:${c.outcome}`)].join(' '));

  for (const release of ['trixie', 'sid'] as const)
    it(`${release}: the group with a native histogram lists every condition NOT RUN (the push gap too), exit 1; without it the gap is CHANGED`, async () => {
      const plain = await inProcess(['test', 'rules', 'rules/plain_test.yml', '--json', '--release', release], project.dir);
      assert.deepEqual(outcomes(plain), ['pass merged-copies:pass scraper-lost:pass push-gap:changed']);
      const r = await inProcess(['test', 'rules', 'rules/hist_test.yml', '--json', '--release', release], project.dir);
      assert.equal(r.exitCode, 1, r.stderr);
      assert.deepEqual(outcomes(r), ['pass merged-copies:not-run scraper-lost:not-run push-gap:not-run']);
      const report = JSON.parse(r.stdout) as TestRulesReport;
      assert.equal(report.notRun, 3);
      assert.match(report.files[0]!.groups[0]!.conditions[2]!.detail ?? '', /^request_duration_seconds\{job="node"\}: native histogram samples/);
      const text = await inProcess(['test', 'rules', 'rules/hist_test.yml', '--release', release], project.dir);
      assert.equal(text.exitCode, 1);
      assert.match(text.stdout, /^ {2}NOT RUN a push gap of 1m4s ending at 8m$/m);
      assert.match(text.stdout, /3 condition\(s\) NOT RUN, so their outcome is unknown$/m);
      assert.doesNotMatch(text.stdout, /every outcome holds/);
    });

  it('bookworm: promtool 2.42 knows no native histogram: the test fails as written, with its words', async () => {
    const r = await inProcess(['test', 'rules', 'rules/hist_test.yml', '--json', '--release', 'bookworm'], project.dir);
    assert.equal(r.exitCode, 1);
    const g = (JSON.parse(r.stdout) as TestRulesReport).files[0]!.groups[0]!;
    assert.equal(g.asWritten.outcome, 'fail');
    assert.match(g.asWritten.detail ?? '', /unexpected character in series sequence/);
  });

  it("promtool's words name the rule file the user wrote, not promha's copy of it", async () => {
    const p = await tempProject({
      'promha.yaml': seedTopology('promha.schema.json'),
      'rules/broken.yml': 'groups:\n  - name: g\n    rules:\n      - record: x\n        expr: sum(\n',
      'rules/broken_test.yml': { rule_files: ['broken.yml'], tests: [group([backup])] },
    });
    try {
      const r = await inProcess(['test', 'rules', 'rules/broken_test.yml', '--json', '--release', 'bookworm'], p.dir);
      assert.equal(r.exitCode, 1);
      const detail = (JSON.parse(r.stdout) as TestRulesReport).files[0]!.groups[0]!.asWritten.detail ?? '';
      assert.match(detail, /rules\/broken\.yml/);
      assert.doesNotMatch(detail, /promha-test-rules-/);
    } finally {
      await p.cleanup();
    }
  });
});

describe('runLimited: a tool that does not answer is reported with the reason, never with nothing', () => {
  const cases: Array<[name: string, binary: string, args: string[], options: Parameters<typeof runLimited>[2], failure: RegExp | undefined]> = [
    ['an answer', '/bin/sh', ['-c', 'echo fine; exit 1'], {}, undefined],
    ['a timeout', '/bin/sleep', ['30'], { timeoutMs: 300 }, /^sleep did not finish within 0\.3 s and was stopped$/],
    ['a signal', '/bin/sh', ['-c', 'kill -SEGV $$'], {}, /^sh was killed by SIGSEGV$/],
    ['an exit without a word', '/bin/false', [], {}, /^false exited with code 1 without a message$/],
    ['a flood', '/bin/sh', ['-c', 'yes flood'], {}, /^sh printed more than 4 MiB and was stopped$/],
    ['a binary that is not there', '/nonexistent/promtool', ['test', 'rules'], {}, undefined],
  ];
  for (const [name, binary, args, options, failure] of cases)
    it(name, async () => {
      const r = await runLimited(binary, args, options);
      if (failure) assert.match(r.failure ?? '', failure);
      else assert.equal(r.failure, undefined, r.output);
      if (name === 'a binary that is not there') {
        assert.equal(r.exitCode, 127);
        assert.match(r.output, /not found|No such file/);
      }
    });

  it('stdout and stderr in the order written; stopped only when a limit or a failed start ended it', async () => {
    const r = await runLimited('/bin/sh', ['-c', 'echo one; echo two >&2; echo three; echo four >&2; exit 3']);
    assert.equal(r.output, 'one\ntwo\nthree\nfour');
    assert.equal(r.exitCode, 3);
    assert.equal(r.stopped, undefined);
    assert.equal((await runLimited('/bin/sh', ['-c', 'kill -SEGV $$'])).stopped, undefined);
    assert.equal((await runLimited('/bin/sleep', ['30'], { timeoutMs: 300 })).stopped, true);
    assert.equal((await runLimited('/bin/sh', ['-c', 'yes flood'])).stopped, true);
  });

  it("the release's promtool out of memory: stopped at the data limit, the reason given", async () => {
    const dir = await tempProject({
      'rules.yml': { groups: [{ name: 'g', rules: [{ record: 'x', expr: 'up' }] }] },
      'test.yml': { rule_files: ['rules.yml'], tests: [{ interval: '1m', input_series: [{ series: 'up', values: '1x999999999999' }], promql_expr_test: [] }] },
    });
    try {
      // 10^12 samples, as promha never lets through (MAX_STEPS): promtool takes all the memory it may.
      const r = await runLimited(await releaseBinary('bookworm', 'promtool'), ['test', 'rules', 'test.yml'], { cwd: dir.dir, dataBytes: 256 * 1024 ** 2 });
      assert.match(r.failure ?? '', /^promtool ran out of memory \(promha allows it 256 MiB\)$/, r.output.slice(0, 500));
      assert.equal(r.stopped, true);
    } finally {
      await dir.cleanup();
    }
  });
});

describe("apply's rule gate: the release's promtool on the new rule files, under the same limits", () => {
  const federator = (content: string) => ({ role: 'federator', files: [{ path: 'rules/app.yml', content }] }) as unknown as NodeSpec;

  it('takes valid rules', async () => {
    await validateRules([federator('groups:\n  - name: g\n    rules:\n      - record: x\n        expr: up\n')], RELEASES.bookworm);
  });

  it("refuses broken ones with promtool's words, naming the file as render writes it", async () => {
    await assert.rejects(validateRules([federator('groups:\n  - name: g\n    rules:\n      - record: x\n        expr: sum(\n')], RELEASES.bookworm), (e: unknown) => {
      assert.ok(e instanceof ExitError);
      assert.equal(e.code, 1);
      assert.match(e.message, /^bookworm's promtool refuses the new rule files; no member was changed:\n/);
      assert.match(e.message, /rules\/app\.yml/);
      assert.doesNotMatch(e.message, /promha-apply-rules-/);
      return true;
    });
  });
});

describe('test rules bounds nesting as check does, located, before promtool runs', () => {
  const deep = (n: number) => `${'max_over_time(('.repeat(n)}up${'))[5m:1m])'.repeat(n)}`;
  it('a promql_expr_test and a rule nested past 256 levels: exit 2, each at its place; 60 levels pass', async () => {
    const p = await tempProject({
      'promha.yaml': seedTopology('promha.schema.json'),
      'rules/deep.yml': { groups: [{ name: 'g', rules: [{ record: 'fine', expr: deep(60) }, { record: 'deep', expr: deep(300) }] }] },
      'rules/deep_test.yml': {
        rule_files: ['deep.yml'],
        tests: [{ interval: '1m', input_series: [{ series: 'up', values: '1x5' }], promql_expr_test: [{ expr: deep(300), eval_time: '1m', exp_samples: [] }] }],
      },
    });
    try {
      const r = await inProcess(['test', 'rules', 'rules/deep_test.yml', '--release', 'bookworm'], p.dir);
      assert.equal(r.exitCode, 2, r.stdout + r.stderr);
      assert.match(r.stderr, /rules\/deep_test\.yml:\d+:\d+: .*nests more than 256 levels deep/);
      assert.match(r.stderr, /rules\/deep\.yml:\d+:\d+: error record deep: the expression nests more than 256 levels deep/);
      assert.doesNotMatch(r.stderr, /record fine/);
      assert.match(r.stderr, /split the expression into recording rules/);
    } finally {
      await p.cleanup();
    }
  });
});
