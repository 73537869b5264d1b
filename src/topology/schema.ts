import * as z from 'zod';
import { Address } from '../address.ts';
import { Duration } from '../duration.ts';
import { RELEASE_NAMES } from '../release/release.ts';
import { MAX_METRIC_PATTERN_LENGTH, metricPatternProblem } from './metric-pattern.ts';
import { hostPathProblem, interfaceNameProblem } from './host-names.ts';

/*
 * The topology file, in the seed's words. Snake_case keys, like the Prometheus and
 * Alertmanager files that operators already write. Parts that are standard
 * Prometheus/Alertmanager configuration (scrape_configs, route, receivers,
 * inhibit_rules) pass through unchanged; the real binaries validate them.
 *
 * Rules that relate several fields (two members per set, timings, retention)
 * are not encoded here but in check/, where each has a code, a location and a hint.
 */

/** Longer selectors are no configuration but a mistake (or an attack on the checks' time). */
export const MAX_MATCH_LENGTH = 4096;
export const MAX_JOB_NAME_LENGTH = 256;

const DURATION_PATTERN = '^(0|([0-9]+(y|w|d|h|m|s|ms))+)$';


export const durationSchema = z
  .string()
  // abort: a value that is no duration at all gets one message, not two.
  .regex(new RegExp(DURATION_PATTERN), { error: 'not a duration: use e.g. 30s, 5m, 1h30m, 15d', abort: true })
  .superRefine((s, ctx) => {
    // Units out of order, or beyond the int64 nanoseconds of the real binaries.
    const p = Duration.problem(s);
    if (p) ctx.addIssue({ code: 'custom', message: p });
  })
  .transform((s) => Duration.parse(s))
  .meta({ description: 'A Prometheus duration: 30s, 5m, 1h30m, 15d' });


/**
 * Prometheus label names (2.42): letters, digits and "_", not starting with a digit.
 * Names starting with "__" are reserved: Prometheus drops them after relabelling, or
 * reads them as scrape settings (__scheme__, __metrics_path__, __param_*).
 */
export function labelNameProblem(name: string): string | undefined {
  if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name))
    return `"${name}" is not a Prometheus label name: use letters, digits and "_" (not "-" or "."), not starting with a digit`;
  if (name.startsWith('__')) return `label names starting with "__" are reserved for Prometheus ("${name}"): it drops them or reads them as scrape settings`;
  return undefined;
}

/** Label name → value; each name is checked on its own, so the message names the key. */
const labelsSchema = z.record(z.string(), z.string()).superRefine((labels, ctx) => {
  for (const name of Object.keys(labels)) {
    const problem = labelNameProblem(name);
    if (problem) ctx.addIssue({ code: 'custom', path: [name], message: problem });
  }
});

const autoOr = <T extends z.ZodType>(schema: T) => z.union([z.literal('auto'), schema]);

export const nameSchema = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'names are lowercase letters, digits and "-" (they become directory, host and Kubernetes names)')
  .max(63, 'names are at most 63 characters (a DNS label)')
  .meta({ description: 'A name of lowercase letters, digits and "-", as in the seed: scraper1, pushgateway2, federator1' });

export const addressSchema = z
  .string()
  .superRefine((s, ctx) => {
    const p = Address.problem(s);
    if (p) ctx.addIssue({ code: 'custom', message: p });
  })
  .transform((s) => Address.parse(s))
  .meta({ description: 'host:port where the member serves HTTP, e.g. 10.0.1.11:9090' });

/** A string checked by one of the grammars of host-names.ts, with its message at the value. */
const grammar = (problem: (s: string) => string | undefined) =>
  z.string().superRefine((s, ctx) => {
    const p = problem(s);
    if (p) ctx.addIssue({ code: 'custom', message: p });
  });

const storagePathSchema = grammar(hostPathProblem).meta({
  description:
    'TSDB directory on the member\'s host: an absolute, normalised path of letters, digits and "/._+@-", dedicated to this data (not a system directory such as /var/lib, and apart from the config directory). Default /var/lib/promha/<member>',
});

