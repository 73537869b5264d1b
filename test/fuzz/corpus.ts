import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { seedTopology } from '../../src/topology/seed.ts';
import { FAST_RULES, fastTopology } from '../helpers.ts';
import { PATTERNS } from './dictionary.ts';
import type { FuzzInput } from './input.ts';

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
    {
      topology: yaml(fastTopology({ security: { tls: { ca: 'generate', client_certs: 'optional' }, basic_auth: { username: 'promha', password_file: 'secrets/password' } } })),
      files: { ...RULES, 'secrets/password': 'correct-horse-battery\n' },
    },
  ];
}

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
      const text = readFileSync(path.join(HOSTILE_DIR, f), 'utf8');
      const fifos = header(text, 'fifo');
      return { name: f, input: { topology: text, files: rules, ...(fifos.length ? { fifos } : {}) }, fuzzSeed: !header(text, 'fuzz-seed').includes('no') };
    }),
    ...generatedCases(),
  ];
}
