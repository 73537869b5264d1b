import { parse, stringify } from 'yaml';
import { fastTopology } from '../helpers.ts';
import { CA_FILES, SECRET_MODES, SEED_RULES, TLS_FILES, type Seeds } from './corpus.ts';
import { INJECTIONS, MARKER, PATTERNS } from './dictionary.ts';
import { STATE_FILE, TOPOLOGY_FILE, type Commands, type FuzzInput } from './input.ts';
import { mutate, structural, textual } from './mutate.ts';
import type { Prng } from './prng.ts';

/*
 * Generators of whole inputs, one per surface of the CLI that takes something from the
 * user: the receivers of the Alertmanagers, the TLS files, promtool rule test files, chaos
 * replay files, a stack's state file, large topologies for `check --faults`, bytes that
 * are not UTF-8, and deeply nested PromQL. Each starts from a valid project and breaks
 * one thing the way users (or attackers) do, so that most inputs reach the code behind
 * the parser.
 */

type Obj = Record<string, any>;
const yaml = (v: unknown) => stringify(v, { lineWidth: 0, aliasDuplicateObjects: false });
const clone = <T>(v: T): T => structuredClone(v);

/** The fast topology with its rule files: the project most surfaces start from. */
function fastProject(overrides: Obj = {}): { topology: Obj; files: Record<string, string> } {
  return { topology: fastTopology(overrides) as Obj, files: { ...SEED_RULES } };
}

// ---------------------------------------------------------------- receivers

/** Webhook URLs as users write them, and as an attacker would. */
export const URLS: readonly string[] = [
  'example.com:5001/',
  'localhost:5001',
  '127.0.0.1:5001/hook',
  '//127.0.0.1:5001/',
  'http//127.0.0.1/',
  'http:/127.0.0.1/',
  'http://',
  'http://:5001/',
  'ftp://127.0.0.1/',
  'file:///etc/passwd',
  'HTTP://127.0.0.1:5001/',
  'http://127.0.0.1:5001/\n',
  `http://127.0.0.1:5001/\n${MARKER}: 1`,
  'http://127.0.0.1:5001/\u0000',
  'http://127.0.0.1:5001/\r\nX-Injected: 1',
  'http://127.0.0.1:5001/\t',
  ' http://127.0.0.1:5001/',
  'http://127.0.0.1:99999/',
  'http://[::1/',
  'http://[::1]:5001/',
  'http://a b/',
  'http://%zz/',
  'https://user:pass@127.0.0.1/',
  `http://127.0.0.1/${'a'.repeat(70_000)}`,
  '',
  '${WEBHOOK_URL}',
  'http://127.0.0.1/{{ .Labels }}',
  'http://ünïcødé.example/',
  'http://127.0.0.1:5001/?a=b&c=%',
  'mailto:ops@example.com',
];

/** Durations of route timers and global settings, wrong in the ways Go's parser and Alertmanager's checks differ. */
const AM_DURATIONS: readonly unknown[] = ['5x', '-1s', '1h1h', '0', '0s', '', '1.5s', '1 m', 'forever', 300, 1.5, null, '999999999999y', '106751d23h47m16s855ms', '292y', '1ms', '5m', '30s', '1d'];

/** Keys of receiver integrations, some of which Alertmanager 0.25 does not know. */
const INTEGRATIONS = ['email_configs', 'slack_configs', 'pagerduty_configs', 'opsgenie_configs', 'pushover_configs', 'telegram_configs', 'discord_configs', 'webex_configs', 'msteams_configs', 'msteamsv2_configs', 'sns_configs', 'victorops_configs', 'wechat_configs', 'jira_configs', 'rocketchat_configs', 'incidentio_configs'];

const HTTP_CONFIGS: readonly unknown[] = [
  { bearer_token: 'x', basic_auth: { username: 'u', password: 'p' } },
  { basic_auth: { username: 'u', password: 'p', password_file: 'secrets/none' } },
  { authorization: { type: 'Bearer', credentials: 'x' }, bearer_token: 'y' },
  { tls_config: { ca_file: '/nonexistent/ca.pem' } },
  { tls_config: { insecure_skip_verify: 'maybe' } },
  { proxy_url: 'not a url' },
  { proxy_url: 'http://127.0.0.1:3128/' },
  { follow_redirects: 'maybe' },
  { oauth2: {} },
  { bogus: 1 },
  'x',
  [],
];

