import { Duration } from '../../duration.ts';
import { regexpProblem } from '../../alertmanager/matchers.ts';
import type { Release } from '../../release/release.ts';
import type { PropertyPath } from '../../topology/yaml-source.ts';
import type { Finding } from '../finding.ts';
import { goShown, goText, YAML11_BOOLS } from '../go-values.ts';

/*
 * The fields of a Prometheus scrape config as each release's Prometheus reads them, so
 * `check` refuses at the topology field what `promtool check config` refuses in the
 * rendered prometheus.yml. Derived from the binaries (promtool 2.42.0, 2.53.3, 3.5.3:
 * every yaml key they know offered to each part, then a value of the wrong kind to each
 * key). `KIND@2.53` came with 2.53; `@2.53..2.53` is in 2.53 only (3.x renamed it).
 *
 * Debian builds Prometheus without some service discoveries, so the `*_sd_configs` a
 * release takes differ from upstream's (bookworm's 2.42 has no kubernetes_sd_configs).
 */

export type PrometheusVersion = '2.42' | '2.53' | '3.5';
type Kind = 'string' | 'bool' | 'uint' | 'float' | 'duration' | 'strings' | 'relabels' | 'statics' | 'object' | 'sd' | 'any';

// prettier-ignore
const FIELDS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  scrape_config: { always_scrape_classic_histograms: 'bool@3.5', authorization: 'object', basic_auth: 'object', bearer_token: 'string', bearer_token_file: 'string', body_size_limit: 'any', convert_classic_histograms_to_nhcb: 'bool@3.5', enable_compression: 'bool@2.53', enable_http2: 'bool', fallback_scrape_protocol: 'any@3.5', follow_redirects: 'bool', honor_labels: 'bool', honor_timestamps: 'bool', http_headers: 'any@2.53', job_name: 'string', keep_dropped_targets: 'uint@2.53', label_limit: 'uint', label_name_length_limit: 'uint', label_value_length_limit: 'uint', metric_name_escaping_scheme: 'string@3.5', metric_name_validation_scheme: 'string@3.5', metric_relabel_configs: 'relabels', metrics_path: 'string', native_histogram_bucket_limit: 'uint@2.53', native_histogram_min_bucket_factor: 'float@2.53', no_proxy: 'string@2.53', oauth2: 'object', params: 'any', proxy_connect_header: 'any', proxy_from_environment: 'bool@2.53', proxy_url: 'string', relabel_configs: 'relabels', sample_limit: 'uint', scheme: 'string', scrape_classic_histograms: 'bool@2.53..2.53', scrape_failure_log_file: 'string@3.5', scrape_interval: 'duration', scrape_protocols: 'any@2.53', scrape_timeout: 'duration', static_configs: 'statics', target_limit: 'uint', tls_config: 'object', track_timestamps_staleness: 'bool@2.53' },
  static_config: { labels: 'any', targets: 'strings' },
  relabel_config: { action: 'string', modulus: 'uint', regex: 'string', replacement: 'string', separator: 'string', source_labels: 'strings', target_label: 'string' },
  tls_config: { ca: 'string@2.53', ca_file: 'string', ca_ref: 'string@2.53', cert: 'string@2.53', cert_file: 'string', cert_ref: 'string@2.53', insecure_skip_verify: 'bool', key: 'string@2.53', key_file: 'string', key_ref: 'string@2.53', max_version: 'string', min_version: 'string', server_name: 'string' },
  basic_auth: { password: 'string', password_file: 'string', password_ref: 'string@2.53', username: 'string', username_file: 'string@2.53', username_ref: 'string@2.53' },
  authorization: { credentials: 'string', credentials_file: 'string', credentials_ref: 'string@2.53', type: 'string' },
  oauth2: { audience: 'string@3.5', claims: 'any@3.5', client_certificate_key: 'string@3.5', client_certificate_key_file: 'string@3.5', client_certificate_key_id: 'string@3.5', client_certificate_key_ref: 'string@3.5', client_id: 'string', client_secret: 'string', client_secret_file: 'string', client_secret_ref: 'string@2.53', endpoint_params: 'any', grant_type: 'string@3.5', iss: 'string@3.5', no_proxy: 'string@2.53', proxy_connect_header: 'any@2.53', proxy_from_environment: 'bool@2.53', proxy_url: 'string', scopes: 'strings', signature_algorithm: 'string@3.5', tls_config: 'object', token_url: 'string' },
};