/** Longest local path accepted: a quarter of PATH_MAX, leaving room for the topology's directory. */
export const MAX_LOCAL_PATH = 1024;
/** NAME_MAX: the longest name of one directory entry (bytes) on Linux file systems. */
const MAX_PATH_COMPONENT_BYTES = 255;

/**
 * Why `p` is no path promha can open on this machine, or undefined. These paths (the CA
 * directory, supplied certificates, the password file) are read by promha only, never
 * written into a config, so any character a file name can hold is fine but NUL (which no
 * system call takes) and control characters (which would garble the messages that show
 * the path); the lengths keep ENAMETOOLONG from surfacing later without a location.
 */
export function localPathProblem(p: string): string | undefined {
  if (p === '') return 'is empty';
  if (p.includes('\0')) return 'holds a NUL byte, which no file name can contain';
  // eslint-disable-next-line no-control-regex
  if (/[\u0001-\u001f\u007f]/.test(p)) return `${JSON.stringify(p.slice(0, 80))}${p.length > 80 ? '…' : ''} holds control characters (a newline, a tab, an escape)`;
  if (p.length > MAX_LOCAL_PATH) return `is ${p.length} characters long; a path here is at most ${MAX_LOCAL_PATH}`;
  const long = p.split('/').find((c) => Buffer.byteLength(c) > MAX_PATH_COMPONENT_BYTES);
  if (long !== undefined) return `"${long.slice(0, 40)}…" is ${Buffer.byteLength(long)} bytes long; a file or directory name is at most ${MAX_PATH_COMPONENT_BYTES}`;
  return undefined;
}

/** A file or directory on the machine promha runs on, relative to the topology file. */
const localPathSchema = (description: string) =>
  z
    .string()
    // abort: an empty or hostile path gets one message, not one per rule it breaks.
    .superRefine((s, ctx) => {
      const p = localPathProblem(s);
      if (p) ctx.addIssue({ code: 'custom', message: p, abort: true });
    })
    // maxLength: editors flag a long path as it is typed (the message above says why).
    .meta({ description: `${description}. At most ${MAX_LOCAL_PATH} characters, no control characters`, minLength: 1, maxLength: MAX_LOCAL_PATH });

const passthrough = z.record(z.string(), z.unknown());

export const memberSchema = z.strictObject({
  name: nameSchema.meta({ description: 'Member name, as in the seed: scraper1-1, pushgateway2-2, alertmanager1-3 …' }),
  address: addressSchema,
});

export const alertmanagerMemberSchema = memberSchema.extend({
  cluster_address: addressSchema
    .optional()
    .meta({ description: 'host:port of the gossip listener (TCP and UDP). Default: the member host, port 9094' }),
});

export const intervalsSchema = z
  .strictObject({
    scrape: durationSchema.default(Duration.seconds(30)).meta({ description: 'How often scrapers scrape the exporters. Default 30s' }),
    push: durationSchema.default(Duration.seconds(30)).meta({ description: 'How often pushers push to the VIP. Default 30s' }),
    federate: durationSchema.default(Duration.seconds(30)).meta({ description: 'How often federators scrape every scraper and pushgateway member. Default 30s' }),
    evaluate: durationSchema.default(Duration.seconds(30)).meta({ description: 'Rule evaluation interval on the federators. Default 30s' }),
  })
  .meta({ description: 'The seed advises 30s or 1m: one missed scrape must stay well inside the 5m staleness window' });

export const exporterGroupSchema = z
  .strictObject({
    name: nameSchema.meta({ description: 'Exporter group name; also the job name when `targets` is used' }),
    targets: z.array(addressSchema).min(1).optional().meta({ description: 'Static exporter targets (host:port), scraped as job <name>' }),
    labels: labelsSchema.optional().meta({ description: 'Extra target labels for `targets`' }),
    scrape_configs: z
      .array(passthrough)
      .min(1)
      .optional()
      .meta({ description: 'Standard Prometheus scrape_configs, passed through unchanged (any service discovery)' }),
  })
  .superRefine((g, ctx) => {
    if ((g.targets === undefined) === (g.scrape_configs === undefined))
      ctx.addIssue({
        code: 'custom',
        path: ['targets'],
        message: 'an exporter group needs either `targets` or `scrape_configs` (exactly one of them)',
      });
  });

