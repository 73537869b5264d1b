import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { combinationCount, failureUnits, faultAnalysis, impactOf, type FailureUnit, type FaultImpact } from '../src/faults/matrix.ts';
import { parseTopology } from '../src/topology/load.ts';
import type { TopologySpec } from '../src/topology/schema.ts';
import { seedTopology } from '../src/topology/seed.ts';
import { inProcess, tempProject } from './helpers.ts';

const seedDoc = () => parse(seedTopology('promha.schema.json')) as Record<string, any>;
const specOf = (doc: Record<string, unknown>): TopologySpec => parseTopology('promha.yaml', stringify(doc)).spec;
const seed = specOf(seedDoc());
const unit = (spec: TopologySpec, ...members: string[]) => failureUnits(spec).filter((u) => u.members.some((m) => members.includes(m)));

/** What an impact loses, one entry per loss the analysis is minimal for. */
function atoms(i: FaultImpact): Set<string> {
  return new Set([
    ...i.blindExporters.map((g) => `exporters ${g}`),
    ...i.blindJobs.map((j) => `job ${j}`),
    ...(i.alerting ? [] : ['no alerting']),
    ...(i.losses.some((l) => l.startsWith('nothing is federated')) ? ['no federation'] : []),
    ...(i.stateKept ? [] : ['no state']),
    ...(i.blindSpotAlertDelivered === false ? ['blind-spot alert lost'] : []),
  ]);
}

/** Every combination of 1 to k units, by brute force: the reference the analysis is checked against. */
function* allCombinations(units: readonly FailureUnit[], k: number): Generator<FailureUnit[]> {
  for (let size = 1; size <= Math.min(k, units.length); size++) {
    const at = Array.from({ length: size }, (_, i) => i);
    for (;;) {
      yield at.map((i) => units[i] as FailureUnit);
      let i = size - 1;
      while (i >= 0 && at[i] === units.length - size + i) i--;
      if (i < 0) break;
      at[i] = (at[i] as number) + 1;
      for (let j = i + 1; j < size; j++) at[j] = (at[j - 1] as number) + 1;
    }
  }
}

/** The seed with `sets` scraper sets of two hosts each, one exporter group per set: 2 × sets + 9 hosts. */
function withScraperSets(sets: number): Record<string, any> {
  const doc = seedDoc();
  const ip = (n: number) => `10.${1 + Math.floor(n / 65536)}.${Math.floor(n / 256) % 256}.${n % 256}`;
  doc['exporters'] = Array.from({ length: sets }, (_, i) => ({ name: `exporters${i + 1}`, targets: [`${ip(100_000 + i)}:9100`] }));
  doc['scrapers'] = Array.from({ length: sets }, (_, i) => ({
    name: `scraper${i + 1}`,
    exporters: [`exporters${i + 1}`],
    members: [1, 2].map((m) => ({ name: `scraper${i + 1}-${m}`, address: `${ip(2 * i + m)}:9090` })),
  }));
  return doc;
}

