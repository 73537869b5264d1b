// Alert episodes judged against webhook records: notified, missed, duplicated, flapped.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { NotificationRecord, WebhookAlert } from '../src/demo/notifications.ts';
import { loadSources, loadTiming } from '../src/drills/alert-load.ts';
import { duplicateNotifications, judgeEpisodes, latencySummary, type AlertEpisode } from '../src/drills/episodes.ts';
import { seededRandom } from '../src/drills/random.ts';
import { parseTopology } from '../src/topology/load.ts';
import { fastTopology } from './helpers.ts';
import { stringify } from 'yaml';

const T0 = Date.parse('2026-12-04T10:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const alert = (status: 'firing' | 'resolved', group: string, startsAt: number): WebhookAlert => ({
  status,
  labels: { alertname: 'PromhaDemoValueHigh', group },
  annotations: {},
  startsAt: at(startsAt),
  endsAt: status === 'resolved' ? at(startsAt + 20) : '0001-01-01T00:00:00Z',
  fingerprint: `fp-${group}`,
});
const note = (s: number, alerts: WebhookAlert[], groupKey = '{}:{alertname="PromhaDemoValueHigh"}'): NotificationRecord => ({
  receivedAt: at(s),
  path: '/webhook',
  payload: { status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved', receiver: 'webhook', groupKey, groupLabels: {}, commonLabels: {}, alerts },
});
const episode = (group: string, start: number, end?: number): AlertEpisode => ({
  source: `exporter ${group}`,
  alertname: 'PromhaDemoValueHigh',
  labels: { group },
  start: T0 + start * 1000,
  ...(end !== undefined ? { end: T0 + end * 1000 } : {}),
});
const opts = { notifyWithinMs: 30_000, now: T0 + 600_000 };

describe('judgeEpisodes', () => {
  const cases: Array<{ name: string; episodes: AlertEpisode[]; records: NotificationRecord[]; notified: Array<number | undefined>; missed: number; flaps: number }> = [
    { name: 'notified within the bound', episodes: [episode('a', 0, 40)], records: [note(4, [alert('firing', 'a', 2)])], notified: [4], missed: 0, flaps: 0 },
    { name: 'never notified', episodes: [episode('a', 0, 40)], records: [], notified: [undefined], missed: 1, flaps: 0 },
    { name: 'notified after the bound counts as missed', episodes: [episode('a', 0, 60)], records: [note(45, [alert('firing', 'a', 2)])], notified: [45], missed: 1, flaps: 0 },
    { name: 'another group does not notify it', episodes: [episode('a', 0, 40)], records: [note(4, [alert('firing', 'b', 2)])], notified: [undefined], missed: 1, flaps: 0 },
    {
      name: 'an alert of the previous episode still firing does not notify the next one',
      episodes: [episode('a', 0, 30), episode('a', 60, 90)],
      records: [note(4, [alert('firing', 'a', 2)]), note(64, [alert('firing', 'a', 2)])],
      notified: [4, undefined],
      missed: 1,
      flaps: 0,
    },
    {
      name: 'two episodes of one group, each notified',
      episodes: [episode('a', 0, 30), episode('a', 60, 90)],
      records: [note(4, [alert('firing', 'a', 2)]), note(35, [alert('resolved', 'a', 2)]), note(63, [alert('firing', 'a', 61)])],
      notified: [4, 63],
      missed: 0,
      flaps: 0,
    },
    { name: 'resolved while the cause held: a flap', episodes: [episode('a', 0, 60)], records: [note(4, [alert('firing', 'a', 2)]), note(20, [alert('resolved', 'a', 2)])], notified: [4], missed: 0, flaps: 1 },
    { name: 'resolved after the cause ended: no flap', episodes: [episode('a', 0, 30)], records: [note(4, [alert('firing', 'a', 2)]), note(33, [alert('resolved', 'a', 2)])], notified: [4], missed: 0, flaps: 0 },
    {
      name: 'the resolution of the earlier episode after the next one was notified firing: a flap (the receiver keys by labels)',
      episodes: [episode('a', 0, 30), episode('a', 60, 90)],
      records: [note(4, [alert('firing', 'a', 2)]), note(35, [alert('resolved', 'a', 2)]), note(63, [alert('firing', 'a', 61)]), note(70, [alert('resolved', 'a', 2)])],
      notified: [4, 63],
      missed: 0,
      flaps: 1,
    },
    {
      name: 'the resolution of the earlier episode before the next one was notified: no flap',
      episodes: [episode('a', 0, 30), episode('a', 60, 90)],
      records: [note(4, [alert('firing', 'a', 2)]), note(61, [alert('resolved', 'a', 2)]), note(63, [alert('firing', 'a', 61)])],
      notified: [4, 63],
      missed: 0,
      flaps: 0,
    },
    {
      name: 'an episode firing again after its resolution was notified: a flap',
      episodes: [episode('a', 0, 30)],
      records: [note(4, [alert('firing', 'a', 2)]), note(35, [alert('resolved', 'a', 2)]), note(45, [alert('firing', 'a', 2)])],
      notified: [4],
      missed: 0,
      flaps: 1,
    },
    { name: 'an episode younger than the bound is not judged yet', episodes: [episode('a', 590)], records: [], notified: [undefined], missed: 0, flaps: 0 },
  ];
  for (const c of cases)
    it(c.name, () => {
      const j = judgeEpisodes(c.episodes, c.records, opts);
      assert.deepEqual(
        j.verdicts.map((v) => (v.notifiedAt === undefined ? undefined : (v.notifiedAt - T0) / 1000)),
        c.notified,
      );
      assert.equal(j.missed.length, c.missed);
      assert.equal(j.flaps.length, c.flaps);
    });
});

describe('duplicateNotifications (what the notification log would not have sent)', () => {
  const cases: Array<{ name: string; records: NotificationRecord[]; duplicates: number[] }> = [
    { name: 'the same firing set twice', records: [note(1, [alert('firing', 'a', 0)]), note(2, [alert('firing', 'a', 0)])], duplicates: [2] },
    { name: 'a new firing alert joins', records: [note(1, [alert('firing', 'a', 0)]), note(11, [alert('firing', 'a', 0), alert('firing', 'b', 9)])], duplicates: [] },
    { name: 'a subset of the last firing set', records: [note(1, [alert('firing', 'a', 0), alert('firing', 'b', 0)]), note(2, [alert('firing', 'a', 0)])], duplicates: [2] },
    { name: 'a resolution is news', records: [note(1, [alert('firing', 'a', 0)]), note(11, [alert('resolved', 'a', 0)])], duplicates: [] },
    { name: 'the same resolution twice', records: [note(1, [alert('firing', 'a', 0)]), note(11, [alert('resolved', 'a', 0)]), note(12, [alert('resolved', 'a', 0)])], duplicates: [12] },
    { name: 'a new episode after a resolution', records: [note(1, [alert('firing', 'a', 0)]), note(11, [alert('resolved', 'a', 0)]), note(40, [alert('firing', 'a', 38)])], duplicates: [] },
    { name: 'other groups are judged apart', records: [note(1, [alert('firing', 'a', 0)], 'g1'), note(2, [alert('firing', 'a', 0)], 'g2')], duplicates: [] },
    { name: 'out of order in the file, judged by arrival', records: [note(2, [alert('firing', 'a', 0)]), note(1, [alert('firing', 'a', 0)])], duplicates: [2] },
  ];
  for (const c of cases)
    it(c.name, () => {
      assert.deepEqual(
        duplicateNotifications(c.records).map((d) => (d.receivedAt - T0) / 1000),
        c.duplicates,
      );
    });
  it('a repeat after repeat_interval is no duplicate', () => {
    assert.deepEqual(duplicateNotifications([note(1, [alert('firing', 'a', 0)]), note(3601, [alert('firing', 'a', 0)])], 3_600_000), []);
  });
});

describe('latencySummary', () => {
  it('takes the median and the max of the notified episodes only', () => {
    const j = judgeEpisodes([episode('a', 0, 40), episode('b', 0, 40), episode('c', 0, 40), episode('d', 0, 40)], [note(2, [alert('firing', 'a', 1)]), note(4, [alert('firing', 'b', 1)]), note(9, [alert('firing', 'c', 1)])], opts);
    assert.deepEqual(latencySummary(j.verdicts), { count: 3, median: 4, max: 9 });
    assert.deepEqual(latencySummary([]), { count: 0 });
  });
});

describe('the load', () => {
  const spec = parseTopology('promha.yaml', stringify(fastTopology())).spec;
  it('has a source per exporter group and per pushgateway set, with the alert that tells', () => {
    assert.deepEqual(
      loadSources(spec).map((s) => [s.kind, s.target, s.alertname, s.labels]),
      [
        ['exporter', 'demo1', 'PromhaDemoValueHigh', { group: 'demo1' }],
        ['exporter', 'demo2', 'PromhaDemoValueHigh', { group: 'demo2' }],
        ['pusher', 'pushgateway1', 'PromhaDemoPushedValueHigh', { job: 'batch' }],
      ],
    );
  });
  it('times episodes from the intervals: a cause holds until it must have been notified, and rests until its resolution went out', () => {
    // scrape 1 + federate 1 + 2 × evaluate 1 + group_wait 1 + group_interval 10 + 2 active members × peer timeout 3.5 + 5
    const t = loadTiming(spec);
    assert.equal(t.notifyWithinMs, 27_000);
    assert.equal(t.holdMs, t.notifyWithinMs);
    // federate 1 + 2 × evaluate 1 + group_interval 10 + 7 + 5
    assert.equal(t.exporterRestMs, 25_000);
    assert.ok(t.pusherRestMs > t.exporterRestMs, 'keep_firing_for delays the pushed alert’s resolution');
  });
  it('the same seed gives the same sequence; another seed another', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const xs = Array.from({ length: 5 }, () => a());
    assert.deepEqual(Array.from({ length: 5 }, () => b()), xs);
    assert.notDeepEqual(Array.from({ length: 5 }, seededRandom(43)), xs);
    for (const x of xs) assert.ok(x >= 0 && x < 1);
  });
});
