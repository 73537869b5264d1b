import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { check, CHECK_RULES } from '../src/check/check.ts';
import { RELEASES } from '../src/release/release.ts';
import type { Finding } from '../src/check/finding.ts';
import { loadTopology } from '../src/topology/load.ts';
import { FAST_RULES, fastTopology, tempProject } from './helpers.ts';
import { parseToolOutput } from '../src/check/real-tools.ts';

type Rule = Record<string, unknown>;

/** Every finding of `check` for a topology and its rule files, in process. */
async function findings(topology: Record<string, unknown>, files: Record<string, string>): Promise<Finding[]> {
  const project = await tempProject({ 'promha.yaml': topology, ...files });
  try {
    return check(await loadTopology(path.join(project.dir, 'promha.yaml')));
  } finally {
    await project.cleanup();
  }
}

const ruleFile = (rules: Rule[], interval?: string) => stringify({ groups: [{ name: 'g', ...(interval ? { interval } : {}), rules }] });
const only = (all: Finding[], code: string) => all.filter((f) => f.code === code);
const federators = (extra: Record<string, unknown>) => ({ ...(fastTopology()['federators'] as Record<string, unknown>), ...extra });
const withJobs = (jobs: Array<{ name: string; metrics: string[] }>) => {
  const t = fastTopology();
  const [set] = t['pushgateways'] as Array<Record<string, unknown>>;
  return { ...t, pushgateways: [{ ...set, jobs }] };
};

