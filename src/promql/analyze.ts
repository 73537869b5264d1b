import * as T from '@prometheus-io/lezer-promql';
import { Duration } from '../duration.ts';
import { functionProblem, PROMQL_2_42, type PromqlDialect } from './dialect.ts';
import { shape } from './shape.ts';

/*
 * Static facts about PromQL expressions, read from the official lezer grammar.
 *
 * The grammar tracks Prometheus main, while the federators run the version of their
 * release, so everything here reads the tree with two corrections:
 *  - constructs the grammar accepts but that version rejects are reported as errors
 *    (each version's differences are a PromqlDialect);
 *  - the grammar binds `offset`, `@`, `[range]` and `[range:step]` looser than
 *    binary and unary operators (`a + b offset 5m` parses as `(a + b) offset 5m`),
 *    whereas Prometheus applies them to the operand right before them. `operand`
 *    walks down to that operand.
 *
 * Every walk here is a loop or an explicit stack, never recursion: an expression may be
 * thousands of levels deep (`up + up + …`), and shape.ts bounds what lezer is given.
 */

type Tree = ReturnType<typeof T.parser.parse>;
type SyntaxNode = Tree['topNode'];

export interface PromqlDiagnostic {
  readonly severity: 'error' | 'warning';
  readonly message: string;
  /** Offsets into the expression, `to` exclusive. */
  readonly from: number;
  readonly to: number;
}

export interface SelectorRef {
  readonly metric?: string;
  readonly matchers: ReadonlyArray<{ readonly name: string; readonly op: '=' | '!=' | '=~' | '!~'; readonly value: string }>;
  readonly from: number;
  readonly to: number;
}

/* ---------------------------------------------------------------- lexing -- */

/** Strings and comments, the only places where brackets and names do not count. */
const OPAQUE = /"(?:[^"\\\n]|\\.)*"?|'(?:[^'\\\n]|\\.)*'?|`[^`]*`?|#[^\n]*/g;

function forEachOpaque(expr: string, fn: (from: number, to: number) => void): void {
  for (const m of expr.matchAll(OPAQUE)) fn(m.index, m.index + m[0].length);
}

/**
 * `holt_winters` exists in 2.42 but the grammar dropped it (it became
 * `double_exponential_smoothing` in 3.0). Swapping it for a known function of the
 * same length keeps every offset valid; names are always read from the original text.
 */
