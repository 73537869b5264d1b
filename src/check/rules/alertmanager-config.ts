import { LABEL_NAME, matchersProblem, regexpProblem } from '../../alertmanager/matchers.ts';
import { Duration } from '../../duration.ts';
import { GlobSyntaxError, globMatch } from '../../topology/glob.ts';
import type { PropertyPath } from '../../topology/yaml-source.ts';
import type { CheckRule, Finding } from '../finding.ts';
import { goText, goShown } from '../go-values.ts';
import { renderedCharProblems } from '../rendered-source.ts';
import { alertmanagerVersion, fieldsOf, partFields, type AlertmanagerVersion } from './alertmanager-fields.ts';

/*
 * The part of Alertmanager's config loading that applies to what the topology passes
 * through (global, route, receivers and their integrations, inhibit_rules), for the
 * release's Alertmanager (0.25, 0.28 or 0.33: the keys each takes are in
 * alertmanager-fields.ts), so `check` refuses what `amtool check-config` would, at the
 * field. Messages start with Alertmanager's own words. What an integration demands beyond
 * its fields' kinds (most required fields, templates, secrets) is left to the release's
 * amtool, which `promha check` runs on the rendered files (real-tools.ts).
 */

type Yield = Omit<Finding, 'code' | 'rule'>;
type Locate = (path: PropertyPath) => Yield['location'];
type Obj = Record<string, unknown>;

/** Integrations that fall back to a `global` setting, and Alertmanager's message when neither is set (0.33 added token files and Slack app tokens). */
const GLOBAL_FALLBACKS: ReadonlyArray<{ configs: string; own: string[]; global: string[]; message: string; versions: readonly AlertmanagerVersion[] }> = [
  { configs: 'email_configs', own: ['smarthost'], global: ['smtp_smarthost'], message: 'no global SMTP smarthost set', versions: ['0.25', '0.28', '0.33'] },
  { configs: 'email_configs', own: ['from'], global: ['smtp_from'], message: 'no global SMTP from set', versions: ['0.25', '0.28', '0.33'] },
  { configs: 'slack_configs', own: ['api_url', 'api_url_file'], global: ['slack_api_url', 'slack_api_url_file'], message: 'no global Slack API URL set either inline or in a file', versions: ['0.25', '0.28'] },
  {
    configs: 'slack_configs',
    own: ['api_url', 'api_url_file', 'app_token', 'app_token_file'],
    global: ['slack_api_url', 'slack_api_url_file', 'slack_app_token', 'slack_app_token_file'],
    message: 'no Slack API URL nor App token set either inline or in a file',
    versions: ['0.33'],
  },
  { configs: 'opsgenie_configs', own: ['api_key', 'api_key_file'], global: ['opsgenie_api_key', 'opsgenie_api_key_file'], message: 'no global OpsGenie API Key set either inline or in a file', versions: ['0.25', '0.28', '0.33'] },
  { configs: 'victorops_configs', own: ['api_key', 'api_key_file'], global: ['victorops_api_key', 'victorops_api_key_file'], message: 'no global VictorOps API Key set', versions: ['0.25', '0.28', '0.33'] },
  { configs: 'wechat_configs', own: ['api_secret'], global: ['wechat_api_secret'], message: 'no global Wechat ApiSecret set', versions: ['0.25', '0.28'] },
  { configs: 'wechat_configs', own: ['api_secret', 'api_secret_file'], global: ['wechat_api_secret', 'wechat_api_secret_file'], message: 'no global Wechat Api Secret set either inline or in a file', versions: ['0.33'] },
  { configs: 'wechat_configs', own: ['corp_id'], global: ['wechat_api_corp_id'], message: 'no global Wechat CorpID set', versions: ['0.25', '0.28', '0.33'] },
];

