import { Duration } from '../../duration.ts';
import type { Release } from '../../release/release.ts';
import type { PropertyPath } from '../../topology/yaml-source.ts';
import type { Finding } from '../finding.ts';
import { alertmanagerUrlProblem, goDurationProblem, goHostPortProblem, goShown, goText, YAML11_BOOLS } from '../go-values.ts';

/*
 * The fields of Alertmanager's configuration as each release's Alertmanager reads them:
 * which keys each part takes, and of what kind. Derived from the binaries themselves
 * (amtool 0.25.0, 0.28.1, 0.33.1: every yaml key they know, offered to each part, then a
 * value of the wrong kind to each key), so `check` refuses at the topology field what
 * `amtool check-config` refuses in the rendered file. `KIND@0.28` is a key that
 * Alertmanager 0.28 added; no key was removed or changed kind from 0.25 to 0.33.
 *
 * Kinds: url (http/https URL with a host), duration (Prometheus duration: 5m, 1d),
 * goduration (Go duration: 5m, 1h30m; an integer counts nanoseconds), goduration-text
 * (Go duration given as text), bool, int, uint, string (any scalar), strings (a list of
 * scalars), list (a list), configs (a list of integration configs), routes, object (a
 * part with fields of its own, below), any (left to the real tool).
 */

export type AlertmanagerVersion = '0.25' | '0.28' | '0.33';
export type FieldKind = 'url' | 'duration' | 'goduration' | 'goduration-text' | 'bool' | 'int' | 'uint' | 'string' | 'strings' | 'list' | 'configs' | 'routes' | 'object' | 'any';

