// A chaos campaign's report: a terminal summary and Markdown, both from the JSON record.
import type { CampaignReport, Violation } from './campaign.ts';

const seconds = (ms: number) => `+${(ms / 1000).toFixed(1)} s`;

function quantile(sorted: readonly number[], q: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Episodes' latency distribution: median, p90, p99, max. */
export function latencyDistribution(latencies: readonly number[]): { median?: number; p90?: number; p99?: number; max?: number } {
  const l = [...latencies].sort((a, b) => a - b);
  const pick = (q: number) => quantile(l, q);
  const out: { median?: number; p90?: number; p99?: number; max?: number } = {};
  const m = pick(0.5);
  if (m !== undefined) Object.assign(out, { median: m, p90: pick(0.9), p99: pick(0.99), max: l[l.length - 1] });
  return out;
}

const fmt = (s: number | undefined) => (s === undefined ? '-' : `${s.toFixed(1)} s`);

function violationLine(v: Violation, r: CampaignReport): string {
  const around = v.faults.map((id) => r.injected.find((f) => f.id === id)).filter((f) => f !== undefined);
  const faults = around.length ? `; faults around it: ${around.map((f) => `#${f.id} ${f.kind} ${f.target} (${seconds(f.startedAt)}–${f.healedAt !== undefined ? seconds(f.healedAt) : 'not healed'})`).join(', ')}` : '';
  return `${seconds(v.at)} ${v.kind}: ${v.detail}${faults}`;
}

export function formatCampaign(r: CampaignReport): string {
  const d = latencyDistribution(r.latencies);
  const failed = r.injected.filter((f) => f.error);
  const lines = [
    `chaos campaign: ${r.mode}, ${r.release}, seed ${r.seed}, ${(r.durationMs / 1000).toFixed(0)} s, at most ${r.maxConcurrent} fault(s) at once`,
    `faults injected: ${r.injected.length - failed.length} of ${r.schedule.length} (${[...new Set(r.injected.map((f) => f.kind))].join(', ')})`,
    `alert episodes: ${r.episodes}; latency median ${fmt(d.median)}, p90 ${fmt(d.p90)}, max ${fmt(d.max)}`,
    `duplicates during Alertmanager partitions (at-least-once, counted apart): ${r.partitionDuplicates}`,
    r.violations.length === 0 ? 'violations: none' : `violations: ${r.violations.length}`,
    ...r.violations.map((v) => `  ${violationLine(v, r)}`),
    ...failed.map((f) => `  fault #${f.id} ${f.kind} ${f.target}: ${f.error}`),
  ];
  if (r.violations.length > 0) lines.push(`replay: promha drill chaos --replay <this report as JSON> (seed ${r.seed})`);
  return lines.join('\n');
}

export function markdownCampaign(r: CampaignReport): string {
  const d = latencyDistribution(r.latencies);
  const out = [
    `# Chaos campaign (${r.mode}, ${r.release})`,
    '',
    `Started ${r.startedAt}, ${(r.durationMs / 1000).toFixed(0)} s, seed ${r.seed}, at most ${r.maxConcurrent} fault(s) at once; faults: ${r.faults.join(', ')}.`,
    '',
    '| episodes | latency median | p90 | p99 | max | partition duplicates | violations |',
    '|---|---|---|---|---|---|---|',
    `| ${r.episodes} | ${fmt(d.median)} | ${fmt(d.p90)} | ${fmt(d.p99)} | ${fmt(d.max)} | ${r.partitionDuplicates} | ${r.violations.length} |`,
    '',
    '## Faults',
    '',
    '| # | fault | target | start | healed |',
    '|---|---|---|---|---|',
    ...r.injected.map((f) => `| ${f.id} | ${f.kind} | ${f.target} | ${seconds(f.startedAt)} | ${f.healedAt !== undefined ? seconds(f.healedAt) : f.error ?? 'no'} |`),
    '',
    '## Violations',
    '',
    ...(r.violations.length ? r.violations.map((v) => `- ${violationLine(v, r)}`) : ['None.']),
    '',
  ];
  return out.join('\n');
}
