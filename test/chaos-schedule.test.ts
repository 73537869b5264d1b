// The chaos schedule: the same seed gives the same faults; every schedule keeps within
// its bounds (concurrency, one fault per set, network mode, campaign end).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CHAOS_FAULTS, chaosSchedule, scheduleProblems, type ChaosFault, type ChaosMember, type ScheduleOptions } from '../src/chaos/schedule.ts';

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
  const o = { maxConcurrent: 2, mode: 'loopback' as const, durationMs: 100_000 };
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