// prettier-ignore
const FIELDS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  global: { http_config: 'object', jira_api_url: 'url@0.33', mattermost_webhook_url: 'url@0.33', mattermost_webhook_url_file: 'string@0.33', opsgenie_api_key: 'string', opsgenie_api_key_file: 'string', opsgenie_api_url: 'url', pagerduty_url: 'url', resolve_timeout: 'duration', rocketchat_api_url: 'url@0.28', rocketchat_token: 'string@0.28', rocketchat_token_file: 'string@0.28', rocketchat_token_id: 'string@0.28', rocketchat_token_id_file: 'string@0.28', slack_api_url: 'url', slack_api_url_file: 'string', slack_app_token: 'string@0.33', slack_app_token_file: 'string@0.33', slack_app_url: 'url@0.33', smtp_auth_identity: 'string', smtp_auth_password: 'string', smtp_auth_password_file: 'string', smtp_auth_secret: 'string', smtp_auth_secret_file: 'string@0.33', smtp_auth_username: 'string', smtp_force_implicit_tls: 'bool@0.33', smtp_from: 'string', smtp_hello: 'string', smtp_require_tls: 'bool', smtp_smarthost: 'string', smtp_tls_config: 'object@0.28', telegram_api_url: 'url', telegram_bot_token: 'string@0.33', telegram_bot_token_file: 'string@0.33', victorops_api_key: 'string', victorops_api_key_file: 'string', victorops_api_url: 'url', webex_api_url: 'url', wechat_api_corp_id: 'string', wechat_api_secret: 'string', wechat_api_secret_file: 'string@0.33', wechat_api_url: 'url' },
  route: { active_time_intervals: 'strings', continue: 'bool', group_by: 'strings', group_interval: 'duration', group_wait: 'duration', match: 'any', match_re: 'any', matchers: 'strings', mute_time_intervals: 'strings', receiver: 'string', repeat_interval: 'duration', routes: 'routes' },
  receiver: { discord_configs: 'configs', email_configs: 'configs', incidentio_configs: 'configs@0.33', jira_configs: 'configs@0.33', labels: 'any@0.33', mattermost_configs: 'configs@0.33', msteams_configs: 'configs@0.28', msteamsv2_configs: 'configs@0.28', name: 'string', opsgenie_configs: 'configs', pagerduty_configs: 'configs', pushover_configs: 'configs', rocketchat_configs: 'configs@0.28', slack_configs: 'configs', sns_configs: 'configs', telegram_configs: 'configs', victorops_configs: 'configs', webex_configs: 'configs', webhook_configs: 'configs', wechat_configs: 'configs' },
  inhibit_rule: { equal: 'strings', name: 'string@0.33', source_match: 'any', source_match_re: 'any', source_matchers: 'strings', target_match: 'any', target_match_re: 'any', target_matchers: 'strings' },
  http_config: { authorization: 'object', basic_auth: 'object', bearer_token: 'string', bearer_token_file: 'string', enable_http2: 'bool', follow_redirects: 'bool', http_headers: 'any@0.28', no_proxy: 'string@0.28', oauth2: 'object', proxy_connect_header: 'any', proxy_from_environment: 'bool@0.28', proxy_url: 'string', tls_config: 'object' },
  tls_config: { ca: 'string@0.28', ca_file: 'string', ca_ref: 'string@0.28', cert: 'string@0.28', cert_file: 'string', cert_ref: 'string@0.28', insecure_skip_verify: 'bool', key: 'string@0.28', key_file: 'string', key_ref: 'string@0.28', max_version: 'string', min_version: 'string', server_name: 'string' },
  basic_auth: { password: 'string', password_file: 'string', password_ref: 'string@0.28', username: 'string', username_file: 'string@0.28', username_ref: 'string@0.28' },
  authorization: { credentials: 'string', credentials_file: 'string', credentials_ref: 'string@0.28', type: 'string' },
  oauth2: { audience: 'string@0.33', claims: 'any@0.33', client_certificate_key: 'string@0.33', client_certificate_key_file: 'string@0.33', client_certificate_key_id: 'string@0.33', client_certificate_key_ref: 'string@0.33', client_id: 'string', client_secret: 'string', client_secret_file: 'string', client_secret_ref: 'string@0.28', endpoint_params: 'any', grant_type: 'string@0.33', iss: 'string@0.33', no_proxy: 'string@0.28', proxy_connect_header: 'any@0.28', proxy_from_environment: 'bool@0.28', proxy_url: 'string', scopes: 'strings', signature_algorithm: 'string@0.33', tls_config: 'object', token_url: 'string' },
  discord_configs: { avatar_url: 'string@0.28', content: 'string@0.28', http_config: 'object', message: 'string', send_resolved: 'bool', title: 'string', username: 'string@0.28', webhook_url: 'url', webhook_url_file: 'string@0.28' },
  email_configs: { auth_identity: 'string', auth_password: 'string', auth_password_file: 'string', auth_secret: 'string', auth_secret_file: 'string@0.33', auth_username: 'string', force_implicit_tls: 'bool@0.33', from: 'string', headers: 'any', hello: 'string', html: 'string', require_tls: 'bool', send_resolved: 'bool', smarthost: 'string', text: 'string', threading: 'any@0.33', tls_config: 'object', to: 'string' },
  incidentio_configs: { alert_source_token: 'string@0.33', alert_source_token_file: 'string@0.33', http_config: 'object@0.33', max_alerts: 'uint@0.33', send_resolved: 'bool@0.33', timeout: 'goduration@0.33', url: 'url@0.33', url_file: 'string@0.33' },
  jira_configs: { api_type: 'string@0.33', api_url: 'url@0.33', description: 'any@0.33', fields: 'any@0.33', http_config: 'object@0.33', issue_type: 'string@0.33', labels: 'strings@0.33', priority: 'string@0.33', project: 'string@0.33', reopen_duration: 'duration@0.33', reopen_transition: 'string@0.33', resolve_transition: 'string@0.33', send_resolved: 'bool@0.33', summary: 'any@0.33', wont_fix_resolution: 'string@0.33' },
  mattermost_configs: { attachments: 'list@0.33', author_icon: 'string@0.33', author_link: 'string@0.33', author_name: 'string@0.33', channel: 'string@0.33', color: 'string@0.33', fallback: 'string@0.33', fields: 'list@0.33', footer: 'string@0.33', footer_icon: 'string@0.33', http_config: 'object@0.33', icon_emoji: 'string@0.33', icon_url: 'string@0.33', image_url: 'string@0.33', pretext: 'string@0.33', priority: 'any@0.33', props: 'any@0.33', send_resolved: 'bool@0.33', text: 'string@0.33', thumb_url: 'string@0.33', title: 'string@0.33', title_link: 'string@0.33', type: 'string@0.33', username: 'string@0.33', webhook_url: 'url@0.33', webhook_url_file: 'string@0.33' },
  msteams_configs: { http_config: 'object@0.28', send_resolved: 'bool@0.28', summary: 'string@0.28', text: 'string@0.28', title: 'string@0.28', webhook_url: 'url@0.28', webhook_url_file: 'string@0.28' },
  msteamsv2_configs: { http_config: 'object@0.28', send_resolved: 'bool@0.28', text: 'string@0.28', title: 'string@0.28', webhook_url: 'url@0.28', webhook_url_file: 'string@0.28' },
  opsgenie_configs: { actions: 'string', api_key: 'string', api_key_file: 'string', api_url: 'url', description: 'string', details: 'any', entity: 'string', http_config: 'object', message: 'string', note: 'string', priority: 'string', responders: 'list', send_resolved: 'bool', source: 'string', tags: 'string', update_alerts: 'bool' },
  pagerduty_configs: { class: 'string', client: 'string', client_url: 'string', component: 'string', description: 'string', details: 'any', group: 'string', http_config: 'object', images: 'list', links: 'list', routing_key: 'string', routing_key_file: 'string', send_resolved: 'bool', service_key: 'string', service_key_file: 'string', severity: 'string', source: 'string', timeout: 'goduration@0.33', url: 'url' },
  pushover_configs: { device: 'string@0.28', expire: 'goduration-text', html: 'bool', http_config: 'object', message: 'string', monospace: 'bool@0.33', priority: 'string', retry: 'goduration-text', send_resolved: 'bool', sound: 'string', title: 'string', token: 'string', token_file: 'string@0.28', ttl: 'goduration-text@0.28', url: 'string', url_title: 'string', user_key: 'string', user_key_file: 'string@0.28' },
  rocketchat_configs: { actions: 'list@0.28', api_url: 'url@0.28', channel: 'string@0.28', color: 'string@0.28', emoji: 'string@0.28', fields: 'list@0.28', http_config: 'object@0.28', icon_url: 'string@0.28', image_url: 'string@0.28', link_names: 'bool@0.28', send_resolved: 'bool@0.28', short_fields: 'bool@0.28', text: 'string@0.28', thumb_url: 'string@0.28', title: 'string@0.28', title_link: 'string@0.28', token: 'string@0.28', token_file: 'string@0.28', token_id: 'string@0.28', token_id_file: 'string@0.28' },
  slack_configs: { actions: 'list', api_url: 'url', api_url_file: 'string', app_token: 'string@0.33', app_token_file: 'string@0.33', app_url: 'url@0.33', callback_id: 'string', channel: 'string', color: 'string', fallback: 'string', fields: 'list', footer: 'string', http_config: 'object', icon_emoji: 'string', icon_url: 'string', image_url: 'string', link_names: 'bool', message_text: 'string@0.33', mrkdwn_in: 'strings', pretext: 'string', send_resolved: 'bool', short_fields: 'bool', text: 'string', thumb_url: 'string', timeout: 'goduration@0.33', title: 'string', title_link: 'string', update_message: 'bool@0.33', username: 'string' },
  sns_configs: { api_url: 'string', attributes: 'any', http_config: 'object', message: 'string', phone_number: 'string', send_resolved: 'bool', sigv4: 'any', subject: 'string', target_arn: 'string', topic_arn: 'string', use_aws_http_client: 'bool@0.33' },
  telegram_configs: { api_url: 'url', bot_token: 'string', bot_token_file: 'string@0.28', chat_id: 'int', chat_id_file: 'string@0.33', disable_notifications: 'bool', http_config: 'object', message: 'string', message_thread_id: 'int@0.28', parse_mode: 'string', send_resolved: 'bool' },
  victorops_configs: { api_key: 'string', api_key_file: 'string', api_url: 'url', custom_fields: 'any', entity_display_name: 'string', http_config: 'object', message_type: 'string', monitoring_tool: 'string', routing_key: 'string', send_resolved: 'bool', state_message: 'string' },
  webex_configs: { api_url: 'url', http_config: 'object', message: 'string', room_id: 'string', send_resolved: 'bool' },
  webhook_configs: { http_config: 'object', max_alerts: 'uint', payload: 'any@0.33', send_resolved: 'bool', timeout: 'goduration@0.28', url: 'url', url_file: 'string@0.28' },
  wechat_configs: { agent_id: 'string', api_secret: 'string', api_secret_file: 'string@0.33', api_url: 'url', corp_id: 'string', http_config: 'object', message: 'string', message_type: 'string', send_resolved: 'bool', to_party: 'string', to_tag: 'string', to_user: 'string' },
};

