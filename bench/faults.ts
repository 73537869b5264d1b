// `promha check --faults K` on large topologies: wall time and peak resident memory of
// the CLI, beside plain `promha check` on the same file, so that what the fault analysis
// adds shows. No stack is started.
import { execa } from 'execa';
import path from 'node:path';
import { tempProject } from '../test/helpers.ts';
import { stringify } from 'yaml';
import { formatFaults } from '../src/commands/check.ts';
import { faultAnalysis } from '../src/faults/matrix.ts';
import { parseTopology } from '../src/topology/load.ts';
import { syntheticTopology } from './check-time.ts';
import { median } from './stats.ts';

export interface FaultsCase {
  /** Scraper sets of two hosts each, beside the seed's 9 other hosts. */
  readonly scraperSets: number;
  readonly k: number;
}

export interface FaultsResult {
  readonly hosts: number;
  readonly k: number;
  readonly exitCode: number;
  /** The header line: the number of combinations and of minimal ones listed. */
  readonly summary: string;
  readonly runs: number;
  /** Median wall time of `check --faults K`, Node start included. */
  readonly seconds: number;
  /** Largest peak resident memory over the runs. */
  readonly peakMiB: number;
  /** The same for plain `check`: the part of the cost that is not the fault analysis. */
  readonly checkSeconds: number;
  readonly checkPeakMiB: number;
  /** CPU seconds (user + system, median) of the analysis and its text alone, in this process: what --faults adds, without Node's start, the parse and the check, which a loaded machine blurs in the wall times. */
  readonly analysisCpuSeconds: number;
  /** Minimal combinations listed. */
  readonly rows: number;
}

/** The cases (10 sets at K = 5, 50 at K = 3, 111 hosts at K = 9, 2,011 hosts at K = 2 and 9), and 8,011 hosts, close to the largest file promha reads. */
export const FAULTS_CASES: readonly FaultsCase[] = [
  { scraperSets: 10, k: 5 },
  { scraperSets: 50, k: 3 },
  { scraperSets: 51, k: 9 },
  { scraperSets: 1001, k: 2 },
  { scraperSets: 1001, k: 9 },
  { scraperSets: 4001, k: 9 },
];

const BIN = path.resolve(import.meta.dirname, '../bin/promha.js');

/** Wall seconds and peak resident memory (GNU time's %M, in KiB) of one CLI run. */
async function measure(args: readonly string[], cwd: string): Promise<{ seconds: number; peakMiB: number; exitCode: number; stdout: string }> {
  const t0 = performance.now();
  const r = await execa('/usr/bin/time', ['-f', 'peak %M', process.execPath, BIN, ...args], { cwd, reject: false, maxBuffer: 1 << 30 });
  const seconds = (performance.now() - t0) / 1000;
  const m = /peak (\d+)\s*$/.exec(r.stderr);
  if (!m) throw new Error(`no peak memory for promha ${args.join(' ')} (is GNU time at /usr/bin/time?): ${r.stderr.slice(-300)}`);
  return { seconds, peakMiB: Number(m[1]) / 1024, exitCode: r.exitCode ?? -1, stdout: r.stdout };
}

export async function faultsBench(o: { cases?: readonly FaultsCase[]; runs?: number; progress?: (l: string) => void } = {}): Promise<FaultsResult[]> {
  const runs = o.runs ?? 3;
  const out: FaultsResult[] = [];
  for (const c of o.cases ?? FAULTS_CASES) {
    // syntheticTopology counts the seed's two pushgateway sets, federators and Alertmanagers as sets.
    const doc = syntheticTopology(c.scraperSets + 4, 0);
    const project = await tempProject({ 'promha.yaml': doc });
    const spec = parseTopology('promha.yaml', stringify(doc)).spec;
    try {
      const hosts = 2 * c.scraperSets + 9;
      const faults = [];
      const plain = [];
      const cpu = [];
      let rows = 0;
      for (let r = 0; r < runs; r++) {
        const before = process.cpuUsage();
        const analysis = faultAnalysis(spec, c.k);
        formatFaults(analysis);
        const used = process.cpuUsage(before);
        cpu.push((used.user + used.system) / 1e6);
        rows = analysis.losing.length;
        faults.push(await measure(['check', 'promha.yaml', '--faults', String(c.k)], project.dir));
        plain.push(await measure(['check', 'promha.yaml'], project.dir));
        o.progress?.(`faults ${hosts} hosts K=${c.k} run ${r + 1}/${runs}: ${faults.at(-1)?.seconds.toFixed(2)} s, ${faults.at(-1)?.peakMiB.toFixed(0)} MiB (check alone ${plain.at(-1)?.seconds.toFixed(2)} s), analysis ${cpu.at(-1)?.toFixed(3)} s CPU`);
      }
      const last = faults.at(-1) as Awaited<ReturnType<typeof measure>>;
      out.push({
        hosts,
        k: c.k,
        exitCode: last.exitCode,
        summary: /^fault tolerance: (.*)$/m.exec(last.stdout)?.[1] ?? `no summary (exit ${last.exitCode})`,
        runs,
        seconds: median(faults.map((x) => x.seconds)),
        peakMiB: Math.max(...faults.map((x) => x.peakMiB)),
        checkSeconds: median(plain.map((x) => x.seconds)),
        checkPeakMiB: Math.max(...plain.map((x) => x.peakMiB)),
        analysisCpuSeconds: median(cpu),
        rows,
      });
    } finally {
      await project.cleanup();
    }
  }
  return out;
}
