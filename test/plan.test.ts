import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { parseRuleFile } from '../src/rules/rule-file.ts';
import { plan } from '../src/plan/plan.ts';
import type { NodeSpec } from '../src/plan/node-spec.ts';
import { parseTopology } from '../src/topology/load.ts';
import type { Topology } from '../src/topology/topology.ts';
import { FAST_RULES, fastTopology } from './helpers.ts';
import { Duration } from '../src/duration.ts';
import { pushedKeepFiringFor } from '../src/plan/derived.ts';
import { demoRules } from '../src/runtime/demo-rules.ts';
import { seedTopology } from '../src/topology/seed.ts';

function topology(overrides: Record<string, unknown> = {}, rules: object = FAST_RULES): Topology {
  const t = parseTopology('promha.yaml', stringify(fastTopology(overrides)));
  const text = stringify(rules);
  return { ...t, ruleFiles: [{ name: 'rules/demo.yml', entry: 0, text, parsed: parseRuleFile('rules/demo.yml', text) }] };
}

const node = (nodes: NodeSpec[], name: string) => {
  const n = nodes.find((x) => x.name === name);
  assert.ok(n, `no node ${name}`);
  return n;
};
const fileOf = (n: NodeSpec, path: string) => {
  const f = n.files.find((x) => x.path === path);
  assert.ok(f, `${n.name} has no ${path}`);
  return parse(f.content) as Record<string, any>;
};
const argsOf = (n: NodeSpec, process: string) => n.processes.find((p) => p.name === process)?.args ?? [];

