import type { Duration } from '../../duration.ts';
import { vipFailoverTime } from '../../plan/derived.ts';
import { selectorMatchesJob, vectorSelectors, type SelectorRef } from '../../promql/analyze.ts';
import type { PushgatewaySetSpec } from '../../topology/schema.ts';
import type { CheckRule } from '../finding.ts';

/** Pushed metric names may be given literally or as regular expressions. */
function metricMatches(pattern: string, metric: string): boolean {
  if (pattern === metric) return true;
  try {
    return new RegExp(`^(?:${pattern})$`).test(metric);
  } catch {
    return false;
  }
}

/** The pushgateway sets whose pushed data a selector reads. */
function pushedSetsRead(sel: SelectorRef, sets: readonly PushgatewaySetSpec[]): PushgatewaySetSpec[] {
  return sets.filter((set) =>
    set.jobs.some(
      (job) =>
        selectorMatchesJob(sel, job.name) ||
        (sel.metric !== undefined && (sel.metric === 'push_time_seconds' ? false : job.metrics.some((m) => metricMatches(m, sel.metric as string)))),
    ),
  );
}

export const pushedKeepFiring: CheckRule = {
  code: 'PH601',
  name: 'pushed-keep-firing',
  description: 'Alert rules on pushed metrics carry keep_firing_for ≥ push interval + VIP failover time.',
  *run({ topology }) {
    const { spec } = topology;
    if (spec.pushgateways.length === 0) return;
    for (const file of topology.ruleFiles)
      for (const rule of file.parsed.rules) {
        if (rule.kind !== 'alert') continue;
        const sets = new Set(vectorSelectors(rule.expr).flatMap((s) => pushedSetsRead(s, spec.pushgateways)));
        if (sets.size === 0) continue;
        let need: Duration | undefined;
        for (const set of sets) {
          const n = spec.intervals.push.plus(vipFailoverTime(set.vip.advert_int));
          if (!need || n.gt(need)) need = n;
        }
        if (!need) continue;
        const have = rule.keepFiringFor;
        if (!have || have.lt(need))
          yield {
            severity: 'error',
            message: `alert ${rule.name} reads pushed metrics (${[...sets].map((s) => s.name).join(', ')}) with ${
              have ? `keep_firing_for ${have}` : 'no keep_firing_for'
            }: when the active gateway dies its series go stale until the next push lands on the standby, and the alert would resolve and fire again`,
            location: rule.location,
            hint: `add \`keep_firing_for: ${need}\` (push interval ${spec.intervals.push} + VIP failover ~${need.minus(spec.intervals.push)})`,
          };
      }
  },
};
