import { bothCopiesWindow } from '../../plan/derived.ts';
import { selectorUses } from '../../promql/analyze.ts';
import type { CheckRule } from '../finding.ts';
import { readsScraperCopies } from '../series-origin.ts';

/** Range functions whose result depends on how many samples the range holds, and why that misleads on merged series. */
const COUNTING: Readonly<Record<string, { why: string; fix: (sel: string, step: string, window: string) => string }>> = {
  count_over_time: {
    why: 'counts the samples of both scraper copies, about twice what one scraper took (and half as many while one scraper is down)',
    fix: (sel, step) => `count at a fixed step instead, \`count_over_time(${sel}[<range>:${step}])\`, or use \`present_over_time\` / \`absent_over_time\``,
  },
  sum_over_time: {
    why: 'sums the samples of both scraper copies, about twice what one scraper took (and half as much while one scraper is down)',
    fix: (sel, step) => `sum at a fixed step instead, \`sum_over_time(${sel}[<range>:${step}])\`, or use \`avg_over_time\``,
  },
  changes: {
    why: "sees the two scraper copies' samples interleaved: wherever the copies disagree (always for `up` and `scrape_*` series, one scraper's view each), every alternation counts as a change",
    fix: (sel, step, window) =>
      `count changes of a value both copies agree on, e.g. \`changes(max_over_time(${sel}[${window}])[<range>:${step}])\` (${window} holds a sample of each copy); for counters use \`increase\``,
  },
  resets: {
    why: "sees the two scraper copies' samples interleaved: a sample of one copy lower than the other's just before it counts as a counter reset",
    fix: () => 'use `increase` or `rate`, which tolerate the interleaved copies; count restarts with `changes(process_start_time_seconds[<range>])`',
  },
};

export const sampleCounting: CheckRule = {
  code: 'PH604',
  name: 'sample-counting',
  description: 'count_over_time, sum_over_time, changes and resets do not read merged series, which hold the samples of both scraper copies.',
  *run({ topology }) {
    const { spec } = topology;
    const step = spec.intervals.scrape.toString();
    const window = bothCopiesWindow(spec).toString();
    for (const file of topology.ruleFiles)
      for (const rule of file.parsed.rules)
        for (const use of selectorUses(rule.expr)) {
          const f = use.fn !== undefined && use.range ? COUNTING[use.fn] : undefined;
          if (!f || !use.fn || !readsScraperCopies(use.selector, spec)) continue;
          const sel = rule.expr.slice(use.selector.from, use.selector.to);
          yield {
            severity: 'warning',
            message: `${rule.kind === 'alert' ? 'alert' : 'recording rule'} ${rule.name}: ${use.fn}(${sel}[…]) ${f.why}`,
            location: rule.exprLocation(use.selector.from),
            hint: f.fix(sel, step, window),
          };
        }
  },
};