/** Integrations that need one of their own fields (no global fallback), and Alertmanager's message when none is set. */
const REQUIRED: ReadonlyArray<{ configs: string; keys: string[]; message: string; versions: readonly AlertmanagerVersion[] }> = [
  { configs: 'discord_configs', keys: ['webhook_url'], message: 'no discord webhook URL provided', versions: ['0.25'] },
  { configs: 'discord_configs', keys: ['webhook_url', 'webhook_url_file'], message: 'one of webhook_url or webhook_url_file must be configured', versions: ['0.28', '0.33'] },
  { configs: 'msteams_configs', keys: ['webhook_url', 'webhook_url_file'], message: 'one of webhook_url or webhook_url_file must be configured', versions: ['0.28', '0.33'] },
  { configs: 'msteamsv2_configs', keys: ['webhook_url', 'webhook_url_file'], message: 'one of webhook_url or webhook_url_file must be configured', versions: ['0.28', '0.33'] },
  { configs: 'pushover_configs', keys: ['user_key'], message: 'missing user key in Pushover config', versions: ['0.25'] },
  { configs: 'pushover_configs', keys: ['user_key', 'user_key_file'], message: 'one of user_key or user_key_file must be configured', versions: ['0.28', '0.33'] },
  { configs: 'incidentio_configs', keys: ['url', 'url_file'], message: 'one of url or url_file must be configured', versions: ['0.33'] },
];

const DOCS = 'see https://prometheus.io/docs/alerting/latest/configuration/';
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
/** Go's YAML decodes any scalar into a string field: `receiver: 1` names receiver "1". */
const scalar = (v: unknown): string | undefined => (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? goText(v) : undefined);
const present = (o: Obj, key: string) => o[key] !== undefined && o[key] !== null && o[key] !== '';

/** Unknown keys only: the parts whose values this file checks itself. */
function* unknownKeys(o: Obj, part: string, version: AlertmanagerVersion, path: PropertyPath, what: string, locate: Locate): Generator<Yield> {
  const known = fieldsOf(part, version);
  const onlyKeys = Object.fromEntries(Object.keys(o).filter((k) => !known.has(k)).map((k) => [k, o[k]]));
  yield* partFields(onlyKeys, part, path, version, what, locate);
}

function* stringList(o: Obj, key: string, path: PropertyPath, locate: Locate): Generator<Yield, string[]> {
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => scalar(x) === undefined)) {
    yield { severity: 'error', message: `${key} must be a list of strings`, location: locate([...path, key]), hint: `e.g. ${key}: [alertname]` };
    return [];
  }
  return v.map((x) => scalar(x) as string);
}

function* labelMap(o: Obj, key: string, path: PropertyPath, regexps: boolean, locate: Locate): Generator<Yield> {
  const v = o[key];
  if (v === undefined || v === null) return;
  if (!isObj(v)) {
    yield { severity: 'error', message: `${key} must be a mapping of label names to values`, location: locate([...path, key]), hint: DOCS };
    return;
  }
  for (const [name, value] of Object.entries(v)) {
    if (!LABEL_NAME.test(name))
      yield { severity: 'error', message: `invalid label name "${name}" in ${key}`, location: locate([...path, key, name]), hint: 'label names are letters, digits and "_"' };
    const problem = regexps && scalar(value) !== undefined ? regexpProblem(scalar(value) as string) : undefined;
    if (problem) yield { severity: 'error', message: problem, location: locate([...path, key, name]), hint: 'fix the regular expression (Go RE2 syntax)' };
  }
}

/**
 * Alertmanager 0.25 reads matchers with its classic parser. 0.28 and 0.33 try the UTF-8
 * parser first and fall back to the classic one, so a label name the classic parser refuses
 * (`a-b="x"`, `ü="x"`) loads there: its "bad matcher format" is left to their amtool.
 */
function* matcherList(o: Obj, key: string, path: PropertyPath, version: AlertmanagerVersion, locate: Locate): Generator<Yield> {
  const list = yield* stringList(o, key, path, locate);
  for (const [i, m] of list.entries()) {
    const problem = matchersProblem(m);
    if (problem && !(version !== '0.25' && problem.startsWith('bad matcher format')))
      yield { severity: 'error', message: problem, location: locate([...path, key, i]), hint: 'write matchers as name="value", name!="value", name=~"regex" or name!~"regex"' };
  }
}

