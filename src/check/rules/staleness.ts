import { Duration } from '../../duration.ts';
import type { CheckRule } from '../finding.ts';

const ADVISED_MAX = Duration.minutes(1);
const SEED_LOOKBACK = Duration.minutes(5);

export const staleness: CheckRule = {
  code: 'PH201',
  name: 'staleness-window',
  description: 'Every interval keeps one missed scrape or push inside the staleness window (lookback_delta, 5m).',
  *run({ topology }) {
    const { spec } = topology;
    const lookback = spec.lookback_delta;
    for (const key of ['scrape', 'push', 'federate', 'evaluate'] as const) {
      const d = spec.intervals[key];
      const location = topology.locate(['intervals', key]);
      if (d.ms === 0)
        yield { severity: 'error', message: `intervals.${key} is 0`, location, hint: 'use 30s or 1m, as the seed advises' };
      else if (d.times(2).compare(lookback) >= 0)
        yield {
          severity: 'error',
          message: `intervals.${key} is ${d}: one missed ${key} (2 × ${d} = ${d.times(2)}) reaches the ${lookback} staleness window, so series vanish`,
          location,
          hint: 'use 30s or 1m, as the seed advises',
        };
      else if (d.gt(ADVISED_MAX))
        yield {
          severity: 'warning',
          message: `intervals.${key} is ${d}, above the seed's advice of 30s–1m`,
          location,
          hint: 'use 30s or 1m so a missed scrape or push is harmless',
        };
    }
    if (lookback.lt(SEED_LOOKBACK))
      yield {
        severity: 'warning',
        message: `lookback_delta is ${lookback}, shorter than Prometheus' 5m: fine for a fast test profile, not for production`,
        location: topology.locate(['lookback_delta']),
        hint: 'remove lookback_delta in real deployments',
      };
  },
};
