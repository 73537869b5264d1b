import type { CheckRule } from '../finding.ts';

export const scrapeJobs: CheckRule = {
  code: 'PH105',
  name: 'scrape-jobs',
  description: 'Passed-through scrape_configs have a job_name, unique on the Prometheus server that runs them.',
  *run({ topology }) {
    const { spec } = topology;
    const owner = new Map<string, number>();
    spec.exporters.forEach((g, i) => owner.set(g.name, i));
    for (const set of spec.scrapers) {
      const jobs = new Map<string, string>();
      for (const groupName of set.exporters) {
        const gi = owner.get(groupName);
        const group = gi === undefined ? undefined : spec.exporters[gi];
        if (!group || gi === undefined) continue;
        const configs = group.scrape_configs ?? [{ job_name: group.name }];
        for (const [k, c] of configs.entries()) {
          const path = group.scrape_configs ? ['exporters', gi, 'scrape_configs', k] : ['exporters', gi, 'name'];
          const job = c['job_name'];
          if (typeof job !== 'string' || job === '') {
            yield {
              severity: 'error',
              message: `a scrape_config of exporter group ${group.name} has no job_name`,
              location: topology.locate(path),
              hint: 'add `job_name: <name>`: Prometheus requires it',
            };
            continue;
          }
          const first = jobs.get(job);
          if (first)
            yield {
              severity: 'error',
              message: `job "${job}" of exporter group ${group.name} is also defined by ${first} on scraper set ${set.name}`,
              location: topology.locate(group.scrape_configs ? [...path, 'job_name'] : path),
              hint: 'job names must be unique on each scraper: rename one',
            };
          else jobs.set(job, `exporter group ${group.name}`);
        }
      }
    }
  },
};
