import { ALERTMANAGER_JOB, FEDERATE_JOB_PREFIX, FEDERATOR_JOB, PUSH_GROUPS_JOB, PUSHGATEWAY_JOB_PREFIX } from '../plan/derived.ts';
import type { SelectorRef } from '../promql/analyze.ts';
import { jobMayMatch, nameMatchers, nameMayMatch, namesJob } from '../promql/selector-match.ts';
import type { PushgatewaySetSpec, TopologySpec } from '../topology/schema.ts';

/*
 * Where the series a selector reads at the federators come from: a pushed job (served
 * by whichever gateway of a set holds it), or the two scraper copies merged into one
 * series (DESIGN §3.1), or the federators' own scrapes.
 */

type PushedJob = PushgatewaySetSpec['jobs'][number];

/** Series a Pushgateway adds to every push group, under the group's job. */
export const PUSHGATEWAY_GROUP_METRICS: readonly string[] = ['push_time_seconds', 'push_failure_time_seconds'];

/**
 * Whether `sel` may read series of a pushed job: its job matchers accept the job's name
 * and its name can be one the job pushes (declared, or added by the gateway). A job
 * that declares no metrics may push any name, so a selector that names it positively
 * (`job="batch"`, `job=~"bat.*"`) reads it; one that merely excludes other jobs does not.
 */
export function readsPushedJob(sel: SelectorRef, job: PushedJob): boolean {
  if (!jobMayMatch(sel, job.name)) return false;
  if (nameMatchers(sel).length === 0) return true;
  if ([...job.metrics, ...PUSHGATEWAY_GROUP_METRICS].some((m) => nameMayMatch(sel, m))) return true;
  return job.metrics.length === 0 && namesJob(sel, job.name);
}

/** The pushgateway sets whose pushed jobs `sel` may read. */
export function pushedSetsRead(sel: SelectorRef, spec: TopologySpec): PushgatewaySetSpec[] {
  return spec.pushgateways.filter((set) => set.jobs.some((job) => readsPushedJob(sel, job)));
}

/** Whether the selector picks one metric by name, and a pushed job declares it. */
function namesPushedMetric(sel: SelectorRef, spec: TopologySpec): boolean {
  const eq = nameMatchers(sel).find((m) => m.op === '=');
  return (
    eq !== undefined &&
    spec.pushgateways.some((set) => set.jobs.some((job) => [...job.metrics, ...PUSHGATEWAY_GROUP_METRICS].some((m) => nameMayMatch(sel, m))))
  );
}

/** Jobs whose series reach the federators in one copy: their own scrapes and pushed jobs. */
function singleCopyJobs(spec: TopologySpec): Set<string> {
  const jobName = (c: Record<string, unknown>) => (typeof c['job_name'] === 'string' ? [c['job_name']] : []);
  return new Set([
    ...spec.scrapers.map((s) => `${FEDERATE_JOB_PREFIX}${s.name}`),
    ...spec.pushgateways.map((s) => `${PUSHGATEWAY_JOB_PREFIX}${s.name}`),
    PUSH_GROUPS_JOB,
    FEDERATOR_JOB,
    ALERTMANAGER_JOB,
    ...spec.federators.scrape_configs.flatMap(jobName),
    ...spec.pushgateways.flatMap((s) => s.jobs.map((j) => j.name)),
  ]);
}

/** Jobs the scrapers run: an exporter group's name, or the job names of its scrape_configs. */
function scraperJobs(spec: TopologySpec): string[] {
  return spec.exporters.flatMap((g) =>
    g.scrape_configs ? g.scrape_configs.flatMap((c) => (typeof c['job_name'] === 'string' ? [c['job_name']] : [])) : [g.name],
  );
}

/**
 * Whether `sel` may read series merged from the two scrapers of a set. Any job the
 * federators do not scrape themselves arrives through /federate, so only a selector
 * whose job matchers pick single-copy jobs alone, or that names a pushed metric,
 * reads no merged series.
 */
export function readsScraperCopies(sel: SelectorRef, spec: TopologySpec): boolean {
  const single = singleCopyJobs(spec);
  const positive = sel.matchers.some((m) => m.name === 'job' && (m.op === '=' || m.op === '=~'));
  if (!positive) return !namesPushedMetric(sel, spec);
  const accepted = [...single, ...scraperJobs(spec)].filter((j) => jobMayMatch(sel, j));
  // A job promha does not know comes from a scraper's passed-through configuration.
  if (accepted.length === 0) return true;
  return accepted.some((j) => !single.has(j));
}