function maskLegacyFunctions(expr: string): string {
  const opaque: Array<[number, number]> = [];
  forEachOpaque(expr, (f, t) => opaque.push([f, t]));
  return expr.replace(/(?<![\w:])holt_winters(?=\s*\()/g, (name, at: number) =>
    opaque.some(([f, t]) => at >= f && at < t) ? name : 'day_of_month',
  );
}

/**
 * Parsed trees by expression: several check rules read every rule expression, and a
 * lezer tree never changes once built. Bounded, so a long-lived process does not grow.
 */
const MAX_CACHED = 20_000;

/** `compute` memoized by expression, in a cache of at most MAX_CACHED entries. */
function perExpression<V>(compute: (expr: string) => V): (expr: string) => V {
  const cache = new Map<string, V>();
  return (expr) => {
    const known = cache.get(expr);
    if (known !== undefined) return known;
    const value = compute(expr);
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(expr, value);
    return value;
  };
}

/** A parser that stops at the first error instead of recovering: linear on any input. */
const strict = T.parser.configure({ strict: true });

/**
 * An expression as parsed: the tree of the text lezer read (shape.ts may have added
 * parentheses), and the way back to the expression's own offsets and text.
 */
interface Parsed {
  readonly tree: Tree;
  /** The text of the tree. */
  readonly source: string;
  /** An offset of `source` in the expression. */
  readonly at: (offset: number) => number;
  /** The expression's text of a node (never the added parentheses of a node inside it). */
  readonly text: (node: { from: number; to: number }) => string;
  /** A node's span in the expression. */
  readonly span: (node: { from: number; to: number }) => { from: number; to: number };
  /** The first syntax error (offset in the expression), or the bound the expression crossed. */
  readonly error?: { readonly at: number } | { readonly bound: PromqlDiagnostic };
}

const EMPTY: Tree = T.parser.parse('');

/**
 * Parses with the strict parser; on an error, the tree is that of the text before it (the
 * recovering parser, which takes minutes on some 4 MiB inputs, only ever sees valid text
 * and its end), so that the facts of the valid part can still be read.
 */
const parse = perExpression((expr): Parsed => {
  const shaped = shape(expr);
  const at = shaped.toOriginal;
  const view = (tree: Tree, source: string, error?: Parsed['error']): Parsed => ({
    tree,
    source,
    at,
    text: (n) => expr.slice(at(n.from), at(n.to)),
    span: (n) => ({ from: at(n.from), to: at(n.to) }),
    ...(error ? { error } : {}),
  });
  if (shaped.tooDeep) return view(EMPTY, '', { bound: { severity: 'error', ...shaped.tooDeep } });
  const source = maskLegacyFunctions(shaped.text);
  try {
    return view(strict.parse(source), source);
  } catch (e) {
    const position = e instanceof SyntaxError ? /^No parse at (\d+)$/.exec(e.message)?.[1] : undefined;
    if (position !== undefined) {
      const before = source.slice(0, Number(position));
      return view(T.parser.parse(before), before, { at: at(Number(position)) });
    }
    // lezer builds its tree recursively: past shape.ts's bounds a tree could still be too deep for the stack.
    if (e instanceof RangeError)
      return view(EMPTY, '', {
        bound: { severity: 'error', message: 'the expression is too complex for promha to check (its syntax tree is too deep)', from: 0, to: expr.length },
      });
    throw e;
  }
});

/** The innermost bracket or quote left open at the end of `expr`, as the character that would close it. */
function missingCloser(expr: string): string | undefined {
  const closers: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
  const stack: string[] = [];
  let last = 0;
  const scanPlain = (to: number) => {
    for (let i = last; i < to; i++) {
      const c = expr.charAt(i);
      if (closers[c]) stack.push(closers[c]);
      else if (c === stack[stack.length - 1]) stack.pop();
    }
  };
  let unterminated: string | undefined;
  forEachOpaque(expr, (f, t) => {
    scanPlain(f);
    last = t;
    const q = expr.charAt(f);
    const s = expr.slice(f, t);
    if (q !== '#' && (s.length < 2 || !s.endsWith(q) || (q !== '`' && /(?:^|[^\\])(?:\\\\)*\\.$/.test(s))))
      unterminated = q;
  });
  scanPlain(expr.length);
  return unterminated ?? stack[stack.length - 1];
}

/** The token starting at `at`, for messages like `unexpected "}"`. */
function tokenAt(expr: string, at: number): string {
  const m = /^(?:[A-Za-z_:][\w:]*|[0-9.][\w.]*|"(?:[^"\\\n]|\\.)*"?|'(?:[^'\\\n]|\\.)*'?|`[^`]*`?|=~|!~|[=!<>]=|\S)/.exec(
    expr.slice(at),
  );
  return m ? m[0] : '';
}

/* ----------------------------------------------------------- tree access -- */

function children(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let c = node.firstChild; c; c = c.nextSibling) out.push(c);
  return out;
}

function exprChildren(node: SyntaxNode): SyntaxNode[] {
  return children(node).filter((c) => c.type.is('Expr'));
}

/** Whether a node below `node` satisfies `pred`, depth first with a stack of its own. */
function containsNode(node: SyntaxNode, pred: (n: SyntaxNode) => boolean): boolean {
  const stack = children(node);
  for (let n = stack.pop(); n; n = stack.pop()) {
    if (pred(n)) return true;
    stack.push(...children(n));
  }
  return false;
}

/** The node a postfix modifier really applies to (see the file comment). */
function operand(node: SyntaxNode): SyntaxNode {
  for (let n = node; ; ) {
    const next = n.type.id === T.BinaryExpr ? exprChildren(n).at(-1) : n.type.id === T.UnaryExpr ? exprChildren(n)[0] : undefined;
    if (!next) return n;
    n = next;
  }
}

/** The part of a postfix node after its operand, e.g. ` offset 5m` (trimmed), in the expression, for diagnostics. */
function modifierSpan(p: Parsed, node: SyntaxNode): { from: number; to: number } {
  let from = node.firstChild?.to ?? node.from;
  while (from < node.to && /\s/.test(p.source.charAt(from))) from++;
  return p.span({ from, to: node.to });
}

