// `npm test` (all tiers) and `npm run test:unit|test:tools|test:stack`: the tiers of
// test/tiers.json. Unit tests are pure and in-process; tools tests run real validators
// and binaries; stack tests start whole stacks. Unit and tools files run one at a time.
// Stack files run in two lanes at once that share no address and no port (see `Lane` in
// test/helpers.ts): every suite of a stack file belongs to one lane and skips itself in
// the other; within a lane one file runs at a time. `all` runs the unit and tools files
// first in the loopback lane, beside the netns lane. A lane's output is printed when it
// ends, so the two never interleave; the last lines add up every runner's counts in the
// form node's test runner closes with.
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

/** Runs node's test runner over `files`; streams its output, or keeps it until the end when `buffered`. */
function runner(files, { env = {}, buffered = false } = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', '--test-concurrency=1', ...files], {
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

const t0 = performance.now();
/** One stack lane: its runner, output kept until it ends. */
const lane = (name) =>
  runner(filesOf('stack'), { env: { PROMHA_TEST_LANE: name }, buffered: true }).then((r) => {
    process.stdout.write(`\n# ---- stack tests, ${name} lane (exit ${r.code}) ----\n${r.out}`);
    return r;
  });
let results;
if (tier === 'all') {
  // The unit and tools files share no address with the netns lane, and that lane is the
  // longer one: they run beside it, before the loopback lane (whose 127.0.0.x they share).
  results = (
    await Promise.all([runner(filesOf('unit', 'tools')).then(async (serial) => [serial, await lane('loopback')]), lane('netns').then((r) => [r])])
  ).flat();
} else if (tier === 'stack') {
  results = await Promise.all(['loopback', 'netns'].map(lane));
} else {
  results = [await runner(filesOf(tier))];
}
if (results.length > 1) {
  const sum = Object.fromEntries(COUNTS.map((k) => [k, results.reduce((n, r) => n + counts(r.out)[k], 0)]));
  process.stdout.write(`\n# all runners together\n${COUNTS.map((k) => `# ${k} ${sum[k]}`).join('\n')}\n# duration_ms ${(performance.now() - t0).toFixed(3)}\n`);
}
process.exit(results.every((r) => r.code === 0) ? 0 : 1);
