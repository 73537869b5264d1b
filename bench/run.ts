// `npm run bench [-- --only NAME[,NAME]] [--trials N] [--quick] [--release R] [--inputs N]`: runs the benchmarks,
// prints a table per benchmark and writes bench/results/latest.json. Every benchmark
// but check-time, check-cpu, faults and fuzz starts a stack: run under the machine-wide stack lock.
// `--only fuzz` runs the fuzzer's long campaign: --inputs (3,000) per release, or for --release alone.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { NetworkMode } from '../src/runtime/local-topology.ts';
import { alertLatency, type LatencyResult } from './alert-latency.ts';
import { capacity, type CapacityResult } from './capacity.ts';
import { checkCpu, type CheckCpuResult } from './check-cpu.ts';
import { checkTime, type CheckTimeResult } from './check-time.ts';
import { fuzzCampaigns, type FuzzResult } from './fuzz.ts';
import { FAULTS_CASES, faultsBench, type FaultsResult } from './faults.ts';
import { startAndSize, type StartResult } from './start.ts';
import { fmt, table } from './stats.ts';
import { isReleaseName, RELEASE_NAMES, type ReleaseName } from '../src/release/release.ts';
import { noFlap, type NoFlapResult } from './no-flap.ts';
import { vipFailover, type VipFailoverResult } from './vip-failover.ts';

const BENCHES = ['check-cpu', 'check-time', 'faults', 'alert-latency', 'vip-failover', 'start', 'capacity', 'no-flap', 'fuzz'] as const;
/** Run unless `--only` names others; no-flap takes a quarter of an hour and fuzz (3,000 inputs per release) hours: they run only when named. */
const DEFAULT_BENCHES: readonly BenchName[] = ['check-cpu', 'check-time', 'faults', 'alert-latency', 'vip-failover', 'start', 'capacity'];
type BenchName = (typeof BENCHES)[number];

interface Results {
  date?: string;
  /** The release the stacks ran (`--release`; default the host's). */
  release?: string;
  machine?: { cpus: number; cpuModel: string; memoryGiB: number; kernel: string };
  'check-cpu'?: CheckCpuResult;
  'check-time'?: CheckTimeResult;
  faults?: FaultsResult[];
  'alert-latency'?: LatencyResult[];
  'vip-failover'?: VipFailoverResult[];
  start?: StartResult[];
  capacity?: CapacityResult;
  'no-flap'?: NoFlapResult[];
  fuzz?: FuzzResult;
}

const RESULTS = path.resolve(import.meta.dirname, 'results/latest.json');

function options() {
  const { values } = parseArgs({
    options: { only: { type: 'string', multiple: true }, trials: { type: 'string' }, quick: { type: 'boolean', default: false }, release: { type: 'string' }, minutes: { type: 'string', default: '15' }, inputs: { type: 'string', default: '3000' } },
  });
  const only = (values.only ?? []).flatMap((s) => s.split(','));
  for (const n of only) if (!(BENCHES as readonly string[]).includes(n)) throw new Error(`unknown benchmark "${n}"; benchmarks: ${BENCHES.join(', ')}`);
  const trials = values.trials === undefined ? (values.quick ? 5 : 20) : Number(values.trials);
  if (!Number.isInteger(trials) || trials < 1) throw new Error(`--trials wants a positive integer, got "${values.trials}"`);
  if (values.release !== undefined && !isReleaseName(values.release)) throw new Error(`--release wants one of ${RELEASE_NAMES.join(', ')}, got "${values.release}"`);
  const release = values.release as ReleaseName | undefined;
  const minutes = Number(values.minutes);
  if (!(minutes > 0)) throw new Error(`--minutes wants a positive number, got "${values.minutes}"`);
  const inputs = Number(values.inputs);
  if (!Number.isInteger(inputs) || inputs < 1) throw new Error(`--inputs wants a positive integer, got "${values.inputs}"`);
  return { benches: only.length > 0 ? (only as BenchName[]) : [...DEFAULT_BENCHES], trials, quick: values.quick ?? false, minutes, inputs, ...(release ? { release } : {}) };
}

const modes = (quick: boolean): NetworkMode[] => (process.getuid?.() === 0 && !quick ? ['loopback', 'netns'] : ['loopback']);

