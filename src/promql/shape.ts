/*
 * The shape of a PromQL expression, read in one linear pass without recursion before
 * the lezer parser sees it. The parser has limits of its own that Prometheus does not
 * have (measured with @lezer/lr 1.4 and lezer-promql 0.315):
 *
 *  - a chain of more than about 400 binary operators on one level (`up + up + …`) is
 *    cut by the parser's guard against deep trees ("MaxLeftAssociativeReductionCount"),
 *    which leaves a syntax error where Prometheus sees none;
 *  - more than about 2,800 parse stack frames (1,400 nested calls, 2,800 parentheses)
 *    are cut the same way, and building a tree deeper than about 20,000 levels
 *    overflows the JavaScript stack.
 *
 * So this pass bounds the nesting (MAX_NESTING, a located error past it) and regroups
 * long chains with parentheses of its own (runs of CHAIN_RUN operands, then runs of
 * runs), which changes neither what is valid nor any fact promha reads from the tree:
 * the checks read selectors, functions, ranges, offsets and modifiers, never how a chain
 * of operators associates. `toOriginal` maps offsets in the regrouped text back.
 *
 * It is a scanner, not a parser: on text it does not understand (a stray bracket, an
 * operator with no operand) it regroups nothing there and leaves the error to lezer.
 */

/**
 * How deep an expression may nest: brackets, unary operators, and the modifiers of one
 * operand (offset, @, [range], [range:step]). Prometheus has no limit (promtool checks
 * 100,000 nested parentheses, in 20 s); no rule a person writes comes near this, and
 * the parser holds it with room to spare (about 11 stack frames per level).
 */
export const MAX_NESTING = 256;

/**
 * Chains of at most this many operators are parsed as written. lezer takes about 300
 * reductions that start at one place, and the modifiers of the first operand (up to
 * MAX_NESTING) start there too: 256 + 32 stays below.
 */
export const LONG_CHAIN = 32;

/** Operands per group when a long chain is regrouped: keeps each group's tree shallow. */
const CHAIN_RUN = 8;

export interface Shaped {
  /** What the parser reads: the expression, or it with parentheses added around runs of long chains. */
  readonly text: string;
  /** The offset in the expression of an offset in `text` (an added parenthesis maps to where it was added). */
  toOriginal(offset: number): number;
  /** The expression nests deeper than MAX_NESTING: where it crossed the bound. */
  readonly tooDeep?: { readonly from: number; readonly to: number; readonly message: string };
}

type Token =
  | { readonly kind: 'ident'; readonly from: number; readonly to: number; readonly word: string }
  | { readonly kind: 'value'; readonly from: number; readonly to: number }
  | { readonly kind: 'op'; readonly from: number; readonly to: number; readonly op: string }
  | { readonly kind: 'open' | 'close'; readonly from: number; readonly to: number; readonly bracket: string }
  | { readonly kind: 'other'; readonly from: number; readonly to: number };

const TWO_CHAR_OPS = new Set(['==', '!=', '<=', '>=', '=~', '!~', '</', '>/']);
const ONE_CHAR_OPS = new Set(['+', '-', '*', '/', '%', '^', '<', '>', '=', '@', ',', ':']);
const ARITHMETIC = new Set(['+', '-', '*', '/', '%', '^']);
/** Binary operators by precedence, as Prometheus binds them (a Map: a word such as `constructor` is no key). */
const PRECEDENCE: ReadonlyMap<string, number> = new Map([
  ['or', 1], ['and', 2], ['unless', 2],
  ['==', 3], ['!=', 3], ['<=', 3], ['<', 3], ['>=', 3], ['>', 3], ['</', 3], ['>/', 3],
  ['+', 4], ['-', 4], ['*', 5], ['/', 5], ['%', 5], ['atan2', 5], ['^', 6],
]);
/** Words that may follow a binary operator before its right operand (`> bool`, `* on(a) group_left(b)`). */
const OPERATOR_MODIFIERS = new Set(['bool', 'on', 'ignoring', 'group_left', 'group_right', 'fill', 'fill_left', 'fill_right']);
/** Words whose parentheses hold label names or a fill value, not an expression. */
const LABEL_LISTS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'fill', 'fill_left', 'fill_right']);
const CLOSER: ReadonlyMap<string, string> = new Map([['(', ')'], ['[', ']'], ['{', '}']]);

const isIdentStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 58;
const isIdentPart = (c: number) => isIdentStart(c) || (c >= 48 && c <= 57);
const isDigit = (c: number) => c >= 48 && c <= 57;
const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11;

/** The tokens of `expr`, skipping white space and comments; strings are one token each. */
function* tokens(expr: string): Generator<Token> {
  const n = expr.length;
  let i = 0;
  while (i < n) {
    const c = expr.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    if (c === 35 /* # */) {
      const nl = expr.indexOf('\n', i);
      i = nl < 0 ? n : nl;
      continue;
    }
    const from = i;
    if (c === 34 || c === 39 /* " ' */) {
      i++;
      while (i < n && expr.charCodeAt(i) !== c && expr.charCodeAt(i) !== 10) i += expr.charCodeAt(i) === 92 ? 2 : 1;
      if (i < n && expr.charCodeAt(i) === c) i++;
      yield { kind: 'value', from, to: Math.min(i, n) };
      continue;
    }
    if (c === 96 /* ` */) {
      const end = expr.indexOf('`', i + 1);
      i = end < 0 ? n : end + 1;
      yield { kind: 'value', from, to: i };
      continue;
    }
    if (isDigit(c) || (c === 46 && isDigit(expr.charCodeAt(i + 1)))) {
      const hex = c === 48 && (expr.charAt(i + 1) === 'x' || expr.charAt(i + 1) === 'X');
      i++;
      for (;;) {
        const d = expr.charCodeAt(i);
        if (isIdentPart(d) && d !== 58) i++;
        else if (d === 46) i++;
        // An exponent's sign belongs to the number: 1e+5.
        else if (!hex && (d === 43 || d === 45) && /[eE]/.test(expr.charAt(i - 1)) && isDigit(expr.charCodeAt(i + 1))) i++;
        else break;
      }
      yield { kind: 'value', from, to: i };
      continue;
    }
    if (isIdentStart(c)) {
      i++;
      while (i < n && isIdentPart(expr.charCodeAt(i))) i++;
      yield { kind: 'ident', from, to: i, word: expr.slice(from, i).toLowerCase() };
      continue;
    }
    const two = expr.slice(i, i + 2);
    if (TWO_CHAR_OPS.has(two)) {
      i += 2;
      yield { kind: 'op', from, to: i, op: two };
      continue;
    }
    const one = expr.charAt(i);
    i++;
    if (ONE_CHAR_OPS.has(one)) yield { kind: 'op', from, to: i, op: one };
    else if (CLOSER.has(one)) yield { kind: 'open', from, to: i, bracket: one };
    else if (one === ')' || one === ']' || one === '}') yield { kind: 'close', from, to: i, bracket: one };
    else yield { kind: 'other', from, to: i };
  }
}

/** One open bracket (or the whole expression) while scanning. */
interface Level {
  /** expr: operands and operators, regrouped when long; other: durations, matchers, label lists. */
  readonly kind: 'expr' | 'other';
  /** The bracket that closes it; '' for the whole expression. */
  readonly closer: string;
  /** Nesting this level adds for its current operand: unary operators and modifiers (expr), or every operator (other). */
  extra: number;
  /** The operands of the current chain, as [from, to) in the expression. */
  operands: Array<[number, number]>;
  /** Precedences of the binary operators of the current chain still waiting for their right side. */
  waiting: number[];
  /** Start of the current operand, -1 before it starts. */
  start: number;
  /** End of the last token of the current operand. */
  end: number;
  /** A binary operator was read; its modifiers may follow before the operand. */
  afterOperator: boolean;
  /** `offset` was read: a parenthesis now holds a duration. */
  inOffset: boolean;
  /** Something this scanner does not understand: the chain is left as written. */
  understood: boolean;
}

const newLevel = (kind: Level['kind'], closer: string): Level => ({
  kind,
  closer,
  extra: 0,
  operands: [],
  waiting: [],
  start: -1,
  end: -1,
  afterOperator: false,
  inOffset: false,
  understood: true,
});

/**
 * Scans `expr` once: its nesting against MAX_NESTING, and where long chains get
 * parentheses. Linear in the length, with a stack as deep as the brackets.
 */
