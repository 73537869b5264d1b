import { LABEL_NAME, matchersProblem, regexpProblem } from '../../alertmanager/matchers.ts';
import { Duration } from '../../duration.ts';
import { MAX_GO_DURATION } from '../../topology/schema.ts';
import type { PropertyPath } from '../../topology/yaml-source.ts';
import type { CheckRule, Finding } from '../finding.ts';

/*
 * The part of Alertmanager 0.25's config loading that applies to what the topology passes
 * through (route, receivers, inhibit_rules), so `check` refuses what `amtool check-config`
 * would. Messages start with Alertmanager's own words. Receiver integrations themselves
 * (URLs, templates, secrets) are left to amtool.
 */

type Yield = Omit<Finding, 'code' | 'rule'>;
type Locate = (path: PropertyPath) => Yield['location'];
type Obj = Record<string, unknown>;

const ROUTE_KEYS = [
  'receiver', 'group_by', 'match', 'match_re', 'matchers', 'mute_time_intervals', 'active_time_intervals',
  'continue', 'routes', 'group_wait', 'group_interval', 'repeat_interval',
];
const RECEIVER_KEYS = [
  'name', 'discord_configs', 'email_configs', 'pagerduty_configs', 'slack_configs', 'webhook_configs', 'opsgenie_configs',
  'wechat_configs', 'pushover_configs', 'victorops_configs', 'sns_configs', 'telegram_configs', 'webex_configs',
];
const INHIBIT_KEYS = ['source_match', 'source_match_re', 'source_matchers', 'target_match', 'target_match_re', 'target_matchers', 'equal'];

/** Integrations that fall back to a `global` setting, and Alertmanager's message when neither is set. */
const GLOBAL_FALLBACKS: ReadonlyArray<{ configs: string; own: string[]; global: string[]; message: string }> = [
  { configs: 'email_configs', own: ['smarthost'], global: ['smtp_smarthost'], message: 'no global SMTP smarthost set' },
  { configs: 'email_configs', own: ['from'], global: ['smtp_from'], message: 'no global SMTP from set' },
  { configs: 'slack_configs', own: ['api_url', 'api_url_file'], global: ['slack_api_url', 'slack_api_url_file'], message: 'no global Slack API URL set either inline or in a file' },
  { configs: 'opsgenie_configs', own: ['api_key', 'api_key_file'], global: ['opsgenie_api_key', 'opsgenie_api_key_file'], message: 'no global OpsGenie API Key set either inline or in a file' },
  { configs: 'victorops_configs', own: ['api_key', 'api_key_file'], global: ['victorops_api_key', 'victorops_api_key_file'], message: 'no global VictorOps API Key set' },
  { configs: 'wechat_configs', own: ['api_secret'], global: ['wechat_api_secret'], message: 'no global Wechat ApiSecret set' },
  { configs: 'wechat_configs', own: ['corp_id'], global: ['wechat_api_corp_id'], message: 'no global Wechat CorpID set' },
];

const DOCS = 'see https://prometheus.io/docs/alerting/0.25/configuration/';
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
/** Go's YAML decodes any scalar into a string field: `receiver: 1` names receiver "1". */
const scalar = (v: unknown): string | undefined => (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined);
const present = (o: Obj, key: string) => o[key] !== undefined && o[key] !== null && o[key] !== '';