function print(r: Results, ran: readonly BenchName[]): string {
  const out: string[] = [];
  const cc = r['check-cpu'];
  if (ran.includes('check-cpu') && cc)
    out.push(
      `promha check on the seed vs promtool check config on one federator config (CPU, user + system, median of ${cc.runs})\n${table(
        ['promha check', 'promtool check config', 'ratio (goal ≤ 2)'],
        [[fmt(cc.promhaCpuSeconds, 's', 2), fmt(cc.promtoolCpuSeconds, 's', 2), fmt(cc.ratio, 'x', 1)]],
      )}`,
    );
  const c = r['check-time'];
  if (ran.includes('check-time') && c)
    out.push(`promha check, ${c.sets} sets and ${c.rules} rules (CLI wall time, Node start included)\n${table(['runs', 'median', 'runs (s)', 'result'], [[String(c.runs), fmt(c.medianSeconds, 's'), c.seconds.map((s) => s.toFixed(2)).join(', '), c.findings]])}`);
  const fa = r.faults;
  if (ran.includes('faults') && fa)
    out.push(
      `promha check --faults K on large topologies (CLI wall time, Node start included, median; peak RSS, largest), beside plain check\n${table(
        ['hosts', 'K', 'exit', 'result', '--faults', 'peak RSS', 'check alone', 'peak RSS', 'analysis CPU (in-process)'],
        fa.map((x) => [String(x.hosts), String(x.k), String(x.exitCode), x.summary, fmt(x.seconds, 's', 2), fmt(x.peakMiB, 'MiB'), fmt(x.checkSeconds, 's', 2), fmt(x.checkPeakMiB, 'MiB'), fmt(x.analysisCpuSeconds, 's', 3)]),
      )}`,
    );
  const l = r['alert-latency'];
  if (ran.includes('alert-latency') && l)
    out.push(
      `Alert latency, exporter value → notification (1 s profile, loopback)\n${table(
        ['condition', 'trials', 'median', 'p95', 'floor', 'median / floor', 'missed'],
        l.map((x) => [x.condition, String(x.trials), fmt(x.median, 's'), fmt(x.p95, 's'), fmt(x.floor, 's'), fmt(x.ratio, 'x'), String(x.missed)]),
      )}`,
    );
  const v = r['vip-failover'];
  if (ran.includes('vip-failover') && v)
    out.push(`VIP failover, active gateway host lost (1 s profile)\n${table(['mode', 'runs', 'median', 'max', 'pushes lost', 'drill passed'], v.map((x) => [x.mode, String(x.runs), fmt(x.medianSeconds, 's'), fmt(x.maxSeconds, 's'), String(x.pushesLost), x.allExpectationsMet ? 'yes' : 'no']))}`);
  const s = r.start;
  if (ran.includes('start') && s)
    out.push(
      `Seed topology (30 s intervals): \`promha up\` to ready, resident memory\n${table(
        ['mode', 'up to ready', 'floor', 'ready / floor', 'members', 'memory', 'goal (1.15 × components + 100)', 'by role'],
        s.map((x) => [
          x.mode,
          fmt(x.upSeconds, 's', 1),
          fmt(x.floorSeconds, 's'),
          fmt(x.upSeconds / x.floorSeconds, 'x', 2),
          String(x.members),
          fmt(x.totalMiB, 'MiB'),
          `${fmt(x.memoryGoalMiB, 'MiB')} (${x.totalMiB <= x.memoryGoalMiB ? 'met' : 'missed'})`,
          Object.entries(x.byRoleMiB).map(([role, m]) => `${role} ${m.toFixed(0)}`).join(', '),
        ]),
      )}`,
    );
  const k = r.capacity;
  if (ran.includes('capacity') && k)
    out.push(
      `Federation capacity, one exporter group (${k.intervalSeconds} s intervals, loopback); stopped: ${k.stoppedBecause}\n${table(
        ['series', 'federate mean', 'federate max', 'federator CPU', 'federator RSS', 'scraper RSS'],
        k.steps.map((x) => [String(x.series), fmt(x.federateMeanSeconds, 's', 3), fmt(x.federateMaxSeconds, 's', 3), fmt(x.federatorCpuCores, '', 2) + ' cores', fmt(x.federatorRssMiB, 'MiB'), fmt(x.scraperRssMiB, 'MiB')]),
      )}\nFederate duration above half the interval at: ${k.halfIntervalExceededAt ?? 'not reached'}`,
    );
  const f = r['no-flap'];
  if (ran.includes('no-flap') && f)
    out.push(
      `No flap at the seed's 30 s intervals: a scraper member SIGKILLed and the active gateway's link down while alerts fire (netns)\n${table(
        ['release', 'versions', 'watched', 'resolved', 'firing again', 'passed'],
        f.map((x) => [x.release, Object.values(x.versions).join(', '), `${x.watchedMinutes} min`, String(x.resolved), String(x.firingAgain), x.passed ? 'yes' : 'no']),
      )}`,
    );
  const z = r.fuzz;
  if (ran.includes('fuzz') && z) {
    out.push(
      `Fuzzer, inputs per release (every render judged by the release's promtool and amtool, the host's keepalived, HAProxy, systemd-analyze)\n${table(
        ['release', 'inputs', 'time', 'rendered', 'passed', 'failed', 'by kind', 'tool runs'],
        z.map((x) => [x.release, String(x.inputs), fmt(x.seconds, 's', 0), String(x.rendered), String(x.outcomes['passed'] ?? 0), String(x.outcomes['failed'] ?? 0), Object.entries(x.kinds).map(([k, n]) => `${k} ${n}`).join(', ') || 'none', String(x.toolRuns)]),
      )}`,
    );
    for (const x of z)
      if (x.classes.length)
        out.push(`Failure classes, ${x.release}\n${table(['inputs', 'signature', 'minimized input (replay file)'], x.classes.map((c) => [String(c.count), c.signature, c.replay]))}`);
  }
  return out.join('\n\n');
}