const VERSIONS: readonly AlertmanagerVersion[] = ['0.25', '0.28', '0.33'];

/** The Alertmanager line of a release (0.25, 0.28, 0.33). */
export function alertmanagerVersion(release: Release): AlertmanagerVersion {
  const v = release.components.alertmanager.version;
  return (VERSIONS as readonly string[]).includes(v) ? (v as AlertmanagerVersion) : '0.33';
}

/** The keys a part (`global`, `route`, `receiver`, `webhook_configs`, `http_config`, …) takes in `version`, and their kinds. */
export function fieldsOf(part: string, version: AlertmanagerVersion): ReadonlyMap<string, FieldKind> {
  const out = new Map<string, FieldKind>();
  for (const [key, spec] of Object.entries(FIELDS[part] ?? {})) {
    const [kind, since = '0.25'] = spec.split('@') as [FieldKind, string?];
    if (VERSIONS.indexOf(since as AlertmanagerVersion) <= VERSIONS.indexOf(version)) out.set(key, kind);
  }
  return out;
}

type Yield = Omit<Finding, 'code' | 'rule'>;
export type Locate = (path: PropertyPath) => Yield['location'];
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Alertmanager's error for one value of a given kind; undefined when it takes it. */
export function valueProblem(kind: FieldKind, v: unknown, version: AlertmanagerVersion): { message: string; hint: string } | undefined {
  if (v === null || v === undefined || kind === 'any') return undefined;
  const scalar = typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
  const into = (type: string, hint: string) => ({ message: `cannot unmarshal ${goShown(v)} into ${type}`, hint });
  switch (kind) {
    case 'string':
      return scalar ? undefined : into('string', 'give a single value here, not a list or a mapping');
    case 'bool':
      return typeof v === 'boolean' || (typeof v === 'string' && YAML11_BOOLS.has(v)) ? undefined : into('bool', 'write true or false');
    case 'int':
    case 'uint': {
      const ok = typeof v === 'number' ? Number.isSafeInteger(v) && (kind === 'int' || v >= 0) : false;
      return ok ? undefined : into(kind === 'int' ? 'int' : 'uint64', kind === 'int' ? 'write a whole number' : 'write a whole number, 0 or more');
    }
    case 'url': {
      if (!scalar) return into('string', 'write the URL as one string, e.g. http://203.0.113.10:5001/hook');
      // Alertmanager 0.33 reads an empty URL as none given (and then asks for one).
      if (version === '0.33' && v === '') return undefined;
      const problem = alertmanagerUrlProblem(goText(v as string | number | boolean), version === '0.33');
      return problem ? { message: problem, hint: 'write an http:// or https:// URL with a host, e.g. http://203.0.113.10:5001/hook; percent-encode spaces and control characters' } : undefined;
    }
    case 'duration': {
      if (!scalar) return into('string', 'write a duration such as 5m');
      const text = goText(v);
      if (Duration.tryParse(text) !== undefined) return undefined;
      return Duration.problem(text)?.startsWith('out of range')
        ? { message: 'duration out of range', hint: 'Alertmanager takes durations up to 292y' }
        : { message: `not a valid duration string: "${text}"`, hint: 'use e.g. 30s, 5m, 4h, 1d' };
    }
    case 'goduration':
    case 'goduration-text': {
      if (kind === 'goduration' && typeof v === 'number' && Number.isSafeInteger(v)) return undefined;
      if (!scalar) return into('time.Duration', 'write a duration such as 30s');
      const problem = goDurationProblem(goText(v));
      if (!problem) return undefined;
      // time.Duration fields refuse a bad text as a YAML type error; the others quote Go's time package.
      return kind === 'goduration' ? into('time.Duration', 'write a Go duration such as 30s or 1h30m (no d, w or y)') : { message: problem, hint: 'write a Go duration such as 30s or 1h30m (no d, w or y)' };
    }
    case 'strings':
      return Array.isArray(v) && v.every((x) => x === null || typeof x !== 'object') ? undefined : into('[]string', 'write a list of strings, e.g. [alertname]');
    case 'list':
    case 'configs':
    case 'routes':
      return Array.isArray(v) ? undefined : into(`a list`, 'write a list (`- ` entries)');
    case 'object':
      return isObj(v) ? undefined : into('a mapping', 'write a mapping of its fields');
  }
}