export const scraperSetSchema = z.strictObject({
  name: nameSchema,
  exporters: z.array(z.string()).min(1).meta({ description: 'Names of the exporter groups this set scrapes' }),
  members: z.array(memberSchema).min(1).meta({ description: 'Exactly two members, both scraping the same exporters' }),
  storage: z
    .strictObject({
      persistent: z.boolean().default(false).meta({ description: 'Scrapers need no persistence (seed). Default false' }),
      retention: durationSchema.default(Duration.hours(6)).meta({ description: 'Short retention is enough. Default 6h' }),
      path: storagePathSchema.optional(),
    })
    .prefault({}),
});

export const pushedJobSchema = z.strictObject({
  name: z.string().min(1).max(MAX_JOB_NAME_LENGTH, `job names are at most ${MAX_JOB_NAME_LENGTH} characters`).meta({ description: 'The `job` label pushers use' }),
  metrics: z
    .array(
      z
        .string()
        .min(1)
        .superRefine((s, ctx) => {
          const p = metricPatternProblem(s);
          if (p) ctx.addIssue({ code: 'custom', message: p });
        })
        .meta({ description: `A metric name, or an RE2 regular expression of at most ${MAX_METRIC_PATTERN_LENGTH} characters without nested quantifiers: [a-z_]+_total, not ([a-z_]+)+_total` }),
    )
    .default([])
    .meta({ description: 'Metric names (or regular expressions) pushed under this job, so checks know which rules read pushed data' }),
});

export const pushgatewaySetSchema = z.strictObject({
  name: nameSchema,
  vip: z
    .strictObject({
      address: addressSchema.meta({ description: 'VIP address pushers push to (IP:port); federators never scrape it' }),
      interface: grammar(interfaceNameProblem)
        .default('eth0')
        .meta({ description: 'Network interface keepalived puts the VIP on: a Linux interface name of at most 15 letters, digits and "_.-@". Default eth0' }),
      virtual_router_id: z.number().int().min(1).max(255).optional().meta({ description: 'VRRP router id, unique per network. Default 51 + set index' }),
      advert_int: durationSchema
        .refine((d) => d.seconds >= 1 && d.seconds <= 255, { error: 'out of range: keepalived takes advert_int from 1s to 255s', abort: true })
        // VRRP version 2 (keepalived's default for IPv4) counts the interval in whole seconds and rounds anything else.
        .refine((d) => d.ms % 1000 === 0, 'keepalived takes advert_int in whole seconds (VRRP version 2 rounds anything else)')
        .default(Duration.seconds(1))
        .meta({ description: 'VRRP advertisement interval, whole seconds from 1s to 255s. Default 1s' }),
    })
    .meta({ description: 'The address pushers use; keepalived moves it, never failing back' }),
  jobs: z.array(pushedJobSchema).default([]).meta({ description: 'Jobs pushed to this set' }),
  members: z.array(memberSchema).min(1).meta({ description: 'Exactly two members behind the VIP' }),
  persistence_file: z
    .string()
    .default('')
    .meta({ description: 'Pushgateway --persistence.file. Must stay empty: a restarted gateway must come back empty' }),
});