describe('PH601 pushed-keep-firing: alerts that read pushed data keep firing across a gateway failover', () => {
  // fastTopology: push, federate and evaluate 1s, advert_int 1s; job batch pushes pushed_value.
  const NEED_1S = 'add `keep_firing_for: 7s` (push interval 1s + gateway scrape 1s + evaluation 1s + VIP failover 4s (4 × advert_int 1s))';
  const cases: Array<{ name: string; rules: Rule[]; interval?: string; topology?: Record<string, unknown>; want?: { message: RegExp; hint?: string } }> = [
    { name: 'a declared pushed metric, no keep_firing_for', rules: [{ alert: 'P', expr: 'pushed_value > 0' }], want: { message: /^alert P reads pushed metrics \(pushgateway1\) with no keep_firing_for: when the active gateway dies/, hint: NEED_1S } },
    { name: 'keep_firing_for equal to the derived need', rules: [{ alert: 'P', expr: 'pushed_value > 0', keep_firing_for: '7s' }] },
    { name: 'keep_firing_for one second short', rules: [{ alert: 'P', expr: 'pushed_value > 0', keep_firing_for: '6s' }], want: { message: /with keep_firing_for 6s:/, hint: NEED_1S } },
    { name: 'the group interval is the evaluation interval', interval: '10s', rules: [{ alert: 'P', expr: 'pushed_value > 0', keep_firing_for: '7s' }], want: { message: /with keep_firing_for 7s/, hint: 'add `keep_firing_for: 16s` (push interval 1s + gateway scrape 1s + evaluation 10s + VIP failover 4s (4 × advert_int 1s))' } },
    { name: 'a negative job matcher on an undeclared metric', rules: [{ alert: 'K', expr: 'count by (git_version) (label_replace(kubernetes_build_info{job!~"kube-dns|coredns"}, "git_version", "$1", "git_version", "(v[0-9]*.[0-9]*).*")) > 1' }] },
    { name: 'a selector without a name, naming the job', rules: [{ alert: 'P', expr: '{job="batch"} > 0' }], want: { message: /alert P reads pushed metrics/ } },
    { name: 'an undeclared metric under the pushed job name', rules: [{ alert: 'U', expr: 'up{job="batch"} == 0' }] },
    { name: 'a declared metric under another job', rules: [{ alert: 'O', expr: 'pushed_value{job="other"} > 0' }] },
    { name: 'a declared metric, the job excluded', rules: [{ alert: 'O', expr: 'pushed_value{job!="batch"} > 0' }] },
    { name: 'a declared metric, the job matched by a regex', rules: [{ alert: 'R', expr: 'pushed_value{job=~"bat.*"} > 0' }], want: { message: /alert R reads pushed metrics/ } },
    { name: 'push_time_seconds, which the gateway adds to every group', rules: [{ alert: 'T', expr: 'time() - push_time_seconds > 60' }], want: { message: /alert T reads pushed metrics/ } },
    { name: 'a name regex that can match a declared metric', rules: [{ alert: 'N', expr: '{__name__=~"pushed_.*"} > 0' }], want: { message: /alert N reads pushed metrics/ } },
    { name: 'a name regex that cannot', rules: [{ alert: 'N', expr: '{__name__=~"node_.*"} > 0' }] },
    { name: 'the metric excluded by name', rules: [{ alert: 'N', expr: '{__name__!="pushed_value", job="batch"} > 0' }], want: { message: /alert N reads pushed metrics/ } },
    {
      name: 'through a recording rule',
      rules: [
        { record: 'job:pushed_value:sum', expr: 'sum by (job) (pushed_value)' },
        { alert: 'Rec', expr: 'job:pushed_value:sum > 0' },
      ],
      want: { message: /^alert Rec reads pushed metrics \(pushgateway1\) through recording rule job:pushed_value:sum with no keep_firing_for/, hint: NEED_1S },
    },
    {
      name: 'through two recording rules',
      rules: [
        { record: 'a:pushed:sum', expr: 'sum(pushed_value)' },
        { record: 'b:pushed:max', expr: 'max_over_time(a:pushed:sum[1m])' },
        { alert: 'Rec2', expr: 'b:pushed:max > 0' },
      ],
      want: { message: /through recording rule b:pushed:max → a:pushed:sum/ },
    },
    {
      name: 'a recording rule of scraped data only',
      rules: [
        { record: 'job:demo:sum', expr: 'sum by (job) (demo_value)' },
        { alert: 'D', expr: 'job:demo:sum > 0' },
      ],
    },
    {
      name: 'recording rules that read each other in a cycle',
      rules: [
        { record: 'a:x', expr: 'b:x' },
        { record: 'b:x', expr: 'a:x + pushed_value' },
        { alert: 'C', expr: 'a:x > 0' },
      ],
      want: { message: /alert C reads pushed metrics \(pushgateway1\) through recording rule a:x → b:x/ },
    },
    { name: 'a job declaring no metrics, named', topology: withJobs([{ name: 'batch', metrics: [] }]), rules: [{ alert: 'J', expr: 'anything{job="batch"} > 0' }], want: { message: /alert J reads pushed metrics/ } },
    { name: 'a job declaring no metrics, only excluded', topology: withJobs([{ name: 'batch', metrics: [] }]), rules: [{ alert: 'J', expr: 'anything{job!="other"} > 0' }] },
    { name: 'a declared regex, a matching name', topology: withJobs([{ name: 'batch', metrics: ['batch_.*'] }]), rules: [{ alert: 'B', expr: 'batch_duration_seconds > 1' }], want: { message: /alert B reads pushed metrics/ } },
    { name: 'a declared regex, another name', topology: withJobs([{ name: 'batch', metrics: ['batch_.*'] }]), rules: [{ alert: 'B', expr: 'node_load1 > 1' }] },
    { name: 'a declared regex, an overlapping name regex', topology: withJobs([{ name: 'batch', metrics: ['batch_.*'] }]), rules: [{ alert: 'B', expr: '{__name__=~"batch_job_.*"} > 1' }], want: { message: /alert B reads pushed metrics/ } },
    { name: 'a declared regex, a disjoint name regex', topology: withJobs([{ name: 'batch', metrics: ['batch_.*'] }]), rules: [{ alert: 'B', expr: '{__name__=~"node_.*|x"} > 1' }] },
  ];
  for (const c of cases)
    it(c.name, async () => {
      const f = only(await findings(c.topology ?? fastTopology(), { 'rules/r.yml': ruleFile(c.rules, c.interval) }), 'PH601');
      if (!c.want) return assert.deepEqual(f, []);
      assert.equal(f.length, 1, JSON.stringify(f));
      assert.equal(f[0]?.severity, 'error');
      assert.match(f[0]?.message ?? '', c.want.message);
      if (c.want.hint) assert.equal(f[0]?.hint, c.want.hint);
      const alertIndex = c.rules.findIndex((r) => 'alert' in r);
      assert.ok(f[0]?.location.file.endsWith(path.join('rules', 'r.yml')));
      assert.equal(f[0]?.location.line, 4 + (c.interval ? 1 : 0) + c.rules.slice(0, alertIndex).reduce((n, r) => n + Object.keys(r).length, 0));
    });
});

