// `promha check` on the seed topology against `promtool check config` on one rendered
// federator config: CPU seconds (user + system) of each process, median of paired runs.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { RELEASES } from '../src/release/release.ts';
import { seedTopology } from '../src/topology/seed.ts';
import { median } from './stats.ts';

export interface CheckCpuResult {
  readonly runs: number;
  readonly promhaCpuSeconds: number;
  readonly promtoolCpuSeconds: number;
  /** promha's CPU over promtool's; the goal is at most 2. */
  readonly ratio: number;
}

const BIN = path.resolve(import.meta.dirname, '../bin/promha.js');

/** CPU seconds of one command, from GNU time's %U and %S. */
async function cpuSeconds(command: string, args: readonly string[], cwd: string): Promise<number> {
  const r = await execa('/usr/bin/time', ['-f', 'cpu %U %S', command, ...args], { cwd, reject: false });
  const m = /cpu (\d+\.\d+) (\d+\.\d+)\s*$/.exec(r.stderr);
  if (!m) throw new Error(`no CPU time for ${command} (is GNU time at /usr/bin/time?): ${r.stderr.slice(-200)}`);
  return Number(m[1]) + Number(m[2]);
}

export async function checkCpu(o: { runs?: number; progress?: (l: string) => void } = {}): Promise<CheckCpuResult> {
  const runs = o.runs ?? 7;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'promha-bench-check-'));
  try {
    await writeFile(path.join(dir, 'promha.yaml'), seedTopology('promha.schema.json'));
    const render = await execa(process.execPath, [BIN, 'render', '--out', 'out', '--config-root', path.join(dir, 'out')], { cwd: dir, reject: false });
    if (render.exitCode !== 0) throw new Error(`render failed: ${render.stderr}`);
    const federator = path.join(dir, 'out', 'federator1-1', 'prometheus.yml');
    const promha: number[] = [];
    const promtool: number[] = [];
    for (let i = 0; i < runs; i++) {
      promha.push(await cpuSeconds(process.execPath, [BIN, 'check', 'promha.yaml'], dir));
      promtool.push(await cpuSeconds(RELEASES.bookworm.components.promtool.path, ['check', 'config', federator], dir));
      o.progress?.(`check-cpu run ${i + 1}/${runs}: promha ${promha.at(-1)?.toFixed(2)} s, promtool ${promtool.at(-1)?.toFixed(2)} s`);
    }
    const a = median(promha);
    const b = median(promtool);
    return { runs, promhaCpuSeconds: a, promtoolCpuSeconds: b, ratio: a / b };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