/** A label name in group_by or equal: 0.25 takes Prometheus' classic names; 0.28 and later any name but the empty one. */
const labelNameOk = (name: string, version: AlertmanagerVersion) => (version === '0.25' ? LABEL_NAME.test(name) : name !== '');

function* duration(o: Obj, key: string, path: PropertyPath, nonZero: boolean, locate: Locate): Generator<Yield> {
  const v = o[key];
  if (v === undefined || v === null) return;
  const text = scalar(v) ?? '';
  const d = Duration.tryParse(text);
  const location = locate([...path, key]);
  if (d === undefined && Duration.problem(text)?.startsWith('out of range'))
    yield { severity: 'error', message: `${key}: duration out of range`, location, hint: 'Alertmanager takes durations up to 292y' };
  else if (d === undefined) yield { severity: 'error', message: `${key}: not a valid duration string: "${text}"`, location, hint: 'use e.g. 30s, 5m, 4h' };
  else if (nonZero && d.ms === 0) yield { severity: 'error', message: `${key} cannot be zero`, location, hint: `give ${key} a positive duration, e.g. 5m` };
}

function* route(r: Obj, path: PropertyPath, receivers: ReadonlySet<string>, root: boolean, version: AlertmanagerVersion, locate: Locate): Generator<Yield> {
  yield* unknownKeys(r, 'route', version, path, root ? 'the route' : 'a route', locate);
  const receiver = r['receiver'] === undefined || r['receiver'] === null ? undefined : scalar(r['receiver']);
  if (root && !receiver)
    yield { severity: 'error', message: 'root route must specify a default receiver', location: locate(path), hint: 'add `receiver: <name>` naming one of `receivers`' };
  else if (receiver && !receivers.has(receiver))
    yield {
      severity: 'error',
      message: `undefined receiver "${receiver}" used in route`,
      location: locate([...path, 'receiver']),
      hint: receivers.size ? `use one of the receivers: ${[...receivers].join(', ')}; or define "${receiver}" under receivers` : `define "${receiver}" under receivers`,
    };
  if (root)
    for (const key of ['match', 'match_re', 'matchers'])
      if (present(r, key))
        yield { severity: 'error', message: 'root route must not have any matchers', location: locate([...path, key]), hint: 'the root route catches every alert: move the matchers to a route under `routes`' };
  for (const key of ['mute_time_intervals', 'active_time_intervals']) {
    const names = yield* stringList(r, key, path, locate);
    // The topology passes no time_intervals through, so no name can be defined.
    for (const [i, name] of names.entries())
      yield {
        severity: 'error',
        message: root ? `root route must not have any ${key.replace(/_/g, ' ')}` : `undefined time interval "${name}" used in route`,
        location: locate([...path, key, i]),
        hint: 'the topology passes no time_intervals to Alertmanager: remove the reference',
      };
  }
  yield* labelMap(r, 'match', path, false, locate);
  yield* labelMap(r, 'match_re', path, true, locate);
  yield* matcherList(r, 'matchers', path, version, locate);

  const groupBy = yield* stringList(r, 'group_by', path, locate);
  const seen = new Set<string>();
  for (const [i, label] of groupBy.entries()) {
    const location = locate([...path, 'group_by', i]);
    if (label !== '...' && !labelNameOk(label, version))
      yield {
        severity: 'error',
        message: `invalid label name "${label}" in group_by list`,
        location,
        hint: version === '0.25' ? 'label names are letters, digits and "_" in Alertmanager 0.25; `...` groups by all labels' : 'give a label name; `...` groups by all labels',
      };
    else if (seen.has(label)) yield { severity: 'error', message: `duplicated label "${label}" in group_by`, location, hint: 'name each label once' };
    seen.add(label);
  }
  if (seen.has('...') && seen.size > 1)
    yield {
      severity: 'error',
      message: 'cannot have wildcard group_by (`...`) and other labels at the same time',
      location: locate([...path, 'group_by']),
      hint: '`...` alone groups by every label; or list the labels without it',
    };
  yield* duration(r, 'group_wait', path, false, locate);
  yield* duration(r, 'group_interval', path, true, locate);
  yield* duration(r, 'repeat_interval', path, true, locate);
  if (r['continue'] !== undefined && r['continue'] !== null && typeof r['continue'] !== 'boolean')
    yield { severity: 'error', message: 'continue must be true or false', location: locate([...path, 'continue']), hint: 'continue: true keeps matching sibling routes' };

  const children = r['routes'];
  if (children === undefined || children === null) return;
  if (!Array.isArray(children)) {
    yield { severity: 'error', message: 'routes must be a list of routes', location: locate([...path, 'routes']), hint: DOCS };
    return;
  }
  for (const [i, child] of children.entries()) {
    if (isObj(child)) yield* route(child, [...path, 'routes', i], receivers, false, version, locate);
    // Alertmanager 0.25-0.33 crash on an empty entry (nil pointer dereference).
    else yield { severity: 'error', message: 'each entry of routes must be a route (a mapping)', location: locate([...path, 'routes', i]), hint: `${DOCS}; Alertmanager crashes on an empty entry` };
  }
}