/** The service discoveries Debian's Prometheus of each release is built with (probed: `<name>_sd_configs: null`). */
// prettier-ignore
const SERVICE_DISCOVERIES: Readonly<Record<PrometheusVersion, readonly string[]>> = {
  '2.42': ['azure', 'digitalocean', 'docker', 'dockerswarm', 'dns', 'ec2', 'eureka', 'file', 'gce', 'hetzner', 'http', 'ionos', 'lightsail', 'marathon', 'nerve', 'openstack', 'ovhcloud', 'puppetdb', 'scaleway', 'serverset', 'triton', 'uyuni', 'vultr'],
  '2.53': ['digitalocean', 'docker', 'dockerswarm', 'dns', 'ec2', 'eureka', 'file', 'gce', 'hetzner', 'http', 'ionos', 'kubernetes', 'lightsail', 'linode', 'marathon', 'nerve', 'openstack', 'ovhcloud', 'puppetdb', 'scaleway', 'serverset', 'triton', 'uyuni', 'vultr'],
  '3.5': ['digitalocean', 'docker', 'dockerswarm', 'dns', 'ec2', 'eureka', 'file', 'gce', 'hetzner', 'http', 'ionos', 'kubernetes', 'lightsail', 'linode', 'marathon', 'nerve', 'ovhcloud', 'puppetdb', 'scaleway', 'serverset', 'triton', 'uyuni', 'vultr'],
};

const VERSIONS: readonly PrometheusVersion[] = ['2.42', '2.53', '3.5'];
const RELABEL_ACTIONS = ['replace', 'keep', 'drop', 'hashmod', 'labelmap', 'labeldrop', 'labelkeep', 'lowercase', 'uppercase', 'keepequal', 'dropequal'];

export function prometheusVersion(release: Release): PrometheusVersion {
  const v = release.components.prometheus.version;
  return (VERSIONS as readonly string[]).includes(v) ? (v as PrometheusVersion) : '3.5';
}

function fieldsOf(part: string, version: PrometheusVersion): Map<string, Kind> {
  const out = new Map<string, Kind>();
  const at = VERSIONS.indexOf(version);
  for (const [key, spec] of Object.entries(FIELDS[part] ?? {})) {
    const [kind, range = '2.42'] = spec.split('@') as [Kind, string?];
    const [since, until = '3.5'] = range.split('..') as [PrometheusVersion, PrometheusVersion?];
    if (VERSIONS.indexOf(since) <= at && at <= VERSIONS.indexOf(until)) out.set(key, kind);
  }
  if (part === 'scrape_config') for (const sd of SERVICE_DISCOVERIES[version]) out.set(`${sd}_sd_configs`, 'sd');
  return out;
}

type Yield = Omit<Finding, 'code' | 'rule'>;
type Locate = (path: PropertyPath) => Yield['location'];
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
/** Prometheus 2.x label names; 3.x takes any UTF-8 name but the empty one. */
const LEGACY_LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const labelNameOk = (name: string, version: PrometheusVersion) => (version === '3.5' ? name !== '' : LEGACY_LABEL.test(name));