describe('PH402 retention: counts only the samples PromQL reads', () => {
  const oneDay = fastTopology({ federators: federators({ storage: { retention: '1d' } }) });
  const cases: Array<[string, Rule, RegExp | undefined]> = [
    ['`for: 7d` on a 5m range', { alert: 'CertExpiry', expr: 'rate(x[5m]) > 0', for: '7d' }, undefined],
    ['`keep_firing_for: 30d`', { alert: 'K', expr: 'x > 0', keep_firing_for: '30d' }, undefined],
    ['a 2d range', { alert: 'TwoDay', expr: 'sum(rate(x[2d])) > 1' }, /^federator retention 1d is shorter than the 2d of stored samples that rules\/r\.yml: TwoDay reads \(its ranges, subqueries, offsets and the lookback\)$/],
    ['an offset of 1d on a 1h range', { alert: 'Offset', expr: 'rate(x[1h] offset 1d) > 0', for: '1h' }, /the 1d1h of stored samples that rules\/r\.yml: Offset reads/],
  ];
  for (const [name, rule, want] of cases)
    it(name, async () => {
      const f = only(await findings(oneDay, { 'rules/r.yml': ruleFile([rule]) }), 'PH402');
      if (!want) return assert.deepEqual(f, []);
      assert.equal(f.length, 1);
      assert.equal(f[0]?.severity, 'error');
      assert.match(f[0]?.message ?? '', want);
      assert.match(f[0]?.hint ?? '', /need no stored samples/);
      assert.ok(f[0]?.location.file.endsWith('promha.yaml'));
    });
});

