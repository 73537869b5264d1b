import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { parse, stringify } from 'yaml';
import { Address } from '../src/address.ts';
import { check, CHECK_RULES } from '../src/check/check.ts';
import { quote, realToolFindings, renderedConfigs, runTool, type RealTool } from '../src/check/real-tools.ts';
import { checkReport } from '../src/commands/check.ts';
import { RELEASE_NAMES, RELEASES, type ReleaseName } from '../src/release/release.ts';
import { Duration } from '../src/duration.ts';
import { ValidationError } from '../src/errors.ts';
import { plan } from '../src/plan/plan.ts';
import { parseRuleFile } from '../src/rules/rule-file.ts';
import { parseTopology } from '../src/topology/load.ts';
import type { Topology } from '../src/topology/topology.ts';
import type { PropertyPath } from '../src/topology/yaml-source.ts';
import { fastTopology, promha, releaseBinary, requireTool } from './helpers.ts';

/*
 * "check passes, a real tool then rejects": each case here is refused by `check` with a
 * location, and the same input is shown to be refused by the real tool (promtool 2.42,
 * 2.53, 3.5; amtool 0.25, 0.28, 0.33; keepalived 2.2.7, kubectl), while the valid
 * neighbour passes both. A tool that is missing fails its tests, never counts as a refusal:
 * scripts/install-deps.sh installs the host's and fetches every release.
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

/**
 * Each tool these tests run and its Debian package: Debian 12's own, from PATH; kubectl
 * as scripts/install-deps.sh extracts it into .test-cache (Debian 12's kubernetes-client),
 * whatever kubectl this machine may have.
 */
const TOOLS: Record<'promtool' | 'amtool' | 'kubectl' | 'keepalived', [binary: string, debianPackage: string]> = {
  promtool: ['promtool', 'prometheus'],
  amtool: ['amtool', 'prometheus-alertmanager'],
  kubectl: [path.resolve(import.meta.dirname, '../.test-cache/kubernetes-client/usr/bin/kubectl'), 'kubernetes-client'],
  keepalived: ['keepalived', 'keepalived'],
};

/**
 * Whether `tool` takes `args` (exit 0), `via` (e.g. `ip netns exec NS`) running it. A tool
 * that is not installed, or that did not run to an exit code, is no refusal: the test fails.
 */
