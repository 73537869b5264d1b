import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { missingIntervals } from '../src/drills/context.ts';
import { failureUnits, impactOf } from '../src/faults/matrix.ts';
import { parseTopology } from '../src/topology/load.ts';
import { SCENARIOS } from '../src/drills/run.ts';
import { SCENARIO_NAMES } from '../src/drills/scenario-names.ts';
import { flapWindow, type DrillOutcome } from '../src/drills/drill.ts';
import { sustainedFor } from '../src/runtime/demo-rules.ts';
import { FAST_RULES, fastTopology, promha, tempProject, selectedStacks, stackSkip, laneUpArgs } from './helpers.ts';
import { RELEASE_NAMES, RELEASES, type ReleaseName } from '../src/release/release.ts';
import type { NetworkMode } from '../src/runtime/local-topology.ts';

describe('missingIntervals', { skip: stackSkip('loopback') }, () => {
  const cases: Array<[string, number[], number]> = [
    ['no gap', [1, 2, 3, 4], 0],
    ['two copies interleaved', [1, 1.5, 2, 2.5, 3], 0],
    ['one lost sample', [1, 2, 4, 5], 1],
    ['three lost samples', [1, 5, 6], 3],
  ];
  for (const [name, times, lost] of cases) it(name, () => assert.equal(missingIntervals(times, 1), lost));
});

describe('scenario names', { skip: stackSkip('loopback') }, () => {
  it('the list the CLI shows is the list the drills run, in order', () => assert.deepEqual(SCENARIOS.map((s) => s.name), [...SCENARIO_NAMES]));
});

/**
 * The stacks the drills run on: each release once, so every scenario runs on every
 * release. Debian 12 and 13 run in network namespaces, where the two scenarios that move
 * a VIP off a live gateway and cut gossip can run too; sid runs on loopback. The two test
 * lanes (see `Lane` in helpers.ts) then take about as long as each other.
 */
const STACKS: ReadonlyArray<{ mode: NetworkMode; release: ReleaseName }> = [
  { mode: 'loopback', release: 'sid' },
  { mode: 'netns', release: 'bookworm' },
  { mode: 'netns', release: 'trixie' },
];

/** Scenarios that need a network per member. */
const NETNS_ONLY = ['vip-moved-gateway-alive', 'alertmanager-partitioned'];

/**
 * What each scenario's own parameters imply for its measured times on the fast topology
 * (seconds). `detectAtLeast`: the `for:` of the alert whose notification is the detection
 * (it cannot arrive sooner), less a scrape timeout (a scrape begun just before the fault
 * may already see it) and half a second of the drill's own steps. `detectWithin` and
 * `recoverWithin`: the timeout of the wait that measures it (a wait that runs out
 * measures nothing), plus PROBE_ALLOWANCE for the last probe, begun inside the timeout.
 * alertmanager-data-lost's recovery counts kills and restarts no parameter bounds.
 */
const PROBE_ALLOWANCE = 10;
const FAST_SPEC = parseTopology('promha.yaml', stringify(fastTopology())).spec;
const DRILL_BOUNDS: Record<string, { detectAtLeast: number; detectWithin: number; recoverWithin?: number }> = (() => {
  const { scrape, federate, push } = FAST_SPEC.intervals;
  // A scrape timeout (at most its interval) of the scrape or federate scrape that sees the fault.
  const slack = Math.max(scrape.seconds, federate.seconds) + 0.5;
  const scrapers = 60 + federate.times(10).seconds;
  const federators = 60 + sustainedFor(FAST_SPEC).seconds + federate.times(10).seconds;
  const vip = 60 + push.times(20).seconds;
  return {
    'scraper-killed': { detectAtLeast: 0, detectWithin: scrapers, recoverWithin: scrapers },
    // PromhaScraperSetDown holds for three federate intervals (meta-rules.ts).
    'scraper-set-down': { detectAtLeast: federate.times(3).seconds - slack, detectWithin: scrapers, recoverWithin: scrapers },
    'alertmanager-killed': { detectAtLeast: 0, detectWithin: 60, recoverWithin: 60 },
    // PromhaDemoExporterDown holds for three scrape intervals (demo-rules.ts).
    'federator-killed': { detectAtLeast: scrape.times(3).seconds - slack, detectWithin: federators, recoverWithin: federators },
    'pushgateway-host-lost': { detectAtLeast: 0, detectWithin: 60, recoverWithin: 60 },
    'vip-moved-gateway-alive': { detectAtLeast: 0, detectWithin: vip, recoverWithin: vip },
    'alertmanager-partitioned': { detectAtLeast: 0, detectWithin: 60, recoverWithin: 90 },
    'alertmanager-data-lost': { detectAtLeast: 0, detectWithin: 60 },
  };
})();

