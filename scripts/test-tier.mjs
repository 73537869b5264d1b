// `npm test` (all tiers) and `npm run test:unit|test:tools|test:stack`: the tiers of
// test/tiers.json. Unit tests are pure and in-process; tools tests run real validators
// and binaries; stack tests start whole stacks. Unit and tools files run one at a time.
// Every suite of a stack file belongs to a lane (see `Lane` in test/helpers.ts) and skips
// itself in the other: `loopback` (127.0.0.0/8) or `netns` (the promha0 bridge and
// namespaces named promha-*). Runners that share no address and no port run side by
// side, one file at a time each: one per lane; for `all` the unit and tools files in a
// runner of their own beside them (RUNNERS). A runner may run `isolated`, in network and
// mount namespaces of its own, whose loopback, bridge and named namespaces no other
// runner sees. A runner's output is printed when it ends, so
// none interleave; the last lines add up every runner's counts in the form node's test
// runner closes with.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const tiers = JSON.parse(readFileSync(path.join(root, 'test/tiers.json'), 'utf8'));
const tier = process.argv[2];
if (tier !== 'all' && !tiers[tier]) {
  console.error(`usage: test-tier.mjs all|${Object.keys(tiers).join('|')}`);
  process.exit(2);
}
const filesOf = (...names) => names.flatMap((n) => tiers[n]).map((name) => `test/${name}.test.ts`);
const COUNTS = ['tests', 'suites', 'pass', 'fail', 'cancelled', 'skipped', 'todo'];

/**
 * Runs node's test runner over `files`; streams its output, or keeps it until the end
 * when `buffered`. `isolated` runs it in a network namespace of its own (its own
 * loopback, bridges and veths) and a mount namespace whose /run/netns is its own (its
 * own named namespaces): root only.
 */
function runner(files, { env = {}, buffered = false, isolated = false } = {}) {
  const node = [process.execPath, '--import', 'tsx', '--test', '--test-reporter=tap', '--test-concurrency=1', ...files];
  const isolate = ['unshare', '--mount', '--net', '--propagation', 'private', 'bash', '-c', 'mkdir -p /run/netns && mount -t tmpfs tmpfs /run/netns && ip link set lo up && exec "$@"', 'isolated'];
  const [command, ...args] = isolated ? [...isolate, ...node] : node;
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const take = (chunk) => {
      out += chunk;
      if (!buffered) process.stdout.write(chunk);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), out }));
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
/** One lane over some stack files, output kept until it ends. */
const lane = async (name, files, isolated = false) => {
  const r = await runner(files, { env: { PROMHA_TEST_LANE: name }, buffered: true, isolated });
  process.stdout.write(`\n# ---- stack tests, ${name} lane${isolated ? ', isolated' : ''}: ${files.map((f) => path.basename(f, '.test.ts')).join(' ')} (exit ${r.code}) ----\n${r.out}`);
  return r;
};
let results;
if (tier === 'all') {
  // Without root there are no namespaces to isolate a runner in (netns suites skip themselves): one after the other.
  const runners = process.getuid?.() === 0 ? RUNNERS : [{ parts: RUNNERS.flatMap((r) => r.parts.map((p) => ({ ...p, isolated: false }))) }];
  const runAll = async ({ parts, isolated = false }) => {
    const done = [];
    for (const part of parts) done.push(part.tiers ? await runner(filesOf(...part.tiers)) : await lane(part.lane, stackFiles(part), part.isolated ?? isolated));
    return done;
  };
  results = (await Promise.all(runners.map(runAll))).flat();
} else if (tier === 'stack') {
  results = await Promise.all(['loopback', 'netns'].map((name) => lane(name, filesOf('stack'))));
} else {
  results = [await runner(filesOf(tier))];
}
if (results.length > 1) {
  const sum = Object.fromEntries(COUNTS.map((k) => [k, results.reduce((n, r) => n + counts(r.out)[k], 0)]));
  process.stdout.write(`\n# all runners together\n${COUNTS.map((k) => `# ${k} ${sum[k]}`).join('\n')}\n# duration_ms ${(performance.now() - t0).toFixed(3)}\n`);
}
process.exit(results.every((r) => r.code === 0) ? 0 : 1);
