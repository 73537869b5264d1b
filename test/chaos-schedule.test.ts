// The chaos schedule: the same seed gives the same faults; every schedule keeps within
// its bounds (concurrency, one fault per set, network mode, campaign end).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CHAOS_FAULTS,
  chaosSchedule,
  firstLines,
  MAX_REPLAY_FAULTS,
  maxReplayFaults,
  replaySchedule,
  scheduleProblems,
  type ChaosFault,
  type ChaosMember,
  type RecordedFault,
  type ScheduleBounds,
  type ScheduleOptions,
} from '../src/chaos/schedule.ts';

const pair = (role: ChaosMember['role'], set: string): ChaosMember[] => [1, 2].map((i) => ({ name: `${set}-${i}`, role, set, backup: false }));
const MEMBERS: ChaosMember[] = [
  ...pair('scraper', 'scraper1'),
  ...pair('scraper', 'scraper2'),
  ...pair('pushgateway', 'pushgateway1'),
  ...pair('federator', 'federator1'),
  ...pair('alertmanager', 'alertmanager1'),
  { name: 'alertmanager1-3', role: 'alertmanager', set: 'alertmanager1', backup: true },
];
const options = (over: Partial<ScheduleOptions> = {}): ScheduleOptions => ({
  seed: 1,
  durationMs: 600_000,
  faults: CHAOS_FAULTS,
  mode: 'netns',
  members: MEMBERS,
  exporterGroups: ['demo1', 'demo2'],
  pushgatewaySets: ['pushgateway1'],
  ...over,
});

describe('chaosSchedule', () => {
  it('is the same for the same seed, and another for another seed', () => {
    assert.deepEqual(chaosSchedule(options()), chaosSchedule(options()));
    assert.notDeepEqual(chaosSchedule(options({ seed: 2 })), chaosSchedule(options()));
  });

  it('fills a 10-minute campaign with faults of every kind', () => {
    const s = chaosSchedule(options());
    assert.ok(s.length >= 20, `${s.length} faults`);
    assert.deepEqual(new Set(s.map((f) => f.kind)), new Set(CHAOS_FAULTS));
    assert.deepEqual(s.map((f) => f.id), s.map((_, i) => i + 1));
  });

  for (const maxConcurrent of [1, 2, 3])
    it(`keeps within its bounds on 200 seeds (at most ${maxConcurrent} at once)`, () => {
      for (let seed = 0; seed < 200; seed++) {
        const o = options({ seed, maxConcurrent });
        const s = chaosSchedule(o);
        assert.deepEqual(scheduleProblems(s, o), [], `seed ${seed}`);
        for (const f of s) assert.ok(f.at + f.durationMs <= o.durationMs - 30_000, `seed ${seed}: fault ${f.id} heals before the end`);
      }
    });

  it('on loopback, only faults that need no network namespace', () => {
    const s = chaosSchedule(options({ mode: 'loopback' }));
    assert.deepEqual([...new Set(s.map((f) => f.kind))].sort(), ['am-data-lost', 'exporter-slow', 'kill', 'pause']);
  });

  it('keeps an Alertmanager paused or cut off no longer than the bound (the alerts would expire there)', () => {
    const s = chaosSchedule(options({ faults: ['pause', 'link-down'], alertmanagerDeafMaxMs: 4_000 }));
    const deaf = s.filter((f) => f.target.startsWith('alertmanager'));
    assert.ok(deaf.length > 0 && deaf.every((f) => f.durationMs <= 4_000), JSON.stringify(deaf));
    assert.ok(s.some((f) => !f.target.startsWith('alertmanager') && f.durationMs > 4_000), 'other members keep their durations');
  });

  it('takes only the faults asked for, on the targets they apply to', () => {
    const s = chaosSchedule(options({ faults: ['am-partition', 'vip-move'] }));
    assert.ok(s.length > 0);
    for (const f of s)
      if (f.kind === 'am-partition') assert.match(f.target, /^alertmanager1-[123]$/);
      else assert.equal(f.target, 'pushgateway1');
  });
});