/** Milliseconds of a plain duration (`5m`, `-5m`, `(5m)`), negative allowed; undefined when not a literal. */
function durationMs(p: Parsed, node: SyntaxNode): number | undefined {
  let sign = 1;
  for (let n = node; ; ) {
    const kids = children(n);
    const [first, second] = kids;
    if (!first) return undefined;
    if (kids.length === 1 && first.type.id === T.NumberDurationLiteralInDurationContext) {
      const ms = Duration.tryParse(p.text(first))?.ms;
      return ms === undefined ? undefined : sign * ms;
    }
    if (kids.length === 1 && (first.type.id === T.DurationExpr || first.type.id === T.OffsetDurationExpr)) n = first;
    else if (kids.length === 2 && first.type.id === T.UnaryOp && second) {
      if (p.text(first) === '-') sign = -sign;
      n = second;
    } else return undefined;
  }
}

function durationOf(p: Parsed, node: SyntaxNode | undefined): Duration {
  const ms = node ? durationMs(p, node) : undefined;
  return ms !== undefined && ms > 0 ? Duration.milliseconds(ms) : Duration.ZERO;
}

/* ----------------------------------------------------------- diagnostics -- */

const KEYWORDS = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'atan2']);

/** The first syntax error, at `offset` in the expression, in Prometheus' words where they are known. */
function syntaxError(expr: string, offset: number): PromqlDiagnostic {
  let at = offset;
  while (at < expr.length && /\s/.test(expr.charAt(at))) at++;
  if (at >= expr.length) {
    const closer = missingCloser(expr);
    const message = `unexpected end of expression${closer ? `, missing ${JSON.stringify(closer)}` : ''}`;
    return { severity: 'error', message, from: expr.length, to: expr.length };
  }
  const token = tokenAt(expr, at);
  // An unknown function shows up as a metric name followed by a stray "(".
  const callee = token === '(' ? /([A-Za-z_:][\w:]*)\s*$/.exec(expr.slice(Math.max(0, at - 1024), at)) : null;
  if (callee?.[1] && !KEYWORDS.has(callee[1].toLowerCase())) {
    const from = at - (callee[0].length);
    return { severity: 'error', message: `unknown function with name ${JSON.stringify(callee[1])}`, from, to: from + callee[1].length };
  }
  return { severity: 'error', message: `unexpected ${JSON.stringify(token)}`, from: at, to: at + token.length };
}

/**
 * Prometheus' lexer refuses U+FFFD in a string literal ("invalid UTF-8 rune", measured
 * with the promtool of every release): it is what Go decodes a byte that is no UTF-8 to,
 * and the lexer cannot tell the two apart. In a comment it is accepted.
 */
function replacementCharacter(expr: string): PromqlDiagnostic | undefined {
  let found: PromqlDiagnostic | undefined;
  forEachOpaque(expr, (from, to) => {
    if (found || expr.charAt(from) === '#') return;
    const i = expr.indexOf('\uFFFD', from);
    if (i >= 0 && i < to)
      found = {
        severity: 'error',
        message: 'invalid UTF-8 rune: Prometheus refuses U+FFFD (the replacement character) in a string, as it would a byte that is no UTF-8',
        from: i,
        to: i + 1,
      };
  });
  return found;
}

const DURATION_OPERATORS = new Set([T.Add, T.Sub, T.Mul, T.Div, T.Mod, T.Pow]);

/** Seconds of a duration literal (`1h30m`), or in Prometheus 3 of a number (`90`, `1.5`, `0x10`); undefined when neither. */
function literalSeconds(literal: string, d: PromqlDialect): number | undefined {
  if (/^(?:\d+(?:ms|[ywdhms]))+$/.test(literal)) return Duration.tryParse(literal)?.seconds;
  if (d.numbersAreDurations && /^(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|0[xX][0-9a-fA-F]+)$/.test(literal)) return Number(literal);
  return undefined;
}

/**
 * Ranges and steps take a literal greater than 0 and offsets an optionally negated one:
 * `<digits><unit>...` in Prometheus 2, also a number of seconds in Prometheus 3.
 */
