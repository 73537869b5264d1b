import { access, constants, mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { main } from '../src/cli/main.ts';
import { plain } from '../src/cli/paint.ts';
import { RELEASES, type Component, type ReleaseName } from '../src/release/release.ts';
import { readFetchedRelease } from '../src/release/fetch.ts';
import { seedTopology } from '../src/topology/seed.ts';
import { execa } from 'execa';
import { setTimeout as sleep } from 'node:timers/promises';
import { it } from 'node:test';

/** A temporary project: files from an object literal, removed by `cleanup`. */
export async function tempProject(files: Record<string, string | object>): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'promha-test-'));
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(dir, name);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, typeof content === 'string' ? content : stringify(content));
  }
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

const ROOT = path.resolve(import.meta.dirname, '..');

/** Runs the real CLI, as a user would. */
/**
 * Runs the CLI as a user does, as a child process, stopped (SIGTERM, then SIGKILL) after
 * `timeoutMs`: a hung command fails its test with what it printed instead of holding the run.
 */
export async function promha(args: string[], cwd: string, timeoutMs = 20 * 60_000) {
  return execa('node', [path.join(ROOT, 'bin/promha.js'), ...args], { cwd, reject: false, env: { NO_COLOR: '1' }, timeout: timeoutMs, forceKillAfterDelay: 10_000 });
}

/**
 * Runs a command line in this process, as bin/promha.js would, with `cwd` as the
 * working directory; returns the exit code and what it printed. Runs one at a time:
 * the working directory belongs to the process.
 */
export async function inProcess(args: string[], cwd: string): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const run = async () => {
    let stdout = '';
    let stderr = '';
    const previous = process.cwd();
    process.chdir(cwd);
    try {
      const exitCode = await main(args, { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), paint: plain });
      return { exitCode, stdout, stderr };
    } finally {
      process.chdir(previous);
    }
  };
  const result = inProcessQueue.then(run);
  inProcessQueue = result.catch(() => undefined);
  return result;
}
let inProcessQueue: Promise<unknown> = Promise.resolve();

/** A small topology in the seed's shape with test-profile intervals (1 s), on loopback addresses. */
export function fastTopology(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const pair = (set: string, base: number, port: number) => [1, 2].map((i) => ({ name: `${set}-${i}`, address: `127.0.0.${base + i}:${port}` }));
  return {
    version: 1,
    intervals: { scrape: '1s', push: '1s', federate: '1s', evaluate: '1s' },
    lookback_delta: '20s',
    exporters: [
      { name: 'demo1', targets: ['127.0.0.101:9100'] },
      { name: 'demo2', targets: ['127.0.0.102:9100'] },
    ],
    scrapers: [
      { name: 'scraper1', exporters: ['demo1'], members: pair('scraper1', 10, 9090) },
      { name: 'scraper2', exporters: ['demo2'], members: pair('scraper2', 20, 9090) },
    ],
    pushgateways: [
      {
        name: 'pushgateway1',
        vip: { address: '127.0.0.100:9091' },
        jobs: [{ name: 'batch', metrics: ['pushed_value'] }],
        members: pair('pushgateway1', 50, 9091),
      },
    ],
    // A short resend delay: alerts dropped before the Alertmanagers are discovered come back in seconds.
    // A short grace period: `for:` state of alerts held 5 s or more survives a federator restart.
    federators: { name: 'federator1', members: pair('federator1', 70, 9090), rule_files: ['rules/*.yml'], resend_delay: '2s', for_grace_period: '5s' },
    alertmanagers: {
      name: 'alertmanager1',
      members: pair('alertmanager1', 80, 9093),
      backup: { name: 'alertmanager1-3', address: '127.0.0.83:9093' },
      route: { receiver: 'webhook', group_by: ['alertname'], group_wait: '1s', group_interval: '10s', repeat_interval: '1h' },
      receivers: [{ name: 'webhook', webhook_configs: [{ url: 'http://127.0.0.99:5001/' }] }],
    },
    ...overrides,
  };
}

export const FAST_RULES = {
  groups: [
    {
      name: 'demo',
      rules: [
        { alert: 'DemoHigh', expr: 'demo_value > 0', for: '0s' },
        { alert: 'RateHigh', expr: 'sum(rate(demo_requests_total[10s])) > 15' },
        { alert: 'PushedHigh', expr: 'pushed_value > 0', keep_firing_for: '10s' },
        { record: 'job:demo_requests:rate1m', expr: 'sum by (job) (rate(demo_requests_total[1m]))' },
      ],
    },
  ],
};

