import { Duration } from '../../duration.ts';
import { selectorUses } from '../../promql/analyze.ts';
import type { CheckRule } from '../finding.ts';
import { readsScraperCopies } from '../series-origin.ts';

/** Range functions that need two samples in their range to return anything. */
const NEEDS_TWO_SAMPLES = new Set(['rate', 'irate', 'increase', 'delta', 'idelta', 'deriv', 'predict_linear']);

export const rateWindow: CheckRule = {
  code: 'PH605',
  name: 'rate-window',
  description: 'rate, increase and their kin read at least two scrape intervals of merged series: both copies hide a shorter range until a scraper member is down.',
  *run({ topology, release }) {
    const { spec } = topology;
    const interval = spec.intervals.scrape;
    const least = Duration.milliseconds(2 * interval.ms);
    for (const file of topology.ruleFiles)
      for (const rule of file.parsed.rules)
        for (const use of selectorUses(rule.expr)) {
          if (!use.range || !use.fn || !NEEDS_TWO_SAMPLES.has(use.fn) || use.inSubquery || use.rangeMs === undefined) continue;
          if (use.rangeMs >= least.ms || !readsScraperCopies(use.selector, spec)) continue;
          const sel = rule.expr.slice(use.selector.from, use.selector.to);
          const range = Duration.milliseconds(use.rangeMs);
          yield {
            severity: 'warning',
            message:
              `${rule.kind === 'alert' ? 'alert' : 'recording rule'} ${rule.name}: ${use.fn}(${sel}[${range}]) reads less than two scrape intervals (${interval}). ` +
              `Only the two merged scraper copies together put two samples in it; while one scraper member is down it holds one` +
              `${release.promql.leftOpenRanges ? ` (Prometheus ${release.promql.version} ranges are left-open)` : ''}, ${use.fn} returns nothing, and what reads it resolves during the failover`,
            location: rule.exprLocation(use.selector.from),
            hint: `use a range of at least ${least} (2 × the scrape interval); ${Duration.milliseconds(4 * interval.ms)} also rides out a missed scrape`,
          };
        }
  },
};