describe('plan', () => {
  const nodes = plan(topology());

  it('orders nodes for start: scrapers, gateways, VIP stand-ins, active Alertmanagers, the backup, federators', () => {
    assert.deepEqual(
      nodes.map((n) => n.name),
      [
        'scraper1-1', 'scraper1-2', 'scraper2-1', 'scraper2-2',
        'pushgateway1-1', 'pushgateway1-2', 'pushgateway1-vip',
        'alertmanager1-1', 'alertmanager1-2', 'alertmanager1-3',
        'federator1-1', 'federator1-2',
      ],
    );
    assert.equal(nodes.find((n) => n.role === 'alertmanager' && n.backup)?.name, 'alertmanager1-3');
  });

  it('bounds the send timeout to the Alertmanagers by half the alerts’ validity, so one hung member cannot let the others’ alerts expire', () => {
    const timeoutOf = (t: Topology) => (fileOf(node(plan(t), 'federator1-1'), 'prometheus.yml')['alerting']['alertmanagers'] as Array<{ timeout: string }>)[0]?.timeout;
    // resend_delay 2s, evaluate 1s: valid for 4 × 2 s = 8 s; half is 4 s.
    assert.equal(timeoutOf(topology()), '4s');
    const fed = fastTopology()['federators'] as Record<string, unknown>;
    // resend_delay 5s: valid 20 s; Prometheus' 10 s is shorter than half.
    assert.equal(timeoutOf(topology({ federators: { ...fed, resend_delay: '5s' } })), '10s');
    const { resend_delay: _, ...defaults } = fed;
    assert.equal(timeoutOf(topology({ federators: defaults })), '10s');
  });

  it("gives every YAML file's data as what its text parses to (check reads the data, render writes the text)", () => {
    const secure = plan(topology({ security: { tls: {}, basic_auth: { password_file: 'pw' } } }));
    let files = 0;
    for (const n of [...nodes, ...secure])
      for (const f of n.files)
        if (f.data !== undefined) {
          files++;
          assert.deepEqual(parse(f.content), f.data, `${n.name}: ${f.path}`);
        }
    assert.ok(files > nodes.length, `${files} YAML files with data`);
  });

  it('gives scraper members distinct external labels (DESIGN §3.1)', () => {
    assert.deepEqual(fileOf(node(nodes, 'scraper1-1'), 'prometheus.yml').global.external_labels, { scraper_set: 'scraper1', scraper_replica: 'scraper1-1' });
    assert.deepEqual(fileOf(node(nodes, 'scraper1-2'), 'prometheus.yml').global.external_labels, { scraper_set: 'scraper1', scraper_replica: 'scraper1-2' });
  });

  it('merges scraper copies at the federators: each member a target, honor_labels, labeldrop scraper_replica, out-of-order window', () => {
    const config = fileOf(node(nodes, 'federator1-1'), 'prometheus.yml');
    const job = config.scrape_configs.find((j: any) => j.job_name === 'promha-federate-scraper1');
    assert.equal(job.honor_labels, true);
    assert.equal(job.metrics_path, '/federate');
    assert.deepEqual(job.params['match[]'], ['{__name__=~".+"}']);
    assert.deepEqual(job.static_configs.map((s: any) => s.targets[0]), ['127.0.0.11:9090', '127.0.0.12:9090']);
    assert.deepEqual(job.metric_relabel_configs[0], { action: 'labeldrop', regex: 'scraper_replica' });
    // auto: max(30s, 2 × (1s + 1s))
    assert.equal(config.storage.tsdb.out_of_order_time_window, '30s');
  });

  it('merges gateway copies with no per-member label and never scrapes the VIP', () => {
    const config = fileOf(node(nodes, 'federator1-2'), 'prometheus.yml');
    const job = config.scrape_configs.find((j: any) => j.job_name === 'promha-pushgateway-pushgateway1');
    assert.equal(job.honor_labels, true);
    assert.deepEqual(job.metric_relabel_configs, [{ action: 'labeldrop', regex: 'promha_set|promha_member' }]);
    const all = JSON.stringify(config.scrape_configs);
    assert.ok(!all.includes('127.0.0.100'), 'the VIP must never be a federation target');
  });

  it('drops federator_replica for alerts and sends only to the two active Alertmanagers', () => {
    const config = fileOf(node(nodes, 'federator1-1'), 'prometheus.yml');
    assert.deepEqual(config.global.external_labels, { federator_replica: 'federator1-1' });
    assert.deepEqual(config.alerting.alert_relabel_configs, [{ action: 'labeldrop', regex: 'federator_replica' }]);
    assert.deepEqual(config.alerting.alertmanagers[0].static_configs[0].targets, ['127.0.0.81:9093', '127.0.0.82:9093']);
    assert.deepEqual(config.rule_files, ['rules/demo.yml', 'rules/promha-meta.rules.yml']);
  });

  it('gives the backup Alertmanager a receiver without integrations and every member the others as peers', () => {
    const backup = node(nodes, 'alertmanager1-3');
    assert.deepEqual(fileOf(backup, 'alertmanager.yml').receivers, [{ name: 'promha-backup-blackhole' }]);
    assert.deepEqual(
      argsOf(backup, 'alertmanager').filter((a) => a.startsWith('--cluster.peer=')),
      ['--cluster.peer=127.0.0.81:9094', '--cluster.peer=127.0.0.82:9094'],
    );
    const active = fileOf(node(nodes, 'alertmanager1-1'), 'alertmanager.yml');
    assert.equal(active.receivers[0].webhook_configs[0].url, 'http://127.0.0.99:5001/');
    // auto peer timeout: 3.5 × evaluate
    assert.ok(argsOf(backup, 'alertmanager').includes('--cluster.peer-timeout=3s500ms'));
    assert.ok(argsOf(backup, 'alertmanager').includes('--cluster.advertise-address=127.0.0.83:9094'));
  });

  it('runs pushgateways without persistence, with the admin API, and keepalived that never fails back', () => {
    const gw = node(nodes, 'pushgateway1-1');
    assert.ok(argsOf(gw, 'pushgateway').includes('--persistence.file='));
    assert.ok(argsOf(gw, 'pushgateway').includes('--web.enable-admin-api'));
    const conf = gw.files.find((f) => f.path === 'keepalived.conf')?.content ?? '';
    assert.match(conf, /state BACKUP\n\s+nopreempt/);
    assert.match(conf, /notify_backup ".*wipe-pushgateway\.sh"/);
    assert.match(conf, /127\.0\.0\.100\/32 dev eth0/);
    assert.match(conf, /priority 150/);
    assert.match(node(nodes, 'pushgateway1-2').files.find((f) => f.path === 'keepalived.conf')?.content ?? '', /priority 100/);
    const wipe = gw.files.find((f) => f.path === 'wipe-pushgateway.sh');
    assert.equal(wipe?.mode, 0o755);
    assert.match(wipe?.content ?? '', /PUT \/api\/v1\/admin\/wipe/);
  });

  it('gives the HAProxy stand-in no failback, redispatch and retries (DESIGN §3.3, §3.5)', () => {
    const cfg = node(nodes, 'pushgateway1-vip').files[0]?.content ?? '';
    assert.match(cfg, /stick-table type ip size 2 nopurge/);
    assert.match(cfg, /stick on dst/);
    assert.match(cfg, /option redispatch/);
    assert.match(cfg, /retries 3/);
    assert.match(cfg, /bind 127\.0\.0\.100:9091/);
    assert.match(cfg, /server pushgateway1-2 127\.0\.0\.52:9091 .* backup/);
  });

  it('sets --web.external-url on every server', () => {
    for (const n of nodes.filter((x) => x.role !== 'vip')) {
      const main = n.processes[0];
      assert.ok(main?.args.includes(`--web.external-url=http://${n.address}/`), n.name);
    }
  });

  it('derives federator retention from the rules (auto) and keeps the configured lookback', () => {
    const long = topology({}, { groups: [{ name: 'g', rules: [{ alert: 'A', expr: 'rate(x[2d] offset 1d) > 0', for: '1h' }] }] });
    const args = argsOf(node(plan(long), 'federator1-1'), 'prometheus');
    // 2d + 1d = 72h (`for:` reads no stored samples), +10% margin = 79.2h, rounded up to 80h
    assert.ok(args.includes('--storage.tsdb.retention.time=3d8h'), args.join(' '));
    assert.ok(args.includes('--query.lookback-delta=20s'));
  });

  it('generates the meta-monitoring rules with the backup named', () => {
    const meta = fileOf(node(nodes, 'federator1-1'), 'rules/promha-meta.rules.yml');
    const names = meta.groups[0].rules.map((r: any) => r.alert);
    for (const expected of ['PromhaWatchdog', 'PromhaScraperMemberDown', 'PromhaScraperSetDown', 'PromhaPushgatewaySetDown', 'PromhaStandbyPushgatewayHoldsData', 'PromhaPushGroupStale', 'PromhaFederatorPeerDown', 'PromhaAlertmanagerClusterDegraded', 'PromhaNotificationsFailing', 'PromhaNotificationsDropped', 'PromhaFederateScrapeSlow'])
      assert.ok(names.includes(expected), expected);
    const backupRule = meta.groups[0].rules.find((r: any) => r.alert === 'PromhaBackupAlertmanagerReceivesAlerts');
    assert.match(backupRule.expr, /promha_member="alertmanager1-3"/);
  });
});

describe('demo rules', () => {
  const keepFiringFor = (spec: Topology['spec']) => {
    const rules = (parse(demoRules(spec).text) as { groups: { rules: { alert?: string; keep_firing_for?: string }[] }[] }).groups[0]?.rules ?? [];
    return Duration.parse(rules.find((r) => r.alert === 'PromhaDemoPushedValueHigh')?.keep_firing_for ?? '');
  };

  it("the pushed-value alert keeps firing as long as PH601 asks of users' rules, at the seed's intervals too", () => {
    const seed = parseTopology('promha.yaml', seedTopology('promha.schema.json')).spec;
    // 30 s push + 30 s gateway scrape + 30 s evaluation + 4 s failover.
    assert.equal(keepFiringFor(seed).toString(), '1m34s');
    assert.ok(!pushedKeepFiringFor(seed, Duration.seconds(1), seed.intervals.evaluate).need.gt(keepFiringFor(seed)));
  });

  it('keeps twice push + failover at the 1 s test profile, where that is more', () => {
    assert.equal(keepFiringFor(topology().spec).toString(), '10s');
  });
});
