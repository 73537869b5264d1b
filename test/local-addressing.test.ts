import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { localAddressing, type LocalAddressing, type NetworkMode } from '../src/runtime/local-topology.ts';
import { nextHostIndex } from '../src/runtime/netns.ts';
import { parseTopology } from '../src/topology/load.ts';
import { seedTopology } from '../src/topology/seed.ts';
import type { TopologySpec } from '../src/topology/schema.ts';

const seed = parse(seedTopology('promha.schema.json')) as Record<string, unknown>;
const spec = (doc: Record<string, unknown>): TopologySpec => parseTopology('promha.yaml', stringify(doc)).spec;

/** The seed with a fifth scraper set and exporter group inserted first, so that plain order would shift every address. */
function withScraper0(): TopologySpec {
  const exporters = seed['exporters'] as object[];
  const scrapers = seed['scrapers'] as object[];
  return spec({
    ...seed,
    exporters: [{ name: 'exporters0', targets: ['203.0.113.1:9100'] }, ...exporters],
    scrapers: [{ name: 'scraper0', exporters: ['exporters0'], members: [1, 2].map((i) => ({ name: `scraper0-${i}`, address: `203.0.113.${90 + i}:9090` })) }, ...scrapers],
  });
}

/** Everything's local address by name, as the running stack records it. */
function recorded(a: LocalAddressing): Map<string, string> {
  return new Map([...[...a.members].map(([name, m]) => [name, String(m.local)] as const), ...a.demo.map((d) => [d.name, String(d.address)] as const)]);
}

describe('local addressing of a running stack', () => {
  for (const mode of ['loopback', 'netns'] as NetworkMode[]) {
    it(`${mode}: what runs keeps its address; what is new takes one nobody holds`, () => {
      const before = recorded(localAddressing(spec(seed), mode));
      const after = recorded(localAddressing(withScraper0(), mode, undefined, before));
      for (const [name, address] of before) assert.equal(after.get(name), address, name);
      const fresh = ['scraper0-1', 'scraper0-2', 'exporter-exporters0'].map((n) => after.get(n) as string);
      assert.equal(new Set(after.values()).size, after.size, 'every address is distinct');
      for (const a of fresh) assert.ok(![...before.values()].includes(a), `${a} was free`);
      // Without what runs, the inserted set would take the first addresses and shift the rest.
      const plain = recorded(localAddressing(withScraper0(), mode));
      assert.notEqual(plain.get('federator1-1'), before.get('federator1-1'));
    });
  }

  it('with nothing running, the addresses are those of a plain start', () => {
    assert.deepEqual(recorded(localAddressing(spec(seed), 'loopback', undefined, new Map())), recorded(localAddressing(spec(seed), 'loopback')));
    const netns = recorded(localAddressing(spec(seed), 'netns', '10.213.0.0/24'));
    assert.equal(netns.get('scraper1-1'), '10.213.0.2:9090');
    assert.deepEqual(
      ['exporter-exporters1', 'exporter-exporters4', 'pusher-pushgateway2', 'webhook'].map((n) => netns.get(n)),
      ['10.213.0.1:9100', '10.213.0.1:9103', '10.213.0.1:9301', '10.213.0.1:5001'],
    );
  });
});

describe('netns hosts added to a running stack', () => {
  it("a new host's bridge-side veth takes the index after the highest in use, whatever was removed before", () => {
    const record = (links?: string[], namespaces: string[] = []) => ({ bridge: 'promha0', subnet: '10.213.0.0/24', namespaces, ...(links ? { links } : {}) });
    assert.equal(nextHostIndex(record([])), 0);
    assert.equal(nextHostIndex(record(['phv0', 'phv1', 'phv2'])), 3);
    assert.equal(nextHostIndex(record(['phv0', 'phv7', 'phv3'])), 8);
    // A state written before links were recorded: one veth per namespace, in order.
    assert.equal(nextHostIndex(record(undefined, ['promha-a', 'promha-b'])), 2);
  });
});