describe('check --faults: what failed hosts lose', () => {
  it('one unit per host: members on one address host fail together', () => {
    assert.equal(failureUnits(seed).length, 17);
    const doc = seedDoc();
    doc['scrapers'][0]['members'][1]['address'] = doc['federators']['members'][0]['address'].replace(/:\d+$/, ':9091');
    const units = failureUnits(specOf(doc));
    assert.equal(units.length, 16);
    assert.ok(units.some((u) => /^host \S+ \(scraper1-2, federator1-1\)$/.test(u.id)), units.map((u) => u.id).join('; '));
  });

  const cases: Array<[string, string[], Partial<ReturnType<typeof impactOf>>]> = [
    ['one scraper member: nothing lost', ['scraper1-1'], { blindExporters: [], losses: [], alerting: true, vipTargets: {} }],
    ['both members of a scraper set: a blind spot, whose alert is delivered', ['scraper1-1', 'scraper1-2'], { blindExporters: ['exporters1'], blindSpotAlertDelivered: true }],
    ['both gateways: their jobs, and the VIP has nowhere to go', ['pushgateway1-1', 'pushgateway1-2'], { blindJobs: ['pushgateway1/batch-backup'], vipTargets: { pushgateway1: [] } }],
    ['the active gateway: the VIP goes to the standby', ['pushgateway1-1'], { losses: [], vipTargets: { pushgateway1: ['pushgateway1-2'] } }],
    ['both federators: no alerting', ['federator1-1', 'federator1-2'], { alerting: false }],
    ['the first active Alertmanager: the other waits one peer timeout (3.5 × 30 s)', ['alertmanager1-1'], { losses: [], addedDelaySeconds: 105 }],
    ['the second active Alertmanager: no added wait', ['alertmanager1-2'], { addedDelaySeconds: 0 }],
    ['the backup and an active member: state kept by the other', ['alertmanager1-3', 'alertmanager1-1'], { stateKept: true, alerting: true, losses: [] }],
    ['every Alertmanager: state only on disk', ['alertmanager1-1', 'alertmanager1-2', 'alertmanager1-3'], { stateKept: false, alerting: false }],
    ['a blind spot without a federator: its alert is lost too', ['scraper2-1', 'scraper2-2', 'federator1-1', 'federator1-2'], { blindExporters: ['exporters2'], blindSpotAlertDelivered: false }],
  ];
  for (const [name, members, expected] of cases)
    it(name, () => {
      const impact = impactOf(seed, unit(seed, ...members));
      for (const [key, value] of Object.entries(expected)) assert.deepEqual(impact[key as keyof typeof impact], value, key);
    });

  it('the seed has no single point of failure; with 2 hosts down, exactly the pairs lose something, first', () => {
    const one = faultAnalysis(seed, 1);
    assert.equal(one.combinations, 17n);
    assert.deepEqual([one.losing, one.singlePointsOfFailure, one.lostWithoutFailure], [[], [], []]);
    const m = faultAnalysis(seed, 2);
    assert.equal(m.combinations, BigInt(17 + (17 * 16) / 2));
    assert.deepEqual(
      m.losing.map((i) => i.failed.join(' + ')),
      [
        'scraper1-1 + scraper1-2',
        'scraper2-1 + scraper2-2',
        'scraper3-1 + scraper3-2',
        'scraper4-1 + scraper4-2',
        'pushgateway1-1 + pushgateway1-2',
        'pushgateway2-1 + pushgateway2-2',
        'federator1-1 + federator1-2',
        'alertmanager1-1 + alertmanager1-2',
      ],
    );
    assert.equal(m.maxAddedDelaySeconds, 105);
  });

  // The analysis lists minimal combinations instead of enumerating them all; these
  // topologies are small enough to enumerate, so every combination is checked against it.
  const variants: Array<[string, (doc: Record<string, any>) => void, number]> = [
    ['the seed', () => undefined, 4],
    [
      'shared hosts, an exporter group scraped by two sets, the backup beside an active Alertmanager',
      (doc) => {
        const host = (a: string) => a.replace(/:\d+$/, '');
        doc['scrapers'][0]['members'][1]['address'] = `${host(doc['federators']['members'][0]['address'])}:9095`;
        doc['scrapers'][1]['exporters'].push('exporters3');
        doc['pushgateways'][0]['members'][0]['address'] = `${host(doc['alertmanagers']['members'][1]['address'])}:9091`;
        doc['alertmanagers']['backup']['address'] = `${host(doc['alertmanagers']['members'][0]['address'])}:9193`;
      },
      4,
    ],
    [
      // exporters3 needs scraper2's hosts and one more: with the federators, 5 hosts that contain
      // exporters2's 2 and the federators' 2, so they lose nothing new and are not listed.
      'a blind spot inside another',
      (doc) => {
        doc['scrapers'][1]['exporters'].push('exporters3');
        doc['scrapers'][2]['members'][0]['address'] = doc['scrapers'][1]['members'][0]['address'].replace(/:\d+$/, ':9095');
      },
      5,
    ],
    ['four Alertmanagers, the delay grows with each one down', (doc) => void doc['alertmanagers']['members'].push({ name: 'alertmanager1-4', address: '198.51.100.94:9093' }), 3],
  ];
  for (const [name, change, k] of variants)
    it(`every combination of up to ${k} hosts loses exactly what the minimal ones inside it lose: ${name}`, () => {
      const doc = seedDoc();
      change(doc);
      const spec = specOf(doc);
      const units = failureUnits(spec);
      const a = faultAnalysis(spec, k);
      const rows = a.losing.map((i) => ({ ids: new Set(i.failed), atoms: atoms(i) }));
      let count = 0;
      let maxDelay = 0;
      for (const c of allCombinations(units, k)) {
        count++;
        const impact = impactOf(spec, c);
        if (impact.alerting) maxDelay = Math.max(maxDelay, impact.addedDelaySeconds);
        const ids = new Set(impact.failed);
        const inside = rows.filter((r) => [...r.ids].every((id) => ids.has(id)));
        assert.deepEqual([...new Set(inside.flatMap((r) => [...r.atoms]))].sort(), [...atoms(impact)].sort(), impact.failed.join(' + '));
        // A listed combination has a loss that no smaller listed one inside it has: it is minimal for that loss.
        const row = inside.find((r) => r.ids.size === ids.size);
        if (row) {
          const smaller = new Set(inside.filter((r) => r !== row).flatMap((r) => [...r.atoms]));
          assert.ok([...row.atoms].some((x) => !smaller.has(x)), `${impact.failed.join(' + ')} is not minimal`);
        }
      }
      assert.equal(a.combinations, BigInt(count));
      assert.equal(a.maxAddedDelaySeconds, maxDelay);
      assert.ok(a.losing.every((i) => i.failed.length <= k && i.losses.length > 0));
    });

  it('the number of combinations is exact past 2^53', () => {
    // Python's sum(math.comb(n, s) for s in range(1, k + 1)).
    assert.equal(combinationCount(2011, 9), 1462564050380837400177835n);
    assert.equal(combinationCount(111, 9), 5530925666575n);
    assert.equal(combinationCount(3, 9), 7n);
  });

  it('CLI: a shared host is a single point of failure: listed first, exit 1; --json gives the matrix', async () => {
    const doc = seedDoc();
    // Both scrapers of the first set on one host.
    doc['scrapers'][0]['members'][1]['address'] = doc['scrapers'][0]['members'][0]['address'].replace(/:\d+$/, ':9095');
    const p = await tempProject({ 'promha.yaml': doc });
    try {
      const r = await inProcess(['check', '--faults', '1'], p.dir);
      assert.equal(r.exitCode, 1, r.stderr);
      assert.match(r.stdout, /: 0 error\(s\), 1 warning\(s\) for bookworm/, 'exit 1 for the single point of failure, not for a finding');
      assert.match(r.stdout, /warning PH107 separate-hosts: scraper1-1 and scraper1-2 of scraper set scraper1 run on one host/);
      assert.match(r.stdout, /single points of failure: host \S+ \(scraper1-1, scraper1-2\)/);
      assert.match(r.stdout, /^host \S+ \(scraper1-1, scraper1-2\) +not collected: exporter group\(s\) exporters1$/m);
      const j = await inProcess(['check', '--faults', '--json'], p.dir);
      const report = JSON.parse(j.stdout) as { faults: { k: number; hosts: number; combinations: number; singlePointsOfFailure: string[]; matrix: Array<{ failed: string[] }> } };
      assert.equal(report.faults.k, 2);
      assert.equal(report.faults.combinations, 16 + (16 * 15) / 2);
      // The matrix lists the minimal combinations that lose something: the shared host, then the 7 other pairs.
      assert.equal(report.faults.matrix.length, 8);
      assert.deepEqual(report.faults.matrix[0]?.failed, report.faults.singlePointsOfFailure);
      const bad = await inProcess(['check', '--faults', '0'], p.dir);
      assert.equal(bad.exitCode, 2);
    } finally {
      await p.cleanup();
    }
  });

  // Issue 28: the text output overflowed the stack (exit 70) from about 100,000
  // combinations, and 2,011 hosts at K = 2 or 111 hosts at K = 9 ran for minutes.
  it('CLI: 10 scraper sets at K = 5 print the minimal combinations, whatever their number', async () => {
    const p = await tempProject({ 'promha.yaml': withScraperSets(10) });
    try {
      const r = await inProcess(['check', '--faults', '5'], p.dir);
      assert.equal(r.exitCode, 0, r.stderr);
      // 29 hosts: the 12 pairs, the federators, the active Alertmanagers, all three, and each of the 12 blind spots with the federators or the active Alertmanagers.
      assert.match(r.stdout, /^fault tolerance: 146595 combination\(s\) of up to 5 failed host\(s\) among 29; 39 minimal one\(s\) lose something$/m);
      assert.match(r.stdout, /^single points of failure: none$/m);
      assert.match(r.stdout, /^scraper10-1 \+ scraper10-2 \+ alertmanager1-1 \+ alertmanager1-2 +not collected: exporter group\(s\) exporters10$/m);
      assert.match(r.stdout, /the notification delay grows by up to 105 s/);
      const j = await inProcess(['check', '--faults', '5', '--json'], p.dir);
      const report = JSON.parse(j.stdout) as { faults: { combinations: number; matrix: unknown[] } };
      assert.deepEqual([j.exitCode, report.faults.combinations, report.faults.matrix.length], [0, 146595, 39]);
    } finally {
      await p.cleanup();
    }
  });

  it('CLI: 50 scraper sets at K = 3: the pairs and the Alertmanagers, no combination of 4', async () => {
    const p = await tempProject({ 'promha.yaml': withScraperSets(50) });
    try {
      const r = await inProcess(['check', '--faults', '3'], p.dir);
      assert.equal(r.exitCode, 0, r.stderr);
      assert.match(r.stdout, /^fault tolerance: 215929 combination\(s\) of up to 3 failed host\(s\) among 109; 55 minimal one\(s\) lose something$/m);
      assert.match(r.stdout, /^scraper50-1 \+ scraper50-2 +not collected: exporter group\(s\) exporters50$/m);
      assert.match(r.stdout, /^alertmanager1-1 \+ alertmanager1-2 \+ alertmanager1-3 +no active Alertmanager/m);
      assert.doesNotMatch(r.stdout, /federator1-2 \+/, 'a blind spot with both federators is 4 hosts');
    } finally {
      await p.cleanup();
    }
  });

  it('CLI: 111 hosts at K = 9 (5.5 × 10^12 combinations) give every minimal combination', async () => {
    const p = await tempProject({ 'promha.yaml': withScraperSets(51) });
    try {
      const r = await inProcess(['check', '--faults', '9', '--json'], p.dir);
      assert.equal(r.exitCode, 0, r.stderr);
      const f = (JSON.parse(r.stdout) as { faults: { hosts: number; combinations: number; matrix: Array<{ failed: string[] }> } }).faults;
      // 53 blind spots, the federators, the active Alertmanagers, all three; each blind spot with the federators or the active Alertmanagers.
      assert.deepEqual([f.hosts, f.combinations, f.matrix.length], [111, 5530925666575, 53 + 3 + 2 * 53]);
      assert.equal(Math.max(...f.matrix.map((i) => i.failed.length)), 4, 'nothing beyond 4 hosts loses anything new');
    } finally {
      await p.cleanup();
    }
  });

  it('2,011 hosts: the rows grow with the redundancy groups, not with K', () => {
    const spec = specOf(withScraperSets(1001));
    const two = faultAnalysis(spec, 2);
    const nine = faultAnalysis(spec, 9);
    assert.equal(two.combinations, 2023066n);
    assert.equal(nine.combinations, 1462564050380837400177835n);
    assert.equal(two.losing.length, 1003 + 2, 'the 1,003 pairs of a set, the federators, the active Alertmanagers');
    assert.equal(nine.losing.length, 1003 + 3 + 2 * 1003, 'and all three Alertmanagers, and each blind spot with the federators or the active Alertmanagers');
    assert.deepEqual(nine.losing.slice(0, two.losing.length), two.losing, 'a smaller K lists a prefix');
  });

  it('CLI: an exporter group no set scrapes is lost with every host up: said once, exit 1', async () => {
    const doc = seedDoc();
    doc['scrapers'][3]['exporters'] = ['exporters3'];
    const p = await tempProject({ 'promha.yaml': doc });
    try {
      const r = await inProcess(['check', '--faults', '2'], p.dir);
      assert.equal(r.exitCode, 1, r.stderr);
      assert.match(r.stdout, /^lost with every host up: not collected: exporter group\(s\) exporters4$/m);
      // With a blind spot already, losing alerting loses its alert too.
      assert.match(r.stdout, /^federator1-1 \+ federator1-2 +not collected: exporter group\(s\) exporters4$/m);
      assert.match(r.stdout, /^ +the blind-spot alert cannot be delivered$/m);
      const a = faultAnalysis(specOf(doc), 2);
      assert.deepEqual(a.lostWithoutFailure, ['not collected: exporter group(s) exporters4']);
    } finally {
      await p.cleanup();
    }
  });
});
