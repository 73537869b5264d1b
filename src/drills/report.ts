import type { DrillOutcome, Measurements } from './drill.ts';

const LABELS: ReadonlyArray<readonly [keyof Measurements, string, string]> = [
  ['detectSeconds', 'time to detect', 's'],
  ['recoverSeconds', 'time to recover', 's'],
  ['notificationsExpected', 'notifications expected', ''],
  ['notificationsReceived', 'notifications received', ''],
  ['notificationsDuplicated', 'notifications duplicated', ''],
  ['pushesLost', 'pushes lost', ''],
  ['samplesLost', 'samples lost', ''],
  ['watchedSeconds', 'watched for flaps', 's'],
];

function rows(o: DrillOutcome): Array<[string, string]> {
  const measured = LABELS.filter(([k]) => o.measurements[k] !== undefined).map(([k, label, unit]): [string, string] => {
    const v = o.measurements[k] as number;
    return [label, `${unit === 's' ? v.toFixed(1) : v}${unit ? ` ${unit}` : ''}`];
  });
  const expected = o.expectations.map((e): [string, string] => [`${e.ok ? 'PASS' : 'FAIL'} ${e.name}`, e.detail]);
  return [...expected, ...measured];
}

/** A table per scenario, for the terminal. */
export function formatDrills(outcomes: readonly DrillOutcome[]): string {
  return outcomes
    .map((o) => {
      const r = rows(o);
      const w = Math.max(...r.map(([a]) => a.length));
      return [`${o.ok ? 'PASS' : 'FAIL'}  ${o.scenario} (${o.mode}, ${o.release}, ${o.seconds.toFixed(0)} s): ${o.title}`, ...r.map(([a, b]) => `  ${a.padEnd(w)}  ${b}`)].join('\n');
    })
    .join('\n\n');
}

/** The same as a Markdown report. */
export function markdownReport(outcomes: readonly DrillOutcome[], when = new Date()): string {
  const parts = [`# promha drill report\n\n${when.toISOString()}: ${outcomes.filter((o) => o.ok).length} of ${outcomes.length} scenarios passed.\n`];
  for (const o of outcomes) {
    parts.push(`## ${o.ok ? '✅' : '❌'} ${o.title} (\`${o.scenario}\`, ${o.mode}, ${o.release}: ${Object.entries(o.versions).map(([b, v]) => `${b} ${v}`).join(', ')})\n\n| | |\n|---|---|\n${rows(o).map(([a, b]) => `| ${a} | ${b.replace(/\|/g, '\\|')} |`).join('\n')}\n`);
  }
  return parts.join('\n');
}
