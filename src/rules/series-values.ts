/**
 * The `values` notation of promtool's input series (`1+2x3 _ stale _x2`), expanded to one
 * entry per sample step and written back. promha's HA conditions rewrite samples step by
 * step, so they need the expansion; promtool then reads the explicit form.
 */

/** One step of an input series: a value, no sample (`_`), or a staleness marker. */
export type SeriesStep = number | '_' | 'stale';

const NUMBER = String.raw`[+-]?(?:Inf|inf|NaN|nan|(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)`;
const TERM = new RegExp(String.raw`^(?:(_)(?:x(\d+))?|(stale)|(${NUMBER})(?:([+-])(${NUMBER}))?(?:x(\d+))?)$`);

/**
 * A series of more than this many samples is refused (exit 2): promtool fills memory
 * expanding `1x999999999999999999` (2 GiB within 25 s, and on), and a real test needs
 * a few hundred. promha also rewrites at most this many samples of a test group.
 */
export const MAX_STEPS = 1_000_000;

/** A native histogram sample and what may follow it: `{{…}}`, `{{…}}x3`, `{{…}}+{{…}}x3`. */
const HISTOGRAM_TERM = /^\{\{[^{}]*\}\}(?:[+-]\{\{[^{}]*\}\})?(?:x(\d+))?$/;

/**
 * How many samples promtool makes of a `values` string, counted without making them
 * (`1x999999999999999999` is 10^18 + 1), native histograms included. A term promtool
 * does not know counts as one: promtool reports it.
 */
export function countSteps(values: string): number {
  let n = 0;
  // Histogram braces hold spaces: split on white space outside them.
  for (const term of values.trim().match(/(?:\{\{[^{}]*\}\}|[^\s{]+|\{)+/g) ?? []) {
    const histogram = HISTOGRAM_TERM.exec(term);
    if (histogram) {
      n += histogram[1] === undefined ? 1 : Number(histogram[1]) + 1;
      continue;
    }
    const m = TERM.exec(term);
    if (!m) n += 1;
    else if (m[1] !== undefined) n += Number(m[2] ?? 1);
    else if (m[3] !== undefined) n += 1;
    else n += m[7] === undefined ? 1 : Number(m[7]) + 1;
  }
  return n;
}

function numberOf(text: string): number {
  const t = text.replace(/^[+]/, '');
  if (/^-?inf$/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(t)) return NaN;
  return Number(t);
}

/**
 * The steps of a `values` string, or a reason it cannot be expanded (native histograms
 * `{{…}}`, or a term this notation does not have). As promtool: `a+bxn` is n + 1 values
 * from a, adding b each step; `axn` is a, n + 1 times; `_xn` is n missing samples.
 */
export function expandValues(values: string): SeriesStep[] | string {
  if (values.includes('{{')) return 'native histogram samples ({{…}}): promha does not rewrite them';
  const steps: SeriesStep[] = [];
  for (const term of values.trim().split(/\s+/).filter(Boolean)) {
    const m = TERM.exec(term);
    if (!m) return `"${term}" is not a term of the series notation (a, a+bxn, a-bxn, axn, _, _xn, stale)`;
    const [, blank, blanks, stale, start, sign, step, times] = m;
    const count = blank !== undefined ? Number(blanks ?? 1) : stale !== undefined ? 1 : times === undefined ? 1 : Number(times) + 1;
    if (steps.length + count > MAX_STEPS) return `more than ${MAX_STEPS} samples`;
    if (blank !== undefined) for (let i = 0; i < count; i++) steps.push('_');
    else if (stale !== undefined) steps.push('stale');
    else {
      // Added step by step, as promtool does, so that the floats are the same.
      const delta = step === undefined ? 0 : (sign === '-' ? -1 : 1) * numberOf(step);
      let v = numberOf(start ?? '0');
      for (let i = 0; i < count; i++) {
        steps.push(v);
        v += delta;
      }
    }
  }
  return steps;
}

/** A number as Go's ParseFloat reads it back exactly. */
function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** The explicit `values` string of steps: one term per step. */
export function formatValues(steps: readonly SeriesStep[]): string {
  return steps.map((s) => (typeof s === 'number' ? formatNumber(s) : s)).join(' ');
}