/**
 * Every key of `o` that `part` takes in `version`, checked for its kind; unknown keys
 * refused; `object` fields (http_config, tls_config, …) checked in turn. Integration lists
 * and routes are left to the caller, which knows their parts.
 */
export function* partFields(o: Obj, part: string, path: PropertyPath, version: AlertmanagerVersion, what: string, locate: Locate): Generator<Yield> {
  const fields = fieldsOf(part, version);
  for (const [key, value] of Object.entries(o)) {
    const kind = fields.get(key);
    if (kind === undefined) {
      const later = VERSIONS.find((v) => fieldsOf(part, v).has(key));
      yield {
        severity: 'error',
        message: `unknown key "${key}" in ${what}: Alertmanager ${version} refuses it (field ${key} not found)`,
        location: locate([...path, key]),
        hint: later ? `${key} needs Alertmanager ${later} or later: remove it, or choose a release that has it` : `allowed: ${[...fields.keys()].join(', ')}`,
      };
      continue;
    }
    // Alertmanager 0.33 reads a webhook URL with "{{" as a template, checked by its amtool.
    const template = version === '0.33' && part === 'webhook_configs' && key === 'url' && typeof value === 'string' && value.includes('{{');
    const problem = template ? undefined : valueProblem(kind, value, version);
    if (problem) {
      yield { severity: 'error', message: `${key}: ${problem.message}`, location: locate([...path, key]), hint: problem.hint };
      continue;
    }
    if ((key === 'smarthost' || key === 'smtp_smarthost') && (typeof value === 'string' || typeof value === 'number') && value !== '') {
      const hostPort = goHostPortProblem(goText(value));
      if (hostPort) yield { severity: 'error', message: hostPort, location: locate([...path, key]), hint: 'write the mail server as host:port, e.g. mail.example.net:587 ([::1]:25 for an IPv6 address)' };
    }
    if (kind === 'object' && isObj(value)) {
      yield* partFields(value, key === 'smtp_tls_config' ? 'tls_config' : key, [...path, key], version, key, locate);
      if (key === 'http_config') yield* httpConfigRules(value, [...path, key], version, locate);
    }
  }
}

