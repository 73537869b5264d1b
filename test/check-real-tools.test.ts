import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { Address } from '../src/address.ts';
import { check } from '../src/check/check.ts';
import { Duration } from '../src/duration.ts';
import { ValidationError } from '../src/errors.ts';
import { plan } from '../src/plan/plan.ts';
import { parseRuleFile } from '../src/rules/rule-file.ts';
import { parseTopology } from '../src/topology/load.ts';
import type { Topology } from '../src/topology/topology.ts';
import type { PropertyPath } from '../src/topology/yaml-source.ts';
import { fastTopology } from './helpers.ts';

/*
 * "check passes, a real tool then rejects": each case here is refused by `check` with a
 * location, and the same input is shown to be refused by the real tool (promtool 2.42,
 * amtool 0.25, keepalived 2.2.7, kubectl), while the valid neighbour passes both.
 */

type Input = Record<string, any>;

function topologyOf(input: Input, file = 'promha.yaml'): Topology {
  return { ...parseTopology(file, stringify(input)), ruleFiles: [] };
}

/** `line:column message` of every schema problem, or [] when the topology loads. */
function schemaProblems(input: Input): string[] {
  try {
    topologyOf(input);
    return [];
  } catch (e) {
    if (!(e instanceof ValidationError)) throw e;
    return e.problems.map((p) => `${p.location.line}:${p.location.column} ${p.message}`);
  }
}

const fast = (change: (t: Input) => void): Input => {
  const t = fastTopology() as Input;
  change(t);
  return t;
};

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'promha-real-tools-'));
});
after(() => rm(dir, { recursive: true, force: true }));

let fileCount = 0;
async function temp(name: string, content: string): Promise<string> {
  const file = path.join(dir, String(fileCount++), name);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content);
  return file;
}

async function accepts(tool: string, args: string[]): Promise<boolean> {
  return (await execa(tool, args, { reject: false })).exitCode === 0;
}

describe('addresses: only what resolves or is a real IP literal', () => {
  const table: Array<[string, string | undefined]> = [
    ['10.0.0.11:9090', undefined],
    ['scraper1-1.example.net:9090', undefined],
    ['localhost:9090', undefined],
    ['[::1]:9090', undefined],
    ['[2001:db8::1]:9090', undefined],
    ['[::ffff:10.0.0.1]:9090', undefined],
    ['host-1a.example:80', undefined],
    ['198.51.100.256:9090', '"198.51.100.256" is not an IPv4 address'],
    ['999.1.1.1:9090', '"999.1.1.1" is not an IPv4 address'],
    ['10.0.0:9090', '"10.0.0" is not an IPv4 address'],
    ['a.b.1:9090', 'its last label is all digits'],
    ['[:::::]:9090', '"[:::::]" is not an IPv6 address'],
    ['[1.2.3.4]:9090', '"[1.2.3.4]" is not an IPv6 address'],
    ['[::1:9090', 'is not host:port'],
  ];
  for (const [text, problem] of table)
    it(`${text} → ${problem ?? 'ok'}`, () => {
      const p = Address.problem(text);
      if (problem === undefined) assert.equal(p, undefined);
      else assert.ok(p?.includes(problem), `got ${p}`);
    });

  it('is located at the address in the topology', () => {
    assert.deepEqual(
      schemaProblems(fast((t) => (t['exporters'][0].targets = ['198.51.100.256:9100']))),
      ['11:9 exporters[0].targets[0]: "198.51.100.256" is not an IPv4 address (four numbers 0-255)'],
    );
    assert.match(
      schemaProblems(fast((t) => (t['alertmanagers'].members[0].cluster_address = '[:::::]:9094'))).join('\n'),
      /alertmanagers\.members\[0\]\.cluster_address: "\[:::::\]" is not an IPv6 address/,
    );
  });
});

