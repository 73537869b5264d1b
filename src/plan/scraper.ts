import type { ScraperSetSpec, TopologySpec } from '../topology/schema.ts';
import type { Layout, NodeSpec } from './node-spec.ts';
import { prometheusArgs } from './prometheus-flags.ts';
import { securityFiles, type SecurityMaterial } from './security.ts';
import { yamlFile } from './yaml-file.ts';

/** The scrape_configs of an exporter group, as a scraper runs them. */
export function exporterScrapeConfigs(spec: TopologySpec, groupName: string): Record<string, unknown>[] {
  const group = spec.exporters.find((g) => g.name === groupName);
  if (!group) return [];
  if (group.scrape_configs) return group.scrape_configs.map((c) => ({ ...c }));
  return [
    {
      job_name: group.name,
      static_configs: [{ targets: (group.targets ?? []).map(String), ...(group.labels ? { labels: group.labels } : {}) }],
    },
  ];
}

export function planScraperSet(spec: TopologySpec, set: ScraperSetSpec, layout: Layout, security?: SecurityMaterial): NodeSpec[] {
  return set.members.map((member) => {
    const configDir = layout.configDir(member.name);
    const dataDir = layout.dataDir(member.name, set.storage.path);
    const config = {
      global: {
        scrape_interval: spec.intervals.scrape.toString(),
        evaluation_interval: spec.intervals.evaluate.toString(),
        // Distinct per member so each copy is recognisable and scrape offsets differ;
        // the federators drop scraper_replica to merge the copies (DESIGN §3.1).
        external_labels: { scraper_set: set.name, scraper_replica: member.name },
      },
      scrape_configs: set.exporters.flatMap((g) => exporterScrapeConfigs(spec, g)),
    };
    return {
      name: member.name,
      role: 'scraper',
      set: set.name,
      backup: false,
      address: member.address,
      configDir,
      dataDir,
      persistent: set.storage.persistent,
      standIn: false,
      files: [yamlFile('prometheus.yml', config), ...securityFiles(spec, member.name, configDir, security, { server: true, client: false })],
      processes: [
        {
          name: 'prometheus',
          binary: 'prometheus',
          args: prometheusArgs({ spec, configDir, dataDir, address: member.address, retention: set.storage.retention, lookback: spec.lookback_delta }),
        },
      ],
    };
  });
}
