// Pure helpers of the benchmarks: statistics, the latency floor, and the table.
import type { Duration } from '../src/duration.ts';

/** The value at quantile q (0..1) of the samples, linearly interpolated; NaN when empty. */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (pos - lo);
}

export const median = (samples: readonly number[]): number => quantile(samples, 0.5);
export const p95 = (samples: readonly number[]): number => quantile(samples, 0.95);

export interface PipelineIntervals {
  readonly scrape: Duration;
  readonly federate: Duration;
  readonly evaluate: Duration;
  /** The route's group_wait. */
  readonly groupWait: Duration;
}

/**
 * The latency floor of an alert, in seconds: one scrape, one federate scrape, one
 * evaluation and the group wait. A change waits at most one of each interval; with
 * random phases it waits half of each on average, so a median below the floor is normal.
 */
export function latencyFloor(i: PipelineIntervals): number {
  return (i.scrape.ms + i.federate.ms + i.evaluate.ms + i.groupWait.ms) / 1000;
}

/** The expected latency with random phases: half of each interval, plus the whole group wait. */
export function expectedLatency(i: PipelineIntervals): number {
  return (i.scrape.ms + i.federate.ms + i.evaluate.ms) / 2000 + i.groupWait.ms / 1000;
}

/** CPU used between two readings of process_cpu_seconds_total, as a fraction of one core. */
export function cpuCores(before: { cpuSeconds: number; at: number }, after: { cpuSeconds: number; at: number }): number {
  const wall = (after.at - before.at) / 1000;
  return wall > 0 ? (after.cpuSeconds - before.cpuSeconds) / wall : Number.NaN;
}

/** The first step whose value exceeds the limit, or undefined. */
export function firstAbove<T>(steps: readonly T[], value: (s: T) => number, limit: number): T | undefined {
  return steps.find((s) => value(s) > limit);
}

/** Formats seconds, MiB and ratios the same way everywhere; '–' for a missing value. */
export function fmt(value: number | undefined, unit: 's' | 'MiB' | 'x' | '' = '', digits = unit === 'MiB' ? 0 : 2): string {
  if (value === undefined || Number.isNaN(value)) return '–';
  return `${value.toFixed(digits)}${unit === '' ? '' : unit === 'x' ? '×' : ` ${unit}`}`;
}

export const mib = (bytes: number): number => bytes / 1024 / 1024;

/** A Markdown table (which also reads well on a terminal): columns padded to their widest cell. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: readonly string[]) => `| ${widths.map((w, c) => (cells[c] ?? '').padEnd(w)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}
