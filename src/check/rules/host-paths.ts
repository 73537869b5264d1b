import { HOST_LAYOUT } from '../../plan/node-spec.ts';
import { dataDirProblems } from '../../render/host-paths.ts';
import type { CheckRule } from '../finding.ts';

export const hostPaths: CheckRule = {
  code: 'PH403',
  name: 'host-paths',
  description: "Each data directory is a dedicated path: no system directory, nothing in the operating system's trees (/usr, /boot, …), and apart from every config and runtime directory.",
  *run({ topology, nodes }) {
    const { spec } = topology;
    const seen = new Set<string>();
    for (const { node, message } of dataDirProblems(nodes, HOST_LAYOUT)) {
      // Only storage.path can go wrong with the default layout; it is set-wide, so say each problem once.
      const scraper = spec.scrapers.findIndex((s) => s.name === node.set);
      const path = scraper >= 0 ? ['scrapers', scraper, 'storage', 'path'] : node.set === spec.federators.name ? ['federators', 'storage', 'path'] : [];
      if (seen.has(message)) continue;
      seen.add(message);
      yield {
        severity: 'error',
        message,
        location: topology.locate(path),
        hint: 'give storage.path a directory of its own, e.g. /var/lib/promha/<set> or /srv/prometheus/<set>, outside the config directories (/etc/promha/<member>) and /run/promha',
      };
    }
  },
};