function durationProblem(p: Parsed, outer: SyntaxNode, outerIsOffset: boolean, d: PromqlDialect): string | undefined {
  // A loop over the signs of `- - 5m`, each level judged as the one around it would be.
  let node = outer;
  let isOffset = outerIsOffset;
  for (;;) {
    const kids = children(node);
    const [first, second] = kids;
    if (!first) return undefined;
    if (kids.length === 1 && first.type.id === T.NumberDurationLiteralInDurationContext) {
      const literal = p.text(first);
      const seconds = literalSeconds(literal, d);
      if (seconds === undefined)
        return d.numbersAreDurations
          ? `${JSON.stringify(literal)} is not a duration or a number of seconds`
          : `${JSON.stringify(literal)} is not a duration in Prometheus ${d.version}, which needs a unit (e.g. 5m)`;
      if (seconds === 0 && (!isOffset || !d.zeroOffset)) return 'duration must be greater than 0';
      return undefined;
    }
    if (containsNode(node, (n) => DURATION_OPERATORS.has(n.type.id)))
      return d.durationArithmeticFlag
        ? `duration arithmetic needs --enable-feature=${d.durationArithmeticFlag} in Prometheus ${d.version}, which promha does not set`
        : `duration arithmetic is not supported by Prometheus ${d.version}`;
    if (kids.length === 2 && first.type.id === T.UnaryOp && p.text(first) === '-' && second) {
      // Prometheus 3 negates as often as written; Prometheus 2 takes one `-` before an offset literal.
      if (!isOffset) return d.numbersAreDurations ? 'duration must be greater than 0' : undefinedDuration(p, node, isOffset, d);
      if (d.numbersAreDurations) {
        node = second;
        continue;
      }
      const inner = children(second);
      if (inner.length === 1 && inner[0]?.type.id === T.NumberDurationLiteralInDurationContext) {
        node = second;
        isOffset = false;
        continue;
      }
    }
    return undefinedDuration(p, node, isOffset, d);
  }
}

function undefinedDuration(p: Parsed, node: SyntaxNode, isOffset: boolean, d: PromqlDialect): string {
  return d.durationArithmeticFlag
    ? `${JSON.stringify(p.text(node))} is a duration expression: Prometheus ${d.version} needs --enable-feature=${d.durationArithmeticFlag} for it, which promha does not set`
    : `${JSON.stringify(p.text(node))} is not a plain duration; Prometheus ${d.version} accepts only literals such as 5m${isOffset ? ' or -5m' : ''}`;
}

/** Prometheus keeps offset and @ as fields of a selector or subquery, so they need one and may be set once. */
function modifierTargetProblem(node: SyntaxNode, modifier: 'offset' | '@'): string | undefined {
  let target = node.firstChild ? operand(node.firstChild) : node;
  for (;;) {
    const id = target.type.id;
    if (id === T.OffsetExpr || id === T.StepInvariantExpr) {
      if ((id === T.OffsetExpr) === (modifier === 'offset'))
        return modifier === 'offset' ? 'offset may not be set multiple times' : '@ <timestamp> may not be set multiple times';
      target = target.firstChild ? operand(target.firstChild) : target;
      continue;
    }
    if (id === T.VectorSelector || id === T.MatrixSelector || id === T.SubqueryExpr) return undefined;
    return `${modifier} modifier must be preceded by an instant vector selector or range vector selector or a subquery`;
  }
}

function rangeTargetProblem(node: SyntaxNode): string | undefined {
  const target = node.firstChild ? operand(node.firstChild) : node;
  switch (target.type.id) {
    case T.VectorSelector:
      return undefined;
    case T.OffsetExpr:
      return 'no offset modifiers allowed before range';
    case T.StepInvariantExpr:
      return 'no @ modifiers allowed before range';
    default:
      return 'ranges only allowed for vector selectors';
  }
}

const INTERESTING = new Set([
  T.MatrixSelector, T.DurationExpr, T.OffsetDurationExpr, T.OffsetExpr, T.StepInvariantExpr, T.NumberDurationLiteral, T.FunctionIdentifier,
  T.LimitK, T.LimitRatio, T.Anchored, T.Smoothed, T.FillModifier, T.TrimUpper, T.TrimLower, T.QuotedLabelName,
]);