function* unknownKeys(o: Obj, allowed: readonly string[], path: PropertyPath, what: string, locate: Locate): Generator<Yield> {
  for (const key of Object.keys(o))
    if (!allowed.includes(key))
      yield {
        severity: 'error',
        message: `unknown key "${key}" in ${what}: Alertmanager refuses it (field ${key} not found)`,
        location: locate([...path, key]),
        hint: `allowed: ${allowed.join(', ')}`,
      };
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

function* matcherList(o: Obj, key: string, path: PropertyPath, locate: Locate): Generator<Yield> {
  const list = yield* stringList(o, key, path, locate);
  for (const [i, m] of list.entries()) {
    const problem = matchersProblem(m);
    if (problem)
      yield { severity: 'error', message: problem, location: locate([...path, key, i]), hint: 'write matchers as name="value", name!="value", name=~"regex" or name!~"regex"' };
  }
}

function* duration(o: Obj, key: string, path: PropertyPath, nonZero: boolean, locate: Locate): Generator<Yield> {
  const v = o[key];
  if (v === undefined || v === null) return;
  const text = scalar(v) ?? '';
  const d = Duration.tryParse(text);
  const location = locate([...path, key]);
  if (!d) yield { severity: 'error', message: `${key}: not a valid duration string: "${text}"`, location, hint: 'use e.g. 30s, 5m, 4h' };
  else if (d.gt(MAX_GO_DURATION)) yield { severity: 'error', message: `${key}: duration out of range`, location, hint: 'Alertmanager takes durations up to 292y' };
  else if (nonZero && d.ms === 0) yield { severity: 'error', message: `${key} cannot be zero`, location, hint: `give ${key} a positive duration, e.g. 5m` };
}

function* route(r: Obj, path: PropertyPath, receivers: ReadonlySet<string>, root: boolean, locate: Locate): Generator<Yield> {
  yield* unknownKeys(r, ROUTE_KEYS, path, root ? 'the route' : 'a route', locate);
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
  yield* matcherList(r, 'matchers', path, locate);

  const groupBy = yield* stringList(r, 'group_by', path, locate);
  const seen = new Set<string>();
  for (const [i, label] of groupBy.entries()) {
    const location = locate([...path, 'group_by', i]);
    if (label !== '...' && !LABEL_NAME.test(label))
      yield { severity: 'error', message: `invalid label name "${label}" in group_by list`, location, hint: 'label names are letters, digits and "_"; `...` groups by all labels' };
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
    if (isObj(child)) yield* route(child, [...path, 'routes', i], receivers, false, locate);
    else yield { severity: 'error', message: 'each entry of routes must be a route (a mapping)', location: locate([...path, 'routes', i]), hint: DOCS };
  }
}

export const alertmanagerConfig: CheckRule = {
  code: 'PH503',
  name: 'alertmanager-config',
  description: 'The route, receivers and inhibit_rules passed to Alertmanager load there: every receiver named is defined, once; matchers, group_by and timings are valid.',
  *run({ topology }) {
    const am = topology.spec.alertmanagers;
    const locate: Locate = (p) => topology.locate(p);
    const base: PropertyPath = ['alertmanagers'];
    const global = am.global ?? {};
    const names = new Set<string>();
    for (const [i, rcv] of am.receivers.entries()) {
      const path: PropertyPath = [...base, 'receivers', i];
      yield* unknownKeys(rcv, RECEIVER_KEYS, path, 'a receiver', locate);
      const name = rcv['name'] === undefined || rcv['name'] === null ? '' : (scalar(rcv['name']) ?? '');
      if (name === '') yield { severity: 'error', message: 'missing name in receiver', location: locate(path), hint: 'give every receiver a unique `name`' };
      else if (names.has(name))
        yield { severity: 'error', message: `notification config name "${name}" is not unique`, location: locate([...path, 'name']), hint: 'give every receiver its own name' };
      names.add(name);
      for (const f of GLOBAL_FALLBACKS) {
        const configs = rcv[f.configs];
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
    yield* route(am.route, [...base, 'route'], names, true, locate);
    for (const [i, rule] of (am.inhibit_rules ?? []).entries()) {
      const path: PropertyPath = [...base, 'inhibit_rules', i];
      yield* unknownKeys(rule, INHIBIT_KEYS, path, 'an inhibit rule', locate);
      yield* labelMap(rule, 'source_match', path, false, locate);
      yield* labelMap(rule, 'target_match', path, false, locate);
      yield* labelMap(rule, 'source_match_re', path, true, locate);
      yield* labelMap(rule, 'target_match_re', path, true, locate);
      yield* matcherList(rule, 'source_matchers', path, locate);
      yield* matcherList(rule, 'target_matchers', path, locate);
      const equal = yield* stringList(rule, 'equal', path, locate);
      for (const [j, label] of equal.entries())
        if (!LABEL_NAME.test(label))
          yield { severity: 'error', message: `"${label}" is not a valid label name in equal`, location: locate([...path, 'equal', j]), hint: 'label names are letters, digits and "_"' };
    }
  },
};
