// `drill chaos` settings, replay files, shrinking and the report, in-process.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CampaignReport } from '../src/chaos/campaign.ts';
import { formatCampaign, latencyDistribution, markdownCampaign } from '../src/chaos/report.ts';
import { CHAOS_FAULTS, type ChaosFault } from '../src/chaos/schedule.ts';
import { chaosSettings, shrinkCampaign, type ChaosStack } from '../src/commands/chaos.ts';
import { ExitError } from '../src/errors.ts';

const fault = (id: number, at: number, target = `scraper${id}-1`): ChaosFault => ({ id, kind: 'kill', target, set: target.replace(/-\d$/, ''), at, durationMs: 10_000 });
const report = (schedule: ChaosFault[], violations: CampaignReport['violations'] = []): CampaignReport => ({
  seed: 7,
  mode: 'loopback',
  release: 'bookworm',
  durationMs: 600_000,
  maxConcurrent: 2,
  faults: ['kill'],
  startedAt: '2026-12-04T10:00:00.000Z',
  schedule,
  injected: schedule.map((f) => ({ ...f, startedAt: f.at, healedAt: f.at + f.durationMs })),
  episodes: 12,
  latency: { count: 3, median: 4, max: 9 },
  latencies: [2, 4, 9],
  partitionDuplicates: 0,
  violations,
});

/** The stack a replay is checked against: scraper sets 1-6 of two members each. */
const stack = (mode: 'loopback' | 'netns' = 'loopback'): ChaosStack => ({
  mode,
  members: [1, 2, 3, 4, 5, 6].flatMap((i) => [1, 2].map((m) => ({ name: `scraper${i}-${m}`, role: 'scraper' as const, set: `scraper${i}`, backup: false }))),
  exporterGroups: ['demo1'],
  pushgatewaySets: [],
});

describe('chaosSettings', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'promha-chaos-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const fails = async (o: Parameters<typeof chaosSettings>[0], re: RegExp, mode: 'loopback' | 'netns' = 'loopback') => {
    await assert.rejects(chaosSettings(o, stack(mode)), (e: unknown) => e instanceof ExitError && e.code === 2 && re.test(e.message));
  };

  it('defaults: 10 minutes, every fault, two at once, a random seed', async () => {
    const s = await chaosSettings({}, stack());
    assert.equal(s.durationMs, 600_000);
    assert.deepEqual(s.faults, [...CHAOS_FAULTS]);
    assert.equal(s.maxConcurrent, 2);
    assert.ok(Number.isInteger(s.seed) && s.seed >= 0);
  });
  it('reads the options', async () => {
    assert.deepEqual(await chaosSettings({ duration: '90s', seed: '42', faults: 'kill, pause', maxConcurrent: '3' }, stack()), { seed: 42, durationMs: 90_000, faults: ['kill', 'pause'], maxConcurrent: 3 });
  });
  it('refuses bad options with the fix', async () => {
    await fails({ duration: '10' }, /--duration wants a Prometheus duration of at least 1m, got "10"/);
    await fails({ duration: '30s' }, /at least 1m/);
    await fails({ seed: '-1' }, /--seed wants a non-negative integer/);
    await fails({ maxConcurrent: '0' }, /--max-concurrent wants a positive integer/);
    await fails({ faults: 'kill,explode' }, /unknown fault\(s\) explode\n\s+fix: choose from kill, pause/);
  });
  it('replays a recorded report: its seed, duration and schedule', async () => {
    const file = path.join(dir, 'r.json');
    await writeFile(file, JSON.stringify(report([fault(1, 1_000), fault(2, 20_000)])));
    const s = await chaosSettings({ replay: file, seed: '99' }, stack());
    assert.equal(s.seed, 7);
    assert.equal(s.durationMs, 600_000);
    assert.deepEqual(s.replay?.map((f) => f.id), [1, 2]);
  });
  it('refuses a replay file that is not a report, from another mode, or out of bounds', async () => {
    const file = path.join(dir, 'bad.json');
    await writeFile(file, '{"seed": 1}');
    await fails({ replay: file }, /not a chaos report:\n\s+durationMs: /);
    await writeFile(file, 'nope');
    await fails({ replay: file }, /--replay .*bad\.json: .*JSON[\s\S]*fix: pass the JSON report/);
    await writeFile(file, JSON.stringify(report([fault(1, 1_000)])));
    await fails({ replay: file }, /recorded in loopback mode; the stack runs in netns mode/, 'netns');
    await writeFile(file, JSON.stringify(report([fault(1, 1_000, 'scraper1-1'), fault(2, 2_000, 'scraper1-2')])));
    await fails({ replay: file }, /breaks the campaign's bounds:\n\s+fault 2: scraper1-2 and fault 1 \(scraper1-1\) weaken scraper1 at once/);
    await fails({ replay: path.join(dir, 'missing.json') }, /ENOENT/);
  });
});