describe('scheduleProblems', () => {
  const fault = (id: number, kind: ChaosFault['kind'], target: string, set: string, at: number, durationMs: number): ChaosFault => ({ id, kind, target, set, at, durationMs });
  const o: ScheduleBounds = { maxConcurrent: 2, mode: 'loopback', durationMs: 100_000, members: MEMBERS, exporterGroups: ['demo1'], pushgatewaySets: ['pushgateway1'] };
  const cases: Array<{ name: string; schedule: ChaosFault[]; problems: RegExp[] }> = [
    { name: 'a schedule within bounds', schedule: [fault(1, 'kill', 'scraper1-1', 'scraper1', 0, 10_000), fault(2, 'kill', 'scraper1-2', 'scraper1', 10_000, 10_000)], problems: [] },
    { name: 'both members of a set at once', schedule: [fault(1, 'kill', 'scraper1-1', 'scraper1', 0, 10_000), fault(2, 'pause', 'scraper1-2', 'scraper1', 5_000, 10_000)], problems: [/fault 2: scraper1-2 and fault 1 \(scraper1-1\) weaken scraper1 at once/] },
    {
      name: 'more faults at once than allowed',
      schedule: [fault(1, 'kill', 'scraper1-1', 'scraper1', 0, 10_000), fault(2, 'kill', 'scraper2-1', 'scraper2', 1_000, 10_000), fault(3, 'kill', 'federator1-1', 'federator1', 2_000, 10_000)],
      problems: [/fault 3: 3 faults at once \(at most 2\)/],
    },
    { name: 'a netns fault on loopback', schedule: [fault(1, 'link-down', 'scraper1-1', 'scraper1', 0, 10_000)], problems: [/fault 1: link-down needs network namespaces/] },
    { name: 'a fault past the end', schedule: [fault(1, 'kill', 'scraper1-1', 'scraper1', 95_000, 10_000)], problems: [/does not end within the campaign/] },
  ];
  for (const c of cases)
    it(c.name, () => {
      const p = scheduleProblems(c.schedule, o);
      assert.equal(p.length, c.problems.length, p.join('\n'));
      c.problems.forEach((re, i) => assert.match(p[i] ?? '', re));
    });
});

describe('chaosSchedule on loopback', () => {
  it('pauses no gateway: behind HAProxy nothing wipes one that lost the VIP', () => {
    for (let seed = 0; seed < 50; seed++) {
      const s = chaosSchedule(options({ seed, mode: 'loopback', faults: ['pause'] }));
      assert.ok(s.every((f) => !f.target.startsWith('pushgateway')), `seed ${seed}`);
    }
    assert.ok(chaosSchedule(options({ faults: ['pause'] })).some((f) => f.target.startsWith('pushgateway')), 'in netns they are paused');
  });
});

/*
 * A replayed schedule is input: checked against the running stack's members, groups and
 * sets, its sets derived from its targets, its size bounded, its messages bounded.
 */
