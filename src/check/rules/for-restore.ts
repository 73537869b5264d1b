import type { Duration } from '../../duration.ts';
import { forGracePeriod } from '../../plan/derived.ts';
import type { CheckRule } from '../finding.ts';

/** How many affected alerts a summary names. */
const EXAMPLES = 3;

export const forRestore: CheckRule = {
  code: 'PH602',
  name: 'for-restore',
  description: "Alerts' `for:` are no shorter than the federators' for-grace-period, so a restarted federator restores their state.",
  *run({ topology }) {
    const grace = forGracePeriod(topology.spec);
    const configured = topology.spec.federators.for_grace_period !== undefined;
    const short: Array<{ name: string; for: Duration; where: string }> = [];
    for (const file of topology.ruleFiles)
      for (const rule of file.parsed.rules)
        // Prometheus (rules/manager.go, RestoreForState) skips a rule when `for` < grace period; equal is restored.
        if (rule.kind === 'alert' && rule.for && rule.for.ms > 0 && rule.for.lt(grace))
          short.push({ name: rule.name, for: rule.for, where: `${rule.location.file}:${rule.location.line}` });
    if (short.length === 0) return;
    // The grace period must not exceed any `for:` to be restored: the shortest covers them all.
    const shortest = short.reduce((a, b) => (b.for.lt(a.for) ? b : a)).for;
    const examples = short
      .slice(0, EXAMPLES)
      .map((s) => `${s.name} (for: ${s.for}, ${s.where})`)
      .join(', ');
    const count = `${short.length} alert${short.length === 1 ? '' : 's'}`;
    yield {
      severity: 'warning',
      message: `${count} ${short.length === 1 ? 'has' : 'have'} a \`for:\` shorter than the federators' for-grace-period (${grace}${
        configured ? '' : ", Prometheus' default"
      }): ${examples}${short.length > EXAMPLES ? `, and ${short.length - EXAMPLES} more` : ''}. A restarted federator does not restore their state from ALERTS_FOR_STATE and holds them pending for their full \`for:\` again`,
      location: configured ? topology.locate(['federators', 'for_grace_period']) : topology.locate(['federators'], { key: true }),
      hint: `set federators.for_grace_period to ${shortest} (the shortest \`for:\` among them): Prometheus restores an alert whose \`for:\` is at least the grace period`,
    };
  },
};
