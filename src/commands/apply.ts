import type { RolloutStep } from '../apply/rollout.ts';
import { plain, type Paint } from '../cli/paint.ts';

/** The rollout as a table: one step per line, in order, with what must hold after it. */
export function formatRollout(steps: readonly RolloutStep[], pc: Paint = plain): string {
  if (steps.length === 0) return pc.green('every member runs what the topology renders: nothing to apply');
  const head = ['STEP', 'MEMBER', 'ACTION', 'REASON', 'GATE'];
  const rows = steps.map((s, i) => [String(i + 1), s.member, s.action, s.reason, `→ ${s.gate}`]);
  // The first three columns are aligned; reasons and gates run on.
  const widths = head.map((h, i) => (i < 3 ? Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)) : 0));
  const line = (r: readonly string[]) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  return [pc.bold(line(head)), ...rows.map(line)].join('\n');
}
