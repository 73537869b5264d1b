// `npm test` (all tiers) and `npm run test:unit|test:tools|test:stack|test:fast`: the
// tiers of test/tiers.json. Unit tests are pure and in-process; tools tests run real
// validators and binaries; stack tests start whole stacks; `fast` is the unit tier plus
// the tools files that need no root (tiers.json `fastTools`), for an edit loop.
// Every suite of a stack file belongs to a lane (see `Lane` in test/helpers.ts) and skips
// itself in the other: `loopback` (127.0.0.0/8) or `netns` (the promha0 bridge and
// namespaces named promha-*). Runners that share no address and no port run side by
// side, one file at a time each: one per lane; for `all` the unit and tools files in a
// runner of their own beside them (RUNNERS). A runner may run `isolated`, in network and
// mount namespaces of its own, whose loopback, bridge and named namespaces no other
// runner sees. Every runner's output streams as it comes, each line marked with its
// runner when several run, so a run killed from outside still shows where each stood.
// Every test has a timeout (TIMEOUTS, unless it sets its own). A skip for any reason
// but the lane split fails the run. The last lines add up every runner's counts in the
// form node's test runner closes with.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const tiers = JSON.parse(readFileSync(path.join(root, 'test/tiers.json'), 'utf8'));
const tier = process.argv[2];
const TIERS = ['unit', 'tools', 'stack'];
if (tier !== 'all' && tier !== 'fast' && !TIERS.includes(tier)) {
  console.error(`usage: test-tier.mjs all|fast|${TIERS.join('|')}`);
  process.exit(2);
}
const filesOf = (...names) => names.flatMap((n) => tiers[n]).map((name) => `test/${name}.test.ts`);
/**
 * Each test's timeout by tier, unless it sets its own: well above what the slowest test
 * of the tier takes on a loaded 2-core machine, far below CI's limit, so a hang ends
 * with the test named.
 */
const TIMEOUTS = { unit: 120_000, tools: 600_000, stack: 1_500_000 };
/** A skip CI accepts: a stack suite of the other lane, which runs in its own runner. */
const LANE_SKIP = /^runs in the (loopback|netns) lane$/;
const COUNTS = ['tests', 'suites', 'pass', 'fail', 'cancelled', 'skipped', 'todo'];

/**
 * Runs node's test runner over `files`, each test bounded by `timeout` ms; streams its
 * output, each line marked `[label]` when given. `isolated` runs it in a network namespace of its own (its own
 * loopback, bridges and veths) and a mount namespace whose /run/netns is its own (its
 * own named namespaces): root only.
 */
function runner(files, { env = {}, label, timeout, isolated = false } = {}) {
  const node = [process.execPath, '--import', 'tsx', '--test', '--test-reporter=tap', '--test-concurrency=1', `--test-timeout=${timeout}`, ...files];
  const isolate = ['unshare', '--mount', '--net', '--propagation', 'private', 'bash', '-c', 'mkdir -p /run/netns && mount -t tmpfs tmpfs /run/netns && ip link set lo up && exec "$@"', 'isolated'];
  const [command, ...args] = isolated ? [...isolate, ...node] : node;
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let partial = '';
    // Whole lines only, each marked with its runner: runners side by side never cut into each other's lines.
    const take = (chunk) => {
      out += chunk;
      if (!label) return void process.stdout.write(chunk);
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      if (lines.length) process.stdout.write(lines.map((l) => `[${label}] ${l}\n`).join(''));
    };
    child.stdout.setEncoding('utf8').on('data', take);
    child.stderr.setEncoding('utf8').on('data', take);
    child.on('close', (code, signal) => {
      if (label && partial) process.stdout.write(`[${label}] ${partial}\n`);
      resolve({ code: code ?? (signal ? 1 : 0), out, label: label ?? tier });
    });
  });
}

/** The closing counts of one runner's TAP output. */
function counts(out) {
  const c = {};
  for (const k of COUNTS) c[k] = Number([...out.matchAll(new RegExp(`^# ${k} (\\d+)$`, 'gm'))].at(-1)?.[1] ?? 0);
  return c;
}