export function shape(expr: string): Shaped {
  const levels: Level[] = [newLevel('expr', '')];
  /** Added parentheses: [offset in expr, character], in any order. */
  const added: Array<[number, string]> = [];
  let depth = 0;
  let operandEnded = false;
  let lastWord: string | undefined;
  let tooDeep: Shaped['tooDeep'];
  let stopped = false;

  const deeper = (t: Token, by: number): boolean => {
    depth += by;
    if (depth <= MAX_NESTING) return true;
    tooDeep = {
      from: t.from,
      to: t.to,
      message: `the expression nests more than ${MAX_NESTING} levels deep (brackets, unary operators and modifiers); promha checks expressions up to that depth`,
    };
    return false;
  };
  /** Ends the current chain of an expression level: long ones get their parentheses. */
  const endChain = (l: Level) => {
    if (l.kind !== 'expr') return;
    if (l.start >= 0) l.operands.push([l.start, l.end]);
    else if (l.operands.length > 0 || l.afterOperator) spoil(l);
    if (l.understood) regroupLong(l);
    l.operands = [];
    depth -= l.waiting.length;
    l.waiting = [];
    l.start = -1;
    l.afterOperator = false;
    l.understood = true;
  };
  const regroupLong = (l: Level) => {
    if (l.operands.length > LONG_CHAIN + 1) regroup(l.operands, added);
  };
  /**
   * The chain holds something this scanner does not understand: it is left as written
   * from here, but the complete operands before are regrouped, so that lezer reaches
   * the real error instead of stopping at its own limit on the way.
   */
  const spoil = (l: Level) => {
    if (l.understood) regroupLong(l);
    l.understood = false;
    l.operands = [];
  };
  /** The current operand of an expression level goes on to `to`, starting at `from` if it has not started. */
  const extend = (l: Level, from: number, to: number) => {
    if (l.kind !== 'expr') return;
    if (l.start < 0) l.start = from;
    l.afterOperator = false;
    l.end = to;
  };

  /**
   * A binary operator ends the current operand. The operators still waiting for their
   * right side nest: `a or b == c + d * e ^ (` holds five open at once, in the parser as
   * in this count, while `a + b + c` holds one at a time.
   */
  const operator = (l: Level, t: Token, op: string): boolean => {
    if (l.start < 0) spoil(l);
    else l.operands.push([l.start, l.end]);
    l.start = -1;
    l.afterOperator = true;
    l.inOffset = false;
    depth -= l.extra;
    l.extra = 0;
    const precedence = PRECEDENCE.get(op) as number;
    // `^` is right-associative: an earlier `^` waits for this one.
    while (l.waiting.length > 0 && (l.waiting.at(-1) as number) >= precedence + (op === '^' ? 1 : 0)) {
      l.waiting.pop();
      depth--;
    }
    l.waiting.push(precedence);
    return deeper(t, 1);
  };

  scan: for (const t of tokens(expr)) {
    const l = levels[levels.length - 1] as Level;
    const word = t.kind === 'ident' ? t.word : undefined;
    switch (t.kind) {
      case 'open': {
        // The label list of a modifier is part of the operator, not of an operand.
        const labels = t.bracket === '(' && lastWord !== undefined && LABEL_LISTS.has(lastWord);
        if (!(labels && l.afterOperator)) extend(l, t.from, t.to);
        // A range or a subquery is a modifier of the operand before it: one level more.
        if (t.bracket === '[' && l.kind === 'expr') {
          l.extra++;
          if (!deeper(t, 1)) break scan;
        }
        const kind = t.bracket === '(' && l.kind === 'expr' && !labels && !l.inOffset ? 'expr' : 'other';
        if (!deeper(t, 1)) break scan;
        levels.push(newLevel(kind, CLOSER.get(t.bracket) as string));
        operandEnded = false;
        break;
      }
      case 'close': {
        if (l.closer !== t.bracket) {
          // A stray or mismatched bracket: lezer reports it.
          stopped = true;
          break scan;
        }
        endChain(l);
        depth -= 1 + l.extra;
        levels.pop();
        const parent = levels[levels.length - 1] as Level;
        // A modifier's label list (`on (a)`) leaves the operator waiting for its operand.
        operandEnded = !parent.afterOperator;
        if (operandEnded) extend(parent, t.from, t.to);
        parent.inOffset = false;
        break;
      }
      case 'op': {
        const binary = operandEnded && PRECEDENCE.has(t.op);
        if (t.op === ',' && l.kind === 'expr') {
          endChain(l);
          depth -= l.extra;
          l.extra = 0;
        } else if (l.kind === 'other') {
          // Arithmetic and signs in a duration nest like any operator; matchers (`=`, `!=`) do not nest.
          if (ARITHMETIC.has(t.op)) {
            if (!deeper(t, 1)) break scan;
            l.extra++;
          }
        } else if (binary) {
          if (!operator(l, t, t.op)) break scan;
        } else if (t.op === '+' || t.op === '-' || t.op === '@') {
          // A sign, or the @ modifier: one more level for the operand.
          if (t.op === '@' && l.start < 0) spoil(l);
          extend(l, t.from, t.to);
          if (!deeper(t, 1)) break scan;
          l.extra++;
        } else {
          spoil(l);
        }
        operandEnded = false;
        break;
      }
      case 'ident': {
        if (l.kind === 'expr' && l.afterOperator && word !== undefined && OPERATOR_MODIFIERS.has(word)) {
          operandEnded = false;
        } else if (l.kind === 'expr' && operandEnded && word !== undefined && PRECEDENCE.has(word)) {
          if (!operator(l, t, word)) break scan;
          operandEnded = false;
        } else if (operandEnded && (word === 'offset' || word === 'anchored' || word === 'smoothed')) {
          extend(l, t.from, t.to);
          if (!deeper(t, 1)) break scan;
          l.extra++;
          l.inOffset = word === 'offset';
          operandEnded = word !== 'offset';
        } else if (operandEnded && (word === 'by' || word === 'without')) {
          extend(l, t.from, t.to);
          operandEnded = false;
        } else {
          if (operandEnded && l.kind === 'expr') spoil(l);
          extend(l, t.from, t.to);
          operandEnded = true;
        }
        break;
      }
      case 'value':
        if (operandEnded && l.kind === 'expr') spoil(l);
        extend(l, t.from, t.to);
        l.inOffset = false;
        operandEnded = true;
        break;
      case 'other':
        spoil(l);
        break;
    }
    lastWord = word;
  }
  if (tooDeep) return { text: expr, toOriginal: (o) => o, tooDeep };
  if (!stopped && levels.length === 1) endChain(levels[0] as Level);
  else
    // A bracket left open or a stray one: the operand each level is in has no end, so
    // only the operands an operator ended are regrouped (lezer reports the rest).
    for (const l of levels) if (l.kind === 'expr' && l.understood) regroupLong(l);
  return added.length === 0 ? { text: expr, toOriginal: (o) => o } : withAdded(expr, added);
}

