import { renderedYaml } from '../rendered.ts';
import type { CheckRule } from '../finding.ts';

interface StaticConfig {
  targets?: unknown;
}

/** Every static target of a scrape config. */
function staticTargets(config: Record<string, unknown>): string[] {
  const sc = config['static_configs'];
  if (!Array.isArray(sc)) return [];
  return sc.flatMap((s: StaticConfig) => (Array.isArray(s?.targets) ? s.targets.map(String) : []));
}

export const directFederation: CheckRule = {
  code: 'PH301',
  name: 'direct-federation',
  description: 'Federators scrape every scraper member and every pushgateway member directly, never through a VIP.',
  *run({ topology, nodes }) {
    const { spec } = topology;
    const vips = new Map(spec.pushgateways.map((s, i) => [String(s.vip.address), i]));
    const vipHosts = new Map(spec.pushgateways.map((s, i) => [s.vip.address.host, i]));
    // A member whose address is a VIP would be federated through the VIP.
    for (const [i, set] of spec.pushgateways.entries())
      for (const [j, m] of set.members.entries())
        if (vipHosts.has(m.address.host))
          yield {
            severity: 'error',
            message: `pushgateway member ${m.name} is addressed through a VIP (${m.address}): the federators would scrape whichever gateway holds the VIP, never both`,
            location: topology.locate(['pushgateways', i, 'members', j, 'address']),
            hint: "use the member's own host address; pushers use the VIP, federators never do",
          };
    for (const [i, set] of spec.scrapers.entries())
      for (const [j, m] of set.members.entries())
        if (vipHosts.has(m.address.host))
          yield {
            severity: 'error',
            message: `scraper member ${m.name} uses a VIP address (${m.address})`,
            location: topology.locate(['scrapers', i, 'members', j, 'address']),
            hint: "use the member's own host address",
          };
    for (const [k, config] of spec.federators.scrape_configs.entries())
      for (const target of staticTargets(config)) {
        const host = target.slice(0, target.lastIndexOf(':'));
        if (vips.has(target) || vipHosts.has(host))
          yield {
            severity: 'error',
            message: `federator scrape config "${String(config['job_name'] ?? k)}" targets the VIP ${target}`,
            location: topology.locate(['federators', 'scrape_configs', k]),
            hint: 'remove it: promha already scrapes every pushgateway member directly',
          };
      }
    // The rendered federator configs must reach every member, and no VIP.
    const wanted = [...spec.scrapers.flatMap((s) => s.members), ...spec.pushgateways.flatMap((s) => s.members)];
    for (const node of nodes.filter((n) => n.role === 'federator')) {
      const config = renderedYaml(node, 'prometheus.yml') as { scrape_configs?: Record<string, unknown>[] };
      const targets = new Set((config.scrape_configs ?? []).filter((c) => c['honor_labels'] === true).flatMap(staticTargets));
      for (const m of wanted)
        if (!targets.has(String(m.address)))
          yield {
            severity: 'error',
            message: `federator ${node.name} does not scrape member ${m.name} (${m.address})`,
            location: topology.locate(['federators', 'members']),
            hint: 'every federator must scrape every scraper and pushgateway member',
          };
    }
  },
};
