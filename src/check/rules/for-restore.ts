import { forGracePeriod } from '../../plan/derived.ts';
import type { CheckRule } from '../finding.ts';

export const forRestore: CheckRule = {
  code: 'PH602',
  name: 'for-restore',
  description: "An alert's `for:` is no shorter than the federators' for-grace-period, so a restarted federator restores its state.",
  *run({ topology }) {
    const grace = forGracePeriod(topology.spec);
    const configured = topology.spec.federators.for_grace_period !== undefined;
    for (const file of topology.ruleFiles)
      for (const rule of file.parsed.rules) {
        if (rule.kind !== 'alert' || !rule.for || rule.for.ms === 0 || !rule.for.lt(grace)) continue;
        yield {
          severity: 'warning',
          message: `alert ${rule.name} has \`for: ${rule.for}\`, shorter than the federators' for-grace-period (${grace}${configured ? '' : ", Prometheus' default"}): a restarted federator does not restore it from ALERTS_FOR_STATE and holds it pending for the full ${rule.for} again`,
          location: rule.location,
          hint: `set federators.for_grace_period to ${rule.for} or less`,
        };
      }
  },
};