/**
 * What Prometheus' common HTTP client config (which Alertmanager's http_config is) refuses
 * on load: more than one way to authenticate, and an oauth2 without client_id. Messages as
 * the release's Alertmanager words them (0.28 added the *_ref fields to the count).
 */
function* httpConfigRules(c: Obj, path: PropertyPath, version: AlertmanagerVersion, locate: Locate): Generator<Yield> {
  const set = (o: unknown, key: string) => isObj(o) && o[key] !== undefined && o[key] !== null && o[key] !== '';
  const has = (key: string) => c[key] !== undefined && c[key] !== null;
  const err = (message: string, at: PropertyPath, hint: string): Yield => ({ severity: 'error', message, location: locate([...path, ...at]), hint });
  const bearer = set(c, 'bearer_token') || set(c, 'bearer_token_file');
  if (set(c, 'bearer_token') && set(c, 'bearer_token_file')) yield err('at most one of bearer_token & bearer_token_file must be configured', ['bearer_token_file'], 'keep bearer_token or bearer_token_file');
  if ((has('basic_auth') || has('oauth2')) && bearer)
    yield err('at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured', [set(c, 'bearer_token') ? 'bearer_token' : 'bearer_token_file'], 'authenticate one way: basic_auth, oauth2 or a bearer token');
  const refs = version === '0.25' ? '' : '_ref';
  const basic = c['basic_auth'];
  if (isObj(basic)) {
    if (refs && ['username', 'username_file', 'username_ref'].filter((k) => set(basic, k)).length > 1)
      yield err('at most one of basic_auth username, username_file & username_ref must be configured', ['basic_auth'], 'keep one of username, username_file, username_ref');
    const passwords = ['password', 'password_file', ...(refs ? ['password_ref'] : [])];
    if (passwords.filter((k) => set(basic, k)).length > 1)
      yield err(refs ? 'at most one of basic_auth password, password_file & password_ref must be configured' : 'at most one of basic_auth password & password_file must be configured', ['basic_auth'], 'keep password or password_file');
  }
  const auth = c['authorization'];
  if (isObj(auth)) {
    if (bearer) yield err('authorization is not compatible with bearer_token & bearer_token_file', ['authorization'], 'keep authorization (type Bearer and credentials) or the bearer token');
    if (typeof auth['type'] === 'string' && auth['type'].trim().toLowerCase() === 'basic')
      yield err('authorization type cannot be set to "basic", use "basic_auth" instead', ['authorization', 'type'], 'use `basic_auth: {username, password_file}` for basic authentication');
  }
  if ((has('basic_auth') || has('oauth2')) && has('authorization')) yield err('at most one of basic_auth, oauth2 & authorization must be configured', ['authorization'], 'authenticate one way');
  else if (has('basic_auth') && has('oauth2')) yield err('at most one of basic_auth, oauth2 & authorization must be configured', ['oauth2'], 'authenticate one way');
  const oauth2 = c['oauth2'];
  if (isObj(oauth2) && !set(oauth2, 'client_id')) yield err('oauth2 client_id must be configured', ['oauth2'], 'give the oauth2 client_id (and token_url, client_secret or client_secret_file)');
}