function kindProblem(kind: Kind, v: unknown): { message: string; hint: string } | undefined {
  if (v === null || v === undefined || kind === 'any') return undefined;
  const scalar = typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
  const into = (type: string, hint: string) => ({ message: `cannot unmarshal ${goShown(v)} into ${type}`, hint });
  switch (kind) {
    case 'string':
      return scalar ? undefined : into('string', 'give a single value here, not a list or a mapping');
    case 'bool':
      return typeof v === 'boolean' || (typeof v === 'string' && YAML11_BOOLS.has(v)) ? undefined : into('bool', 'write true or false');
    case 'uint':
      return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? undefined : into('uint', 'write a whole number, 0 or more');
    case 'float':
      return typeof v === 'number' ? undefined : into('float64', 'write a number');
    case 'duration': {
      if (!scalar) return into('string', 'write a duration such as 30s');
      const text = goText(v);
      if (Duration.tryParse(text) !== undefined) return undefined;
      return Duration.problem(text)?.startsWith('out of range')
        ? { message: 'duration out of range', hint: 'Prometheus takes durations up to 292y' }
        : { message: `not a valid duration string: "${text}"`, hint: 'use e.g. 15s, 1m, 5m' };
    }
    case 'strings':
      return Array.isArray(v) && v.every((x) => x === null || typeof x !== 'object') ? undefined : into('[]string', 'write a list of strings');
    case 'relabels':
    case 'statics':
    case 'sd':
      return Array.isArray(v) ? undefined : into('a list', 'write a list (`- ` entries)');
    case 'object':
      return isObj(v) ? undefined : into('a mapping', 'write a mapping of its fields');
  }
}

function* fields(o: Obj, part: string, path: PropertyPath, version: PrometheusVersion, what: string, locate: Locate): Generator<Yield> {
  const known = fieldsOf(part, version);
  for (const [key, value] of Object.entries(o)) {
    const kind = known.get(key);
    if (kind === undefined) {
      const other = VERSIONS.find((v) => fieldsOf(part, v).has(key));
      yield {
        severity: 'error',
        message: `field ${key} not found in ${what}: Prometheus ${version} refuses it`,
        location: locate([...path, key]),
        hint: other
          ? key.endsWith('_sd_configs')
            ? `Debian's Prometheus ${version} is built without ${key.replace(/_sd_configs$/, '')} service discovery (${VERSIONS.filter((v) => fieldsOf(part, v).has(key)).join(', ')} has it): use static_configs, file_sd_configs or another discovery it has`
            : `${key} is a field of Prometheus ${VERSIONS.filter((v) => fieldsOf(part, v).has(key)).join(', ')}: remove it, or choose a release that has it`
          : `check the spelling; ${what} takes: ${[...known.keys()].filter((k) => !k.endsWith('_sd_configs')).join(', ')}, and *_sd_configs`,
      };
      continue;
    }
    const problem = kindProblem(kind, value);
    if (problem) {
      yield { severity: 'error', message: `${key}: ${problem.message}`, location: locate([...path, key]), hint: problem.hint };
      continue;
    }
    if (kind === 'object' && isObj(value)) yield* fields(value, key, [...path, key], version, key, locate);
  }
}