function versionDiagnostics(p: Parsed, d: PromqlDialect): PromqlDiagnostic[] {
  const out: PromqlDiagnostic[] = [];
  const error = (message: string, at: { from: number; to: number }) => out.push({ severity: 'error', message, from: at.from, to: at.to });
  const unsupported = (what: string, node: SyntaxNode) => error(`${what} is not supported by Prometheus ${d.version}`, p.span(node));
  p.tree.iterate({
    enter(ref) {
      if (!INTERESTING.has(ref.type.id)) return undefined;
      // Materialized only for the node types below: most nodes of a long expression are not.
      const node = ref.node;
      switch (node.type.id) {
        case T.MatrixSelector: {
          const problem = rangeTargetProblem(node);
          if (problem) error(problem, modifierSpan(p, node));
          break;
        }
        case T.DurationExpr:
        case T.OffsetDurationExpr: {
          // Only the outermost duration of a modifier; its parts are judged as a whole.
          const parent = node.parent?.type.id;
          if (parent !== T.MatrixSelector && parent !== T.SubqueryExpr && parent !== T.OffsetExpr) break;
          const problem = durationProblem(p, node, parent === T.OffsetExpr, d);
          if (problem) error(problem, p.span(node));
          return false;
        }
        case T.OffsetExpr: {
          const problem = modifierTargetProblem(node, 'offset');
          if (problem) error(problem, modifierSpan(p, node));
          break;
        }
        case T.StepInvariantExpr: {
          const span = modifierSpan(p, node);
          const problem = modifierTargetProblem(node, '@');
          if (problem) error(problem, span);
          out.push({
            severity: 'warning',
            message: 'the @ modifier pins the evaluation time, so the history this expression reads cannot be computed',
            ...span,
          });
          break;
        }
        case T.NumberDurationLiteral:
          // The grammar reads `5m` as the number 300 anywhere; Prometheus 2 only has durations after `[` and `offset`.
          if (!d.numbersAreDurations && /^[+-]?(?:\d+(?:ms|[ywdhms]))+$/.test(p.text(node)))
            error(`${JSON.stringify(p.text(node))} is a duration, but Prometheus ${d.version} needs a number here (in seconds)`, p.span(node));
          break;
        case T.FunctionIdentifier: {
          const problem = functionProblem(d, 'function', p.text(node));
          if (problem) error(problem, p.span(node));
          break;
        }
        case T.LimitK:
        case T.LimitRatio: {
          const problem = functionProblem(d, 'aggregation', p.text(node));
          if (problem) error(problem, p.span(node));
          break;
        }
        case T.Anchored:
        case T.Smoothed:
          unsupported(`the ${JSON.stringify(p.text(node))} modifier`, node);
          break;
        case T.FillModifier:
          unsupported('fill() in binary operations', node);
          return false;
        case T.TrimUpper:
        case T.TrimLower:
          unsupported(`the ${JSON.stringify(p.text(node))} operator`, node);
          break;
        case T.QuotedLabelName:
          if (!d.quotedNames) unsupported('a quoted metric or label name', node);
          return false;
      }
      return undefined;
    },
  });
  return out.sort((a, b) => a.from - b.from);
}

/**
 * Problems the Prometheus of dialect `d` would report for `expr`: the first syntax error
 * (or U+FFFD in a string, whichever comes first, as Prometheus' lexer meets them), or
 * else constructs that version rejects, plus warnings. An expression nested past
 * shape.ts's bound is one error there.
 */
export function promqlDiagnostics(expr: string, d: PromqlDialect = PROMQL_2_42): PromqlDiagnostic[] {
  const onlyComments = expr.replace(OPAQUE, (m) => (m.startsWith('#') ? '' : m)).trim() === '';
  if (onlyComments) return [{ severity: 'error', message: 'empty expression', from: 0, to: expr.length }];
  const p = parse(expr);
  const rune = replacementCharacter(expr);
  if (p.error && 'bound' in p.error) return [rune && rune.from < p.error.bound.from ? rune : p.error.bound];
  const syntax = p.error ? syntaxError(expr, p.error.at) : undefined;
  const first = rune && (!syntax || rune.from < syntax.from) ? rune : syntax;
  if (first) return [first];
  return versionDiagnostics(p, d);
}

/* --------------------------------------------------------------- history -- */

/**
 * How far before the evaluation instant `expr` reads samples. `@` pins evaluation to a
 * fixed time that cannot be known here, so it is ignored (promqlDiagnostics warns).
 *
 * Each selector reads its range (or the lookback) plus every offset and subquery range
 * on its way up; a postfix node applies to its real operand only (see `operand`), the
 * rest of a binary chain keeps what it had. The walk keeps its own stack of
 * (node, window, added) and takes the largest sum over the selectors.
 */