export const federatorSetSchema = z.strictObject({
  name: nameSchema,
  members: z.array(memberSchema).min(1).meta({ description: 'Exactly two members; each scrapes every scraper and pushgateway member directly' }),
  storage: z
    .strictObject({
      persistent: z.boolean().default(true).meta({ description: 'Federators must persist: rules evaluate over history. Default true' }),
      path: storagePathSchema.optional(),
      retention: autoOr(durationSchema)
        .default('auto')
        .meta({ description: '`auto` = the longest history any rule reads, plus a margin' }),
    })
    .prefault({}),
  match: z
    .array(
      z
        .string()
        .min(1)
        .max(MAX_MATCH_LENGTH, `a match[] selector is at most ${MAX_MATCH_LENGTH} characters`)
        .meta({ description: `A series selector of at most ${MAX_MATCH_LENGTH} characters, e.g. {job="node"}` }),
    )
    .min(1)
    .default(['{__name__=~".+"}'])
    .meta({ description: 'match[] selectors for /federate. Default: everything' }),
  rule_files: z.array(z.string().min(1)).default([]).meta({ description: 'Standard Prometheus rule files, relative to this file' }),
  out_of_order_window: autoOr(durationSchema)
    .default('auto')
    .meta({ description: 'TSDB out-of-order window that lets both scraper copies feed one series. `auto` = max(30s, 2 × (scrape + federate))' }),
  for_grace_period: durationSchema.optional().meta({ description: 'Prometheus --rules.alert.for-grace-period (default 10m)' }),
  resend_delay: durationSchema
    .optional()
    .meta({
      description:
        'Prometheus --rules.alert.resend-delay (default 1m): how often firing alerts are re-sent, and how soon alerts lost at start (before the Alertmanagers are discovered) arrive. Alertmanager resolves alerts 4 × this after the last send',
    }),
  scrape_configs: z
    .array(passthrough)
    .default([])
    .meta({ description: 'Extra scrape_configs for the federators, passed through (never a VIP)' }),
});

export const alertmanagerClusterSchema = z.strictObject({
  name: nameSchema,
  members: z.array(alertmanagerMemberSchema).min(1).meta({ description: 'The two active members: they receive alerts and notify' }),
  backup: alertmanagerMemberSchema.meta({
    description: 'The backup member: in the gossip cluster for silences and the notification log only; receives no alerts, sends no notifications',
  }),
  peer_timeout: autoOr(durationSchema)
    .default('auto')
    .meta({ description: 'Alertmanager --cluster.peer-timeout. `auto` = 3.5 × the evaluation interval: several intervals, off their beat' }),
  cluster_label: z
    .union([
      z.literal(false),
      z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'a cluster label is 1-63 letters, digits, "_", "." or "-", starting with a letter or digit'),
    ])
    .optional()
    .meta({
      description:
        'Alertmanager --cluster.label (Alertmanager 0.26+): members gossip only with peers of the same label, so two clusters on one network never merge. Default: promha-<set name>. `false`: no label, for a cluster that runs without one (Debian 12\'s Alertmanager 0.25 has none): members of different labels never gossip, so a rolling upgrade keeps the label the cluster runs with',
    }),
  global: passthrough.optional().meta({ description: 'Alertmanager `global`, passed through' }),
  templates: z.array(z.string()).optional(),
  route: passthrough.meta({ description: 'Alertmanager `route`, passed through to the active members' }),
  receivers: z.array(passthrough).min(1).meta({ description: 'Alertmanager `receivers`, passed through to the active members' }),
  inhibit_rules: z.array(passthrough).optional(),
});

export const suppliedCaSchema = z
  .strictObject({
    ca_file: localPathSchema('PEM file of the CA that signed the certificate, relative to this file'),
    cert_file: localPathSchema('PEM certificate used by every member, with every member address as an IP or DNS SAN'),
    key_file: localPathSchema('PEM private key of cert_file (keep it mode 0600)'),
  })
  .meta({ description: 'Certificates you supply: one certificate, signed by ca_file, for every member' });

export const tlsSchema = z.strictObject({
  ca: z
    .union([z.literal('generate'), suppliedCaSchema])
    .default('generate')
    .meta({ description: '`generate`: promha keeps a CA in ca_dir and issues a certificate per member with its address as SAN. Or the files you supply' }),
  ca_dir: localPathSchema('Where a generated CA is kept (ca.crt, and ca.key with mode 0600), relative to this file. Default promha-ca').default('promha-ca'),
  client_certs: z
    .enum(['optional', 'required'])
    .default('optional')
    .meta({
      description:
        'HTTP endpoints: `optional` verifies a client certificate when one is shown (a certificate from another CA is refused) and accepts basic auth without one; `required` refuses clients without a certificate of the CA. Gossip always requires one',
    }),
  insecure_skip_verify: z.boolean().default(false).meta({ description: 'Skip server certificate verification on every link. Never in production: `check` refuses it' }),
});