/**
 * The runners of `all`, balanced by what their files took (README, Tests): each a
 * sequence of parts, a part a tier or a lane over some stack files (`only`, else all
 * but `except`), `isolated` when the runner is or the part says so. Every stack file's
 * suites run once in each lane.
 */
// Two stacks at a time. The unit and tools tiers (no stack) run beside them in a runner
// of their own, while each lane begins with its chaos campaign (the campaigns passed in
// every run with a third runner beside them); the timing-bound rollout tests come after.
// A third stack runner brought the suite to 32 min, but the rollout tests failed under
// the added contention (README, Tests). The loopback lane runs isolated, so that no
// tools test meets its addresses; the netns apply suites follow it (it is the shorter).
const RUNNERS = [
  { parts: [{ tiers: ['unit', 'tools'] }] },
  { parts: [{ lane: 'loopback', only: ['chaos'] }, { lane: 'loopback', except: ['chaos'] }, { lane: 'netns', only: ['apply'] }], isolated: true },
  { parts: [{ lane: 'netns', only: ['chaos'] }, { lane: 'netns', except: ['chaos', 'apply'] }] },
];

const stackFiles = ({ only, except }) =>
  filesOf('stack').filter((f) => {
    const name = path.basename(f, '.test.ts');
    return only ? only.includes(name) : !except?.includes(name);
  });

const t0 = performance.now();
/** One lane over some stack files. */
const lane = (name, files, isolated = false) =>
  runner(files, { env: { PROMHA_TEST_LANE: name }, label: `${name}${isolated ? ' isolated' : ''}`, timeout: TIMEOUTS.stack, isolated });
/** Some tiers' files, in one runner; the timeout of the slowest tier. */
const tierRunner = (names, files = filesOf(...names), label = undefined) => runner(files, { timeout: Math.max(...names.map((n) => TIMEOUTS[n])), label });
let results;
if (tier === 'all') {
  // Without root there are no namespaces to isolate a runner in (netns suites skip themselves): one after the other.
  const runners = process.getuid?.() === 0 ? RUNNERS : [{ parts: RUNNERS.flatMap((r) => r.parts.map((p) => ({ ...p, isolated: false }))) }];
  const runAll = async ({ parts, isolated = false }) => {
    const done = [];
    for (const part of parts) done.push(part.tiers ? await tierRunner(part.tiers, undefined, part.tiers.join('+')) : await lane(part.lane, stackFiles(part), part.isolated ?? isolated));
    return done;
  };
  results = (await Promise.all(runners.map(runAll))).flat();
} else if (tier === 'stack') {
  results = await Promise.all(['loopback', 'netns'].map((name) => lane(name, filesOf('stack'))));
} else if (tier === 'fast') {
  results = [await tierRunner(['unit', 'tools'], [...filesOf('unit'), ...tiers.fastTools.map((name) => `test/${name}.test.ts`)])];
} else {
  results = [await tierRunner([tier])];
}

/** Skips other than the lane split: a missing tool or privilege hides a test, so the run fails. */
const unexplained = results.flatMap((r) =>
  [...r.out.matchAll(/^\s*ok \d+ - (.*?) # SKIP\s*(.*)$/gm)].filter((m) => !LANE_SKIP.test(m[2].trim())).map((m) => `[${r.label}] ${m[1]}: ${m[2].trim() || 'no reason given'}`),
);
if (unexplained.length) process.stdout.write(`\n# skipped for a reason other than the lane split (a missing tool or privilege fails the run):\n${unexplained.map((u) => `#   ${u}`).join('\n')}\n`);
if (results.length > 1) {
  const sum = Object.fromEntries(COUNTS.map((k) => [k, results.reduce((n, r) => n + counts(r.out)[k], 0)]));
  process.stdout.write(`\n# all runners together\n${COUNTS.map((k) => `# ${k} ${sum[k]}`).join('\n')}\n# duration_ms ${(performance.now() - t0).toFixed(3)}\n`);
}
process.exit(results.every((r) => r.code === 0) && unexplained.length === 0 ? 0 : 1);
