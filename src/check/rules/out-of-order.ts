import { outOfOrderWindow } from '../../plan/derived.ts';
import type { CheckRule } from '../finding.ts';

export const outOfOrder: CheckRule = {
  code: 'PH701',
  name: 'out-of-order-window',
  description: "The federators' out-of-order window covers the scrape plus federate interval, so both scraper copies merge.",
  *run({ topology }) {
    const { spec } = topology;
    const window = outOfOrderWindow(spec);
    const need = spec.intervals.scrape.plus(spec.intervals.federate);
    if (window.lt(need))
      yield {
        severity: 'error',
        message: `out_of_order_window ${window} is shorter than scrape + federate interval (${need}): samples of one scraper copy arrive older than the other's and are rejected as out-of-order`,
        location: topology.locate(['federators', 'out_of_order_window']),
        hint: `use \`auto\` (${need.times(2)} here) or at least ${need}`,
      };
  },
};