/**
 * The seed's exact topology (what `promha init` writes) with the 1 s test profile:
 * intervals, lookback, resend delay and Alertmanager timings that still satisfy
 * DESIGN §3.7 (peer timeout 3 s, (3 - 1) × 3 s < group_interval 10 s).
 */
export function fastSeed(): Record<string, unknown> {
  const seed = parse(seedTopology('promha.schema.json')) as Record<string, any>;
  seed['intervals'] = { scrape: '1s', push: '1s', federate: '1s', evaluate: '1s' };
  seed['lookback_delta'] = '20s';
  seed['federators'] = { ...seed['federators'], rule_files: ['rules/*.yml'], resend_delay: '2s' };
  seed['alertmanagers']['route'] = { ...seed['alertmanagers']['route'], group_wait: '1s', group_interval: '10s', repeat_interval: '1h' };
  return seed;
}

/** Polls `probe` every 500 ms until it returns a value; throws naming `what` on timeout. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    await sleep(500);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * The path of a release's component for tests: Debian 12's from this machine's packages,
 * the others from the cache that `promha setup --release` fills (scripts/install-deps.sh
 * fetches every release, so a missing one is a broken setup, not a reason to skip).
 */
export async function releaseBinary(release: ReleaseName, component: Component): Promise<string> {
  if (release === 'bookworm') return RELEASES.bookworm.components[component].path;
  const fetched = await readFetchedRelease(release);
  if (!fetched) throw new Error(`no ${release} binaries in promha's cache: run \`promha setup --release ${release}\` (scripts/install-deps.sh does)`);
  return fetched.binaries[component].path;
}

/**
 * The stacks a stack test runs on, narrowed by PROMHA_TEST_STACKS (e.g.
 * `loopback:bookworm,netns:bookworm`) to rerun one alone; all of them by default.
 */
export function selectedStacks<T extends { readonly mode: string; readonly release: string }>(all: readonly T[], env = process.env): readonly T[] {
  const wanted = env['PROMHA_TEST_STACKS']?.split(',').map((s) => s.trim()).filter(Boolean);
  return wanted?.length ? all.filter((s) => wanted.includes(`${s.mode}:${s.release}`)) : all;
}

/**
 * Stack tests run in two lanes at once (scripts/test-stack.mjs), which share no address
 * and no port: `loopback` (127.0.0.0/8, the dashboard's default port) and `netns` (the
 * promha0 bridge, 10.213.0.0/24, namespaces named promha-*, the dashboard on
 * NETNS_LANE_DASHBOARD). Within a lane one file runs at a time. PROMHA_TEST_LANE names the
 * lane a test runner serves; unset, every test runs.
 */
export type Lane = 'loopback' | 'netns';

/** The skip reason of a suite of the other lane, else false. */
export function laneSkip(lane: Lane, env = process.env): string | false {
  const serving = env['PROMHA_TEST_LANE'];
  return serving && serving !== lane ? `runs in the ${lane} lane` : false;
}

let netnsWithoutRootReported = false;

/**
 * A suite's skip reason: a suite of the other lane runs there. A netns suite this runner
 * serves without root cannot run its premise: a failing test says so (once per file), and
 * the suite is left out rather than failing on each `ip` call with no reason given.
 */
export function stackSkip(lane: Lane): string | false {
  const otherLane = laneSkip(lane);
  if (otherLane || lane !== 'netns' || process.getuid?.() === 0) return otherLane;
  if (!netnsWithoutRootReported) {
    netnsWithoutRootReported = true;
    it('the netns lane runs as root', () => {
      throw new Error('the netns lane needs root (network namespaces, veths, a bridge): run it as root, or PROMHA_TEST_LANE=loopback for the loopback lane alone');
    });
  }
  return 'netns mode needs root (reported as a failure)';
}

/**
 * Fails unless `tool` (a name on PATH, or a path) is an executable, naming its Debian
 * package and the install step: a missing tool is a broken setup, never a refusal nor a
 * reason to skip.
 */
export async function requireTool(tool: string, debianPackage: string): Promise<void> {
  const candidates = tool.includes('/') ? [tool] : (process.env['PATH'] ?? '').split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, tool));
  for (const file of candidates) if (await access(file, constants.X_OK).then(() => true, () => false)) return;
  throw new Error(`${tool} is not installed (Debian package ${debianPackage}): run \`bash scripts/install-deps.sh\``);
}

export const NETNS_LANE_DASHBOARD = '127.0.0.1:9798';

/** Extra `up` arguments of a lane: the netns lane's dashboard port, apart from the loopback lane's. */
export const laneUpArgs = (lane: Lane): string[] => (lane === 'netns' ? ['--dashboard', NETNS_LANE_DASHBOARD] : []);
