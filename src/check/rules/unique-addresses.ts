import { clusterAddress } from '../../plan/alertmanager.ts';
import type { CheckRule } from '../finding.ts';

export const uniqueAddresses: CheckRule = {
  code: 'PH103',
  name: 'unique-addresses',
  description: 'No two members (or a member and a VIP) share an address: each must be reachable on its own.',
  *run({ topology }) {
    const { spec } = topology;
    const entries: Array<{ address: string; path: (string | number)[]; what: string }> = [];
    const add = (address: string, path: (string | number)[], what: string) => entries.push({ address, path, what });
    spec.scrapers.forEach((s, i) => s.members.forEach((m, j) => add(String(m.address), ['scrapers', i, 'members', j, 'address'], m.name)));
    spec.pushgateways.forEach((s, i) => {
      add(String(s.vip.address), ['pushgateways', i, 'vip', 'address'], `the VIP of ${s.name}`);
      s.members.forEach((m, j) => add(String(m.address), ['pushgateways', i, 'members', j, 'address'], m.name));
    });
    spec.federators.members.forEach((m, j) => add(String(m.address), ['federators', 'members', j, 'address'], m.name));
    const ams = [
      ...spec.alertmanagers.members.map((m, j) => ({ m, path: ['alertmanagers', 'members', j] as (string | number)[] })),
      { m: spec.alertmanagers.backup, path: ['alertmanagers', 'backup'] as (string | number)[] },
    ];
    for (const { m, path } of ams) {
      add(String(m.address), [...path, 'address'], m.name);
      add(String(clusterAddress(m)), [...path, m.cluster_address ? 'cluster_address' : 'address'], `the gossip address of ${m.name}`);
    }
    const seen = new Map<string, string>();
    for (const e of entries) {
      const first = seen.get(e.address);
      if (first) {
        yield {
          severity: 'error',
          message: `${e.what} uses ${e.address}, already used by ${first}`,
          location: topology.locate(e.path),
          hint: 'give each member (and each VIP) its own host:port',
        };
      } else seen.set(e.address, e.what);
    }
  },
};
