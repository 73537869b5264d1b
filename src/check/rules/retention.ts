import { federatorRetention, historyNeed, retentionFor } from '../../plan/derived.ts';
import type { CheckRule } from '../finding.ts';

export const retention: CheckRule = {
  code: 'PH402',
  name: 'retention',
  description: 'Federator retention covers the longest history any rule reads (ranges, subqueries, offsets); scrapers keep data until it is federated.',
  *run({ topology }) {
    const { spec } = topology;
    const { need, rule } = historyNeed(topology);
    const have = federatorRetention(topology);
    if (have.lt(need))
      yield {
        severity: 'error',
        message: `federator retention ${have} is shorter than the ${need} of stored samples that ${rule} reads (its ranges, subqueries, offsets and the lookback)`,
        location: topology.locate(['federators', 'storage', 'retention']),
        hint: `set retention to at least ${retentionFor(need)}, or \`auto\` (\`for:\` and \`keep_firing_for\` need no stored samples)`,
      };
    const federateNeed = spec.lookback_delta.plus(spec.intervals.federate);
    for (const [i, s] of spec.scrapers.entries())
      if (s.storage.retention.lt(federateNeed))
        yield {
          severity: 'error',
          message: `scraper set ${s.name} keeps ${s.storage.retention}, less than the lookback plus one federate interval (${federateNeed}): samples may vanish before they are federated`,
          location: topology.locate(['scrapers', i, 'storage', 'retention']),
          hint: 'keep a few hours (e.g. 6h)',
        };
  },
};