describe('PH602 for-restore: one summary with the grace period that covers every alert', () => {
  const withGrace = (grace: string | undefined) => {
    const { for_grace_period: _, ...rest } = fastTopology()['federators'] as Record<string, unknown>;
    return fastTopology({ federators: grace === undefined ? rest : { ...rest, for_grace_period: grace } });
  };
  const alerts = (...fors: string[]) => fors.map((f, i) => ({ alert: `A${i}`, expr: 'demo_value > 0', for: f }));
  const cases: Array<{ name: string; grace?: string; fors: string[]; want?: { message: string; hint: string; line: number } }> = [
    {
      name: 'one alert under the default 10m',
      fors: ['5m'],
      want: {
        message: "1 alert has a `for:` shorter than the federators' for-grace-period (10m, Prometheus' default): A0 (for: 5m, rules/r.yml:4). A restarted federator does not restore their state from ALERTS_FOR_STATE and holds them pending for their full `for:` again",
        hint: 'set federators.for_grace_period to 5m (the shortest `for:` among them): Prometheus restores an alert whose `for:` is at least the grace period',
        line: 0,
      },
    },
    {
      name: 'many alerts: counted once, a few named, the shortest `for:` suggested',
      fors: ['5m', '2m', '15m', '1m', '9m', '0s', '10m'],
      want: {
        message: "4 alerts have a `for:` shorter than the federators' for-grace-period (10m, Prometheus' default): A0 (for: 5m, rules/r.yml:4), A1 (for: 2m, rules/r.yml:7), A3 (for: 1m, rules/r.yml:13), and 1 more. A restarted federator",
        hint: 'set federators.for_grace_period to 1m (the shortest `for:` among them)',
        line: 0,
      },
    },
    {
      name: 'a configured grace period is where the warning points',
      grace: '2m',
      fors: ['1m'],
      want: { message: "1 alert has a `for:` shorter than the federators' for-grace-period (2m): A0", hint: 'set federators.for_grace_period to 1m', line: 1 },
    },
    { name: '`for:` equal to the grace period is restored', grace: '5m', fors: ['5m', '6m'] },
    { name: '`for: 0s` has nothing to restore', fors: ['0s'] },
  ];
  for (const c of cases)
    it(c.name, async () => {
      const topology = withGrace(c.grace);
      const f = only(await findings(topology, { 'rules/r.yml': ruleFile(alerts(...c.fors)) }), 'PH602').map((x) => ({
        ...x,
        // Rule files are named relative to the working directory.
        message: x.message.replace(/[^\s(]*rules\/r\.yml/g, 'rules/r.yml'),
      }));
      if (!c.want) return assert.deepEqual(f, []);
      assert.equal(f.length, 1);
      assert.equal(f[0]?.severity, 'warning');
      assert.ok(f[0]?.message.startsWith(c.want.message), f[0]?.message);
      assert.ok(f[0]?.hint.startsWith(c.want.hint), f[0]?.hint);
      assert.ok(f[0]?.location.file.endsWith('promha.yaml'));
      // The `federators:` key, or its `for_grace_period:` value when set.
      const text = stringify(topology).split('\n');
      const want = c.want.line ? text.findIndex((l) => l.includes('for_grace_period:')) : text.findIndex((l) => l.startsWith('federators:'));
      assert.equal(f[0]?.location.line, want + 1);
    });
});

describe('PH603 merged-up: no instant reads of the merged `up` of scraped targets', () => {
  const cases: Array<[expr: string, warn: boolean]> = [
    ['up == 0', true],
    ['up{job="demo1"} == 0', true],
    ['up{job!~"promha-.+"} == 0', true],
    ['sum by (job) (up{job=~"demo.*"}) < 1', true],
    ['{__name__="up", job="demo1"} == 0', true],
    ['up{job="promha-federate-scraper1"} == 0', false],
    ['up{job=~"promha-federate-.*"} == 0', false],
    ['up{job="batch"} == 0', false],
    ['absent(up{job="demo1"})', false],
    ['max_over_time(up{job="demo1"}[4s]) == 0', false],
    ['avg_over_time(up{job="demo1"}[5m:1m]) < 0.5', false],
    ['{__name__=~".+", job="demo1"} == 0', false],
    ['upx == 0', false],
  ];
  for (const [expr, warn] of cases)
    it(`${expr}${warn ? '' : ' (fine)'}`, async () => {
      const f = only(await findings(fastTopology(), { 'rules/r.yml': ruleFile([{ alert: 'Down', expr }]) }), 'PH603');
      if (!warn) return assert.deepEqual(f, []);
      assert.equal(f.length, 1);
      assert.equal(f[0]?.severity, 'warning');
      assert.match(f[0]?.message ?? '', /^alert Down reads the merged `[^`]*up[^`]*`: both scrapers of a set feed this one series, so when they disagree/);
      // 4s = 2 × (scrape 1s + federate 1s)
      assert.match(f[0]?.hint ?? '', /max_over_time\(.*\[4s\]\) == 0/);
      assert.match(f[0]?.hint ?? '', /up\{job="promha-federate-<set>", promha_member="<member>"\}/);
      assert.equal(f[0]?.location.line, 5);
      // `      - alert: Down\n        expr: ` puts the expression at column 15; YAML quotes one that starts with `{`.
      assert.equal(f[0]?.location.column, 15 + expr.search(/up|\{__name__/) + (expr.startsWith('{') ? 1 : 0));
    });

  it('a recording rule is named as one', async () => {
    const f = only(await findings(fastTopology(), { 'rules/r.yml': ruleFile([{ record: 'job:up:min', expr: 'min by (job) (up)' }]) }), 'PH603');
    assert.match(f[0]?.message ?? '', /^recording rule job:up:min reads the merged `up`/);
  });
});

describe('PH604 sample-counting: functions that count samples do not read merged series', () => {
  const cases: Array<[expr: string, want: RegExp | undefined]> = [
    ['count_over_time(demo_value[5m]) < 10', /^alert C: count_over_time\(demo_value\[…\]\) counts the samples of both scraper copies, about twice/],
    ['sum_over_time(demo_value{job="demo1"}[5m]) > 10', /sum_over_time\(demo_value\{job="demo1"\}\[…\]\) sums the samples of both scraper copies/],
    ['changes(demo_value[5m]) > 2', /changes\(demo_value\[…\]\) sees the two scraper copies' samples interleaved/],
    ['resets(demo_requests_total[1h]) > 0', /resets\(demo_requests_total\[…\]\) sees the two scraper copies' samples interleaved/],
    ['max_over_time(changes(demo_value[1m])[10m:1m]) > 0', /changes\(demo_value\[…\]\)/],
    ['rate(demo_requests_total[5m]) > 1', undefined],
    ['count_over_time(demo_value[5m:1s]) < 10', undefined],
    ['count_over_time(pushed_value[5m]) < 10', undefined],
    ['count_over_time(up{job="promha-federator"}[5m]) < 10', undefined],
    ['max_over_time(demo_value[5m]) > 0', undefined],
  ];
  for (const [expr, want] of cases)
    it(`${expr}${want ? '' : ' (fine)'}`, async () => {
      const f = only(await findings(fastTopology(), { 'rules/r.yml': ruleFile([{ alert: 'C', expr }]) }), 'PH604');
      if (!want) return assert.deepEqual(f, []);
      assert.equal(f.length, 1);
      assert.equal(f[0]?.severity, 'warning');
      assert.match(f[0]?.message ?? '', want);
      assert.ok((f[0]?.hint ?? '').length > 0);
      assert.equal(f[0]?.location.line, 5);
    });

  it('hints name the fix with the topology intervals', async () => {
    const f = only(
      await findings(fastTopology(), {
        'rules/r.yml': ruleFile([
          { alert: 'A', expr: 'count_over_time(demo_value[5m]) < 10' },
          { alert: 'B', expr: 'changes(demo_value[5m]) > 2' },
        ]),
      }),
      'PH604',
    );
    assert.deepEqual(
      f.map((x) => x.hint),
      [
        'count at a fixed step instead, `count_over_time(demo_value[<range>:1s])`, or use `present_over_time` / `absent_over_time`',
        'count changes of a value both copies agree on, e.g. `changes(max_over_time(demo_value[4s])[<range>:1s])` (4s holds a sample of each copy); for counters use `increase`',
      ],
    );
  });
});

describe('PH605 rate-window: rate and its kin read at least two scrape intervals of merged series', () => {
  // The fast topology scrapes every 1 s.
  const cases: Array<[expr: string, want: RegExp | undefined]> = [
    ['rate(demo_requests_total[1s]) > 0', /^alert R: rate\(demo_requests_total\[1s\]\) reads less than two scrape intervals \(1s\)\. Only the two merged scraper copies together put two samples in it; while one scraper member is down it holds one, rate returns nothing/],
    ['increase(demo_requests_total{job="demo1"}[1500ms]) > 0', /increase\(demo_requests_total\{job="demo1"\}\[1s500ms\]\)/],
    ['deriv(demo_value[1s]) > 0', /deriv\(demo_value\[1s\]\)/],
    ['rate(demo_requests_total[2s]) > 0', undefined],
    ['max_over_time(demo_value[1s]) > 0', undefined],
    ['rate(pushed_value[1s]) > 0', undefined],
    ['rate(demo_requests_total[1s:1s]) > 0', undefined],
  ];
  for (const [expr, want] of cases)
    it(`${expr}${want ? '' : ' (fine)'}`, async () => {
      const f = only(await findings(fastTopology(), { 'rules/r.yml': ruleFile([{ alert: 'R', expr }]) }), 'PH605');
      if (!want) return assert.deepEqual(f, []);
      assert.equal(f.length, 1);
      assert.equal(f[0]?.severity, 'warning');
      assert.match(f[0]?.message ?? '', want);
      assert.equal(f[0]?.hint, 'use a range of at least 2s (2 × the scrape interval); 4s also rides out a missed scrape');
    });

  it('names the left-open ranges of Prometheus 3 on sid only', async () => {
    const message = async (release: string) => only(await findings(fastTopology({ release }), { 'rules/r.yml': ruleFile([{ alert: 'R', expr: 'rate(demo_requests_total[1s]) > 0' }]) }), 'PH605')[0]?.message ?? '';
    assert.match(await message('sid'), /holds one \(Prometheus 3\.5 ranges are left-open\), rate returns nothing/);
    assert.doesNotMatch(await message('trixie'), /left-open/);
  });
});

describe('PH107 separate-hosts: a set on one host fails as one', () => {
  it('warns at the set, naming the members and the host; distinct hosts are fine', async () => {
    const rules = { 'rules/r.yml': ruleFile([{ alert: 'A', expr: 'up == 0' }]) };
    assert.deepEqual(only(await findings(fastTopology(), rules), 'PH107'), []);
    const t = fastTopology();
    const [first, second] = t['scrapers'] as Array<Record<string, any>>;
    const shared = { ...first, members: [first?.['members'][0], { ...first?.['members'][1], address: '127.0.0.11:9091' }] };
    const input = { ...t, scrapers: [shared, second] };
    const f = only(await findings(input, rules), 'PH107');
    // At the set's members: the line of its first member in the file (tempProject writes it with stringify).
    const members = stringify(input).split('\n').indexOf('      - name: scraper1-1') + 1;
    assert.ok(members > 1, 'scraper1-1 is in the file');
    assert.deepEqual(
      f.map((x) => [x.severity, x.message, x.location.line]),
      [['warning', 'scraper1-1 and scraper1-2 of scraper set scraper1 run on one host, 127.0.0.11: losing it loses them together', members]],
    );
  });
});

describe('PH504 cluster-label: no Alertmanager cluster without a label on a release that has them', () => {
  const am = fastTopology()['alertmanagers'] as Record<string, unknown>;
  const cases: Array<[name: string, label: string | false | undefined, release: keyof typeof RELEASES, warn: boolean]> = [
    ['false on trixie', false, 'trixie', true],
    ['false on sid', false, 'sid', true],
    ['false on bookworm (no labels there)', false, 'bookworm', false],
    ['the default on trixie', undefined, 'trixie', false],
    ['a label of its own on sid', 'mine', 'sid', false],
  ];
  for (const [name, label, release, warn] of cases)
    it(name, async () => {
      const topology = fastTopology(label === undefined ? {} : { alertmanagers: { ...am, cluster_label: label } });
      const project = await tempProject({ 'promha.yaml': topology, 'rules/demo.yml': FAST_RULES });
      try {
        const f = only(check(await loadTopology(path.join(project.dir, 'promha.yaml')), CHECK_RULES, RELEASES[release]), 'PH504');
        if (!warn) return assert.deepEqual(f, []);
        assert.equal(f.length, 1);
        assert.equal(f[0]?.severity, 'warning');
        assert.match(f[0]?.message ?? '', new RegExp(`^alertmanager1 runs without --cluster\\.label on ${release}: `));
        assert.match(f[0]?.hint ?? '', /remove `cluster_label: false`/);
        const line = stringify(topology).split('\n').findIndex((l) => l.includes('cluster_label')) + 1;
        assert.equal(f[0]?.location.line, line);
      } finally {
        await project.cleanup();
      }
    });
});

describe('PH502 alertmanager-timing: peer_timeout off the evaluation beat', () => {
  const am = fastTopology()['alertmanagers'] as Record<string, unknown>;
  // The test profile evaluates every second; both cases keep (3 - 1) × peer_timeout < group_interval 10 s.
  const cases: Array<[name: string, timeout: string | undefined, warn: boolean]> = [
    ['auto: 3.5 × evaluate', undefined, false],
    ['half an interval off the beat', '2500ms', false],
    ['a whole number of intervals', '3s', true],
    ['two whole intervals', '2s', true],
  ];
  for (const [name, timeout, warn] of cases)
    it(name, async () => {
      const topology = fastTopology(timeout === undefined ? {} : { alertmanagers: { ...am, peer_timeout: timeout } });
      const f = only(await findings(topology, { 'rules/demo.yml': stringify(FAST_RULES) }), 'PH502');
      if (!warn) return assert.deepEqual(f, []);
      assert.equal(f.length, 1, JSON.stringify(f));
      assert.equal(f[0]?.severity, 'warning');
      assert.match(f[0]?.message ?? '', new RegExp(`^peer_timeout ${timeout} is a whole number of evaluation intervals \\(1s\\): `));
      assert.match(f[0]?.hint ?? '', /use `auto` \(3\.5 × evaluate = 3s500ms\)/);
      assert.equal(f[0]?.location.line, stringify(topology).split('\n').findIndex((l) => l.includes('peer_timeout')) + 1);
    });
});

describe('PH1101 real-tools: reading what amtool and promtool say (no binaries: their output as they print it)', () => {
  const files = ['a/alertmanager.yml', 'b/alertmanager.yml', 'c/alertmanager.yml'];
  it('amtool: a verdict per file, the message of a refusal on one line', () => {
    const out = [
      "Checking 'a/alertmanager.yml'  SUCCESS",
      'Found:',
      ' - global config',
      '',
      "Checking 'b/alertmanager.yml'  FAILED: yaml: unmarshal errors:",
      '  line 5: cannot unmarshal !!str `x` into []*config.WebhookConfig',
      '',
      "Checking 'c/alertmanager.yml'  FAILED: missing URL in webhook config",
      '',
      'amtool: error: failed to validate 2 file(s)',
      '',
    ].join('\n');
    const parsed = parseToolOutput('amtool', out, files);
    assert.equal(parsed.unfinished, undefined);
    assert.deepEqual([...parsed.verdicts], [
      ['a/alertmanager.yml', undefined],
      ['b/alertmanager.yml', 'yaml: unmarshal errors:\n  line 5: cannot unmarshal !!str `x` into []*config.WebhookConfig'],
      ['c/alertmanager.yml', 'missing URL in webhook config'],
    ]);
  });
  it('amtool: a crash leaves the file it was on unfinished, with the panic', () => {
    const out = "Checking 'a/alertmanager.yml'  SUCCESS\nFound:\n\nChecking 'b/alertmanager.yml'panic: runtime error: invalid memory address or nil pointer dereference\n\ngoroutine 1 [running]:\n";
    const parsed = parseToolOutput('amtool', out, files);
    assert.deepEqual([...parsed.verdicts], [['a/alertmanager.yml', undefined]]);
    assert.equal(parsed.unfinished?.file, 'b/alertmanager.yml');
    assert.match(parsed.unfinished?.output ?? '', /^panic: runtime error/);
  });
  it('amtool: a config that loads but whose templates do not parse is refused', () => {
    const out = "Checking 'a/alertmanager.yml'  SUCCESS\nFound:\n - 1 templates\n  FAILED: template: bad.tmpl:1: unclosed action\n\namtool: error: failed to validate 1 file(s)\n";
    assert.deepEqual([...parseToolOutput('amtool', out, ['a/alertmanager.yml']).verdicts], [['a/alertmanager.yml', 'template: bad.tmpl:1: unclosed action']]);
  });
  it('amtool 0.28+: the classic-parser warnings logged amid the verdicts are not verdicts', () => {
    const out = "Checking 'a/alertmanager.yml'time=2026-12-07T23:16:53.288Z level=WARN source=parse.go:176 msg=\"Alertmanager is moving to a new parser\" input=\"a=x y\"\n  SUCCESS\nFound:\n\nChecking 'b/alertmanager.yml'time=2026-12-07T23:16:53.288Z level=WARN source=parse.go:176 msg=\"…\"\n  FAILED: undefined receiver \"a\" used in route\n";
    assert.deepEqual([...parseToolOutput('amtool', out, ['a/alertmanager.yml', 'b/alertmanager.yml']).verdicts], [['a/alertmanager.yml', undefined], ['b/alertmanager.yml', 'undefined receiver "a" used in route']]);
  });
  it('promtool: `Checking F` then SUCCESS or FAILED on the next line', () => {
    const out = [
      'Checking a/prometheus.yml',
      ' SUCCESS: a/prometheus.yml is valid prometheus config file syntax',
      '',
      'Checking b/prometheus.yml',
      '  FAILED: parsing YAML file b/prometheus.yml: "/tmp/x" is not a valid hostname',
      '',
    ].join('\n');
    assert.deepEqual([...parseToolOutput('promtool', out, ['a/prometheus.yml', 'b/prometheus.yml']).verdicts], [
      ['a/prometheus.yml', undefined],
      ['b/prometheus.yml', 'parsing YAML file b/prometheus.yml: "/tmp/x" is not a valid hostname'],
    ]);
  });
  it('a file the output never reaches gets no verdict (never a pass)', () => {
    const parsed = parseToolOutput('promtool', 'Checking a/prometheus.yml\n SUCCESS: ok\n', ['a/prometheus.yml', 'b/prometheus.yml']);
    assert.deepEqual([...parsed.verdicts.keys()], ['a/prometheus.yml']);
  });
});

describe('PH503 and PH105 follow the release: a field one release has is unknown to an older one', () => {
  const withReceiver = (receiver: Record<string, unknown>) => fastTopology({ alertmanagers: { ...(fastTopology()['alertmanagers'] as Record<string, unknown>), receivers: [{ name: 'webhook', ...receiver }] } });
  const cases: Array<[string, Record<string, unknown>, string, Record<'bookworm' | 'trixie' | 'sid', boolean>]> = [
    ['msteams_configs (0.28+)', withReceiver({ msteams_configs: [{ webhook_url: 'https://example.net/t' }] }), 'PH503', { bookworm: true, trixie: false, sid: false }],
    ['webhook url_file (0.28+)', withReceiver({ webhook_configs: [{ url_file: '/etc/promha/url' }] }), 'PH503', { bookworm: true, trixie: false, sid: false }],
    ['kubernetes_sd_configs (Debian builds 2.42 without it)', fastTopology({ federators: { ...(fastTopology()['federators'] as Record<string, unknown>), scrape_configs: [{ job_name: 'k', kubernetes_sd_configs: [{ role: 'pod' }] }] } }), 'PH105', { bookworm: true, trixie: false, sid: false }],
    ['a UTF-8 target label name (3.x)', fastTopology({ federators: { ...(fastTopology()['federators'] as Record<string, unknown>), scrape_configs: [{ job_name: 'k', static_configs: [{ targets: ['h:1'], labels: { 'dc.zone': 'a' } }] }] } }), 'PH105', { bookworm: true, trixie: true, sid: false }],
  ];
  for (const [name, topology, code, refused] of cases)
    for (const release of ['bookworm', 'trixie', 'sid'] as const)
      it(`${name} on ${release}: ${refused[release] ? 'refused' : 'taken'}`, async () => {
        const project = await tempProject({ 'promha.yaml': topology, 'rules/demo.yml': stringify(FAST_RULES) });
        try {
          const f = only(check(await loadTopology(path.join(project.dir, 'promha.yaml')), CHECK_RULES, RELEASES[release]), code).filter((x) => x.severity === 'error');
          assert.equal(f.length, refused[release] ? 1 : 0, JSON.stringify(f));
        } finally {
          await project.cleanup();
        }
      });

  it('a number is judged as the rendered file spells it: group_wait -0 is "-0", not 0', async () => {
    const am = fastTopology()['alertmanagers'] as { route: Record<string, unknown> };
    const project = await tempProject({ 'promha.yaml': fastTopology({ alertmanagers: { ...am, route: { ...am.route, group_wait: -0, group_by: [Infinity] } } }), 'rules/demo.yml': stringify(FAST_RULES) });
    try {
      const messages = only(check(await loadTopology(path.join(project.dir, 'promha.yaml'))), 'PH503').map((f) => f.message);
      assert.deepEqual(messages, ['invalid label name ".inf" in group_by list', 'group_wait: not a valid duration string: "-0"']);
    } finally {
      await project.cleanup();
    }
  });
});