export const alertmanagerConfig: CheckRule = {
  code: 'PH503',
  name: 'alertmanager-config',
  description:
    "The global, route, receivers (and their integrations) and inhibit_rules passed to Alertmanager load in the release's Alertmanager: known fields of the right kind, valid URLs and durations, every receiver named is defined, once; matchers, group_by and timings are valid.",
  *run({ topology, nodes, release }) {
    const am = topology.spec.alertmanagers;
    const version = alertmanagerVersion(release);
    const locate: Locate = (p) => topology.locate(p);
    const base: PropertyPath = ['alertmanagers'];
    const global = am.global ?? {};
    for (const p of renderedCharProblems(topology, nodes, 'alertmanager.yml'))
      yield { severity: 'error', message: p.message, location: locate(p.path), hint: p.hint };
    yield* partFields(global, 'global', [...base, 'global'], version, 'global', locate);
    // Alertmanager checks each template glob, matching or not (Go's filepath.Glob).
    for (const [i, pattern] of (am.templates ?? []).entries())
      try {
        globMatch(pattern, '');
      } catch (e) {
        if (!(e instanceof GlobSyntaxError)) throw e;
        yield { severity: 'error', message: 'syntax error in pattern', location: locate([...base, 'templates', i]), hint: 'close every `[` of the glob, and end no pattern with a lone `\\`' };
      }
    const names = new Set<string>();
    for (const [i, rcv] of am.receivers.entries()) {
      const path: PropertyPath = [...base, 'receivers', i];
      yield* receiverFields(rcv, path, version, locate);
      const name = rcv['name'] === undefined || rcv['name'] === null ? '' : (scalar(rcv['name']) ?? '');
      if (name === '') yield { severity: 'error', message: 'missing name in receiver', location: locate(path), hint: 'give every receiver a unique `name`' };
      else if (names.has(name))
        yield { severity: 'error', message: `notification config name "${name}" is not unique`, location: locate([...path, 'name']), hint: 'give every receiver its own name' };
      names.add(name);
      for (const f of REQUIRED) {
        const configs = rcv[f.configs];
        if (!f.versions.includes(version) || !Array.isArray(configs)) continue;
        for (const [j, c] of configs.entries())
          if (isObj(c) && !f.keys.some((k) => present(c, k)))
            yield { severity: 'error', message: f.message, location: locate([...path, f.configs, j]), hint: `set ${f.keys.join(' or ')}` };
      }
      for (const f of GLOBAL_FALLBACKS) {
        const configs = rcv[f.configs];
        if (!f.versions.includes(version)) continue;
        if (!Array.isArray(configs) || f.global.some((k) => present(global, k))) continue;
        for (const [j, c] of configs.entries())
          if (isObj(c) && !f.own.some((k) => present(c, k)))
            yield {
              severity: 'error',
              message: f.message,
              location: locate([...path, f.configs, j]),
              hint: `set ${f.own.join(' or ')} here, or ${f.global.join(' or ')} under alertmanagers.global`,
            };
      }
    }
    yield* route(am.route, [...base, 'route'], names, true, version, locate);
    for (const [i, rule] of (am.inhibit_rules ?? []).entries()) {
      const path: PropertyPath = [...base, 'inhibit_rules', i];
      yield* unknownKeys(rule, 'inhibit_rule', version, path, 'an inhibit rule', locate);
      yield* labelMap(rule, 'source_match', path, false, locate);
      yield* labelMap(rule, 'target_match', path, false, locate);
      yield* labelMap(rule, 'source_match_re', path, true, locate);
      yield* labelMap(rule, 'target_match_re', path, true, locate);
      yield* matcherList(rule, 'source_matchers', path, version, locate);
      yield* matcherList(rule, 'target_matchers', path, version, locate);
      const equal = yield* stringList(rule, 'equal', path, locate);
      for (const [j, label] of equal.entries())
        if (!labelNameOk(label, version))
          yield {
            severity: 'error',
            message: version === '0.25' ? `"${label}" is not a valid label name in equal` : `invalid label name "${label}" in equal list`,
            location: locate([...path, 'equal', j]),
            hint: version === '0.25' ? 'label names are letters, digits and "_" in Alertmanager 0.25' : 'give a label name',
          };
    }
  },
};

