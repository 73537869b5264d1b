import type { RolloutStep } from '../apply/rollout.ts';
import { plain, type Paint } from '../cli/paint.ts';

/** The rollout as a table: one step per line, in order, with what must hold after it. */
export function formatRollout(steps: readonly RolloutStep[], pc: Paint = plain): string {
  if (steps.length === 0) return pc.green('every member runs what the topology renders: nothing to apply');
  const head = ['STEP', 'MEMBER', 'ACTION', 'REASON', 'GATE'];
  const rows = steps.map((s, i) => [String(i + 1), s.member, s.action, s.reason, s.gate]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.slice(0).map((r) => (i < 3 ? (r[i] ?? '').length : 0))));
  const line = (r: readonly string[]) => r.map((c, i) => (i < 3 ? c.padEnd(widths[i] ?? 0) : c)).join('  ');
  return [pc.bold(line(head)), ...rows.map((r) => line([r[0] ?? '', r[1] ?? '', r[2] ?? '', `${r[3] ?? ''}`, `→ ${r[4] ?? ''}`]))].join('\n');
}
