import type { PropertyPath } from '../../topology/yaml-source.ts';
import type { CheckRule } from '../finding.ts';
import { goText } from '../go-values.ts';
import { renderedYaml } from '../rendered.ts';
import { renderedCharProblems } from '../rendered-source.ts';
import { prometheusVersion, scrapeConfigProblems } from './scrape-config-fields.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
/** A job name as Prometheus reads it: any scalar, as the rendered file spells it (`job_name: 5` is job "5"). */
const jobName = (v: unknown): string | undefined => (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? goText(v) : undefined);

export const scrapeJobs: CheckRule = {
  code: 'PH105',
  name: 'scrape-jobs',
  description:
    "Passed-through scrape_configs load in the release's Prometheus: known fields of the right kind, host:port targets, valid relabelling, a job_name unique on the Prometheus server that runs them.",
  *run({ topology, nodes, release }) {
    const { spec } = topology;
    const version = prometheusVersion(release);
    const locate = (p: PropertyPath) => topology.locate(p);
    // Whatever the topology field (a passed-through config, an exporter label, a match[] selector).
    for (const p of renderedCharProblems(topology, nodes, 'prometheus.yml'))
      yield { severity: 'error', message: p.message, location: locate(p.path), hint: p.hint };
    const owner = new Map<string, number>();
    spec.exporters.forEach((g, i) => owner.set(g.name, i));
    // Each passed-through config once, with the global scrape interval of the servers that run it.
    for (const [gi, group] of spec.exporters.entries())
      for (const [k, c] of (group.scrape_configs ?? []).entries())
        if (isObj(c)) yield* scrapeConfigProblems(c, ['exporters', gi, 'scrape_configs', k], version, spec.intervals.scrape, locate);
    for (const [k, c] of spec.federators.scrape_configs.entries()) {
      const path: PropertyPath = ['federators', 'scrape_configs', k];
      if (!isObj(c)) continue;
      yield* scrapeConfigProblems(c, path, version, spec.intervals.federate, locate);
      const job = jobName(c['job_name']);
      if (job === undefined || job === '')
        yield { severity: 'error', message: 'a scrape_config of the federators has no job_name', location: locate(path), hint: 'add `job_name: <name>`: Prometheus requires it' };
    }

    for (const set of spec.scrapers) {
      const jobs = new Map<string, string>();
      for (const groupName of set.exporters) {
        const gi = owner.get(groupName);
        const group = gi === undefined ? undefined : spec.exporters[gi];
        if (!group || gi === undefined) continue;
        const configs = group.scrape_configs ?? [{ job_name: group.name }];
        for (const [k, c] of configs.entries()) {
          const path = group.scrape_configs ? ['exporters', gi, 'scrape_configs', k] : ['exporters', gi, 'name'];
          const job = jobName(c['job_name']);
          if (job === undefined || job === '') {
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

    // The federators' own jobs come first in their prometheus.yml: an extra config may not reuse their names.
    const federator = nodes.find((n) => n.role === 'federator');
    if (!federator) return;
    const rendered = renderedYaml(federator, 'prometheus.yml') as { scrape_configs?: unknown[] };
    const all = rendered.scrape_configs ?? [];
    const extra = spec.federators.scrape_configs.length;
    const seen = new Map<string, number>();
    for (const [i, c] of all.entries()) {
      const job = isObj(c) ? jobName(c['job_name']) : undefined;
      if (job === undefined || job === '') continue;
      const first = seen.get(job);
      const k = i - (all.length - extra);
      if (first !== undefined && k >= 0)
        yield {
          severity: 'error',
          message: `found multiple scrape configs with job name "${job}": ${first < all.length - extra ? 'promha names a federator job so' : `federators.scrape_configs[${first - (all.length - extra)}] has it too`}`,
          location: locate(['federators', 'scrape_configs', k, 'job_name']),
          hint: 'give the job a name of its own (promha names its federator jobs promha-*)',
        };
      else if (first === undefined) seen.set(job, i);
    }
  },
};