const RECEIVER_EDITS: ReadonlyArray<(am: Obj, rng: Prng) => void> = [
  (am, rng) => (first(am).webhook_configs = [{ url: rng.pick(URLS) }]),
  (am, rng) => (first(am).webhook_configs = [{ url: rng.pick(URLS) }]),
  (am, rng) => (first(am).webhook_configs = rng.pick(URLS)),
  (am, rng) => (first(am).webhook_configs = [rng.pick(URLS)]),
  (am) => (first(am).webhook_configs = []),
  (am) => (first(am).webhook_configs = [{}]),
  (am, rng) => (first(am).webhook_configs = [{ urls: [rng.pick(URLS)] }]),
  (am) => (first(am).webhook_configs = [{ url: 'http://127.0.0.1:5001/', url_file: 'secrets/none' }]),
  (am) => (first(am).webhook_configs = [{ url_file: 'secrets/none' }]),
  (am, rng) => (webhook(am).send_resolved = rng.pick(['yes', 'true', 1, null, 'no', true])),
  (am, rng) => (webhook(am).max_alerts = rng.pick([-1, '10', 1e309, 2 ** 64, 1.5, 'all'])),
  (am, rng) => (webhook(am).timeout = rng.pick(AM_DURATIONS)),
  (am, rng) => (webhook(am).http_config = clone(rng.pick(HTTP_CONFIGS))),
  (am, rng) => (webhook(am)[rng.pick(['bogus', 'URL', 'Url', 'headers', 'title', `x\n${MARKER}`])] = rng.pick(['x', 1, true, null])),
  (am) => (first(am).webhook_config = first(am).webhook_configs),
  (am, rng) => (first(am)[rng.pick(['bogus', 'webhooks', 'type', 'continue'])] = 1),
  (am, rng) => (first(am)[rng.pick(INTEGRATIONS)] = [rng.pick<unknown>([{}, { to: 'ops@example.com' }, { channel: '#ops' }, { routing_key: 'x' }, { webhook_url: rng.pick(URLS) }, { api_url: rng.pick(URLS) }, { send_resolved: 'yes' }])]),
  (am, rng) => (first(am)[rng.pick(INTEGRATIONS)] = rng.pick<unknown>(['x', {}, null, 1])),
  (am) => (am['receivers'] = 'webhook'),
  (am) => (am['receivers'] = ['webhook']),
  (am) => (am['receivers'] = [{}]),
  (am) => (first(am), am['receivers'].push(clone(first(am)))),
  (am, rng) => (first(am), am['receivers']).push({ name: rng.pick<unknown>(['', 'other', 'webhook', 5, null, `x\n${MARKER}`, 'a\u0000b']), webhook_configs: [{ url: rng.pick(URLS) }] }),
  (am, rng) => (first(am).name = rng.pick<unknown>(['', ' ', 5, null, `webhook\n${MARKER}`, 'a\u0000b', 'x'.repeat(10_000), '{{ .Labels }}'])),
  (am, rng) => (am['route'].receiver = rng.pick<unknown>(['nope', '', 5, null, [], 'Webhook', ' webhook'])),
  (am, rng) => (am['route'][rng.pick(['group_wait', 'group_interval', 'repeat_interval'])] = rng.pick(AM_DURATIONS)),
  (am, rng) => (am['route'].group_by = rng.pick<unknown>(['alertname', ['a-b'], ['alertname', 'alertname'], ['...', 'x'], [5], [null], {}, ['__name__']])),
  (am, rng) =>
    (am['route'].routes = rng.pick<unknown>([
      'x',
      [{ matchers: ['alertname =~ "("'] }],
      [{ matchers: 'alertname="x"' }],
      [{ matchers: ['a=b=c'] }],
      [{ receiver: 'nope' }],
      [{ match_re: { a: '(' } }],
      [{ match: { 'a-b': 'x' } }],
      [{ continue: 'yes' }],
      [{ mute_time_intervals: ['none'] }],
      [{ active_time_intervals: 'x' }],
      [{ group_wait: '5x' }],
      [{ routes: [{ routes: [{ receiver: 'nope' }] }] }],
      [{ matchers: ['alertname="x"'], receiver: 'webhook', bogus: 1 }],
    ])),
  (am, rng) => (am['route'][rng.pick(['bogus', 'receivers', 'group-by', 'matcher'])] = 'x'),
  (am, rng) =>
    (am['global'] = rng.pick<unknown>([
      { resolve_timeout: rng.pick(AM_DURATIONS) },
      { smtp_smarthost: 'mail.example.com' },
      { smtp_smarthost: 'mail.example.com:25', smtp_from: 'not an address' },
      { smtp_require_tls: 'yes' },
      { slack_api_url: 'not a url' },
      { slack_api_url: rng.pick(URLS) },
      { http_config: rng.pick(HTTP_CONFIGS) },
      { bogus_key: 1 },
      { pagerduty_url: 'x' },
      { opsgenie_api_url: '127.0.0.1:80' },
      'x',
      [],
      null,
    ])),
  (am, rng) => (am['templates'] = rng.pick<unknown>([['/nonexistent/*.tmpl'], [''], ['['], 'x', [5], ['templates/*.tmpl'], [`x\n${MARKER}`]])),
  (am, rng) =>
    (am['inhibit_rules'] = rng.pick<unknown>([
      [{ equal: 'x' }],
      [{ source_matchers: ['a='] }],
      [{ source_matchers: ['alertname="x"'], target_matchers: ['severity=~"("'] }],
      [{ target_match_re: { a: '(' } }],
      [{ equal: ['a-b'] }],
      'x',
      [{}],
      [{ bogus: 1 }],
    ])),
  (am, rng) => (am[rng.pick(['time_intervals', 'mute_time_intervals'])] = [{ name: 'x', time_intervals: [{ weekdays: ['someday'] }] }]),
];

const first = (am: Obj): Obj => {
  if (!Array.isArray(am['receivers']) || am['receivers'].length === 0 || typeof am['receivers'][0] !== 'object' || am['receivers'][0] === null) am['receivers'] = [{ name: 'webhook' }];
  return am['receivers'][0] as Obj;
};
const webhook = (am: Obj): Obj => {
  const r = first(am);
  if (!Array.isArray(r['webhook_configs']) || typeof r['webhook_configs'][0] !== 'object' || r['webhook_configs'][0] === null) r['webhook_configs'] = [{ url: 'http://127.0.0.1:5001/' }];
  return r['webhook_configs'][0] as Obj;
};