export function historyNeeded(expr: string, lookback: Duration): Duration {
  const p = parse(expr);
  let most = Duration.ZERO;
  const reach = (d: Duration) => {
    if (d.ms > most.ms) most = d;
  };
  const work: Array<{ node: SyntaxNode; window: Duration; added: Duration }> = [{ node: p.tree.topNode, window: lookback, added: Duration.ZERO }];
  for (let item = work.pop(); item; item = work.pop()) {
    const { node, window, added } = item;
    const durations = () => children(node).filter((c) => c.type.id === T.DurationExpr || c.type.id === T.OffsetDurationExpr);
    /**
     * The postfix node's operand gets `target`; the left sides of binary operators on the
     * way keep (window, added). Without an operand (a broken tree) the node reads nothing.
     */
    const throughOperand = (target: (n: SyntaxNode) => { window: Duration; added: Duration }) => {
      for (let n = node.firstChild; ; ) {
        if (!n) return reach(added);
        if (n.type.id === T.BinaryExpr) {
          const sides = exprChildren(n);
          const right = sides.pop();
          for (const s of sides) work.push({ node: s, window, added });
          n = right ?? null;
          continue;
        }
        if (n.type.id === T.UnaryExpr) {
          n = exprChildren(n)[0] ?? null;
          continue;
        }
        work.push({ node: n, ...target(n) });
        return;
      }
    };
    switch (node.type.id) {
      case T.VectorSelector:
        reach(window.plus(added));
        break;
      case T.MatrixSelector: {
        // A range replaces the lookback: the selector reads exactly the range.
        const range = durationOf(p, durations()[0]);
        throughOperand(() => ({ window: range, added }));
        break;
      }
      case T.SubqueryExpr: {
        const range = durationOf(p, durations()[0]);
        throughOperand(() => ({ window, added: added.plus(range) }));
        break;
      }
      case T.OffsetExpr: {
        const offset = durationOf(p, durations()[0]);
        throughOperand(() => ({ window, added: added.plus(offset) }));
        break;
      }
      case T.StepInvariantExpr:
        throughOperand(() => ({ window, added }));
        break;
      default: {
        const kids = children(node);
        // A leaf reads nothing itself, but what it stands for is shifted like a selector would be.
        if (kids.length === 0) reach(added);
        for (const c of kids) work.push({ node: c, window, added });
      }
    }
  }
  return most;
}

/* ------------------------------------------------------------- selectors -- */

const MATCH_OPS: Readonly<Record<string, '=' | '!=' | '=~' | '!~'>> = { '=': '=', '!=': '!=', '=~': '=~', '!~': '!~' };

/** Every series selector in `expr`, including those under ranges and subqueries. */
export function vectorSelectors(expr: string): SelectorRef[] {
  const p = parse(expr);
  const out: SelectorRef[] = [];
  p.tree.iterate({
    enter(ref) {
      if (ref.type.id !== T.VectorSelector) return undefined;
      out.push(selectorRef(p, ref.node));
      return false;
    },
  });
  return out;
}

export interface SelectorUse {
  readonly selector: SelectorRef;
  /** Read as a range (`x[5m]`), not as an instant vector. */
  readonly range: boolean;
  /** The function it is a direct argument of (through `[range]`, `offset` and `@`), e.g. `rate`. */
  readonly fn?: string;
  /** Under a subquery, which evaluates it at steps of its own. */
  readonly inSubquery: boolean;
  /** The range of `x[5m]` in ms, when it is a plain duration. */
  readonly rangeMs?: number;
}

/**
 * Every series selector in `expr` with how it is read. Several check rules ask for every
 * rule expression, hence the memo (the answer is frozen: it is shared).
 */
export const selectorUses: (expr: string) => readonly SelectorUse[] = perExpression((expr) => Object.freeze(findSelectorUses(expr)));

function findSelectorUses(expr: string): SelectorUse[] {
  const p = parse(expr);
  const out: SelectorUse[] = [];
  // Subqueries around the current node, counted on the way in and out (not by walking up from each selector).
  let subqueries = 0;
  p.tree.iterate({
    enter(ref) {
      if (ref.type.id === T.SubqueryExpr) subqueries++;
      if (ref.type.id !== T.VectorSelector) return undefined;
      const node = ref.node;
      let up = node.parent;
      let range = false;
      let rangeMs: number | undefined;
      if (up?.type.id === T.MatrixSelector) {
        range = true;
        const duration = children(up).find((c) => c.type.id === T.DurationExpr);
        rangeMs = duration ? durationMs(p, duration) : undefined;
        up = up.parent;
      }
      while (up && (up.type.id === T.OffsetExpr || up.type.id === T.StepInvariantExpr)) up = up.parent;
      const call = up?.type.id === T.FunctionCallBody && up.parent?.type.id === T.FunctionCall ? up.parent : undefined;
      const id = call ? children(call).find((c) => c.type.id === T.FunctionIdentifier) : undefined;
      out.push({ selector: selectorRef(p, node), range, ...(id ? { fn: p.text(id) } : {}), inSubquery: subqueries > 0, ...(rangeMs !== undefined ? { rangeMs } : {}) });
      return false;
    },
    leave(ref) {
      if (ref.type.id === T.SubqueryExpr) subqueries--;
    },
  });
  return out;
}

