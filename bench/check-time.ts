// `promha check` on a synthetic topology: many scraper sets and many rules.
import { parse } from 'yaml';
import { seedTopology } from '../src/topology/seed.ts';
import { promha, tempProject } from '../test/helpers.ts';
import type { ReleaseName } from '../src/release/release.ts';
import { median } from './stats.ts';

export interface CheckTimeResult {
  readonly sets: number;
  readonly rules: number;
  readonly runs: number;
  /** Wall time of the CLI, Node start included, per run. */
  readonly seconds: readonly number[];
  readonly medianSeconds: number;
  readonly exitCode: number;
  readonly findings: string;
}

/** The seed topology grown to `sets` sets (scraper sets beside the seed's pushgateway, federator and Alertmanager sets). */
export function syntheticTopology(sets: number, ruleFiles: number): Record<string, unknown> {
  const seed = parse(seedTopology('promha.schema.json')) as Record<string, any>;
  const scraperSets = sets - seed['pushgateways'].length - 2;
  const ip = (n: number) => `10.${1 + Math.floor(n / 65536)}.${Math.floor(n / 256) % 256}.${n % 256}`;
  seed['exporters'] = Array.from({ length: scraperSets }, (_, i) => ({ name: `exporters${i + 1}`, targets: [`${ip(100_000 + i)}:9100`] }));
  seed['scrapers'] = Array.from({ length: scraperSets }, (_, i) => ({
    name: `scraper${i + 1}`,
    exporters: [`exporters${i + 1}`],
    members: [1, 2].map((m) => ({ name: `scraper${i + 1}-${m}`, address: `${ip(2 * i + m)}:9090` })),
  }));
  seed['federators']['rule_files'] = Array.from({ length: ruleFiles }, (_, f) => `rules/r${f}.yml`);
  return seed;
}

/** A rule file of `count` rules, alerts and recording rules mixed, with ranges and `for:`. */
export function syntheticRules(file: number, count: number): Record<string, unknown> {
  const rules = Array.from({ length: count }, (_, i) =>
    i % 2 === 0
      ? { alert: `Synthetic${file}x${i}`, expr: `sum by (instance) (rate(node_cpu_seconds_total{mode="idle",n="${i}"}[5m])) < 0.1`, for: '10m' }
      : { record: `synthetic:f${file}_r${i}:rate5m`, expr: `sum without (cpu) (rate(node_network_receive_bytes_total{n="${i}"}[5m]))` },
  );
  return { groups: [{ name: `synthetic${file}`, rules }] };
}

export async function checkTime(o: { sets?: number; rules?: number; runs?: number; progress?: (l: string) => void; release?: ReleaseName } = {}): Promise<CheckTimeResult> {
  const sets = o.sets ?? 500;
  const rules = o.rules ?? 2000;
  const runs = o.runs ?? 3;
  const files = 20;
  const content: Record<string, object> = { 'promha.yaml': syntheticTopology(sets, files) };
  for (let f = 0; f < files; f++) content[`rules/r${f}.yml`] = syntheticRules(f, rules / files);
  const project = await tempProject(content);
  try {
    const seconds: number[] = [];
    let last = { exitCode: 0, stdout: '' };
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      const res = await promha(['check', 'promha.yaml', ...(o.release ? ['--release', o.release] : [])], project.dir);
      seconds.push((performance.now() - t0) / 1000);
      last = { exitCode: res.exitCode ?? -1, stdout: String(res.stdout) };
      o.progress?.(`check  run ${r + 1}/${runs}: ${seconds.at(-1)?.toFixed(2)} s, exit ${last.exitCode}`);
    }
    return { sets, rules, runs, seconds, medianSeconds: median(seconds), exitCode: last.exitCode, findings: last.stdout.trim().split('\n').at(-1) ?? '' };
  } finally {
    await project.cleanup();
  }
}