describe('durations: within what Prometheus and Alertmanager hold', () => {
  it('promtool takes 106751d23h47m16s854ms and refuses one millisecond more', async () => {
    const config = (d: string) => temp('prometheus.yml', `global:\n  evaluation_interval: ${d}\n`);
    assert.equal(await accepts('promtool', ['check', 'config', await config('106751d23h47m16s854ms')]), true);
    assert.equal(await accepts('promtool', ['check', 'config', await config('106751d23h47m16s855ms')]), false);
  });
  const table: Array<[string, (t: Input) => void, string | undefined]> = [
    ['lookback_delta 292y', (t) => (t['lookback_delta'] = '292y'), undefined],
    ['lookback_delta 300y', (t) => (t['lookback_delta'] = '300y'), '7:17 lookback_delta: out of range'],
    ['lookback_delta 106751d23h47m16s855ms', (t) => (t['lookback_delta'] = '106751d23h47m16s855ms'), 'out of range'],
    ['lookback_delta 0', (t) => (t['lookback_delta'] = '0'), 'lookback_delta must be longer than 0'],
    ['scraper retention 300y', (t) => (t['scrapers'][0].storage = { retention: '300y' }), 'scrapers[0].storage.retention: out of range'],
    ['advert_int 255s', (t) => (t['pushgateways'][0].vip.advert_int = '255s'), undefined],
    ['advert_int 300s', (t) => (t['pushgateways'][0].vip.advert_int = '300s'), 'keepalived takes advert_int from 1s to 255s'],
    ['advert_int 0', (t) => (t['pushgateways'][0].vip.advert_int = '0'), 'keepalived takes advert_int from 1s to 255s'],
    ['advert_int 1500ms', (t) => (t['pushgateways'][0].vip.advert_int = '1500ms'), 'advert_int in whole seconds'],
  ];
  for (const [name, change, problem] of table)
    it(`${name} → ${problem ?? 'ok'}`, () => {
      const problems = schemaProblems(fast(change));
      if (problem === undefined) assert.deepEqual(problems, []);
      else assert.ok(problems.length === 1 && problems[0]?.includes(problem), problems.join('\n'));
    });
});

describe('labels: Prometheus label names', () => {
  const table: Array<[string, string | undefined]> = [
    ['data_center', undefined],
    ['_private', undefined],
    ['data-center', '"data-center" is not a Prometheus label name'],
    ['0dc', '"0dc" is not a Prometheus label name'],
    ['dc.zone', '"dc.zone" is not a Prometheus label name'],
    ['__scheme__', 'label names starting with "__" are reserved'],
  ];
  for (const [name, problem] of table)
    it(`${name} → ${problem ?? 'ok'}`, () => {
      const problems = schemaProblems(fast((t) => (t['exporters'][0].labels = { [name]: 'x' })));
      if (problem === undefined) assert.deepEqual(problems, []);
      else assert.ok(problems.length === 1 && problems[0]?.includes(`exporters[0].labels.${name}: ${problem}`), problems.join('\n'));
    });

  it('promtool refuses the scraper config a dashed label name would give, and takes the underscored one', async () => {
    const verdict = async (name: string) => {
      const topology = topologyOf(fastTopology());
      topology.spec.exporters[0] = { ...topology.spec.exporters[0]!, labels: { [name]: 'x' } };
      const scraper = plan(topology).find((n) => n.name === 'scraper1-1');
      const config = scraper?.files.find((f) => f.path === 'prometheus.yml');
      assert.ok(config);
      return accepts('promtool', ['check', 'config', '--syntax-only', await temp('prometheus.yml', config.content)]);
    };
    assert.equal(await verdict('data-center'), false);
    assert.equal(await verdict('data_center'), true);
  });
});