/**
 * Parentheses around runs of CHAIN_RUN operands, then around runs of those runs, until
 * one level holds at most CHAIN_RUN: the tree of a chain of n operators is then about
 * CHAIN_RUN × log(n) deep instead of n.
 */
function regroup(operands: ReadonlyArray<[number, number]>, added: Array<[number, string]>): void {
  let units = operands;
  while (units.length > CHAIN_RUN) {
    const next: Array<[number, number]> = [];
    for (let i = 0; i < units.length; i += CHAIN_RUN) {
      const run = units.slice(i, i + CHAIN_RUN);
      const first = run[0] as [number, number];
      const last = run[run.length - 1] as [number, number];
      if (run.length > 1) added.push([first[0], '('], [last[1], ')']);
      next.push([first[0], last[1]]);
    }
    units = next;
  }
}

function withAdded(expr: string, added: Array<[number, string]>): Shaped {
  // At one offset a closing parenthesis (ending the run before) comes before an opening one.
  added.sort((a, b) => a[0] - b[0] || (a[1] === ')' ? -1 : 1) - (b[1] === ')' ? -1 : 1));
  const parts: string[] = [];
  /** Offsets in the new text of each added character, ascending. */
  const at: number[] = [];
  let from = 0;
  for (const [offset, c] of added) {
    parts.push(expr.slice(from, offset));
    at.push(offset + at.length);
    parts.push(c);
    from = offset;
  }
  parts.push(expr.slice(from));
  return {
    text: parts.join(''),
    toOriginal(offset) {
      // Subtract the added characters before `offset`.
      let lo = 0;
      let hi = at.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((at[mid] as number) < offset) lo = mid + 1;
        else hi = mid;
      }
      return offset - lo;
    },
  };
}
