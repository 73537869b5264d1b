import type { CheckRule } from '../finding.ts';

export const exporterCoverage: CheckRule = {
  code: 'PH104',
  name: 'exporter-coverage',
  description: 'Every exporter group is scraped by exactly one scraper set, and sets name only existing groups.',
  *run({ topology }) {
    const { spec } = topology;
    const groups = new Set(spec.exporters.map((g) => g.name));
    const scrapedBy = new Map<string, string[]>();
    for (const [i, set] of spec.scrapers.entries())
      for (const [j, g] of set.exporters.entries()) {
        if (!groups.has(g)) {
          yield {
            severity: 'error',
            message: `scraper set ${set.name} names exporter group "${g}", which is not defined`,
            location: topology.locate(['scrapers', i, 'exporters', j]),
            hint: `define it under \`exporters\`, or use one of: ${[...groups].join(', ')}`,
          };
          continue;
        }
        scrapedBy.set(g, [...(scrapedBy.get(g) ?? []), set.name]);
      }
    for (const [i, g] of spec.exporters.entries()) {
      const sets = scrapedBy.get(g.name) ?? [];
      if (sets.length === 0)
        yield {
          severity: 'error',
          message: `exporter group ${g.name} is scraped by no scraper set: its metrics are never collected`,
          location: topology.locate(['exporters', i, 'name']),
          hint: `add "${g.name}" to the \`exporters\` of one scraper set`,
        };
      else if (sets.length > 1)
        yield {
          severity: 'error',
          message: `exporter group ${g.name} is scraped by ${sets.length} sets (${sets.join(', ')}): the federators would get it ${sets.length * 2} times under different scraper_set labels`,
          location: topology.locate(['exporters', i, 'name']),
          hint: 'keep it in exactly one scraper set',
        };
    }
  },
};
