import type * as z from 'zod';
import type { Problem } from '../errors.ts';
import type { YamlSource } from './yaml-source.ts';

type Issue = z.core.$ZodIssue;
interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  innerType?: z.ZodType;
  in?: z.ZodType;
  options?: z.ZodType[];
}
const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** Follows wrappers (default, optional, pipe) down to the schema that holds the shape. */
function unwrap(s: z.ZodType): z.ZodType {
  let cur = s;
  for (let i = 0; i < 10; i++) {
    const d = defOf(cur);
    const next = d.innerType ?? (d.type === 'pipe' ? d.in : undefined);
    if (!next) return cur;
    cur = next;
  }
  return cur;
}

function schemaAt(root: z.ZodType, path: ReadonlyArray<PropertyKey>): z.ZodType | undefined {
  let cur: z.ZodType | undefined = root;
  for (const seg of path) {
    if (!cur) return undefined;
    const d = defOf(unwrap(cur));
    if (d.type === 'object' && d.shape) cur = d.shape[String(seg)];
    else if (d.type === 'array') cur = d.element;
    else return undefined;
  }
  return cur;
}

function description(s: z.ZodType | undefined): string | undefined {
  let cur = s;
  for (let i = 0; cur && i < 10; i++) {
    const meta = (cur as unknown as { meta(): { description?: string } | undefined }).meta?.();
    if (meta?.description) return meta.description;
    const d = defOf(cur);
    cur = d.innerType ?? (d.type === 'pipe' ? d.in : undefined);
  }
  return undefined;
}

function allowedKeys(root: z.ZodType, path: ReadonlyArray<PropertyKey>): string[] {
  const s = schemaAt(root, path);
  const d = s && defOf(unwrap(s));
  return d?.shape ? Object.keys(d.shape) : [];
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0] as number;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j] as number;
      dp[j] = Math.min((dp[j] as number) + 1, (dp[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length] as number;
}

/**
 * YAML reads a number beyond a 64-bit float (1e400) as infinity, and `.inf`/`.nan` as
 * such: JSON has no word for them (JSON.stringify says "null"), so they get their own.
 */
function nonFinite(v: unknown): string | undefined {
  if (typeof v !== 'number' || Number.isFinite(v)) return undefined;
  return Number.isNaN(v) ? 'not a number (.nan)' : 'out of range: not a finite number (beyond a 64-bit float, such as 1e400, or .inf)';
}

function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (nonFinite(v)) return `a number ${nonFinite(v)}`;
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

function pathText(path: ReadonlyArray<PropertyKey>): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || 'the file';
}

type RangeIssue = Extract<Issue, { code: 'too_big' | 'too_small' }>;
const isRange = (i: Issue): i is RangeIssue => i.code === 'too_big' || i.code === 'too_small';
const bound = (i: RangeIssue): number => Number(i.code === 'too_big' ? i.maximum : i.minimum);

/**
 * One range problem per value: zod checks `int()` against the safe-integer range and the
 * field's own bounds apart, so 1e20 broke both (<= 2^53 and <= 255). The tightest bound
 * is the one to name.
 */
function tightestRanges(issues: readonly Issue[]): Set<Issue> {
  const best = new Map<string, RangeIssue>();
  for (const i of issues) {
    if (!isRange(i)) continue;
    const key = `${i.code} ${JSON.stringify(i.path.filter((p) => typeof p !== 'symbol'))}`;
    const seen = best.get(key);
    if (!seen || (i.code === 'too_big' ? bound(i) < bound(seen) : bound(i) > bound(seen))) best.set(key, i);
  }
  const chosen = new Set<Issue>(best.values());
  return new Set(issues.filter((i) => !isRange(i) || chosen.has(i)));
}

/** "must be at most 255, got 1e+21": the bound and the value, for numbers. */
function rangeMessage(where: string, issue: RangeIssue, value: unknown): string | undefined {
  if (issue.origin !== 'number' && issue.origin !== 'int') return undefined;
  const word = issue.code === 'too_big' ? (issue.inclusive === false ? 'less than' : 'at most') : issue.inclusive === false ? 'more than' : 'at least';
  return `${where} must be ${word} ${String(bound(issue))}, got ${String(value)}`;
}

/** Turns zod issues into located, readable problems with a fix hint. */
export function schemaProblems(root: z.ZodType, issues: readonly Issue[], source: YamlSource, input: unknown): Problem[] {
  const out: Problem[] = [];
  const kept = tightestRanges(issues);
  for (const issue of issues) {
    if (!kept.has(issue)) continue;
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    const where = pathText(path);
    const field = schemaAt(root, path);
    const hint = description(field);
    if (issue.code === 'unrecognized_keys') {
      const allowed = allowedKeys(root, path);
      for (const key of issue.keys) {
        const close = allowed.filter((k) => editDistance(k, key) <= 2);
        out.push({
          message: `unknown key "${key}" in ${where}`,
          location: source.locate([...path, key], { key: true }),
          hint: close.length ? `did you mean "${close[0]}"?` : `allowed keys: ${allowed.join(', ')}`,
        });
      }
      continue;
    }
    let value: unknown = input;
    for (const seg of path) value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[seg] : undefined;
    if ((issue.code === 'invalid_type' || issue.code === 'invalid_value') && value === undefined) {
      out.push({
        message: `missing required key "${String(path[path.length - 1])}" in ${pathText(path.slice(0, -1))}`,
        location: source.locate(path.slice(0, -1)),
        hint: hint ? `add it: ${hint}` : 'add the key',
      });
      continue;
    }
    let message = issue.message;
    const infinite = nonFinite(value);
    // Where a number belongs, the number is the problem; elsewhere (a duration) the type is.
    if (infinite && (issue.code !== 'invalid_type' || issue.expected === 'number' || issue.expected === 'int')) message = `${where}: ${infinite}`;
    else if (issue.code === 'invalid_type' && issue.expected === 'int') message = `${where} must be a whole number, got ${describeValue(value)}`;
    else if (isRange(issue) && rangeMessage(where, issue, value)) message = rangeMessage(where, issue, value) as string;
    else if (issue.code === 'invalid_type') message = `${where} must be ${issue.expected === 'object' ? 'a mapping' : issue.expected === 'array' ? 'a list' : `a ${issue.expected}`}, got ${describeValue(value)}`;
    else if (issue.code === 'invalid_value') message = `${where} must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describeValue(value)}`;
    else if (issue.code === 'invalid_union') {
      // Report the branch that explains most (e.g. "not a duration"), not the `auto` literal.
      const inner = issue.errors.flat().find((e) => e.code !== 'invalid_value' && e.code !== 'invalid_type');
      message = `${where}: ${describeValue(value)} is not valid here${inner ? `: ${inner.message}` : ''}`;
    }
    else if (issue.code === 'too_small' && issue.origin === 'array') message = `${where} needs at least ${String(issue.minimum)} item(s)`;
    else if (issue.code === 'too_small' && issue.origin === 'string') message = `${where} must not be empty`;
    else message = `${where}: ${issue.message}`;
    out.push({ message, location: source.locate(path), hint: hint ?? 'see `promha schema` for what this key accepts' });
  }
  return out;
}