/** Everything of one passed-through scrape config that the release's Prometheus refuses when it loads it (job names aside). */
export function* scrapeConfigProblems(c: Obj, path: PropertyPath, version: PrometheusVersion, globalInterval: Duration, locate: Locate): Generator<Yield> {
  yield* fields(c, 'scrape_config', path, version, 'a scrape config', locate);
  const given = c['job_name'];
  const job = typeof given === 'string' || typeof given === 'number' || typeof given === 'boolean' ? goText(given) : '';

  const scalarText = (v: unknown) => (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? goText(v) : '');
  const interval = Duration.tryParse(scalarText(c['scrape_interval'])) ?? globalInterval;
  const timeout = c['scrape_timeout'] === undefined || c['scrape_timeout'] === null ? undefined : Duration.tryParse(scalarText(c['scrape_timeout']));
  if (timeout && timeout.ms > interval.ms)
    yield {
      severity: 'error',
      message: `scrape timeout greater than scrape interval for scrape config with job name "${job}" (${timeout} > ${interval})`,
      location: locate([...path, 'scrape_timeout']),
      hint: `make scrape_timeout at most the scrape interval (${interval})`,
    };

  for (const key of ['relabel_configs', 'metric_relabel_configs']) {
    const list = c[key];
    if (!Array.isArray(list)) continue;
    for (const [i, r] of list.entries()) {
      const at: PropertyPath = [...path, key, i];
      if (!isObj(r)) {
        yield { severity: 'error', message: `empty or null ${key === 'relabel_configs' ? 'target' : 'metric'} relabeling rule in scrape config`, location: locate(at), hint: 'each entry is a mapping: action, source_labels, regex, target_label, replacement' };
        continue;
      }
      yield* fields(r, 'relabel_config', at, version, 'a relabel config', locate);
      const given = r['action'];
      // Prometheus lowercases the action; an absent one is `replace`.
      const action = given === undefined || given === null ? 'replace' : typeof given === 'object' ? undefined : goText(given as string | number | boolean);
      if (action !== undefined && !RELABEL_ACTIONS.includes(action.toLowerCase()))
        yield { severity: 'error', message: `unknown relabel action "${action}"`, location: locate([...at, 'action']), hint: `use one of: ${RELABEL_ACTIONS.join(', ')}` };
      if (typeof r['regex'] === 'string' || typeof r['regex'] === 'number') {
        const problem = regexpProblem(goText(r['regex']));
        if (problem) yield { severity: 'error', message: problem, location: locate([...at, 'regex']), hint: 'fix the regular expression (Go RE2 syntax; Prometheus anchors it at both ends)' };
      }
      const sources = r['source_labels'];
      if (Array.isArray(sources))
        for (const [j, name] of sources.entries())
          if ((typeof name === 'string' || typeof name === 'number') && !labelNameOk(goText(name), version))
            yield { severity: 'error', message: `"${goText(name)}" is not a valid label name`, location: locate([...at, 'source_labels', j]), hint: version === '3.5' ? 'give a label name' : 'label names are letters, digits and "_", not starting with a digit' };
    }
  }

  const statics = c['static_configs'];
  if (!Array.isArray(statics)) return;
  for (const [g, group] of statics.entries()) {
    const at: PropertyPath = [...path, 'static_configs', g];
    if (!isObj(group)) {
      yield { severity: 'error', message: 'empty or null section in static_configs', location: locate(at), hint: 'each entry is a mapping: targets: [host:port, …] and optional labels' };
      continue;
    }
    yield* fields(group, 'static_config', at, version, 'a static config', locate);
    const targets = group['targets'];
    if (Array.isArray(targets))
      for (const [t, target] of targets.entries()) {
        if (target === null || typeof target === 'object') continue;
        const text = goText(target);
        if (text === '')
          yield { severity: 'error', message: `instance ${t} in group ${g}: no address`, location: locate([...at, 'targets', t]), hint: 'give each target as host:port' };
        // Prometheus checks for a URL: a target is host:port, the scheme and path go to `scheme` and `metrics_path`.
        else if (text.includes('/'))
          yield {
            severity: 'error',
            message: `"${text}" is not a valid hostname`,
            location: locate([...at, 'targets', t]),
            hint: 'write the target as host:port; put a scheme in `scheme:` and a path in `metrics_path:`',
          };
      }
    const labels = group['labels'];
    if (isObj(labels))
      for (const [name, value] of Object.entries(labels)) {
        if (!labelNameOk(name, version))
          yield { severity: 'error', message: `"${name}" is not a valid label name`, location: locate([...at, 'labels', name]), hint: version === '3.5' ? 'give the label a name' : 'label names are letters, digits and "_", not starting with a digit' };
        else if (value !== null && typeof value === 'object')
          yield { severity: 'error', message: `labels.${name}: cannot unmarshal ${goShown(value)} into model.LabelValue`, location: locate([...at, 'labels', name]), hint: 'label values are strings' };
      }
    else if (labels !== undefined && labels !== null)
      yield { severity: 'error', message: `labels: cannot unmarshal ${goShown(labels)} into model.LabelSet`, location: locate([...at, 'labels']), hint: 'write labels as a mapping of names to values' };
  }
}