/*
 * The drills on the real binaries, one test case per scenario on a stack they share, in
 * the order `promha drill` runs them: a failure names its scenario and the release.
 */
for (const { mode, release } of selectedStacks(STACKS))
describe(`promha drill on a live stack (${mode}, ${release})`, { skip: stackSkip(mode) }, () => {
  let project: Awaited<ReturnType<typeof tempProject>>;
  let stateDir: string;
  const outcomes: DrillOutcome[] = [];
  const run = (...args: string[]) => promha([...args, '--state-dir', stateDir], project.dir);

  before(async () => {
    project = await tempProject({ 'promha.yaml': fastTopology(), 'rules/demo.yml': FAST_RULES });
    stateDir = path.join(project.dir, '.promha');
    const up = await run('up', '--network', mode, '--detach', '--release', release, ...laneUpArgs(mode));
    assert.equal(up.exitCode, 0, up.stdout + up.stderr);
  });
  after(async () => {
    await run('down');
    await project.cleanup();
  });

  for (const scenario of SCENARIO_NAMES.filter((n) => mode === 'netns' || !NETNS_ONLY.includes(n)))
    it(scenario, async (t) => {
      const r = await run('drill', scenario, '--json', '--release', release, '--report', `drills-${scenario}.md`);
      // Its progress: a wait for an earlier episode to close shows here.
      if (r.stderr.trim() !== '') t.diagnostic(r.stderr.trim());
      const [o] = JSON.parse(r.stdout) as DrillOutcome[];
      assert.ok(o, r.stderr);
      outcomes.push(o);
      assert.equal(o.scenario, scenario);
      assert.equal(o.mode, mode);
      assert.equal(o.release, release);
      assert.match(o.versions['prometheus'] ?? '', new RegExp(`^${RELEASES[release].components.prometheus.version.replace('.', '\\.')}\\.\\d+$`));
      for (const e of o.expectations) assert.ok(e.ok, `${e.name}: ${e.detail}`);
      assert.equal(r.exitCode, 0);
      const { detectSeconds: detect, recoverSeconds: recover, watchedSeconds: watched } = o.measurements;
      t.diagnostic(`measured: detect ${detect} s, recover ${recover} s, watched ${watched} s, drill ${o.seconds} s`);
      const bounds = DRILL_BOUNDS[scenario];
      assert.ok(bounds, `no bounds for ${scenario}`);
      assert.ok(detect !== undefined && detect > 0, `detect: ${detect}`);
      assert.ok(recover !== undefined && recover >= 0, `recover: ${recover}`);
      assert.ok(detect >= bounds.detectAtLeast, `detected after ${detect} s, sooner than the alert's for: allows (${bounds.detectAtLeast} s)`);
      assert.ok(detect <= bounds.detectWithin + PROBE_ALLOWANCE, `detected after ${detect} s, past its wait of ${bounds.detectWithin} s`);
      if (bounds.recoverWithin !== undefined) assert.ok(recover <= bounds.recoverWithin + PROBE_ALLOWANCE, `recovered after ${recover} s, past its wait of ${bounds.recoverWithin} s`);
      // The phases run one after the other inside the drill: detection, then recovery.
      assert.ok(detect + recover <= o.seconds, `detect ${detect} s + recover ${recover} s, but the drill took ${o.seconds} s`);
      if (watched !== undefined) assert.ok(watched <= o.seconds + 0.5, `watched ${watched} s of a drill of ${o.seconds} s`);
      // At least once: each side of a partition may notify. After both active members
      // lost their data and the backup restarted, a resolved notification was once seen
      // twice; the scenario's own expectations (the firing alert notified exactly once,
      // the silenced group silent) hold in any case.
      if (scenario === 'alertmanager-partitioned' || scenario === 'alertmanager-data-lost')
        assert.ok((o.measurements.notificationsReceived ?? 0) >= (o.measurements.notificationsExpected ?? 1));
      else {
        assert.equal(o.measurements.notificationsDuplicated, 0);
        assert.equal(o.measurements.notificationsReceived, o.measurements.notificationsExpected);
      }
      if (scenario === 'federator-killed' || scenario === 'scraper-killed') assert.equal(o.measurements.samplesLost, 0);
      // What `check --faults` predicts for the drill's fault is what the drill measured.
      if (scenario === 'scraper-killed' || scenario === 'scraper-set-down') {
        const spec = parseTopology('promha.yaml', stringify(fastTopology())).spec;
        const set = scenario === 'scraper-killed' ? spec.scrapers[0] : spec.scrapers.at(-1);
        const down = scenario === 'scraper-killed' ? [set?.members[0]?.name] : (set?.members.map((m) => m.name) ?? []);
        const predicted = impactOf(spec, failureUnits(spec).filter((u) => u.members.some((m) => down.includes(m))));
        if (scenario === 'scraper-killed') assert.deepEqual(predicted.losses, [], 'one scraper member loses nothing, and the drill lost no sample');
        else {
          assert.deepEqual(predicted.blindExporters, set?.exporters);
          assert.equal(predicted.blindSpotAlertDelivered, o.expectations.find((e) => e.name === 'the blind-spot critical alert fires')?.ok);
        }
      }
      if (scenario === 'pushgateway-host-lost') assert.equal(o.measurements.pushesLost, 0);
      // Past the lookback of the test profile: the drill waits out its flap window.
      if (scenario === 'scraper-killed') assert.ok((watched ?? 0) >= flapWindow(FAST_SPEC.lookback_delta).seconds, `watched ${watched} s`);
    });

  it('writes a Markdown report with the release and versions, and the latest results for the dashboard', async () => {
    const md = await readFile(path.join(project.dir, 'drills-scraper-killed.md'), 'utf8');
    assert.match(md, /^# promha drill report/);
    assert.match(md, new RegExp(`## ✅ A scraper member is killed \\(\`scraper-killed\`, ${mode}, ${release}: prometheus \\d+\\.\\d+\\.\\d+, `));
    assert.match(md, /\| time to detect \| \d+\.\d s \|/);
    const latest = JSON.parse(await readFile(path.join(stateDir, 'drills', 'latest.json'), 'utf8')) as DrillOutcome[];
    assert.deepEqual(latest, outcomes.slice(-1));
  });

  it('leaves the stack whole: doctor passes', async () => {
    assert.ok(outcomes.length > 0);
    const r = await run('doctor', '--json');
    const report = JSON.parse(r.stdout) as { fail: number; results: Array<{ verdict: string; message: string }> };
    assert.equal(report.fail, 0, JSON.stringify(report.results.filter((x) => x.verdict === 'fail')));
  });

  it('refuses an unknown scenario, and a stack of another release', async () => {
    const r = await run('drill', 'no-such-drill');
    assert.equal(r.exitCode, 2);
    assert.ok(r.stderr.includes(`unknown scenario "no-such-drill"; scenarios: ${SCENARIO_NAMES.join(', ')}`), r.stderr);
    const other = RELEASE_NAMES.find((x) => x !== release) ?? 'bookworm';
    const wrong = await run('drill', 'scraper-killed', '--release', other);
    assert.equal(wrong.exitCode, 2);
    assert.ok(wrong.stderr.includes(`runs ${release}, not ${other}`), wrong.stderr);
  });
});
