import { matcherAccepts, type SelectorRef } from './analyze.ts';

/*
 * Whether a series selector can select series of a known source: a job, and metric
 * names given literally or as regular expressions (anchored, as Prometheus anchors
 * them). Label matchers combine with AND, so every matcher on a label must accept
 * the value. Two regexes are compared by a sound over-approximation: they may
 * intersect unless one of them is a literal the other rejects, or their literal
 * prefixes disagree.
 */

type Matcher = SelectorRef['matchers'][number];

export const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** The matchers on the metric name; the bare name `x` counts as `__name__="x"`. */
export function nameMatchers(sel: SelectorRef): Matcher[] {
  const named = sel.matchers.filter((m) => m.name === '__name__');
  // selectorRef takes `metric` from `__name__="x"` too; count that matcher once.
  if (sel.metric === undefined || named.some((m) => m.op === '=' && m.value === sel.metric)) return named;
  return [{ name: '__name__', op: '=', value: sel.metric }, ...named];
}

/** Whether the selector's `job` matchers all accept `job`; true when it has none. */
export function jobMayMatch(sel: SelectorRef, job: string): boolean {
  return sel.matchers.every((m) => m.name !== 'job' || matcherAccepts(m.op, m.value, job));
}

/** Whether the selector names `job` positively (`job="x"` or `job=~"…"` accepting it), not just by excluding others. */
export function namesJob(sel: SelectorRef, job: string): boolean {
  return jobMayMatch(sel, job) && sel.matchers.some((m) => m.name === 'job' && (m.op === '=' || m.op === '=~'));
}

/**
 * Whether the selector's name matchers may accept a name of `declared`, a metric name
 * or a regular expression of names. A selector with no name matcher accepts every name.
 */
export function nameMayMatch(sel: SelectorRef, declared: string): boolean {
  const ms = nameMatchers(sel);
  if (METRIC_NAME.test(declared)) return ms.every((m) => matcherAccepts(m.op, m.value, declared));
  const eq = ms.find((m) => m.op === '=');
  if (eq) return matcherAccepts('=~', declared, eq.value) && ms.every((m) => matcherAccepts(m.op, m.value, eq.value));
  // A `!=` excludes one name, never a whole regex of names; `!~` only its very regex.
  return ms.every((m) => (m.op === '=~' ? regexesMayIntersect(m.value, declared) : m.op === '!~' ? m.value !== declared : true));
}

/** Top-level alternatives of a regex; undefined when it cannot be split safely (flags, bad nesting). */
function alternatives(re: string): string[] | undefined {
  if (re.startsWith('(?')) return undefined;
  const out: string[] = [];
  let depth = 0;
  let inClass = false;
  let start = 0;
  for (let i = 0; i < re.length; i++) {
    const c = re.charAt(i);
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) {
      out.push(re.slice(start, i));
      start = i + 1;
    }
    if (depth < 0) return undefined;
  }
  out.push(re.slice(start));
  return depth === 0 && !inClass ? out : undefined;
}

const QUANTIFIER = /[*?{]/;
const SPECIAL = /[.[\](){}*+?|^$\\]/;

/** The characters every match of a branch starts with, and whether that is the whole branch. */
function literalPrefix(branch: string): { prefix: string; exact: boolean } {
  let prefix = '';
  for (let i = 0; i < branch.length; ) {
    let c = branch.charAt(i);
    let width = 1;
    if (c === '\\') {
      const next = branch.charAt(i + 1);
      // \d, \w, \b … are classes or assertions, not the character itself.
      if (next === '' || /[0-9A-Za-z]/.test(next)) return { prefix, exact: false };
      c = next;
      width = 2;
    } else if (SPECIAL.test(c)) return { prefix, exact: false };
    const after = branch.charAt(i + width);
    if (after !== '' && QUANTIFIER.test(after)) return { prefix, exact: false };
    prefix += c;
    i += width;
    if (after === '+') return { prefix, exact: false };
  }
  return { prefix, exact: true };
}

/** Whether some string may match both anchored regexes (false only when it surely cannot). */
export function regexesMayIntersect(a: string, b: string): boolean {
  const as = alternatives(a);
  const bs = alternatives(b);
  if (!as || !bs) return true;
  return as.some((x) =>
    bs.some((y) => {
      const px = literalPrefix(x);
      const py = literalPrefix(y);
      if (px.exact) return matcherAccepts('=~', y, px.prefix);
      if (py.exact) return matcherAccepts('=~', x, py.prefix);
      return px.prefix.startsWith(py.prefix) || py.prefix.startsWith(px.prefix);
    }),
  );
}