describe('replaySchedule', () => {
  const bounds = (over: Partial<ScheduleBounds> = {}): ScheduleBounds => ({
    maxConcurrent: 2,
    mode: 'loopback',
    durationMs: 600_000,
    members: MEMBERS,
    exporterGroups: ['demo1', 'demo2'],
    pushgatewaySets: ['pushgateway1'],
    alertmanagerDeafMaxMs: 30_000,
    ...over,
  });
  const f = (id: number, kind: ChaosFault['kind'], target: string, at = id * 60_000, durationMs = 10_000, set?: string): RecordedFault => ({ id, kind, target, at, durationMs, ...(set === undefined ? {} : { set }) });
  const cases: Array<{ name: string; faults: RecordedFault[]; over?: Partial<ScheduleBounds>; problems: RegExp[] }> = [
    { name: 'every kind on a target its role takes, sets left out', faults: [f(1, 'kill', 'scraper1-1'), f(2, 'pause', 'federator1-2'), f(3, 'exporter-slow', 'demo2'), f(4, 'am-data-lost', 'alertmanager1-3')], problems: [] },
    { name: 'the netns kinds in netns mode', over: { mode: 'netns' }, faults: [f(1, 'vip-move', 'pushgateway1'), f(2, 'link-down', 'scraper2-2'), f(3, 'am-partition', 'alertmanager1-1'), f(4, 'pause', 'pushgateway1-1')], problems: [] },
    { name: 'a set written as the target\'s own', faults: [f(1, 'kill', 'scraper1-1', 60_000, 10_000, 'scraper1')], problems: [] },
    { name: 'a target that is no member', faults: [f(1, 'kill', 'scraper9-1')], problems: [/^fault 1: kill cannot hit "scraper9-1", which is no member, exporter group or pushgateway set of the running stack: it takes a member$/] },
    { name: 'am-data-lost aimed at a scraper', faults: [f(1, 'am-data-lost', 'scraper1-1')], problems: [/^fault 1: am-data-lost cannot hit scraper1-1 \(a scraper\): it takes an Alertmanager member$/] },
    { name: 'am-partition aimed at a federator', over: { mode: 'netns' }, faults: [f(1, 'am-partition', 'federator1-1')], problems: [/^fault 1: am-partition cannot hit federator1-1 \(a federator\): it takes an Alertmanager member$/] },
    { name: 'exporter-slow aimed at a member', faults: [f(1, 'exporter-slow', 'scraper1-1')], problems: [/^fault 1: exporter-slow cannot hit scraper1-1 \(a scraper\): it takes an exporter group$/] },
    { name: 'kill aimed at an exporter group', faults: [f(1, 'kill', 'demo1')], problems: [/^fault 1: kill cannot hit demo1 \(an exporter group\): it takes a member$/] },
    { name: 'vip-move aimed at a gateway member', over: { mode: 'netns' }, faults: [f(1, 'vip-move', 'pushgateway1-1')], problems: [/^fault 1: vip-move cannot hit pushgateway1-1 \(a pushgateway\): it takes a pushgateway set$/] },
    { name: 'a paused gateway on loopback', faults: [f(1, 'pause', 'pushgateway1-2')], problems: [/^fault 1: pause cannot hit pushgateway1-2 \(a pushgateway\): it takes a member other than a pushgateway/] },
    { name: 'a netns kind on loopback', faults: [f(1, 'link-down', 'scraper1-1')], problems: [/^fault 1: link-down needs network namespaces$/] },
    { name: 'a set that is not the target\'s', faults: [f(1, 'kill', 'scraper1-1', 60_000, 10_000, 'elsewhere')], problems: [/^fault 1: scraper1-1 is in scraper1, not "elsewhere" \(the set is the target's own: leave it out or write scraper1\)$/] },
    {
      name: 'free sets do not sidestep one fault per set',
      faults: [f(1, 'kill', 'scraper1-1', 60_000, 10_000, 'a'), f(2, 'kill', 'scraper1-2', 61_000, 10_000, 'b')],
      problems: [/^fault 1: scraper1-1 is in scraper1, not "a"/, /^fault 2: scraper1-2 is in scraper1, not "b"/, /^fault 2: scraper1-2 and fault 1 \(scraper1-1\) weaken scraper1 at once$/],
    },
    { name: 'two faults with one id', faults: [f(1, 'kill', 'scraper1-1'), f(1, 'kill', 'scraper2-1', 200_000)], problems: [/^fault 1: the id is taken by an earlier fault \(the 1st\); ids must be unique$/] },
    { name: 'an Alertmanager deaf past the bound', faults: [f(1, 'pause', 'alertmanager1-2', 60_000, 40_000)], problems: [/^fault 1: pause keeps alertmanager1-2 from the federators for 40\.0 s, longer than the 30\.0 s an Alertmanager may hear nothing/] },
    { name: 'a fault past the end', faults: [f(1, 'kill', 'scraper1-1', 595_000, 10_000)], problems: [/^fault 1: kill scraper1-1 does not end within the campaign$/] },
    { name: 'more faults than a campaign of its length starts', over: { durationMs: 60_000 }, faults: Array.from({ length: 31 }, (_, i) => f(i + 1, 'kill', 'scraper1-1', i * 1_000, 500)), problems: [/^31 faults; a campaign of 60 s takes at most 30 \(one per 2 s/] },
  ];
  for (const c of cases)
    it(c.name, () => {
      const r = replaySchedule(c.faults, bounds(c.over));
      assert.equal(r.problems.length, c.problems.length, r.problems.join('\n'));
      c.problems.forEach((re, i) => assert.match(r.problems[i] ?? '', re));
    });

  it('derives each fault\'s set from its target', () => {
    const r = replaySchedule([f(1, 'kill', 'scraper2-1'), f(2, 'exporter-slow', 'demo1'), f(3, 'am-data-lost', 'alertmanager1-3')], bounds());
    assert.deepEqual(r.schedule.map((x) => x.set), ['scraper2', 'exporters demo1', 'alertmanager1']);
  });

  it('accepts what the generator makes, on 100 seeds (the same rules)', () => {
    for (let seed = 0; seed < 100; seed++) {
      const o = { ...bounds({ mode: seed % 2 ? 'netns' : 'loopback' }), seed, faults: CHAOS_FAULTS } as ScheduleOptions;
      const recorded = chaosSchedule(o).map(({ set: _set, ...rest }) => rest);
      assert.deepEqual(replaySchedule(recorded, o).problems, [], `seed ${seed}`);
    }
  });

  it('bounds the faults by the campaign\'s length, and by a ceiling', () => {
    // A 60-minute campaign schedules about 250 faults (README: Chaos campaigns).
    assert.equal(maxReplayFaults(3_600_000), 1_800);
    assert.ok(chaosSchedule({ ...bounds({ durationMs: 3_600_000 }), seed: 1, faults: CHAOS_FAULTS }).length < maxReplayFaults(3_600_000));
    assert.equal(maxReplayFaults(10 ** 12), MAX_REPLAY_FAULTS);
  });

  it('validates in time linear in the faults (counted reads, not a clock)', () => {
    // Every read of a fault's start, duration or set is counted: the sweep reads each a
    // bounded number of times per sort step; comparing every pair would read n² times.
    const n = 4_000;
    let reads = 0;
    const counted = (x: ChaosFault): ChaosFault => {
      const o = { ...x };
      return Object.defineProperties({} as ChaosFault, {
        id: { get: () => o.id, enumerable: true },
        kind: { get: () => o.kind, enumerable: true },
        target: { get: () => o.target, enumerable: true },
        set: { get: () => (reads++, o.set), enumerable: true },
        at: { get: () => (reads++, o.at), enumerable: true },
        durationMs: { get: () => (reads++, o.durationMs), enumerable: true },
      });
    };
    // All overlapping, half of them on one set: the worst case for a pairwise check.
    const schedule = Array.from({ length: n }, (_, i) => counted({ ...(f(i + 1, 'kill', i % 2 ? 'scraper1-1' : 'scraper2-2', i, 1_000_000) as ChaosFault), set: i % 2 ? 'scraper1' : 'scraper2' }));
    const problems = scheduleProblems(schedule, bounds({ durationMs: 100_000_000 }));
    assert.ok(problems.length >= 2 * n - 4, `${problems.length} problems`);
    assert.ok(reads > n, `${reads} reads: the count sees the check`);
    assert.ok(reads < 20 * n * Math.log2(n), `${reads} reads for ${n} faults (a pairwise check reads about ${n * n})`);
  });
});

describe('firstLines', () => {
  it('keeps short lists whole and cuts long ones with a count', () => {
    assert.deepEqual(firstLines(['a', 'b']), ['a', 'b']);
    const lines = Array.from({ length: 20_000 }, (_, i) => `fault ${i + 1}: 20000 faults at once (at most 2)`);
    const shown = firstLines(lines);
    assert.equal(shown.length, 21);
    assert.equal(shown[19], lines[19]);
    assert.equal(shown[20], '… and 19980 more');
  });
});
