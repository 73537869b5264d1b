import { vipNodeName } from '../../plan/pushgateway.ts';
import type { CheckRule } from '../finding.ts';

export const uniqueNames: CheckRule = {
  code: 'PH102',
  name: 'unique-names',
  description: 'Set, member and exporter group names are unique: they name directories, hosts and labels.',
  *run({ topology }) {
    const { spec } = topology;
    const seen = new Map<string, string>();
    const entries: Array<{ name: string; path: (string | number)[]; what: string }> = [];
    spec.exporters.forEach((g, i) => entries.push({ name: `group:${g.name}`, path: ['exporters', i, 'name'], what: `exporter group "${g.name}"` }));
    const nodeNames: Array<{ name: string; path: (string | number)[]; what: string }> = [];
    spec.scrapers.forEach((s, i) => {
      nodeNames.push({ name: s.name, path: ['scrapers', i, 'name'], what: `set "${s.name}"` });
      s.members.forEach((m, j) => nodeNames.push({ name: m.name, path: ['scrapers', i, 'members', j, 'name'], what: `member "${m.name}"` }));
    });
    spec.pushgateways.forEach((s, i) => {
      nodeNames.push({ name: s.name, path: ['pushgateways', i, 'name'], what: `set "${s.name}"` });
      nodeNames.push({ name: vipNodeName(s), path: ['pushgateways', i, 'name'], what: `VIP stand-in "${vipNodeName(s)}"` });
      s.members.forEach((m, j) => nodeNames.push({ name: m.name, path: ['pushgateways', i, 'members', j, 'name'], what: `member "${m.name}"` }));
    });
    nodeNames.push({ name: spec.federators.name, path: ['federators', 'name'], what: `set "${spec.federators.name}"` });
    spec.federators.members.forEach((m, j) => nodeNames.push({ name: m.name, path: ['federators', 'members', j, 'name'], what: `member "${m.name}"` }));
    nodeNames.push({ name: spec.alertmanagers.name, path: ['alertmanagers', 'name'], what: `cluster "${spec.alertmanagers.name}"` });
    spec.alertmanagers.members.forEach((m, j) => nodeNames.push({ name: m.name, path: ['alertmanagers', 'members', j, 'name'], what: `member "${m.name}"` }));
    nodeNames.push({ name: spec.alertmanagers.backup.name, path: ['alertmanagers', 'backup', 'name'], what: `member "${spec.alertmanagers.backup.name}"` });
    for (const e of [...entries, ...nodeNames]) {
      const first = seen.get(e.name);
      if (first !== undefined) {
        yield {
          severity: 'error',
          message: `${e.what} reuses a name already used by ${first}`,
          location: topology.locate(e.path),
          hint: 'give every set and member its own name, as in the seed: scraper1-1, scraper1-2, …',
        };
      } else seen.set(e.name, `${e.what} at line ${topology.locate(e.path).line}`);
    }
  },
};