function selectorRef(p: Parsed, node: SyntaxNode): SelectorRef {
  let metric: string | undefined;
  const matchers: Array<SelectorRef['matchers'][number]> = [];
  for (const part of children(node)) {
    if (part.type.id === T.Identifier) metric = p.text(part);
    if (part.type.id !== T.LabelMatchers) continue;
    for (const m of children(part)) {
      if (m.type.id === T.QuotedLabelName) {
        // `{"metric.name"}`: a bare quoted name is the metric name.
        metric ??= unquote(p.text(m));
        continue;
      }
      if (m.type.id !== T.UnquotedLabelMatcher && m.type.id !== T.QuotedLabelMatcher) continue;
      const [nameNode, opNode, valueNode] = children(m);
      const op = opNode && MATCH_OPS[p.text(opNode)];
      if (!nameNode || !op || !valueNode) continue;
      const name = nameNode.type.id === T.QuotedLabelName ? unquote(p.text(nameNode)) : p.text(nameNode);
      matchers.push({ name, op, value: unquote(p.text(valueNode)) });
    }
  }
  metric ??= matchers.find((m) => m.name === '__name__' && m.op === '=')?.value;
  return { ...(metric !== undefined ? { metric } : {}), matchers, ...p.span(node) };
}

const SIMPLE_ESCAPES: Readonly<Record<string, number>> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92, "'": 39, '"': 34 };

/**
 * The value of a PromQL string literal. Quoted strings follow Go's escapes, where `\x` and
 * octal escapes are bytes, hence the detour through UTF-8. Backquoted strings are raw.
 */
export function unquote(literal: string): string {
  const quote = literal.charAt(0);
  if (quote === '`') return literal.slice(1, literal.length > 1 && literal.endsWith('`') ? -1 : undefined);
  if (quote !== '"' && quote !== "'") return literal;
  const bytes: number[] = [];
  const encoder = new TextEncoder();
  for (let i = 1; i < literal.length; i++) {
    const c = literal.charAt(i);
    if (c === quote) break;
    if (c !== '\\') {
      const cp = literal.codePointAt(i) ?? 0;
      if (cp > 0xffff) i++;
      bytes.push(...encoder.encode(String.fromCodePoint(cp)));
      continue;
    }
    const e = literal.charAt(++i);
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) bytes.push(simple);
    else if (e === 'x' || e === 'u' || e === 'U') {
      const len = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = literal.slice(i + 1, i + 1 + len);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) return literal.slice(1, -1);
      const v = parseInt(hex, 16);
      if (e === 'x') bytes.push(v);
      else bytes.push(...encoder.encode(String.fromCodePoint(Math.min(v, 0x10ffff))));
      i += len;
    } else if (/[0-7]/.test(e) && /^[0-7]{3}$/.test(literal.slice(i, i + 3))) {
      bytes.push(parseInt(literal.slice(i, i + 3), 8) & 0xff);
      i += 2;
    } else return literal.slice(1, -1);
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/** Whether a label matcher accepts `value`, with Prometheus' anchoring of regexes. */
export function matcherAccepts(op: '=' | '!=' | '=~' | '!~', pattern: string, value: string): boolean {
  if (op === '=') return value === pattern;
  if (op === '!=') return value !== pattern;
  const re = anchored(pattern);
  // An invalid regex is rejected by Prometheus, so it selects nothing.
  if (!re) return false;
  return op === '=~' ? re.test(value) : !re.test(value);
}

/** Prometheus anchors label regexes at both ends; RE2's leading `(?i)` becomes a JS flag. */
function anchored(pattern: string): RegExp | undefined {
  const insensitive = pattern.startsWith('(?i)');
  try {
    return new RegExp(`^(?:${insensitive ? pattern.slice(4) : pattern})$`, insensitive ? 'si' : 's');
  } catch {
    return undefined;
  }
}