/** A receiver's keys, and each integration config's fields, as the release's Alertmanager reads them. */
function* receiverFields(rcv: Obj, path: PropertyPath, version: AlertmanagerVersion, locate: Locate): Generator<Yield> {
  const fields = fieldsOf('receiver', version);
  yield* unknownKeys(rcv, 'receiver', version, path, 'a receiver', locate);
  for (const [key, configs] of Object.entries(rcv)) {
    if (fields.get(key) !== 'configs' || configs === null || configs === undefined) continue;
    const kind = integrationName(key);
    if (!Array.isArray(configs)) {
      yield {
        severity: 'error',
        message: `${key}: cannot unmarshal ${goShown(configs)} into a list of ${kind} configs`,
        location: locate([...path, key]),
        hint: `write ${key} as a list: \`${key}: [{...}]\` (one \`- \` entry per config)`,
      };
      continue;
    }
    for (const [j, c] of configs.entries()) {
      const at: PropertyPath = [...path, key, j];
      if (!isObj(c)) {
        yield {
          severity: 'error',
          message: c === null || c === undefined ? `missing ${kind} config` : `${key}[${j}]: cannot unmarshal ${goShown(c)} into a ${kind} config`,
          location: locate(at),
          hint: `each entry of ${key} is a mapping of its fields${c === null || c === undefined ? ' (Alertmanager 0.25 and 0.28 crash on an empty entry)' : ''}`,
        };
        continue;
      }
      yield* partFields(c, key, at, version, `a ${kind} config`, locate);
      if (key === 'webhook_configs') yield* webhookUrl(c, at, version, locate);
    }
  }
}

const integrationName = (key: string) => key.replace(/_configs$/, '').replace(/^msteams/, 'MS Teams ').replace(/^sns$/, 'SNS').replace(/ $/, '');

/** A webhook needs its URL: inline, or (0.28+) in a file, not both. */
function* webhookUrl(c: Obj, path: PropertyPath, version: AlertmanagerVersion, locate: Locate): Generator<Yield> {
  const url = present(c, 'url');
  const file = version !== '0.25' && present(c, 'url_file');
  if (url && file)
    yield { severity: 'error', message: 'at most one of url & url_file must be configured', location: locate([...path, 'url_file']), hint: 'keep url or url_file, not both' };
  // 0.25 and 0.28 read an empty URL as a URL and refuse it there (see partFields); 0.33 as none.
  // (0.25 has no url_file: its unknown key is the error to fix first.)
  else if (!url && !file && !(version !== '0.33' && c['url'] === '') && !(version === '0.25' && 'url_file' in c))
    yield {
      severity: 'error',
      message: version === '0.25' ? 'missing URL in webhook config' : 'one of url or url_file must be configured',
      location: locate(path),
      hint: 'add `url: http://…` (the receiver\'s address, with its scheme)',
    };
}