describe('VIPs: what keepalived 2.2.7 takes (keepalived -t in a namespace of our own)', () => {
  const ns = `keepalived-check-${process.pid}`; // not promha-*: the netns lane may run beside this file and counts those
  before(async () => {
    await execa('ip', ['netns', 'add', ns]);
    await execa('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
  });
  after(() => execa('ip', ['netns', 'delete', ns], { reject: false }));

  async function keepalivedAccepts(change: (t: Topology) => void): Promise<boolean> {
    const topology = topologyOf(fastTopology());
    change(topology);
    const member = plan(topology).find((n) => n.name === 'pushgateway1-1');
    const conf = member?.files.find((f) => f.path === 'keepalived.conf');
    assert.ok(conf);
    // Scripts it names must exist for -t: point them at /bin/true.
    const content = conf.content.replace(/(script|notify_\w+) "[^"]*"/g, '$1 "/bin/true"');
    return accepts('ip', ['netns', 'exec', ns, 'keepalived', '-t', '-f', await temp('keepalived.conf', content)]);
  }
  const vip = (t: Topology) => t.spec.pushgateways[0]!.vip;

  it('takes advert_int 255 and refuses 256 ("outside range [0.01, 255]")', async () => {
    // Bypassing the schema, which refuses 256s, shows what keepalived would say.
    assert.equal(await keepalivedAccepts((t) => (vip(t).advert_int = Duration.seconds(255))), true);
    assert.equal(await keepalivedAccepts((t) => (vip(t).advert_int = Duration.seconds(256))), false);
  });

  it('takes an IPv6 VIP as promha renders it (addr/128); check still refuses it with a location, the stand-in and certificates being IPv4 only', async () => {
    assert.equal(await keepalivedAccepts((t) => (vip(t).address = Address.parse('[2001:db8::100]:9091'))), true);
    const findings = check(topologyOf(fast((t) => (t['pushgateways'][0].vip.address = '[2001:db8::100]:9091')))).filter((f) => f.code === 'PH901');
    assert.deepEqual(
      findings.map((f) => [f.severity, `${f.location.line}:${f.location.column}`, f.message]),
      [['error', '35:16', 'the VIP of pushgateway1 is the IPv6 address [2001:db8::100]: promha supports IPv4 VIPs only']],
    );
  });
});

describe('rule files: what Prometheus\' YAML reader refuses', () => {
  const head = 'groups:\n  - name: a\n    rules:\n';
  const rule = '      - alert: X\n        expr: up == 0\n';
  // [name, text, expected first problem `line:col` or undefined]
  const table: Array<[string, string, string | undefined]> = [
    ['valid', head + rule, undefined],
    ['tab-only line', `${head}\t\n${rule}`, '4:1 a tab in the indentation'],
    ['spaces and a tab on a blank line', `${head}${rule}  \t\n`, '6:3 a tab in the indentation'],
    ['tab before a comment', `${head}\t# note\n${rule}`, '4:1 a tab in the indentation'],
    ['tab-only line at the top', `groups:\n\t\n  - name: a\n    rules:\n${rule}`, '2:1 a tab in the indentation'],
    ['tab inside an expression', `${head}      - alert: X\n        expr: up\t==\t0\n`, undefined],
    ['trailing tab', `${head}      - alert: X\n        expr: up == 0\t\n`, undefined],
    ['tab after a colon', `${head}      - alert: X\n        expr:\tup == 0\n`, undefined],
    ['tab in a comment', `${head}      - alert: X\n        expr: up == 0 # a\tb\n`, undefined],
    ['tab in a block scalar\'s content', `${head}      - alert: X\n        expr: |\n          up\n          \t== 0\n`, undefined],
    ['tab in a block scalar\'s leading blank line', `${head}      - alert: X\n        expr: |\n          \t\n          up\n`, '6:11 a tab in the indentation'],
    ['tab deep in a plain continuation line', `${head}      - alert: X\n        expr: up\n          \t== 0\n`, undefined],
    ['control character', `${head}${rule}        annotations:\n          summary: a\x01b\n`, '7:21 control character U+0001 is not allowed'],
    ['control character in a comment', `${head}${rule}  # a\x07\n`, '6:6 control character U+0007 is not allowed'],
    ['DEL', `${head}${rule}        annotations:\n          summary: a\x7fb\n`, '7:21 control character U+007F'],
    ['C1 control', `${head}${rule}        annotations:\n          summary: a\x9fb\n`, '7:21 control character U+009F'],
    ['escaped control character', `${head}${rule}        annotations:\n          summary: "a\\x01b"\n`, undefined],
    ['NEL in a plain scalar', `${head}${rule}        annotations:\n          summary: a\x85b\n`, '7:21 U+0085 is a line break'],
    ['LS in a plain scalar', `${head}${rule}        annotations:\n          summary: a\u2028b\n`, '7:21 U+2028 is a line break'],
    ['PS in double quotes', `${head}${rule}        annotations:\n          summary: "a\u2029b"\n`, undefined],
    ['byte order mark', `\ufeff${head}${rule}`, undefined],
  ];
  for (const [name, text, problem] of table)
    it(`${name} → ${problem ?? 'ok'}, as promtool check rules says`, async () => {
      const problems = parseRuleFile('rules.yml', text).problems.map((p) => `${p.location.line}:${p.location.column} ${p.message}`);
      if (problem === undefined) assert.deepEqual(problems, []);
      else assert.ok(problems[0]?.startsWith(problem), problems.join('\n') || '(no problem)');
      assert.equal(await accepts('promtool', ['check', 'rules', await temp('rules.yml', text)]), problem === undefined, 'promtool disagrees');
    });
  it('a file Prometheus refuses loads no rules', () => assert.deepEqual(parseRuleFile('rules.yml', `${head}\t\n${rule}`).rules, []));
});

describe('rule file names: glob characters and ConfigMap keys', () => {
  const withRuleFile = (name: string): Topology => {
    const text = 'groups: []\n';
    return { ...topologyOf(fastTopology()), ruleFiles: [{ name, entry: 0, text, parsed: parseRuleFile(name, text) }] };
  };
  const table: Array<[string, string | undefined]> = [
    ['rules/alerts.yml', undefined],
    ['rules/team-a_v1.0.yaml', undefined],
    ['rules/my alerts.yml', 'rule file name "my alerts.yml" has " ": the rendered file is a ConfigMap key'],
    ['rules/a[1].yml', 'rule file name "a[1].yml" has "[", "]": Prometheus reads rule_files as glob patterns'],
    ['rules/ünï.yml', 'has "ü", "ï"'],
  ];
  for (const [name, problem] of table)
    it(`${name} → ${problem ?? 'ok'}`, () => {
      const findings = check(withRuleFile(name)).filter((f) => f.code === 'PH803');
      if (problem === undefined) assert.deepEqual(findings, []);
      else {
        assert.equal(findings.length, 1);
        assert.ok(findings[0]?.message.includes(problem), findings[0]?.message);
        assert.deepEqual(findings[0]?.location, topologyOf(fastTopology()).locate(['federators', 'rule_files', 0]));
      }
    });

  it('kubectl refuses such a ConfigMap key; promtool refuses the glob', async () => {
    const file = await temp('a b.yml', 'groups: []\n');
    const configMap = (key: string) => accepts('kubectl', ['create', 'configmap', 'x', `--from-file=${key}=${file}`, '--dry-run=client', '-o', 'yaml']);
    assert.equal(await configMap('rules_a b.yml'), false);
    assert.equal(await configMap('rules_a-b.yml'), true);
    const ruleDir = path.dirname(await temp('rules/a[1].yml', 'groups: []\n'));
    const config = path.join(path.dirname(ruleDir), 'prometheus.yml');
    await writeFile(config, "rule_files: ['rules/a[1].yml']\n");
    assert.equal(await accepts('promtool', ['check', 'config', config]), false);
  });

  it('two rule files of the same name in different directories get distinct keys', () => {
    const text = 'groups: []\n';
    const topology: Topology = {
      ...topologyOf(fastTopology()),
      ruleFiles: ['a/alerts.yml', 'b/alerts.yml'].map((name) => ({ name, entry: 0, text, parsed: parseRuleFile(name, text) })),
    };
    const federator = plan(topology).find((n) => n.name === 'federator1-1');
    const rules = federator?.files.map((f) => f.path).filter((p) => p.startsWith('rules/')) ?? [];
    assert.equal(new Set(rules.map((p) => p.replace(/\//g, '_'))).size, rules.length);
    assert.ok(rules.includes('rules/alerts.yml') && rules.includes('rules/2-alerts.yml'), rules.join(', '));
  });
});

describe('Alertmanager: check finds what amtool check-config refuses', () => {
  const webhook = { name: 'webhook', webhook_configs: [{ url: 'http://127.0.0.99:5001/' }] };
  const baseRoute = { receiver: 'webhook', group_by: ['alertname'], group_wait: '1s', group_interval: '10s', repeat_interval: '1h' };
  // [case, alertmanagers overrides, expected message, where (under alertmanagers)]
  const table: Array<[string, Input, string, PropertyPath]> = [
    ['route naming an undefined receiver', { route: { ...baseRoute, receiver: 'pager' } }, 'undefined receiver "pager" used in route', ['route', 'receiver']],
    ['sub-route naming an undefined receiver', { route: { ...baseRoute, routes: [{ receiver: 'pager', matchers: ['severity="page"'] }] } }, 'undefined receiver "pager" used in route', ['route', 'routes', 0, 'receiver']],
    ['root route without receiver', { route: { group_by: ['alertname'] } }, 'root route must specify a default receiver', ['route']],
    ['root route with matchers', { route: { ...baseRoute, matchers: ['a="b"'] } }, 'root route must not have any matchers', ['route', 'matchers']],
    ['receiver names not unique', { receivers: [webhook, webhook] }, 'notification config name "webhook" is not unique', ['receivers', 1, 'name']],
    ['receiver without name', { receivers: [webhook, { webhook_configs: webhook.webhook_configs }] }, 'missing name in receiver', ['receivers', 1]],
    ['misspelt route key', { route: { ...baseRoute, recevier: 'webhook' } }, 'unknown key "recevier" in the route', ['route', 'recevier']],
    ['misspelt receiver key', { receivers: [{ name: 'webhook', webhook_config: webhook.webhook_configs }] }, 'unknown key "webhook_config" in a receiver', ['receivers', 0, 'webhook_config']],
    ['group_by ... with other labels', { route: { ...baseRoute, group_by: ['...', 'alertname'] } }, 'cannot have wildcard group_by', ['route', 'group_by']],
    ['group_by duplicate', { route: { ...baseRoute, group_by: ['alertname', 'alertname'] } }, 'duplicated label "alertname" in group_by', ['route', 'group_by', 1]],
    ['group_by invalid label', { route: { ...baseRoute, group_by: ['data-center'] } }, 'invalid label name "data-center" in group_by list', ['route', 'group_by', 0]],
    ['group_interval zero', { route: { ...baseRoute, group_interval: '0s' } }, 'group_interval cannot be zero', ['route', 'group_interval']],
    ['repeat_interval zero', { route: { ...baseRoute, repeat_interval: '0' } }, 'repeat_interval cannot be zero', ['route', 'repeat_interval']],
    ['group_wait not a duration', { route: { ...baseRoute, group_wait: '5 minutes' } }, 'group_wait: not a valid duration string: "5 minutes"', ['route', 'group_wait']],
    ['group_wait out of range', { route: { ...baseRoute, group_wait: '300y' } }, 'group_wait: duration out of range', ['route', 'group_wait']],
    ['undefined time interval', { route: { ...baseRoute, routes: [{ receiver: 'webhook', mute_time_intervals: ['weekend'] }] } }, 'undefined time interval "weekend" used in route', ['route', 'routes', 0, 'mute_time_intervals', 0]],
    ['matcher with a bad label name', { route: { ...baseRoute, routes: [{ receiver: 'webhook', matchers: ['data-center=x'] }] } }, 'bad matcher format: data-center=x', ['route', 'routes', 0, 'matchers', 0]],
    ['matcher with a stray quote', { route: { ...baseRoute, routes: [{ receiver: 'webhook', matchers: ['a="b'] }] } }, 'matcher value contains unescaped double quote', ['route', 'routes', 0, 'matchers', 0]],
    ['matcher with a broken regexp', { route: { ...baseRoute, routes: [{ receiver: 'webhook', matchers: ['a=~(b'] }] } }, 'error parsing regexp "(b"', ['route', 'routes', 0, 'matchers', 0]],
    ['match with a bad label name', { route: { ...baseRoute, routes: [{ receiver: 'webhook', match: { 'a-b': 'c' } }] } }, 'invalid label name "a-b" in match', ['route', 'routes', 0, 'match', 'a-b']],
    ['continue not a boolean', { route: { ...baseRoute, routes: [{ receiver: 'webhook', continue: 'maybe' }] } }, 'continue must be true or false', ['route', 'routes', 0, 'continue']],
    ['inhibit rule with a broken matcher', { inhibit_rules: [{ source_matchers: ['a="b'], target_matchers: ['c="d"'], equal: ['x'] }] }, 'matcher value contains unescaped double quote', ['inhibit_rules', 0, 'source_matchers', 0]],
    ['inhibit rule with a bad equal label', { inhibit_rules: [{ source_matchers: ['a="b"'], target_matchers: ['c="d"'], equal: ['x-y'] }] }, '"x-y" is not a valid label name in equal', ['inhibit_rules', 0, 'equal', 0]],
    ['email without smarthost', { receivers: [webhook, { name: 'mail', email_configs: [{ to: 'ops@example.net', from: 'am@example.net' }] }] }, 'no global SMTP smarthost set', ['receivers', 1, 'email_configs', 0]],
    ['slack without api_url', { receivers: [webhook, { name: 'chat', slack_configs: [{ channel: '#ops' }] }] }, 'no global Slack API URL set either inline or in a file', ['receivers', 1, 'slack_configs', 0]],
  ];

  async function amtoolAccepts(topology: Topology): Promise<boolean[]> {
    const nodes = plan(topology).filter((n) => n.role === 'alertmanager');
    const verdicts: boolean[] = [];
    for (const n of nodes) {
      const config = n.files.find((f) => f.path === 'alertmanager.yml');
      assert.ok(config);
      verdicts.push(await accepts('amtool', ['check-config', await temp('alertmanager.yml', config.content)]));
    }
    return verdicts;
  }
  const withAlertmanagers = (overrides: Input) => fast((t) => Object.assign(t['alertmanagers'], overrides));

  it('a valid configuration with sub-routes, inhibit rules and globals passes both', async () => {
    const input = withAlertmanagers({
      global: { smtp_smarthost: 'mail.example.net:25', smtp_from: 'am@example.net' },
      route: { ...baseRoute, routes: [{ receiver: 'mail', matchers: ['severity=~"page|critical"', '{team="a,b"}'], continue: true }, { receiver: 'webhook', match: { a: 'b' }, match_re: { c: '(?i)d+' } }] },
      receivers: [webhook, { name: 'mail', email_configs: [{ to: 'ops@example.net' }] }],
      inhibit_rules: [{ source_matchers: ['severity="page"'], target_matchers: ['severity="ticket"'], equal: ['alertname'] }],
    });
    const topology = topologyOf(input);
    assert.deepEqual(check(topology).filter((f) => f.code === 'PH503'), []);
    assert.deepEqual(await amtoolAccepts(topology), [true, true, true]);
  });

  for (const [name, overrides, message, where] of table)
    it(name, async () => {
      const topology = topologyOf(withAlertmanagers(overrides));
      const findings = check(topology).filter((f) => f.code === 'PH503');
      const at = topology.locate(['alertmanagers', ...where]);
      assert.ok(
        findings.some((f) => f.severity === 'error' && f.message.includes(message) && f.location.line === at.line && f.location.column === at.column),
        `no error "${message}" at ${at.line}:${at.column}:\n${findings.map((f) => `${f.location.line}:${f.location.column}: ${f.message}`).join('\n')}\n${stringify(withAlertmanagers(overrides)['alertmanagers'])}`,
      );
      const [active] = await amtoolAccepts(topology);
      assert.equal(active, false, 'amtool accepts the active members\' alertmanager.yml');
    });
});