export const basicAuthSchema = z.strictObject({
  username: z.string().min(1).regex(/^[^:\s]+$/, 'a username has no ":" and no spaces').default('promha').meta({ description: 'The user every link authenticates as. Default promha' }),
  password_file: localPathSchema('File holding the password (first line), relative to this file; mode 0600. promha renders its bcrypt hash into web.yml').optional(),
  password: z.string().optional().meta({ description: 'Not allowed: `check` refuses inline passwords. Use password_file' }),
});

export const securitySchema = z
  .strictObject({
    tls: tlsSchema.optional().meta({ description: 'TLS on every HTTP endpoint and mutual TLS on the Alertmanager gossip' }),
    basic_auth: basicAuthSchema
      .optional()
      .meta({ description: 'Basic auth (bcrypt) on every HTTP endpoint; the federators, Prometheus, pushers and promha itself authenticate' }),
  })
  .meta({ description: 'Secure mode: TLS and authentication on every link' });

export const topologySchema = z
  .strictObject({
    $schema: z.string().optional(),
    version: z.literal(1).meta({ description: 'Topology file format version' }),
    release: z
      .enum(RELEASE_NAMES)
      .optional()
      .meta({
        description:
          'The Debian release whose Prometheus, Alertmanager and Pushgateway run: bookworm (Debian 12), trixie (Debian 13) or sid (the Prometheus 3 line). Default: the release of the machine promha runs on, else bookworm',
      }),
    intervals: intervalsSchema.prefault({}),
    lookback_delta: durationSchema
      // Prometheus takes 0 for "the default", 5m: a 0 written here would not mean what it says.
      .refine((d) => d.ms > 0, 'lookback_delta must be longer than 0 (Prometheus reads 0 as its default, 5m)')
      .default(Duration.minutes(5))
      .meta({ description: 'Prometheus --query.lookback-delta: how long a series without data still counts. Default 5m (keep it in production)' }),
    exporters: z.array(exporterGroupSchema).min(1).meta({ description: 'Exporter groups' }),
    scrapers: z.array(scraperSetSchema).min(1).meta({ description: 'Scraper sets of two members' }),
    pushgateways: z.array(pushgatewaySetSchema).default([]).meta({ description: 'Pushgateway sets of two members behind a VIP' }),
    federators: federatorSetSchema,
    alertmanagers: alertmanagerClusterSchema,
    security: securitySchema.optional(),
  })
  .meta({ title: 'promha topology', description: 'A high-availability Prometheus topology (scrapers, pushgateways, federators, Alertmanagers)' });

export type TopologyInput = z.input<typeof topologySchema>;
export type TopologySpec = z.output<typeof topologySchema>;
export type MemberSpec = z.output<typeof memberSchema>;
export type AlertmanagerMemberSpec = z.output<typeof alertmanagerMemberSchema>;
export type ScraperSetSpec = z.output<typeof scraperSetSchema>;
export type PushgatewaySetSpec = z.output<typeof pushgatewaySetSchema>;
export type FederatorSetSpec = z.output<typeof federatorSetSchema>;
export type AlertmanagerClusterSpec = z.output<typeof alertmanagerClusterSchema>;
export type SecuritySpec = z.output<typeof securitySchema>;
export type TlsSpec = z.output<typeof tlsSchema>;
export type BasicAuthSpec = z.output<typeof basicAuthSchema>;
export type ExporterGroupSpec = z.output<typeof exporterGroupSchema>;

/** Draft-7 JSON Schema of what users write (defaults shown, transforms ignored). */
export function topologyJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(topologySchema, { target: 'draft-7', io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
