import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { failureUnits, faultMatrix, impactOf } from '../src/faults/matrix.ts';
import { parseTopology } from '../src/topology/load.ts';
import type { TopologySpec } from '../src/topology/schema.ts';
import { seedTopology } from '../src/topology/seed.ts';
import { inProcess, tempProject } from './helpers.ts';

const seedDoc = () => parse(seedTopology('promha.schema.json')) as Record<string, any>;
const specOf = (doc: Record<string, unknown>): TopologySpec => parseTopology('promha.yaml', stringify(doc)).spec;
const seed = specOf(seedDoc());
const unit = (spec: TopologySpec, ...members: string[]) => failureUnits(spec).filter((u) => u.members.some((m) => members.includes(m)));

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
    ['one scraper member: nothing lost', ['scraper1-1'], { blindExporters: [], losses: [], alerting: true }],
    ['both members of a scraper set: a blind spot, whose alert is delivered', ['scraper1-1', 'scraper1-2'], { blindExporters: ['exporters1'], blindSpotAlertDelivered: true }],
    ['both gateways: their jobs, and the VIP has nowhere to go', ['pushgateway1-1', 'pushgateway1-2'], { blindJobs: ['pushgateway1/batch-backup'], vipTargets: { pushgateway1: [], pushgateway2: ['pushgateway2-1', 'pushgateway2-2'] } }],
    ['the active gateway: the VIP goes to the standby', ['pushgateway1-1'], { losses: [], vipTargets: { pushgateway1: ['pushgateway1-2'], pushgateway2: ['pushgateway2-1', 'pushgateway2-2'] } }],
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
    assert.ok(faultMatrix(seed, 1).every((i) => i.losses.length === 0));
    const m = faultMatrix(seed, 2);
    assert.equal(m.length, 17 + (17 * 16) / 2);
    const losing = m.filter((i) => i.losses.length > 0).map((i) => i.failed.join(' + '));
    assert.deepEqual(losing, [
      'scraper1-1 + scraper1-2',
      'scraper2-1 + scraper2-2',
      'scraper3-1 + scraper3-2',
      'scraper4-1 + scraper4-2',
      'pushgateway1-1 + pushgateway1-2',
      'pushgateway2-1 + pushgateway2-2',
      'federator1-1 + federator1-2',
      'alertmanager1-1 + alertmanager1-2',
    ]);
    assert.deepEqual(m.slice(0, losing.length).map((i) => i.failed.join(' + ')), losing, 'losses come first');
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
      const report = JSON.parse(j.stdout) as { faults: { k: number; matrix: Array<{ failed: string[] }> } };
      assert.equal(report.faults.k, 2);
      assert.equal(report.faults.matrix.length, 16 + (16 * 15) / 2);
      const bad = await inProcess(['check', '--faults', '0'], p.dir);
      assert.equal(bad.exitCode, 2);
    } finally {
      await p.cleanup();
    }
  });
});
