import { bothCopiesWindow, FEDERATE_JOB_PREFIX } from '../../plan/derived.ts';
import { matcherAccepts, selectorUses } from '../../promql/analyze.ts';
import { nameMatchers } from '../../promql/selector-match.ts';
import type { CheckRule } from '../finding.ts';
import { readsScraperCopies } from '../series-origin.ts';

/** A name no one gives a metric: a regex that accepts it accepts anything, not `up` in particular. */
const ANY_NAME_PROBE = 'promha_not_a_metric_name';

/** Whether the selector names `up` on purpose, by name or by a regex that picks it out. */
function namesUp(ms: ReturnType<typeof nameMatchers>): boolean {
  return (
    ms.length > 0 &&
    ms.every((m) => matcherAccepts(m.op, m.value, 'up')) &&
    ms.some((m) => (m.op === '=' || m.op === '=~') && !matcherAccepts(m.op, m.value, ANY_NAME_PROBE))
  );
}

export const mergedUp: CheckRule = {
  code: 'PH603',
  name: 'merged-up',
  description: "Rules do not read the value of a scraped target's `up` at an instant: both scrapers' copies feed one series, which alternates when they disagree.",
  *run({ topology }) {
    const { spec } = topology;
    const w = bothCopiesWindow(spec);
    for (const file of topology.ruleFiles)
      for (const rule of file.parsed.rules)
        for (const use of selectorUses(rule.expr)) {
          // A range (max_over_time(up[..])) or a subquery sees both copies; absent() only asks whether any sample is there.
          if (use.range || use.inSubquery || use.fn === 'absent') continue;
          if (!namesUp(nameMatchers(use.selector)) || !readsScraperCopies(use.selector, spec)) continue;
          const sel = rule.expr.slice(use.selector.from, use.selector.to);
          yield {
            severity: 'warning',
            message: `${rule.kind === 'alert' ? 'alert' : 'recording rule'} ${rule.name} reads the merged \`${sel}\`: both scrapers of a set feed this one series, so when they disagree (one of them cut off from the target) its value alternates between 0 and 1 and the rule flaps`,
            location: rule.exprLocation(use.selector.from),
            hint: `for "down for both scrapers" use \`max_over_time(${sel}[${w}]) == 0\` (${w} = 2 × (scrape + federate interval) holds a sample of each copy); \`min_over_time(${sel}[${w}]) == 0\` fires when either fails; a scraper member's own health is \`up{job="${FEDERATE_JOB_PREFIX}<set>", promha_member="<member>"}\``,
          };
        }
  },
};