describe('shrinkCampaign', () => {
  // A campaign that fails whenever faults 3 and 5 both run: the minimal schedule is those two.
  const culprit = (schedule: readonly ChaosFault[]) => [3, 5].every((id) => schedule.some((f) => f.id === id));
  const fakeRun = (runs: Array<readonly number[]>) => async (schedule: readonly ChaosFault[]) => {
    runs.push(schedule.map((f) => f.id));
    return report([...schedule], culprit(schedule) ? [{ kind: 'missed', at: 50_000, detail: 'x', faults: [3, 5] }] : []);
  };
  it('drops every fault the violation does not need', async () => {
    const schedule = [1, 2, 3, 4, 5, 6].map((id) => fault(id, id * 10_000));
    const runs: Array<readonly number[]> = [];
    const best = await shrinkCampaign(report(schedule, [{ kind: 'missed', at: 50_000, detail: 'x', faults: [2, 3, 5] }]), fakeRun(runs), () => {});
    assert.deepEqual(best.schedule.map((f) => f.id), [3, 5]);
    // First the faults around the violation in one run, then one at a time.
    assert.deepEqual(runs[0], [2, 3, 5]);
    assert.ok(runs.length <= 4, JSON.stringify(runs));
  });
  it('down to no fault at all when the violation occurs without any', async () => {
    const schedule = [1, 2].map((id) => fault(id, id * 10_000));
    const always = async () => report([], [{ kind: 'flap', at: 5_000, detail: 'x', faults: [] }]);
    const best = await shrinkCampaign(report(schedule, [{ kind: 'flap', at: 5_000, detail: 'x', faults: [] }]), always, () => {});
    assert.deepEqual(best.schedule, []);
  });
  it('keeps the schedule when nothing can go', async () => {
    const schedule = [3, 5].map((id) => fault(id, id * 10_000));
    const best = await shrinkCampaign(report(schedule, [{ kind: 'missed', at: 50_000, detail: 'x', faults: [3, 5] }]), fakeRun([]), () => {});
    assert.deepEqual(best.schedule.map((f) => f.id), [3, 5]);
  });
});

describe('the campaign report', () => {
  it('latency distribution', () => {
    assert.deepEqual(latencyDistribution([]), {});
    assert.deepEqual(latencyDistribution([5, 1, 3, 2, 4, 9, 8, 7, 6, 10]), { median: 6, p90: 10, p99: 10, max: 10 });
  });
  it('names each violation with the faults around it, and how to replay', () => {
    const r = report([fault(1, 1_000), fault(2, 20_000)], [{ kind: 'flap', at: 25_000, detail: 'exporter demo1: told resolved while its cause held', faults: [2] }]);
    const text = formatCampaign(r);
    assert.match(text, /\+25\.0 s flap: exporter demo1: told resolved while its cause held; faults around it: #2 kill scraper2-1 \(\+20\.0 s–\+30\.0 s\)/);
    assert.match(text, /violations: 1/);
    assert.match(text, /replay: promha drill chaos --replay/);
    const md = markdownCampaign(r);
    assert.match(md, /\| 12 \| 4\.0 s \| 9\.0 s \| 9\.0 s \| 9\.0 s \| 0 \| 1 \|/);
    assert.match(md, /\| 2 \| kill \| scraper2-1 \| \+20\.0 s \| \+30\.0 s \|/);
    assert.match(formatCampaign(report([fault(1, 1_000)])), /violations: none/);
  });
});
