import { pushedKeepFiringFor, type KeepFiringNeed } from '../../plan/derived.ts';
import { recordedReadsOf } from '../recorded-reads.ts';
import { pushedSetsRead } from '../series-origin.ts';
import type { CheckRule } from '../finding.ts';

export const pushedKeepFiring: CheckRule = {
  code: 'PH601',
  name: 'pushed-keep-firing',
  description:
    'Alert rules on pushed metrics (directly or through recording rules) carry keep_firing_for ≥ push interval + gateway scrape + evaluation + VIP failover.',
  *run({ topology }) {
    const { spec } = topology;
    if (spec.pushgateways.length === 0) return;
    const reads = recordedReadsOf(topology, (use) => pushedSetsRead(use.selector, spec));
    for (const file of topology.ruleFiles)
      for (const rule of file.parsed.rules) {
        if (rule.kind !== 'alert') continue;
        const reached = reads(rule);
        if (reached.length === 0) continue;
        const evaluate = rule.groupInterval ?? spec.intervals.evaluate;
        let worst: KeepFiringNeed | undefined;
        for (const { value: set } of reached) {
          const n = pushedKeepFiringFor(spec, set.vip.advert_int, evaluate);
          if (!worst || n.need.gt(worst.need)) worst = n;
        }
        if (!worst) continue;
        const have = rule.keepFiringFor;
        if (have && !have.lt(worst.need)) continue;
        const via = reached.find((r) => r.via.length > 0 && reached.every((x) => x.via.length > 0))?.via;
        yield {
          severity: 'error',
          message: `alert ${rule.name} reads pushed metrics (${reached.map((r) => r.value.name).join(', ')})${
            via ? ` through recording rule ${chain(via)}` : ''
          } with ${have ? `keep_firing_for ${have}` : 'no keep_firing_for'}: when the active gateway dies its series go stale until the next push lands on the standby and is scraped, and the alert would resolve and fire again`,
          location: rule.location,
          hint: `add \`keep_firing_for: ${worst.need}\` (${worst.derivation})`,
        };
      }
  },
};

/** A chain of records for a message: a long one (a generated rule file) by its ends and its length. */
function chain(via: readonly string[]): string {
  return via.length <= 6 ? via.join(' → ') : `${via.slice(0, 3).join(' → ')} → … → ${via.slice(-2).join(' → ')} (${via.length} recording rules)`;
}
