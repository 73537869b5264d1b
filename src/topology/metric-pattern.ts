/**
 * The metric names of pushed jobs (`pushgateways[].jobs[].metrics`) may be regular
 * expressions. promha matches them against every metric a rule reads, with the
 * backtracking engine of JavaScript; a pattern that repeats a repetition
 * (`([a-z_]+)+_total`) takes exponential time on a name it does not match. Such
 * patterns are refused here, as is syntax RE2 (Prometheus' engine) does not have.
 */
export const MAX_METRIC_PATTERN_LENGTH = 256;
/** RE2 refuses counted repetitions above 1000. */
const MAX_REPEAT = 1000;

interface Group {
  /** Whether the group holds a quantifier (at any depth). */
  quantified: boolean;
}

/** Why `pattern` is refused as a metric name pattern, or undefined when it is fine. */
export function metricPatternProblem(pattern: string): string | undefined {
  if (pattern.length > MAX_METRIC_PATTERN_LENGTH) return `longer than ${MAX_METRIC_PATTERN_LENGTH} characters`;
  if (/\(\?<?[=!]/.test(pattern)) return 'lookarounds ((?=, (?!, (?<=, (?<!) are not RE2 syntax';
  if (/\\[1-9]/.test(pattern)) return 'back-references (\\1 …) are not RE2 syntax';
  try {
    new RegExp(`^(?:${pattern})$`);
  } catch (e) {
    return `not a regular expression: ${(e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '')}`;
  }
  const groups: Group[] = [{ quantified: false }];
  /** The group that just closed, if the next character quantifies it. */
  let closed: Group | undefined;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    const top = groups[groups.length - 1] as Group;
    let quantifier = '';
    if (c === '\\') i++;
    else if (c === '[') {
      // A class is one atom: skip to its closing bracket (a leading "]" or "^]" is literal).
      let j = i + 1;
      if (pattern[j] === '^') j++;
      if (pattern[j] === ']') j++;
      while (j < pattern.length && pattern[j] !== ']') j += pattern[j] === '\\' ? 2 : 1;
      i = j;
    } else if (c === '(') {
      // Skip the group's prefix ((?:, (?<name>, (?P<name>), whose "?" quantifies nothing.
      const prefix = /^\(\?(?::|P?<[A-Za-z_][A-Za-z0-9_]*>)/.exec(pattern.slice(i));
      if (prefix) i += prefix[0].length - 1;
      groups.push({ quantified: false });
      closed = undefined;
      continue;
    } else if (c === ')') {
      const g = groups.pop() as Group;
      const parent = groups[groups.length - 1] as Group;
      if (g.quantified) parent.quantified = true;
      closed = g;
      continue;
    } else if (c === '*' || c === '+' || c === '?') quantifier = c;
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i));
      if (m) {
        quantifier = m[0];
        const high = m[3] ? Number(m[3]) : Number(m[1]);
        if (high > MAX_REPEAT || Number(m[1]) > MAX_REPEAT) return `a repetition count above ${MAX_REPEAT} (RE2's limit)`;
        i += m[0].length - 1;
      }
    }
    if (quantifier) {
      // A lazy or possessive mark after a quantifier is part of it.
      if (pattern[i + 1] === '?') i++;
      if (closed?.quantified) return `nested quantifiers (a repeated group that itself repeats: "${quantifier}" after a group with a quantifier) can take exponential time; write the repetition once, e.g. [a-z_]+_total instead of ([a-z_]+)+_total`;
      top.quantified = true;
    }
    closed = undefined;
  }
  return undefined;
}