async function accepts(tool: keyof typeof TOOLS, args: string[], via: string[] = []): Promise<boolean> {
  const [binary, debianPackage] = TOOLS[tool];
  await requireTool(binary, debianPackage);
  const [command = binary, ...rest] = [...via, binary, ...args];
  const r = await execa(command, rest, { reject: false });
  assert.notEqual(r.exitCode, undefined, `${tool} did not run to an exit code: ${r.shortMessage}`);
  return r.exitCode === 0;
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
    return accepts('keepalived', ['-t', '-f', await temp('keepalived.conf', content)], ['ip', 'netns', 'exec', ns]);
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

/** The release's own tool, as `check` finds it; a missing one fails the test (releaseBinary throws). */
const toolOf = (release: ReleaseName, tool: RealTool) => releaseBinary(release, tool);

/** What the release's tool says of the file render writes for `member`: its refusal, or undefined when it accepts it. */
async function toolVerdict(topology: Topology, release: ReleaseName, tool: RealTool, member: string): Promise<string | undefined> {
  const config = renderedConfigs(plan(topology, { release: RELEASES[release] })).find((c) => c.tool === tool && c.nodes.some((n) => n.name === member));
  assert.ok(config, `no ${tool} file for ${member}`);
  const run = await runTool(await toolOf(release, tool), tool, [config]);
  assert.ok(!('failed' in run), 'failed' in run ? run.failed : '');
  return run.verdicts.get(config.file);
}

/** The errors of the pure rules for `release`, as `line:column message`. */
const errorsOf = (topology: Topology, release: ReleaseName, code: string) =>
  check(topology, CHECK_RULES, RELEASES[release]).filter((f) => f.severity === 'error' && f.code === code);

describe('Alertmanager fields on every release: check refuses at the field what its amtool refuses, and takes what it takes', () => {
  const hook = (c: Input) => ({ receivers: [{ name: 'webhook', webhook_configs: [c] }] });
  const url = 'http://127.0.0.99:5001/';
  const route = { receiver: 'webhook', group_by: ['alertname'], group_wait: '1s', group_interval: '10s', repeat_interval: '1h' };
  type Want = string | undefined | Partial<Record<ReleaseName, string | undefined>>;
  // [case, alertmanagers overrides, what each release's Alertmanager says (undefined: it loads), where (under alertmanagers; per release where it differs)]
  const table: Array<[string, Input, Want, PropertyPath | Partial<Record<ReleaseName, PropertyPath>>]> = [
    ['a valid webhook', hook({ url, send_resolved: false, max_alerts: 10 }), undefined, []],
    ['url without a scheme', hook({ url: '203.0.113.200:5001/hook' }), { bookworm: 'parse "203.0.113.200:5001/hook": first path segment in URL cannot contain colon', trixie: 'parse "203.0.113.200:5001/hook": first path segment in URL cannot contain colon', sid: 'invalid URL: parse "203.0.113.200:5001/hook": first path segment in URL cannot contain colon' }, ['receivers', 0, 'webhook_configs', 0, 'url']],
    ['url with a host name but no scheme', hook({ url: 'example.net/hook' }), { bookworm: 'unsupported scheme "" for URL', trixie: 'unsupported scheme "" for URL', sid: 'invalid URL: unsupported scheme "" for URL' }, ['receivers', 0, 'webhook_configs', 0, 'url']],
    ['url with a control character', hook({ url: 'http://127.0.0.99:5001/\x01' }), { bookworm: 'parse "http://127.0.0.99:5001/\\x01": net/url: invalid control character in URL', trixie: 'parse "http://127.0.0.99:5001/\\x01": net/url: invalid control character in URL', sid: 'invalid URL: parse "http://127.0.0.99:5001/\\x01": net/url: invalid control character in URL' }, ['receivers', 0, 'webhook_configs', 0, 'url']],
    ['url with a line break', hook({ url: 'http://h/\nPWNED' }), { bookworm: 'net/url: invalid control character in URL', trixie: 'net/url: invalid control character in URL', sid: 'net/url: invalid control character in URL' }, ['receivers', 0, 'webhook_configs', 0, 'url']],
    ['url with an ftp scheme', hook({ url: 'ftp://h/' }), { bookworm: 'unsupported scheme "ftp" for URL', trixie: 'unsupported scheme "ftp" for URL', sid: 'unsupported scheme "ftp" for URL' }, ['receivers', 0, 'webhook_configs', 0, 'url']],
    ['url with a bad port', hook({ url: 'http://h:port/' }), { bookworm: 'invalid port ":port" after host', trixie: 'invalid port ":port" after host', sid: 'invalid port ":port" after host' }, ['receivers', 0, 'webhook_configs', 0, 'url']],
    ['url with a bad escape', hook({ url: 'http://h/%zz' }), { bookworm: 'invalid URL escape "%zz"', trixie: 'invalid URL escape "%zz"', sid: 'invalid URL escape "%zz"' }, ['receivers', 0, 'webhook_configs', 0, 'url']],
    ['url with a space in the host', hook({ url: 'http://a b/' }), { bookworm: 'invalid character " " in host name', trixie: 'invalid character " " in host name', sid: 'invalid character " " in host name' }, ['receivers', 0, 'webhook_configs', 0, 'url']],
    ['url without a host', hook({ url: 'http:///x' }), { bookworm: 'missing host for URL', trixie: 'missing host for URL', sid: 'missing host for URL' }, ['receivers', 0, 'webhook_configs', 0, 'url']],
    ['url with a template in its path', hook({ url: 'http://h/{{ .X }}' }), undefined, []],
    ['an unknown key in a webhook config', hook({ url, sendresolved: true }), { bookworm: 'unknown key "sendresolved" in a webhook config', trixie: 'unknown key "sendresolved" in a webhook config', sid: 'unknown key "sendresolved" in a webhook config' }, ['receivers', 0, 'webhook_configs', 0, 'sendresolved']],
    ['url_file before 0.28', hook({ url_file: '/etc/promha/hook-url' }), { bookworm: 'unknown key "url_file" in a webhook config', trixie: undefined, sid: undefined }, ['receivers', 0, 'webhook_configs', 0, 'url_file']],
    ['url and url_file', hook({ url, url_file: '/etc/promha/hook-url' }), { bookworm: 'unknown key "url_file"', trixie: 'at most one of url & url_file must be configured', sid: 'at most one of url & url_file must be configured' }, ['receivers', 0, 'webhook_configs', 0, 'url_file']],
    ['a webhook without url', hook({ send_resolved: true }), { bookworm: 'missing URL in webhook config', trixie: 'one of url or url_file must be configured', sid: 'one of url or url_file must be configured' }, ['receivers', 0, 'webhook_configs', 0]],
    ['webhook_configs given as a string', { receivers: [{ name: 'webhook', webhook_configs: url }] }, { bookworm: 'webhook_configs: cannot unmarshal !!str `http://...` into a list of webhook configs', trixie: 'cannot unmarshal !!str `http://...`', sid: 'cannot unmarshal !!str `http://...`' }, ['receivers', 0, 'webhook_configs']],
    ['an empty webhook config entry', { receivers: [{ name: 'webhook', webhook_configs: [null, { url }] }] }, { bookworm: 'missing webhook config', trixie: 'missing webhook config', sid: 'missing webhook config' }, ['receivers', 0, 'webhook_configs', 0]],
    ['send_resolved not a boolean', hook({ url, send_resolved: 'maybe' }), { bookworm: 'cannot unmarshal !!str `maybe` into bool', trixie: 'cannot unmarshal !!str `maybe` into bool', sid: 'cannot unmarshal !!str `maybe` into bool' }, ['receivers', 0, 'webhook_configs', 0, 'send_resolved']],
    ['max_alerts negative', hook({ url, max_alerts: -1 }), { bookworm: 'cannot unmarshal !!int `-1` into uint64', trixie: 'cannot unmarshal !!int `-1` into uint64', sid: 'cannot unmarshal !!int `-1` into uint64' }, ['receivers', 0, 'webhook_configs', 0, 'max_alerts']],
    ['a webhook timeout in days', hook({ url, timeout: '1d' }), { bookworm: 'unknown key "timeout"', trixie: 'cannot unmarshal !!str `1d` into time.Duration', sid: 'cannot unmarshal !!str `1d` into time.Duration' }, ['receivers', 0, 'webhook_configs', 0, 'timeout']],
    ['http_config as a string', hook({ url, http_config: 'x' }), { bookworm: 'cannot unmarshal !!str `x`', trixie: 'cannot unmarshal !!str `x`', sid: 'cannot unmarshal !!str `x`' }, ['receivers', 0, 'webhook_configs', 0, 'http_config']],
    ['an unknown key in tls_config', hook({ url, http_config: { tls_config: { insecure: true } } }), { bookworm: 'unknown key "insecure" in tls_config', trixie: 'unknown key "insecure" in tls_config', sid: 'unknown key "insecure" in tls_config' }, ['receivers', 0, 'webhook_configs', 0, 'http_config', 'tls_config', 'insecure']],
    ['global.resolve_timeout bogus', { global: { resolve_timeout: 'bogus' } }, { bookworm: 'not a valid duration string: "bogus"', trixie: 'not a valid duration string: "bogus"', sid: 'not a valid duration string: "bogus"' }, ['global', 'resolve_timeout']],
    ['global.resolve_timeout 1d', { global: { resolve_timeout: '1d' } }, undefined, []],
    ['an unknown global key', { global: { smtp_host: 'mail:25' } }, { bookworm: 'unknown key "smtp_host" in global', trixie: 'unknown key "smtp_host" in global', sid: 'unknown key "smtp_host" in global' }, ['global', 'smtp_host']],
    ['a global URL without a scheme', { global: { slack_api_url: 'hooks.slack.com/x' } }, { bookworm: 'unsupported scheme "" for URL', trixie: 'unsupported scheme "" for URL', sid: 'unsupported scheme "" for URL' }, ['global', 'slack_api_url']],
    ['msteams_configs before 0.28', { receivers: [{ name: 'webhook', msteams_configs: [{ webhook_url: 'https://example.net/teams' }] }] }, { bookworm: 'unknown key "msteams_configs" in a receiver', trixie: undefined, sid: undefined }, ['receivers', 0, 'msteams_configs']],
    ['an inhibit rule name before 0.33', { inhibit_rules: [{ name: 'x', source_matchers: ['a="b"'], target_matchers: ['c="d"'] }] }, { bookworm: 'unknown key "name" in an inhibit rule', trixie: 'unknown key "name" in an inhibit rule', sid: undefined }, ['inhibit_rules', 0, 'name']],
    ['group_by a dashed label (UTF-8 names from 0.28)', { route: { ...route, group_by: ['data-center'] } }, { bookworm: 'invalid label name "data-center" in group_by list', trixie: undefined, sid: undefined }, ['route', 'group_by', 0]],
    ['group_by an empty label', { route: { ...route, group_by: [''] } }, 'invalid label name "" in group_by list', ['route', 'group_by', 0]],
    ['a matcher on a dashed label (the UTF-8 parser from 0.28)', { route: { ...route, routes: [{ receiver: 'webhook', matchers: ['data-center="x"'] }] } }, { bookworm: 'bad matcher format: data-center="x"', trixie: undefined, sid: undefined }, ['route', 'routes', 0, 'matchers', 0]],
    // 0.28 and 0.33 log a warning (the classic parser's fallback) among their verdicts.
    ['a matcher only the classic parser takes', { route: { ...route, routes: [{ receiver: 'webhook', matchers: ['a=x y'] }] } }, undefined, []],
    ['equal a dashed label', { inhibit_rules: [{ source_matchers: ['a="b"'], target_matchers: ['c="d"'], equal: ['data-center'] }] }, { bookworm: '"data-center" is not a valid label name in equal', trixie: undefined, sid: undefined }, ['inhibit_rules', 0, 'equal', 0]],
    ['a templated webhook url (0.33)', hook({ url: '{{ .Labels }}' }), { bookworm: 'unsupported scheme "" for URL', trixie: 'unsupported scheme "" for URL', sid: undefined }, ['receivers', 0, 'webhook_configs', 0, 'url']],
    ['a Slack app token (0.33)', { receivers: [{ name: 'webhook', slack_configs: [{ channel: '#ops', app_token: 'xoxb-1' }] }] }, { bookworm: 'unknown key "app_token" in a slack config', trixie: 'unknown key "app_token" in a slack config', sid: undefined }, ['receivers', 0, 'slack_configs', 0, 'app_token']],
    ['slack without api_url nor app token', { receivers: [{ name: 'webhook', slack_configs: [{ channel: '#ops' }] }] }, { bookworm: 'no global Slack API URL set either inline or in a file', trixie: 'no global Slack API URL set either inline or in a file', sid: 'no Slack API URL nor App token set either inline or in a file' }, ['receivers', 0, 'slack_configs', 0]],
    ['wechat without api_secret', { receivers: [{ name: 'webhook', wechat_configs: [{ corp_id: 'c' }] }] }, { bookworm: 'no global Wechat ApiSecret set', trixie: 'no global Wechat ApiSecret set', sid: 'no global Wechat Api Secret set either inline or in a file' }, ['receivers', 0, 'wechat_configs', 0]],
    ['a group_by number the file spells .inf', { route: { ...route, group_by: [Infinity] } }, { bookworm: 'invalid label name ".inf" in group_by list', trixie: undefined, sid: undefined }, ['route', 'group_by', 0]],
    ['a smarthost without a port', { global: { smtp_smarthost: 'mail.example.com', smtp_from: 'am@example.net' }, receivers: [{ name: 'webhook', email_configs: [{ to: 'ops@example.net' }] }] }, 'address mail.example.com: missing port in address', ['global', 'smtp_smarthost']],
    ['a smarthost with an empty port', { receivers: [{ name: 'webhook', email_configs: [{ to: 'ops@example.net', from: 'am@example.net', smarthost: 'mail:' }] }] }, 'address "mail:": port cannot be empty', ['receivers', 0, 'email_configs', 0, 'smarthost']],
    ['an IPv6 smarthost', { receivers: [{ name: 'webhook', email_configs: [{ to: 'ops@example.net', from: 'am@example.net', smarthost: '[2001:db8::25]:25' }] }] }, undefined, []],
    ['a bearer token and basic auth', hook({ url, http_config: { bearer_token: 't', basic_auth: { username: 'u', password: 'p' } } }), 'at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured', ['receivers', 0, 'webhook_configs', 0, 'http_config', 'bearer_token']],
    ['authorization and a bearer token', hook({ url, http_config: { bearer_token_file: '/etc/t', authorization: { credentials: 'c' } } }), 'authorization is not compatible with bearer_token & bearer_token_file', ['receivers', 0, 'webhook_configs', 0, 'http_config', 'authorization']],
    ['authorization of type basic', hook({ url, http_config: { authorization: { type: 'Basic', credentials: 'c' } } }), 'authorization type cannot be set to "basic", use "basic_auth" instead', ['receivers', 0, 'webhook_configs', 0, 'http_config', 'authorization', 'type']],
    ['a password and a password file', hook({ url, http_config: { basic_auth: { username: 'u', password: 'p', password_file: '/etc/p' } } }), { bookworm: 'at most one of basic_auth password & password_file must be configured', trixie: 'at most one of basic_auth password, password_file & password_ref must be configured', sid: 'at most one of basic_auth password, password_file & password_ref must be configured' }, ['receivers', 0, 'webhook_configs', 0, 'http_config', 'basic_auth']],
    ['oauth2 without client_id', { global: { http_config: { oauth2: { token_url: 'http://t/', client_secret: 's' } } } }, 'oauth2 client_id must be configured', ['global', 'http_config', 'oauth2']],
    ['a template glob that does not parse', { templates: ['['] }, 'syntax error in pattern', ['templates', 0]],
    ['a template glob', { templates: ['templates/*.tmpl', '/etc/alertmanager/[a-z]*.tmpl'] }, undefined, []],
    ['MS Teams without its webhook URL', { receivers: [{ name: 'webhook', msteams_configs: [{ title: 't' }] }] }, { bookworm: 'unknown key "msteams_configs"', trixie: 'one of webhook_url or webhook_url_file must be configured', sid: 'one of webhook_url or webhook_url_file must be configured' }, { bookworm: ['receivers', 0, 'msteams_configs'], trixie: ['receivers', 0, 'msteams_configs', 0], sid: ['receivers', 0, 'msteams_configs', 0] }],
    ['Discord without its webhook URL', { receivers: [{ name: 'webhook', discord_configs: [{ title: 't' }] }] }, { bookworm: 'no discord webhook URL provided', trixie: 'one of webhook_url or webhook_url_file must be configured', sid: 'one of webhook_url or webhook_url_file must be configured' }, ['receivers', 0, 'discord_configs', 0]],
    ['a URL with a line separator', hook({ url: 'http://h/\u2028x' }), 'U+2028 cannot go into the rendered alertmanager.yml', ['receivers', 0, 'webhook_configs', 0, 'url']],
    ['a group_wait with DEL', { route: { ...route, group_wait: '1s\x7f' } }, 'U+007F cannot go into the rendered alertmanager.yml', ['route', 'group_wait']],
  ];
  for (const release of RELEASE_NAMES)
    for (const [name, overrides, want, where] of table) {
      const expected = typeof want === 'object' ? want[release] : want;
      it(`${release}: ${name} → ${expected ?? 'loads'}`, async () => {
        const topology = topologyOf(fast((t) => Object.assign(t['alertmanagers'], overrides)));
        const errors = errorsOf(topology, release, 'PH503');
        const verdict = await toolVerdict(topology, release, 'amtool', 'alertmanager1-1');
        if (expected === undefined) {
          assert.deepEqual(errors.map((f) => f.message), []);
          assert.equal(verdict, undefined, `${release}'s amtool refuses what check takes`);
          return;
        }
        const at = topology.locate(['alertmanagers', ...(Array.isArray(where) ? where : (where as Partial<Record<ReleaseName, PropertyPath>>)[release] ?? [])]);
        assert.ok(
          errors.some((f) => f.message.includes(expected) && f.location.line === at.line && f.location.column === at.column),
          `no error "${expected}" at ${at.line}:${at.column}: ${errors.map((f) => `${f.location.line}:${f.location.column} ${f.message}`).join('; ')}`,
        );
        assert.notEqual(verdict, undefined, `${release}'s amtool accepts it`);
      });
    }

  it('on every release, a refused URL gets amtool\'s own words', async () => {
    const urls = ['203.0.113.200:5001/hook', 'example.net/hook', 'ftp://h/', 'http://', 'http://h:port/', 'http://[::1/', 'http://h/\x01', 'http://h/\x7f', 'x\nPWNED', ' ', 'http://h/%zz', 'http://h/%', '//h/x', 'http:h', 'mailto:a@b', ':', '1', 'http://h%20x/', 'http://[fe80::1%eth0]/', 'http://a b/', 'http://h/#%zz', 'http://u:p@h/', 'http://h/ü', 'http://h:/x', 'http://[fe80::1%25eth0]/', 'HTTP://h/'];
    for (const release of RELEASE_NAMES) {
      const configs = urls.map((u, i) => ({ file: `${i}/alertmanager.yml`, content: stringify({ route: { receiver: 'a' }, receivers: [{ name: 'a', webhook_configs: [{ url: u }] }] }) }));
      const run = await runTool(await toolOf(release, 'amtool'), 'amtool', configs);
      assert.ok(!('failed' in run), 'failed' in run ? run.failed : '');
      for (const [i, u] of urls.entries()) {
        const topology = topologyOf(fast((t) => Object.assign(t['alertmanagers'], hook({ url: u }))));
        const mine = errorsOf(topology, release, 'PH503').map((f) => f.message.replace(/^url: /, ''));
        const theirs = run.verdicts.get(`${i}/alertmanager.yml`);
        // A raw DEL makes the whole file unreadable first: check says that too, at the same value.
        if (theirs === undefined) assert.deepEqual(mine, [], `${release} ${JSON.stringify(u)}`);
        else assert.ok(mine.some((m) => m === theirs || m.endsWith(`(${theirs})`)), `${release} ${JSON.stringify(u)}: amtool says ${theirs}; check says ${mine.join('; ')}`);
      }
    }
  });
});

describe('scrape configs on every release: check refuses at the field what its promtool refuses', () => {
  type Want = string | undefined | Partial<Record<ReleaseName, string | undefined>>;
  const job = (extra: Input) => ({ job_name: 'extra', static_configs: [{ targets: ['127.0.0.103:9100'] }], ...extra });
  // [case, the federators' extra scrape_configs (or an exporter group's with `exporter: true`), expected, where]
  const table: Array<[string, Input[], Want, PropertyPath, boolean?]> = [
    ['a valid extra job', [job({ scrape_interval: '5s', scrape_timeout: '1s', honor_labels: true })], undefined, []],
    ['a numeric job name (Prometheus reads "5")', [job({ job_name: 5 })], undefined, []],
    ['a target with a path', [job({ static_configs: [{ targets: ['/tmp/$(PWNED)'] }] })], '"/tmp/$(PWNED)" is not a valid hostname', ['federators', 'scrape_configs', 0, 'static_configs', 0, 'targets', 0]],
    ['a target that is a URL', [job({ static_configs: [{ targets: ['http://127.0.0.1:9100'] }] })], '"http://127.0.0.1:9100" is not a valid hostname', ['federators', 'scrape_configs', 0, 'static_configs', 0, 'targets', 0]],
    ['a target $(…) without a path', [job({ static_configs: [{ targets: ['$(PWNED)'] }] })], undefined, []],
    ['an empty target', [job({ static_configs: [{ targets: [''] }] })], 'no address', ['federators', 'scrape_configs', 0, 'static_configs', 0, 'targets', 0]],
    ['an unknown key', [job({ scrape_intervall: '5s' })], 'field scrape_intervall not found in a scrape config', ['federators', 'scrape_configs', 0, 'scrape_intervall']],
    ['kubernetes_sd_configs on Debian 12', [{ job_name: 'k8s', kubernetes_sd_configs: [{ role: 'pod' }] }], { bookworm: 'field kubernetes_sd_configs not found', trixie: undefined, sid: undefined }, ['federators', 'scrape_configs', 0, 'kubernetes_sd_configs']],
    ['a timeout longer than the interval', [job({ scrape_interval: '5s', scrape_timeout: '10s' })], 'scrape timeout greater than scrape interval for scrape config with job name "extra"', ['federators', 'scrape_configs', 0, 'scrape_timeout']],
    ['a job name of promha\'s', [job({ job_name: 'promha-federator' })], 'found multiple scrape configs with job name "promha-federator"', ['federators', 'scrape_configs', 0, 'job_name']],
    ['a bad relabel action', [job({ relabel_configs: [{ action: 'bogus', source_labels: ['a'], target_label: 'b' }] })], 'unknown relabel action "bogus"', ['federators', 'scrape_configs', 0, 'relabel_configs', 0, 'action']],
    ['an empty relabel rule', [job({ relabel_configs: [null] })], 'empty or null target relabeling rule', ['federators', 'scrape_configs', 0, 'relabel_configs', 0]],
    ['a dashed target label name', [job({ static_configs: [{ targets: ['127.0.0.103:9100'], labels: { 'data-center': 'x' } }] })], { bookworm: '"data-center" is not a valid label name', trixie: '"data-center" is not a valid label name', sid: undefined }, ['federators', 'scrape_configs', 0, 'static_configs', 0, 'labels', 'data-center']],
    ['honor_labels not a boolean', [job({ honor_labels: 'maybe' })], 'cannot unmarshal !!str `maybe` into bool', ['federators', 'scrape_configs', 0, 'honor_labels']],
    ['scrape_classic_histograms after 2.53', [job({ scrape_classic_histograms: true })], { bookworm: 'field scrape_classic_histograms not found', trixie: undefined, sid: 'field scrape_classic_histograms not found' }, ['federators', 'scrape_configs', 0, 'scrape_classic_histograms']],
    ['an exporter group\'s target with a path', [job({ static_configs: [{ targets: ['h:9100/metrics'] }] })], '"h:9100/metrics" is not a valid hostname', ['exporters', 0, 'scrape_configs', 0, 'static_configs', 0, 'targets', 0], true],
    ['a C1 control character in a label value', [job({ static_configs: [{ targets: ['127.0.0.103:9100'], labels: { dc: 'a\x9fb' } }] })], 'U+009F cannot go into the rendered prometheus.yml: Prometheus refuses the file', ['federators', 'scrape_configs', 0, 'static_configs', 0, 'labels', 'dc']],
  ];
  for (const release of RELEASE_NAMES)
    for (const [name, configs, want, where, exporter] of table) {
      const expected = typeof want === 'object' ? want[release] : want;
      it(`${release}: ${name} → ${expected ?? 'loads'}`, async () => {
        const topology = topologyOf(
          fast((t) => {
            if (exporter) t['exporters'][0] = { name: 'demo1', scrape_configs: configs };
            else t['federators'].scrape_configs = configs;
          }),
        );
        const errors = errorsOf(topology, release, 'PH105');
        const verdict = await toolVerdict(topology, release, 'promtool', exporter ? 'scraper1-1' : 'federator1-1');
        if (expected === undefined) {
          assert.deepEqual(errors.map((f) => f.message), []);
          assert.equal(verdict, undefined, `${release}'s promtool refuses what check takes`);
          return;
        }
        const at = topology.locate(where);
        assert.ok(
          errors.some((f) => f.message.includes(expected) && f.location.line === at.line && f.location.column === at.column),
          `no error "${expected}" at ${at.line}:${at.column}: ${errors.map((f) => `${f.location.line}:${f.location.column} ${f.message}`).join('; ')}`,
        );
        assert.notEqual(verdict, undefined, `${release}'s promtool accepts it`);
      });
    }
});

describe('PH1101 real-tools: check runs the release\'s own amtool and promtool on what render writes', () => {
  const realTools = (topology: Topology, release: ReleaseName, options = {}) => realToolFindings(topology, RELEASES[release], plan(topology, { release: RELEASES[release] }), options);

  it('one file per distinct content: the active Alertmanagers share one, each scraper member has its own', () => {
    const configs = renderedConfigs(plan(topologyOf(fastTopology())));
    const am = configs.filter((c) => c.tool === 'amtool');
    assert.deepEqual(am.map((c) => [c.file, c.nodes.map((n) => n.name)]), [['alertmanager1-1/alertmanager.yml', ['alertmanager1-1', 'alertmanager1-2']], ['alertmanager1-3/alertmanager.yml', ['alertmanager1-3']]]);
    assert.deepEqual(configs.filter((c) => c.tool === 'promtool').map((c) => c.file), ['scraper1-1/prometheus.yml', 'scraper1-2/prometheus.yml', 'scraper2-1/prometheus.yml', 'scraper2-2/prometheus.yml', 'federator1-1/prometheus.yml', 'federator1-2/prometheus.yml']);
  });

  for (const release of RELEASE_NAMES) {
    it(`${release}: the valid topology gives no finding`, async () => {
      assert.deepEqual(await realTools(topologyOf(fastTopology()), release), []);
    });

    it(`${release}: a refusal the rules cannot see is an error at the value it quotes, in amtool's words`, async () => {
      const topology = topologyOf(fast((t) => (t['alertmanagers'].receivers = [{ name: 'webhook', wechat_configs: [{ api_secret: 's', corp_id: 'c', message_type: 'zz' }] }])));
      assert.deepEqual(errorsOf(topology, release, 'PH503'), [], 'the rules leave message_type to amtool');
      const findings = await realTools(topology, release);
      const at = topology.locate(['alertmanagers', 'receivers', 0, 'wechat_configs', 0, 'message_type']);
      assert.equal(findings.length, 1, JSON.stringify(findings));
      const [f] = findings;
      assert.equal(f?.code, 'PH1101');
      assert.equal(f?.severity, 'error');
      assert.match(f?.message ?? '', new RegExp(`^amtool ${RELEASES[release].components.amtool.version.replace('.', '\\.')}\\.\\d+ of ${release} refuses the alertmanager.yml rendered for alertmanager1-1, alertmanager1-2: weChat message type "zz" does not match valid options`));
      assert.deepEqual([f?.location.line, f?.location.column], [at.line, at.column]);
      assert.match(f?.hint ?? '', /^fix alertmanagers\.receivers\[0\]\.wechat_configs\[0\]\.message_type so that `amtool check-config` accepts alertmanager1-1\/alertmanager\.yml/);
    });

    it(`${release}: a refusal with a line number is located at the topology field of that line`, async () => {
      const topology = topologyOf(fast((t) => (t['exporters'][1] = { name: 'demo2', scrape_configs: [{ job_name: 'demo2', params: 'x', static_configs: [{ targets: ['127.0.0.102:9100'] }] }] })));
      assert.deepEqual(errorsOf(topology, release, 'PH105'), [], 'the rules leave params to promtool');
      const findings = await realTools(topology, release);
      const at = topology.locate(['exporters', 1, 'scrape_configs', 0, 'params']);
      assert.deepEqual(
        findings.map((f) => [f.code, f.severity, f.location.line, f.location.column]),
        [['PH1101', 'error', at.line, at.column]],
      );
      assert.match(findings[0]?.message ?? '', /refuses the prometheus\.yml rendered for scraper2-1, scraper2-2: parsing YAML file scraper2-1\/prometheus\.yml: yaml: unmarshal errors: line \d+: cannot unmarshal !!str `x` into url\.Values$/);
    });
  }

  it('a tool that is not there is a warning naming the files left unverified and the fix, never silence', async () => {
    const topology = topologyOf(fastTopology());
    const findings = await realTools(topology, 'bookworm', { binaries: { amtool: path.join(dir, 'no-such-amtool') } });
    assert.deepEqual(findings.map((f) => [f.code, f.severity]), [['PH1101', 'warning']]);
    assert.match(findings[0]?.message ?? '', /^the 2 rendered alertmanager\.yml file\(s\) were not verified by bookworm's amtool \(0\.25\): amtool is not at .*no-such-amtool; static checks only$/);
    assert.deepEqual(findings[0]?.location, topology.locate(['alertmanagers'], { key: true }));
  });

  it('a release not fetched is a warning whose fix is `promha setup --release`', async () => {
    const cache = path.join(dir, 'empty-cache');
    const saved = process.env['PROMHA_CACHE'];
    process.env['PROMHA_CACHE'] = cache;
    try {
      // Not the host's release: its tools would come from the (empty) cache.
      const findings = await realTools(topologyOf(fastTopology()), 'sid');
      assert.deepEqual(findings.map((f) => [f.severity, f.hint]), [['warning', '`promha setup --release sid`, then check again'], ['warning', '`promha setup --release sid`, then check again']]);
      assert.match(findings.map((f) => f.message).join('\n'), /sid's amtool has not been fetched[\s\S]*sid's promtool has not been fetched/);
    } finally {
      if (saved === undefined) delete process.env['PROMHA_CACHE'];
      else process.env['PROMHA_CACHE'] = saved;
    }
  });

  it('no place to write the files is a warning, not a pass', async () => {
    const saved = process.env['TMPDIR'];
    process.env['TMPDIR'] = path.join(dir, 'no-such-tmp');
    try {
      const findings = await realTools(topologyOf(fastTopology()), 'bookworm');
      assert.deepEqual(findings.map((f) => f.severity), ['warning', 'warning']);
      assert.match(findings[0]?.message ?? '', /were not verified by bookworm's amtool \(0\.25\): the files could not be written for it: ENOENT/);
    } finally {
      if (saved === undefined) delete process.env['TMPDIR'];
      else process.env['TMPDIR'] = saved;
    }
  });

  it('another release\'s tool is a warning, not a verdict', async () => {
    const findings = await realTools(topologyOf(fastTopology()), 'bookworm', { binaries: { amtool: await toolOf('sid', 'amtool') } });
    assert.deepEqual(findings.map((f) => f.severity), ['warning']);
    assert.match(findings[0]?.message ?? '', /is amtool 0\.33\.\d+, not 0\.25/);
  });

  it('a file amtool crashes on is refused with the crash; the files after it are still checked', async () => {
    const ok = stringify({ route: { receiver: 'a' }, receivers: [{ name: 'a' }] });
    // Alertmanager 0.25 dereferences the empty route: it would crash on start just the same.
    const crash = stringify({ route: { receiver: 'a', routes: [null] }, receivers: [{ name: 'a' }] });
    const bad = stringify({ route: { receiver: 'b' }, receivers: [{ name: 'a' }] });
    const configs = [ok, crash, bad, ok].map((content, i) => ({ file: `m${i}/alertmanager.yml`, content }));
    const run = await runTool(await toolOf('bookworm', 'amtool'), 'amtool', configs);
    assert.ok('verdicts' in run);
    assert.equal(run.verdicts.get('m0/alertmanager.yml'), undefined);
    assert.match(run.verdicts.get('m1/alertmanager.yml') ?? '', /^amtool crashed \(exit code 2\): panic: runtime error: invalid memory address or nil pointer dereference/);
    assert.equal(run.verdicts.get('m2/alertmanager.yml'), 'undefined receiver "b" used in route');
    assert.equal(run.verdicts.get('m3/alertmanager.yml'), undefined);
    assert.equal(run.verdicts.size, 4);
  });

  it('a tool that does not finish is an error, not a pass', async () => {
    const slow = path.join(dir, 'slow-amtool');
    await writeFile(slow, '#!/bin/sh\nexec sleep 30\n', { mode: 0o755 });
    const run = await runTool(slow, 'amtool', [{ file: 'a/alertmanager.yml', content: 'route: {}\n' }], 300);
    assert.ok('failed' in run);
    assert.match(run.failed, /^slow-amtool did not finish within 0\.3 s and was stopped$/);
  });

  it('a tool that floods its output is stopped, not read into memory', async () => {
    const loud = path.join(dir, 'loud-amtool');
    await writeFile(loud, '#!/bin/sh\nexec yes flood\n', { mode: 0o755 });
    const run = await runTool(loud, 'amtool', [{ file: 'a/alertmanager.yml', content: 'route: {}\n' }], 10_000);
    assert.ok('failed' in run);
    assert.match(run.failed, /^loud-amtool printed more than 4 MiB and was stopped$/);
  });

  it('templates are the members\' files: amtool does not read this machine\'s files for them', async () => {
    // A template here that Alertmanager could not parse: were the glob read on this machine, amtool would refuse it.
    const local = path.dirname(await temp('bad.tmpl', '{{ define "x" }}{{'));
    // Also by climbing out of the config directory: Alertmanager cleans the joined path.
    const climbing = `${'../'.repeat(20)}${local.slice(1)}/*.tmpl`;
    const topology = topologyOf(fast((t) => (t['alertmanagers'].templates = [path.join(local, '*.tmpl'), climbing])));
    const config = renderedConfigs(plan(topology)).find((c) => c.tool === 'amtool');
    assert.ok(config);
    assert.deepEqual((parse(config.content) as { templates: string[] }).templates, [`promha-check-no-templates${path.join(local, '*.tmpl')}`, `promha-check-no-templates/${'dot-dot/'.repeat(20)}${local.slice(1)}/*.tmpl`]);
    const unmoved = await runTool(await toolOf('bookworm', 'amtool'), 'amtool', [{ file: 'a/alertmanager.yml', content: stringify({ templates: [path.join(local, '*.tmpl')], route: { receiver: 'a' }, receivers: [{ name: 'a' }] }) }]);
    assert.ok('verdicts' in unmoved && /template/.test(unmoved.verdicts.get('a/alertmanager.yml') ?? ''), 'amtool reads the glob as given');
    assert.deepEqual(await realTools(topology, 'bookworm'), []);
  });

  it('quotes a tool\'s message on one line, control characters escaped', () => {
    assert.equal(quote('yaml: unmarshal errors:\n  line 5: a\x01b\x7f\u2028c\ttab'), 'yaml: unmarshal errors: line 5: a\\x01b\\x7f\\u2028c\\x09tab');
  });

  it('`check --json` and `check` carry it, with exit 1', async () => {
    const project = path.dirname(await temp('promha.yaml', stringify(fast((t) => {
      t['federators'].rule_files = [];
      t['alertmanagers'].receivers = [{ name: 'webhook', wechat_configs: [{ api_secret: 's', corp_id: 'c', message_type: 'zz' }] }];
    }))));
    const json = await promha(['check', '--json', '--release', 'trixie'], project);
    assert.equal(json.exitCode, 1, json.stderr);
    const report = JSON.parse(json.stdout) as { findings: Array<{ code: string; severity: string; message: string }>; errors: number };
    assert.deepEqual(report.findings.filter((f) => f.code === 'PH1101').map((f) => f.severity), ['error']);
    assert.equal(report.errors, 1);
    const text = await promha(['check', '--release', 'trixie'], project);
    assert.equal(text.exitCode, 1);
    assert.match(text.stdout, /error PH1101 real-tools: amtool 0\.28\.\d+ of trixie refuses the alertmanager\.yml rendered for alertmanager1-1, alertmanager1-2: weChat message type "zz"/);
  });

  it('the rules\' errors come alone: the tools run only on a topology the rules pass', async () => {
    const topology = topologyOf(fast((t) => (t['alertmanagers'].receivers = [{ name: 'webhook', webhook_configs: [{ url: '203.0.113.200:5001/hook' }] }])));
    const report = await checkReport(topology, 'bookworm');
    assert.deepEqual(report.findings.filter((f) => f.severity === 'error').map((f) => f.code), ['PH503']);
  });
});
