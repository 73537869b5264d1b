import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { seedTopology } from '../../src/topology/seed.ts';
import { FAST_RULES, fastTopology } from '../helpers.ts';
import { PATTERNS } from './dictionary.ts';
import { TOPOLOGY_FILE, type FuzzInput } from './input.ts';

export const HOSTILE_DIR = path.join(import.meta.dirname, '..', 'fixtures', 'hostile');

const yaml = (v: unknown) => stringify(v, { lineWidth: 0 });

/** Rule files that exercise every rule field and a few pushed-metric selectors. */
const RULES: Record<string, string> = {
  'rules/demo.yml': yaml(FAST_RULES),
  'rules/pushed.yml': yaml({
    groups: [
      {
        name: 'pushed',
        interval: '30s',
        rules: [
          { alert: 'BackupStale', expr: 'time() - backup_last_success_timestamp_seconds > 3600', for: '5m', keep_firing_for: '2m', labels: { severity: 'page' }, annotations: { summary: '{{ $labels.job }}' } },
          { alert: 'Long', expr: `${'a'.repeat(32)}b > 0`, keep_firing_for: '1m' },
          { record: 'job:up:sum', expr: 'sum by (job) (up)' },
        ],
      },
    ],
  }),
};

/** The topology `promha init` writes, and the fast test topology, each with and without rule files. */
export function seedInputs(): FuzzInput[] {
  const init = seedTopology('promha.schema.json');
  return [
    { topology: init, files: {} },
    { topology: init.replace('rule_files: []', 'rule_files: [rules/*.yml]'), files: RULES },
    { topology: yaml(fastTopology()), files: RULES },
    {
      topology: yaml(
        fastTopology({
          pushgateways: [
            {
              name: 'pushgateway1',
              vip: { address: '127.0.0.100:9091', interface: 'ens3', virtual_router_id: 7, advert_int: '1s' },
              jobs: [{ name: 'batch', metrics: ['pushed_value', 'backup_.*', 'a+'] }],
              members: [1, 2].map((i) => ({ name: `pushgateway1-${i}`, address: `127.0.0.${50 + i}:9091` })),
            },
          ],
        }),
      ),
      files: RULES,
    },
    // Certificates supplied as files: reading them costs nothing, where a generated CA
    // issues a certificate per member with openssl (about 2 s; the TLS surface does that).
    {
      topology: yaml(
        fastTopology({
          security: {
            tls: { ca: { ca_file: 'certs/ca.crt', cert_file: 'certs/cert.pem', key_file: 'certs/key.pem' }, client_certs: 'optional' },
            basic_auth: { username: 'promha', password_file: 'secrets/password' },
          },
        }),
      ),
      files: { ...RULES, ...TLS_FILES, 'secrets/password': 'correct-horse-battery\n' },
      modes: SECRET_MODES,
    },
  ];
}

/** A CA, and a certificate it signed with its key: fixed, so that inputs are the same on every machine. */
const TLS_DIR = path.join(import.meta.dirname, '..', 'fixtures', 'hostile', 'tls');
const tlsFixture = (name: string) => readFileSync(path.join(TLS_DIR, name), 'utf8');
export const TLS_FILES: Readonly<Record<string, string>> = {
  'certs/ca.crt': tlsFixture('ca.crt'),
  'certs/cert.pem': tlsFixture('cert.pem'),
  'certs/key.pem': tlsFixture('key.pem'),
};
/** The CA with its key, for a `ca: generate` whose ca_dir already holds one (promha then only issues). */
export const CA_FILES = { crt: tlsFixture('ca.crt'), key: tlsFixture('ca.key') };
/** Keys and passwords must be private (mode 0600), or render refuses them. */
export const SECRET_MODES: Readonly<Record<string, number>> = { 'certs/key.pem': 0o600, 'secrets/password': 0o600 };

/** Every input the fuzzer starts from. */
export interface Seeds {
  /** Valid topologies: what `promha init` writes and the fast test topology. */
  readonly valid: readonly FuzzInput[];
  /** The hostile corpus, minus the pipes and endless files. */
  readonly hostile: readonly FuzzInput[];
}

export function seeds(): Seeds {
  return { valid: seedInputs(), hostile: hostileCases().filter((c) => c.fuzzSeed).map((c) => c.input) };
}

/** The rule files of the fast seeds, for the test files and deep expressions of the surfaces. */
export const SEED_RULES: Readonly<Record<string, string>> = RULES;

export interface HostileCase {
  readonly name: string;
  readonly input: FuzzInput;
  /** Whether the fuzzer may start from it (not for the pipes and devices that block or fill memory by design). */
  readonly fuzzSeed: boolean;
}

/** Header lines of a hostile fixture: `# fifo: PATH` makes PATH a named pipe; `# fuzz-seed: no` keeps it out of the seeds. */
function header(text: string, key: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('#')) break;
    const m = new RegExp(`^#\\s*${key}:\\s*(.*)$`).exec(line);
    if (m) out.push((m[1] as string).trim());
  }
  return out;
}

function hostileRules(): Record<string, string> {
  const dir = path.join(HOSTILE_DIR, 'rules');
  return Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((f) => [`rules/${f}`, readFileSync(path.join(dir, f), 'utf8')]),
  );
}

/** Too big to keep in the repository: made at test time. */
function generatedCases(): HostileCase[] {
  // Go's regexp refuses nesting deeper than 1000 (promtool: "expression nests too deeply").
  const long = `{__name__=~"${'('.repeat(30_000)}a${')'.repeat(30_000)}"}`;
  const pattern = PATTERNS.find((p) => p === '(a+)+$') as string;
  return [
    { name: 'generated: 60,000-character federate match[] nesting 30,000 deep', input: { topology: yaml(fastTopology({ federators: { ...(fastTopology()['federators'] as object), match: [long] } })), files: RULES }, fuzzSeed: false },
    {
      name: 'generated: 60,000-character pushed-metric pattern',
      input: {
        topology: yaml(
          fastTopology({
            pushgateways: [
              {
                name: 'pushgateway1',
                vip: { address: '127.0.0.100:9091' },
                jobs: [{ name: 'batch', metrics: [`${'(a|'.repeat(15_000)}b${')'.repeat(15_000)}`, pattern] }],
                members: [1, 2].map((i) => ({ name: `pushgateway1-${i}`, address: `127.0.0.${50 + i}:9091` })),
              },
            ],
          }),
        ),
        files: RULES,
      },
      fuzzSeed: false,
    },
  ];
}

/** test/fixtures/hostile/*.yaml, each with the rule files of test/fixtures/hostile/rules/, plus the generated cases. */
export function hostileCases(): HostileCase[] {
  const rules = hostileRules();
  const files = readdirSync(HOSTILE_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort();
  return [
    ...files.map((f) => {
      const raw = readFileSync(path.join(HOSTILE_DIR, f));
      const text = raw.toString('utf8');
      const fifos = header(text, 'fifo');
      // A fixture that is not UTF-8 is written byte for byte.
      const bytes = Buffer.from(text, 'utf8').equals(raw) ? undefined : { [TOPOLOGY_FILE]: raw.toString('base64') };
      return { name: f, input: { topology: text, files: rules, ...(fifos.length ? { fifos } : {}), ...(bytes ? { bytes } : {}) }, fuzzSeed: !header(text, 'fuzz-seed').some((v) => v.startsWith('no')) };
    }),
    ...generatedCases(),
  ];
}
