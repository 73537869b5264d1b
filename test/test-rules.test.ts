import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestRulesReport } from '../src/commands/test-rules.ts';
import { RELEASE_NAMES } from '../src/release/release.ts';
import { seedTopology } from '../src/topology/seed.ts';
import { inProcess, promha, tempProject } from './helpers.ts';

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