/** The receivers, route and global settings of the Alertmanagers, as users write them. */
export function receivers(rng: Prng, from: Seeds): FuzzInput {
  const seed = rng.pick(from.valid.filter((s) => !s.modes));
  const topology = parse(seed.topology) as Obj;
  const am = topology['alertmanagers'] as Obj;
  for (let i = rng.int(1, 3); i > 0; i--) rng.pick(RECEIVER_EDITS)(am, rng);
  const input: FuzzInput = { ...seed, topology: yaml(topology) };
  return rng.chance(0.2) ? mutate(rng, input) : input;
}

// ---------------------------------------------------------------- TLS

/** A path of a TLS or password file: hostile, or one of the project's files. */
function tlsPath(rng: Prng, valid: string): { path: string; fifo?: string; symlink?: [string, string]; mode?: [string, number]; bytes?: [string, string]; content?: [string, string] } {
  switch (rng.int(0, 17)) {
    case 0:
      return { path: `${valid}\u0000x` };
    case 1:
      return { path: 'a'.repeat(rng.pick([255, 256, 4096, 5000, 70_000])) };
    case 2:
      return { path: `${'d/'.repeat(rng.pick([100, 2100]))}x.pem` };
    case 3:
      return { path: 'certs/pipe.pem', fifo: 'certs/pipe.pem' };
    case 4:
      return { path: '/dev/zero' };
    case 5:
      return { path: rng.pick(['/dev/null', '/proc/self/status', '/', '.', 'certs', '/nonexistent/x.pem']) };
    case 6:
      return { path: 'certs/zero.pem', symlink: ['certs/zero.pem', '/dev/zero'] };
    case 7:
      return { path: '' };
    case 8:
      return { path: rng.pick(INJECTIONS) };
    case 9:
      return { path: valid, mode: [valid, 0o644] };
    case 10:
      return { path: valid, content: [valid, rng.pick(['', '\n', 'not a pem', '-----BEGIN CERTIFICATE-----\n', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', 'x'.repeat(3 * 1024 * 1024)])] };
    case 11:
      return { path: valid, bytes: [valid, Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x0a, 0xc3, 0x28]).toString('base64')] };
    case 12:
      return { path: rng.pick(['~/key.pem', '$HOME/key.pem', 'file:///etc/ssl/x.pem', `${valid}\n`, ` ${valid}`, 'certs/ünïcødé.pem']) };
    case 13:
      return { path: `../${'../'.repeat(40)}nonexistent.pem` };
    default:
      return { path: valid };
  }
}

/** security.tls and basic_auth, with hostile files and paths (NUL, long, a pipe, /dev/zero). */
export function tls(rng: Prng): FuzzInput {
  const { topology, files } = fastProject();
  const fifos: string[] = [];
  const symlinks: Record<string, string> = {};
  const modes: Record<string, number> = { ...SECRET_MODES };
  const bytes: Record<string, string> = {};
  Object.assign(files, TLS_FILES, { 'secrets/password': 'correct-horse-battery\n' });
  const apply = (p: ReturnType<typeof tlsPath>): string => {
    if (p.fifo) fifos.push(p.fifo);
    if (p.symlink) symlinks[p.symlink[0]] = p.symlink[1];
    if (p.mode) modes[p.mode[0]] = p.mode[1];
    if (p.bytes) bytes[p.bytes[0]] = p.bytes[1];
    if (p.content) files[p.content[0]] = p.content[1];
    return p.path;
  };
  const security: Obj = {};
  if (rng.chance(0.65)) {
    const ca: Obj = { ca_file: 'certs/ca.crt', cert_file: 'certs/cert.pem', key_file: 'certs/key.pem' };
    for (const key of ['ca_file', 'cert_file', 'key_file']) if (rng.chance(0.4)) ca[key] = apply(tlsPath(rng, ca[key] as string));
    security['tls'] = { ca };
  } else {
    // A generated CA: promha keeps it in ca_dir, creating it when it is not there.
    const caDir = rng.pick(['ca', 'ca', 'fresh-ca', 'promha.yaml', 'rules', 'ca/ca.crt', '/dev/zero', '/dev/null', '/proc/self', 'ca\u0000x', 'a'.repeat(5000), `${'d/'.repeat(2100)}ca`, 'pipe-dir', '', rng.pick(INJECTIONS)]);
    security['tls'] = { ca: 'generate', ca_dir: caDir };
    if (caDir === 'pipe-dir') fifos.push('pipe-dir');
    if (caDir === 'ca') {
      // Mostly a CA that is there but broken: a pipe, /dev/zero, garbage, a public key.
      const crt = rng.int(0, 6);
      if (crt === 0) fifos.push('ca/ca.crt');
      else if (crt === 1) symlinks['ca/ca.crt'] = '/dev/zero';
      else if (crt === 2) files['ca/ca.crt'] = 'garbage';
      else files['ca/ca.crt'] = CA_FILES.crt;
      const key = rng.int(0, 6);
      if (key === 0) fifos.push('ca/ca.key');
      else if (key === 1) symlinks['ca/ca.key'] = '/dev/zero';
      else if (key === 2) files['ca/ca.key'] = rng.pick(['', 'garbage', CA_FILES.crt]);
      else files['ca/ca.key'] = CA_FILES.key;
      modes['ca/ca.key'] = rng.chance(0.8) ? 0o600 : 0o644;
      // Issuing a certificate per member costs about 2 s: most inputs break the CA first.
      if (crt >= 3 && key >= 3 && rng.chance(0.6)) fifos.push('ca/ca.crt');
    }
  }
  if (rng.chance(0.5)) (security['tls'] as Obj)['client_certs'] = rng.pick<unknown>(['optional', 'required', 'x', true, null]);
  if (rng.chance(0.2)) (security['tls'] as Obj)['insecure_skip_verify'] = rng.pick<unknown>([true, 'yes', 1]);
  if (rng.chance(0.6)) {
    const auth: Obj = { username: rng.chance(0.8) ? 'promha' : rng.pick<unknown>(['a:b', 'a b', '', `x\n${MARKER}`, 'ünï', 'x'.repeat(5000)]), password_file: 'secrets/password' };
    if (rng.chance(0.5)) auth['password_file'] = apply(tlsPath(rng, 'secrets/password'));
    if (rng.chance(0.15)) files['secrets/password'] = rng.pick(['', 'short\n', '\n\nlong-enough-password', `pass\u0000word-long`, `${'x'.repeat(100)}\r\n`, 'p'.repeat(100_000)]);
    if (rng.chance(0.1)) auth['password'] = 'inline-secret';
    security['basic_auth'] = auth;
  }
  if (rng.chance(0.1)) delete security['tls'];
  topology['security'] = security;
  return {
    topology: yaml(topology),
    files,
    ...(fifos.length ? { fifos: [...new Set(fifos)] } : {}),
    ...(Object.keys(symlinks).length ? { symlinks } : {}),
    ...(Object.keys(bytes).length ? { bytes } : {}),
    modes,
  };
}

// ---------------------------------------------------------------- promtool rule tests

const TEST_FILE = 'tests/rules_test.yml';

const TESTS: Obj = {
  rule_files: ['../rules/demo.yml', '../rules/pushed.yml'],
  evaluation_interval: '1m',
  tests: [
    {
      name: 'demo high',
      interval: '1m',
      input_series: [{ series: 'demo_value{job="demo1", instance="a"}', values: '0 0 1 1 1 1' }],
      alert_rule_test: [{ eval_time: '4m', alertname: 'DemoHigh', exp_alerts: [{ exp_labels: { job: 'demo1', instance: 'a' } }] }],
    },
    {
      name: 'pushed value',
      interval: '30s',
      input_series: [{ series: 'pushed_value{job="batch"}', values: '1x12' }],
      alert_rule_test: [{ eval_time: '5m', alertname: 'PushedHigh', exp_alerts: [{ exp_labels: { job: 'batch' } }] }],
      promql_expr_test: [{ expr: 'sum(pushed_value)', eval_time: '1m', exp_samples: [{ labels: '{}', value: 1 }] }],
    },
    {
      name: 'backup stale',
      interval: '1m',
      input_series: [{ series: 'backup_last_success_timestamp_seconds{job="batch"}', values: '0x90' }],
      alert_rule_test: [{ eval_time: '90m', alertname: 'BackupStale', exp_alerts: [{ exp_labels: { job: 'batch', severity: 'page' }, exp_annotations: { summary: 'batch' } }] }],
    },
  ],
};

/** Values of input series: long, odd, histograms, not numbers (no more than 20,000 steps: promtool itself must stay quick). */
const SERIES_VALUES: readonly unknown[] = ['1x20000', '1+1x20000', '_x20000', '1x10000 _x10000', 'stale', 'stale stale', '{{schema:0 sum:1 count:1}}x3', '1e309', 'Inf -Inf NaN', 'x', '1+-1x3', '1 _ 2 _x2 stale', '', '   ', '1x-1', '1x1e3', '0x0', '1+0.1x10', '9'.repeat(400), '-', '_ _x99', '0x1 0x1', 5, null, [1, 2], '1\n2'];
const SERIES: readonly unknown[] = ['up', 'up{job="batch"}', 'pushed_value{job="batch"}', '{__name__="up"}', 'up{', '', 'up{job=~"(a+)+"}', 'a'.repeat(10_000), 'up{job="x\u0000"}', 5, null, 'up{job="batch", job="x"}', '{job="batch"}', 'sum(up)', `up{job="${MARKER}\n"}`];
const TEST_DURATIONS: readonly unknown[] = ['0', '0s', '1ms', '3ms', '1m', '1h', 'x', 5, '-1m', '292y', null, '1m1m', '1y', '999999999999y', 1.5, '30s'];

const TEST_EDITS: ReadonlyArray<(t: Obj, rng: Prng) => void> = [
  (t, rng) => (series(t, rng).values = rng.pick(SERIES_VALUES)),
  (t, rng) => (series(t, rng).values = rng.pick(SERIES_VALUES)),
  (t, rng) => (series(t, rng).series = rng.pick(SERIES)),
  (t, rng) => (group(t, rng).interval = rng.pick(TEST_DURATIONS)),
  (t, rng) => (t['evaluation_interval'] = rng.pick(TEST_DURATIONS)),
  (t, rng) => (alertTest(t, rng).eval_time = rng.pick(TEST_DURATIONS)),
  (t, rng) => (group(t, rng).alert_rule_test = rng.pick<unknown>(['x', 5, {}, [null], [{ eval_time: '5m' }], [{ alertname: 'DemoHigh', exp_alerts: 'x' }], [{ eval_time: 5, alertname: 'DemoHigh' }]])),
  (t, rng) => (group(t, rng).promql_expr_test = rng.pick<unknown>(['x', 5, [{ expr: deepExpression(rng), eval_time: '1m', exp_samples: [] }], [{ expr: rng.pick(PATTERNS), eval_time: '1m' }], [{ eval_time: 'x' }]])),
  (t, rng) => (group(t, rng).input_series = rng.pick<unknown>(['x', {}, [], [null], [{ series: 'up' }], Array.from({ length: 2000 }, (_, i) => ({ series: `up{i="${i}"}`, values: '1x10' }))])),
  (t, rng) => (t['tests'] = rng.pick<unknown>([[], 'x', null, {}, [null], [5], Array.from({ length: 4 }, () => clone(group(t, rng)))])),
  (t, rng) => (t['rule_files'] = rng.pick<unknown>([[], 'x', ['../rules/*.yml'], ['../rules/none.yml'], [5], null, ['../promha.yaml']])),
  (t, rng) => (group(t, rng).name = rng.pick<unknown>([5, null, '', `x\n${MARKER}`, 'a\u0000b', 'x'.repeat(10_000)])),
  (t, rng) => (group(t, rng)[rng.pick(['external_labels', 'bogus', 'external_url'])] = rng.pick<unknown>([{ a: 'b' }, 'x', 5])),
  (t, rng) => (t[rng.pick(['group_eval_order', 'bogus', 'fuzzy_compare'])] = rng.pick<unknown>([['demo'], 'x', true])),
];

const group = (t: Obj, rng: Prng): Obj => {
  if (!Array.isArray(t['tests']) || t['tests'].length === 0) t['tests'] = [{}];
  const g = rng.pick(t['tests'] as unknown[]);
  return g !== null && typeof g === 'object' && !Array.isArray(g) ? (g as Obj) : (t['tests'][0] = {});
};
const series = (t: Obj, rng: Prng): Obj => {
  const g = group(t, rng);
  if (!Array.isArray(g['input_series']) || g['input_series'].length === 0) g['input_series'] = [{ series: 'up', values: '1' }];
  const s = rng.pick(g['input_series'] as unknown[]);
  return s !== null && typeof s === 'object' && !Array.isArray(s) ? (s as Obj) : (g['input_series'][0] = {});
};
const alertTest = (t: Obj, rng: Prng): Obj => {
  const g = group(t, rng);
  if (!Array.isArray(g['alert_rule_test']) || g['alert_rule_test'].length === 0) g['alert_rule_test'] = [{ alertname: 'DemoHigh' }];
  const a = rng.pick(g['alert_rule_test'] as unknown[]);
  return a !== null && typeof a === 'object' && !Array.isArray(a) ? (a as Obj) : (g['alert_rule_test'][0] = {});
};

/** `promha test rules` on promtool test files with odd series, durations and shapes. */
export function testRules(rng: Prng): FuzzInput {
  const { topology, files } = fastProject();
  const t = clone(TESTS);
  for (let i = rng.int(0, 3); i > 0; i--) rng.pick(TEST_EDITS)(t, rng);
  files[TEST_FILE] = yaml(t);
  const testFiles = [TEST_FILE];
  let fifos: string[] | undefined;
  const extra = rng.int(0, 9);
  if (extra === 0) (fifos = ['tests/pipe_test.yml']), testFiles.push('tests/pipe_test.yml');
  else if (extra === 1) testFiles.push(rng.pick(['/dev/zero', 'tests', 'tests/none_test.yml', '/proc/self/status']));
  else if (extra === 2) files[TEST_FILE] = rng.pick(['', 'null', '[]', 'tests: x', 'tests:\n  - 5', '{{', '\ufefftests: []']);
  const input: FuzzInput = { topology: yaml(topology), files, ...(fifos ? { fifos } : {}), commands: { testRules: testFiles } };
  // The generic mutations edit the test file as often as the topology and rule files.
  return rng.chance(0.3) ? mutate(rng, input) : input;
}

// ---------------------------------------------------------------- JSON files: chaos replays, state

/** A structural or textual mutation of a JSON document that stays JSON most of the time. */
function mutateJson(rng: Prng, value: unknown, edits: number): string {
  const root = { root: clone(value) };
  for (let i = 0; i < edits; i++) structural(rng, root);
  const text = JSON.stringify(root.root, (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? `${v}` : v), rng.chance(0.5) ? 2 : undefined) ?? 'null';
  return rng.chance(0.15) ? textual(rng, text) : text;
}

const deepJson = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;

const CHAOS_REPLAY = {
  seed: 7,
  durationMs: 600_000,
  maxConcurrent: 2,
  faults: ['kill', 'pause', 'exporter-slow', 'am-data-lost'],
  mode: 'loopback',
  schedule: [
    { id: 1, kind: 'kill', target: 'scraper1-1', set: 'scraper1', at: 10_000, durationMs: 20_000 },
    { id: 2, kind: 'pause', target: 'federator1-2', set: 'federator1', at: 40_000, durationMs: 15_000 },
    { id: 3, kind: 'exporter-slow', target: 'demo1', set: 'scraper1', at: 70_000, durationMs: 10_000 },
    { id: 4, kind: 'am-data-lost', target: 'alertmanager1-3', set: 'alertmanager1', at: 100_000, durationMs: 5_000 },
  ],
  violations: [],
};

/** `drill chaos --replay FILE`: recorded campaigns, damaged, huge, nested, or no file at all. */
export function chaosReplay(rng: Prng): FuzzInput {
  const { topology, files } = fastProject();
  const file = 'chaos/latest.json';
  let replay = file;
  let fifos: string[] | undefined;
  let symlinks: Record<string, string> | undefined;
  switch (rng.int(0, 13)) {
    case 0:
      fifos = [file];
      break;
    case 1:
      replay = '/dev/zero';
      break;
    case 2:
      symlinks = { [file]: '/dev/zero' };
      break;
    case 3:
      replay = rng.pick(['chaos', '/nonexistent.json', '', 'chaos/latest.json\u0000', '/proc/self/status']);
      files['chaos/x'] = '';
      break;
    case 4: {
      // Many faults: the bounds are checked pairwise.
      const n = rng.pick([2000, 20_000, 60_000]);
      const schedule = Array.from({ length: n }, (_, i) => ({ id: i + 1, kind: 'kill', target: `scraper${1 + (i % 2)}-1`, set: `scraper${1 + (i % 2)}`, at: i * 10, durationMs: 5 }));
      files[file] = JSON.stringify({ ...CHAOS_REPLAY, durationMs: n * 10 + 1000, maxConcurrent: n, schedule });
      break;
    }
    case 5:
      files[file] = rng.pick([deepJson(rng.pick([1000, 10_000, 100_000])), `{"schedule":${deepJson(50_000)}}`, '', 'null', '[]', '"x"', '1', '{}', '\ufeff{}', '{"seed":1,', 'x'.repeat(5 * 1024 * 1024)]);
      break;
    case 6:
      files[file] = JSON.stringify({ ...CHAOS_REPLAY, ...rng.pick<Obj>([{ durationMs: 1e308 }, { durationMs: -1 }, { durationMs: 0.5 }, { maxConcurrent: 1e9 }, { seed: 2 ** 64 }, { mode: 'netns' }, { mode: 'x' }, { faults: ['nope'] }, { schedule: 'x' }, { schedule: [null] }, { faults: 'kill' }]) });
      break;
    default:
      files[file] = mutateJson(rng, CHAOS_REPLAY, rng.int(1, 4));
  }
  return { topology: yaml(topology), files, ...(fifos ? { fifos } : {}), ...(symlinks ? { symlinks } : {}), commands: { chaosReplay: replay } };
}

/** The state `promha up` writes, for the fast topology in loopback mode. */
const node = (name: string, role: string, set: string, address: string, processes: string[], backup = false): Obj => ({
  name,
  role,
  set,
  backup,
  topologyAddress: address,
  localAddress: address,
  processes: processes.map((p) => ({ name: p, pid: 4_194_300, binary: `/usr/bin/${p}`, args: [`--config.file=.promha/nodes/${name}/${p}.yml`], log: `.promha/logs/${name}.${p}.log` })),
});
const STATE = {
  version: 1,
  topologyFile: TOPOLOGY_FILE,
  mode: 'loopback',
  release: 'bookworm',
  versions: { prometheus: '2.42.0', 'prometheus-alertmanager': '0.25.0' },
  startedAt: '2026-01-01T00:00:00.000Z',
  readyAt: '2026-01-01T00:00:30.000Z',
  nodes: [
    node('scraper1-1', 'scraper', 'scraper1', '127.0.0.11:9090', ['prometheus']),
    node('pushgateway1-1', 'pushgateway', 'pushgateway1', '127.0.0.51:9091', ['prometheus-pushgateway', 'keepalived']),
    node('federator1-1', 'federator', 'federator1', '127.0.0.71:9090', ['prometheus']),
    node('alertmanager1-3', 'alertmanager', 'alertmanager1', '127.0.0.83:9093', ['prometheus-alertmanager'], true),
    { ...node('exporter-demo1', 'demo', 'exporter', '127.0.0.101:9100', []), servedBy: 'demo-workload' },
    node('demo-workload', 'demo', 'demo', '127.0.0.1:9999', ['node']),
  ],
  webhookUrl: 'http://127.0.0.99:5001/',
  addresses: { 'scraper1-1': '127.0.0.11:9090', 'pushgateway1-vip': '127.0.0.100:9091' },
};

const STATE_SHAPES: readonly string[] = [
  'null',
  '{}',
  '[]',
  '"x"',
  '1',
  'true',
  '',
  '{"version":1}',
  '{"version":1,"readyAt":"x"}',
  '{"version":1,"readyAt":"x","mode":"loopback"}',
  '{"version":1,"readyAt":"x","mode":"loopback","nodes":{}}',
  '{"version":1,"readyAt":"x","mode":"loopback","nodes":[null]}',
  '{"version":1,"readyAt":"x","mode":"loopback","nodes":[{"name":5,"processes":"x"}]}',
  '{"version":1,"readyAt":"x","mode":5,"nodes":[]}',
  '{"version":2,"nodes":[]}',
  '{"__proto__":{"readyAt":"x"},"nodes":[]}',
  '{"version":1,"readyAt":"x","mode":"loopback","nodes":[],"security":{"tls":true,"auth":true}}',
  '{"version":1,"readyAt":"x","mode":"netns","nodes":[],"network":{"subnet":"x"}}',
  '{"version":1,"readyAt":"x","mode":"netns","nodes":[],"network":5}',
  '{"version":1,"readyAt":"x","mode":"loopback","nodes":[],"addresses":[]}',
  '{"version":1,"readyAt":"x","mode":"loopback","nodes":[],"addresses":{"scraper1-1":5}}',
  '{"version":1,"readyAt":"x","mode":"loopback","nodes":[],"release":"potato"}',
];

/** A running stack's state file: null, {}, wrong shapes, a pipe, /dev/zero, a directory. */
export function state(rng: Prng): FuzzInput {
  const { topology, files } = fastProject();
  let fifos: string[] | undefined;
  let symlinks: Record<string, string> | undefined;
  switch (rng.int(0, 11)) {
    case 0:
      fifos = [STATE_FILE];
      break;
    case 1:
      symlinks = { [STATE_FILE]: '/dev/zero' };
      break;
    case 2:
      files[`${STATE_FILE}/x`] = '';
      break;
    case 3:
    case 4:
    case 5:
      files[STATE_FILE] = rng.pick(STATE_SHAPES);
      break;
    case 6:
      // Secure: the client identity is read too, and may be a pipe.
      files[STATE_FILE] = JSON.stringify({ ...STATE, security: { tls: true, auth: true } });
      if (rng.chance(0.5)) fifos = [`${STATE_FILE.replace('state.json', 'client/ca.crt')}`];
      else files[STATE_FILE.replace('state.json', 'client/password')] = rng.pick(['', 'x', 'p'.repeat(100_000)]);
      break;
    case 7:
      files[STATE_FILE] = rng.pick([deepJson(rng.pick([1000, 100_000])), `{"nodes":${deepJson(50_000)}}`, JSON.stringify({ ...STATE, nodes: Array.from({ length: 20_000 }, (_, i) => node(`n${i}`, 'scraper', 's', '127.0.0.1:1', ['prometheus'])) })]);
      break;
    default:
      files[STATE_FILE] = mutateJson(rng, STATE, rng.int(1, 4));
  }
  const commands: Commands = { state: true, ...(rng.chance(0.2) ? { chaosReplay: 'chaos.json' } : {}) };
  if (commands.chaosReplay) files['chaos.json'] = JSON.stringify(CHAOS_REPLAY);
  return { topology: yaml(topology), files, ...(fifos ? { fifos } : {}), ...(symlinks ? { symlinks } : {}), commands };
}

// ---------------------------------------------------------------- large topologies for --faults

/** Many scraper and pushgateway sets, members sometimes sharing hosts, and `check --faults K` with K up to 5. */
export function largeFaults(rng: Prng): FuzzInput {
  const sets = rng.pick([2, 4, 8, 16, 30, 60, 120]);
  const gateways = rng.int(0, Math.min(4, sets));
  const shared = rng.chance(0.3);
  const ip = (n: number) => `10.${1 + Math.floor(n / 65_536)}.${Math.floor(n / 256) % 256}.${n % 256}`;
  let host = 1;
  // Shared hosts: several members on one host, each on a port of its own.
  // (from 10000 up: clear of the Alertmanager gossip port 9094 a shared host also has).
  const address = (port: number) => (shared ? `${ip(1 + (host % Math.max(2, Math.floor(sets / 2))))}:${10_000 + 2 * host++}` : `${ip(host++)}:${port}`);
  const pair = (set: string, port: number) => [1, 2].map((m) => ({ name: `${set}-${m}`, address: address(port) }));
  const topology = fastTopology({
    exporters: Array.from({ length: sets }, (_, i) => ({ name: `exporters${i + 1}`, targets: [`${ip(200_000 + i)}:9100`] })),
    scrapers: Array.from({ length: sets }, (_, i) => ({ name: `scraper${i + 1}`, exporters: [`exporters${i + 1}`], members: pair(`scraper${i + 1}`, 9090) })),
    pushgateways: Array.from({ length: gateways }, (_, i) => ({
      name: `pushgateway${i + 1}`,
      vip: { address: `${ip(300_000 + i)}:9091`, virtual_router_id: 51 + i },
      jobs: [{ name: `batch${i + 1}`, metrics: [`pushed${i + 1}_value`] }],
      members: pair(`pushgateway${i + 1}`, 9091),
    })),
  }) as Obj;
  topology['federators'] = { ...(topology['federators'] as Obj), members: pair('federator1', 9090), rule_files: [] };
  const am = topology['alertmanagers'] as Obj;
  am['members'] = pair('alertmanager1', 9093);
  am['backup'] = { name: 'alertmanager1-3', address: address(9093) };
  const input: FuzzInput = { topology: yaml(topology), files: {}, commands: { faults: rng.pick([1, 2, 2, 3, 3, 4, 5, 5]) } };
  return rng.chance(0.15) ? mutate(rng, input) : input;
}

// ---------------------------------------------------------------- bytes that are not UTF-8

/** Sequences no UTF-8 decoder may accept: a lone continuation byte, an overlong form, a surrogate, 0xFF… */
const INVALID_UTF8: readonly number[][] = [[0xff], [0xfe], [0xc3], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe9], [0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xc3, 0x28], [0xe2, 0x82]];

/** A topology or rule file with a byte sequence that is not UTF-8: in a value, a comment, at the start, or all of it Latin-1 or UTF-16. */
export function nonUtf8(rng: Prng, from: Seeds): FuzzInput {
  const base = rng.chance(0.5) ? rng.pick(from.valid) : testRulesOrSeed(rng, from);
  const names = [TOPOLOGY_FILE, ...Object.keys(base.files).filter((f) => /\.ya?ml$/.test(f))];
  const name = rng.chance(0.55) ? TOPOLOGY_FILE : rng.pick(names);
  const text = name === TOPOLOGY_FILE ? base.topology : (base.files[name] as string);
  const bad = Buffer.from(rng.pick(INVALID_UTF8));
  const utf8 = Buffer.from(text, 'utf8');
  let out: Buffer;
  switch (rng.int(0, 6)) {
    case 0:
      out = Buffer.concat([bad, utf8]);
      break;
    case 1:
      out = Buffer.concat([utf8, Buffer.from('# caf'), bad, Buffer.from('\n')]);
      break;
    case 2:
      out = Buffer.from(text, 'latin1').length === utf8.length ? Buffer.concat([utf8, Buffer.from('# caf\xe9\n', 'latin1')]) : Buffer.from(text, 'latin1');
      break;
    case 3:
      out = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
      break;
    default: {
      // Inside a value: after the ": " of a random line.
      const lines = text.split('\n');
      const candidates = lines.map((l, i) => [i, l.indexOf(': ')] as const).filter(([, c]) => c >= 0);
      if (candidates.length === 0) {
        out = Buffer.concat([utf8, bad]);
        break;
      }
      const [li, col] = rng.pick(candidates);
      const before = `${lines.slice(0, li).join('\n')}${li > 0 ? '\n' : ''}${(lines[li] as string).slice(0, col + 2)}`;
      const after = text.slice(before.length);
      const quoted = /^["']/.test(after) ? 1 : 0;
      out = Buffer.concat([Buffer.from(before + after.slice(0, quoted)), bad, Buffer.from(after.slice(quoted))]);
    }
  }
  return { ...base, bytes: { ...base.bytes, [name]: out.toString('base64') } };
}

const testRulesOrSeed = (rng: Prng, from: Seeds): FuzzInput => (rng.chance(0.5) ? testRules(rng) : rng.pick(from.valid));

// ---------------------------------------------------------------- deep PromQL

/** An expression nested `n` deep in one of the ways PromQL nests: parentheses, unary minus, calls, binary chains, subqueries. */
export function deepExpression(rng: Prng, n = rng.pick([30, 100, 300, 1000, 3000, 10_000, 50_000])): string {
  switch (rng.int(0, 9)) {
    case 0:
      return `${'('.repeat(n)}up${')'.repeat(n)}`;
    case 1:
      return `${'-'.repeat(n)}up`;
    case 2:
      return `${'sum('.repeat(n)}up${')'.repeat(n)}`;
    case 3:
      return `${'abs('.repeat(n)}up${')'.repeat(n)}`;
    case 4:
      return Array(n).fill('up').join(' + ');
    case 5:
      return Array(n).fill('up').join(' ^ ');
    case 6:
      return `${'label_replace('.repeat(n)}up${', "a", "b", "c", "d")'.repeat(n)}`;
    case 7:
      return `${'max_over_time(('.repeat(n)}up${')[5m:1m])'.repeat(n)}`;
    case 8:
      return `1${' + 1'.repeat(n)}`;
    default:
      return `${'-('.repeat(n)}up${')'.repeat(n)} > 0`;
  }
}

/** Rule expressions, match[] selectors and test expressions nested thousands deep. */
export function deepPromql(rng: Prng): FuzzInput {
  const { topology, files } = fastProject();
  const where = rng.int(0, 5);
  if (where <= 2) {
    const rules = parse(files['rules/demo.yml'] as string) as Obj;
    const rule = rng.pick(rules['groups'][0].rules as Obj[]);
    rule['expr'] = deepExpression(rng);
    files['rules/demo.yml'] = yaml(rules);
  } else if (where === 3) {
    // match[] is bounded at 4096 characters: nest as deep as that allows.
    (topology['federators'] as Obj)['match'] = [deepExpression(rng, rng.pick([30, 100, 300, 600, 1000])).slice(0, 4096)];
  } else if (where === 4) {
    const t = testRules(rng);
    let doc: Obj | null;
    try {
      doc = parse(t.files[TEST_FILE] ?? 'tests: []', { logLevel: 'silent' }) as Obj | null;
    } catch {
      // The generic mutations made it no YAML: the deep expression goes into a rule file instead.
      doc = null;
    }
    const g = doc && typeof doc === 'object' && Array.isArray(doc['tests']) && doc['tests'][0] && typeof doc['tests'][0] === 'object' ? (doc['tests'][0] as Obj) : undefined;
    if (g) g['promql_expr_test'] = [{ expr: deepExpression(rng), eval_time: '1m', exp_samples: [] }];
    return { ...t, files: { ...t.files, ...(doc ? { [TEST_FILE]: yaml(doc) } : {}) } };
  } else {
    const rules = parse(files['rules/pushed.yml'] as string) as Obj;
    (rules['groups'][0].rules as Obj[]).push({ alert: 'Deep', expr: deepExpression(rng), labels: { severity: 'page' } });
    files['rules/pushed.yml'] = yaml(rules);
  }
  const input: FuzzInput = { topology: yaml(topology), files };
  return rng.chance(0.2) ? mutate(rng, input) : input;
}

// ---------------------------------------------------------------- all of them

export interface Surface {
  readonly name: string;
  /** Share of the inputs it makes. */
  readonly weight: number;
  readonly make: (rng: Prng, from: Seeds) => FuzzInput;
}

/** Mutations of the seeds and of the hostile corpus, as before the surfaces. */
const classic = (rng: Prng, from: Seeds): FuzzInput => mutate(rng, rng.pick(rng.chance(0.6) ? from.valid : from.hostile));

export const SURFACES: readonly Surface[] = [
  { name: 'mutation', weight: 36, make: classic },
  { name: 'receivers', weight: 14, make: receivers },
  { name: 'tls', weight: 8, make: tls },
  { name: 'test-rules', weight: 10, make: testRules },
  { name: 'chaos-replay', weight: 5, make: chaosReplay },
  { name: 'state', weight: 6, make: state },
  { name: 'faults', weight: 5, make: largeFaults },
  { name: 'non-utf8', weight: 7, make: nonUtf8 },
  { name: 'deep-promql', weight: 9, make: deepPromql },
];

/** One input of a surface chosen by weight. */
export function generate(rng: Prng, from: Seeds, surfaces: readonly Surface[] = SURFACES): FuzzInput {
  const total = surfaces.reduce((n, s) => n + s.weight, 0);
  let x = rng.next() * total;
  const surface = surfaces.find((s) => (x -= s.weight) < 0) ?? (surfaces[surfaces.length - 1] as Surface);
  return { ...surface.make(rng, from), surface: surface.name };
}

/** The names of the surfaces, for `--surfaces` and the counts. */
export const SURFACE_NAMES = SURFACES.map((s) => s.name);