async function main(): Promise<void> {
  const o = options();
  const progress = (line: string) => process.stderr.write(`${line}\n`);
  const previous = JSON.parse(await readFile(RESULTS, 'utf8').catch(() => '{}')) as Results;
  const r: Results = {
    ...previous,
    date: new Date().toISOString(),
    release: o.release ?? 'host',
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? '', memoryGiB: Math.round(os.totalmem() / 2 ** 30), kernel: os.release() },
  };
  const save = async () => {
    await mkdir(path.dirname(RESULTS), { recursive: true });
    await writeFile(RESULTS, `${JSON.stringify(r, null, 2)}\n`);
  };
  const runOne = (b: BenchName) => runOneOf(b, r, o, progress);
  const failed: string[] = [];
  for (const b of o.benches) {
    progress(`== ${b}`);
    try {
      await runOne(b);
    } catch (e) {
      // The other benchmarks still run: a partial result beats none.
      failed.push(`${b}: ${e instanceof Error ? e.message : String(e)}`);
      progress(`bench ${b} failed: ${failed.at(-1)}`);
    }
    // Saved after each benchmark, so an interrupted run keeps what it measured.
    await save();
  }
  console.log(print(r, o.benches));
  if (failed.length > 0) throw new Error(`${failed.length} benchmark(s) failed:\n${failed.join('\n')}`);
}

async function runOneOf(b: BenchName, r: Results, o: ReturnType<typeof options>, progress: (line: string) => void): Promise<void> {
  if (b === 'check-cpu') r['check-cpu'] = await checkCpu({ progress });
  if (b === 'check-time') r['check-time'] = await checkTime({ progress, ...(o.release ? { release: o.release } : {}) });
  // --quick leaves out the 8,011-host case, whose check alone takes several seconds a run.
  if (b === 'faults') r.faults = await faultsBench({ runs: o.quick ? 1 : 3, progress, cases: o.quick ? FAULTS_CASES.filter((c) => c.scraperSets < 4000) : FAULTS_CASES });
  if (b === 'alert-latency') r['alert-latency'] = await alertLatency({ trials: o.trials, progress, ...(o.release ? { release: o.release } : {}) });
  if (b === 'vip-failover') {
    const v: VipFailoverResult[] = [];
    for (const mode of modes(o.quick)) v.push(await vipFailover({ mode, runs: o.quick ? 1 : 3, progress, ...(o.release ? { release: o.release } : {}) }));
    r['vip-failover'] = v;
  }
  if (b === 'start') {
    const s: StartResult[] = [];
    for (const mode of modes(o.quick)) s.push(await startAndSize({ mode, progress, ...(o.release ? { release: o.release } : {}) }));
    r.start = s;
  }
  if (b === 'no-flap') {
    const done = (r['no-flap'] ?? []).filter((x) => x.release !== (o.release ?? 'bookworm'));
    r['no-flap'] = [...done, await noFlap({ minutes: o.minutes, progress, ...(o.release ? { release: o.release } : {}) })];
  }
  if (b === 'fuzz') r.fuzz = await fuzzCampaigns({ inputs: o.inputs, progress, ...(o.release ? { releases: [o.release] } : {}) });
  if (b === 'capacity') r.capacity = await capacity({ maxSeries: o.quick ? 40_000 : 640_000, progress, ...(o.release ? { release: o.release } : {}) });
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
