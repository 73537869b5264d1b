/*
 * Alertmanager 0.25's label matcher syntax (pkg/labels ParseMatchers), as its config
 * loading applies it to `matchers`, `source_matchers` and `target_matchers`: a list of
 * `name op value`, optionally in braces, separated by commas outside double quotes.
 */

const MATCHER = /^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|=|!=|!~)\s*([\s\S]*?)\s*$/;
export const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Returns why Alertmanager would refuse `text`, or undefined. */
export function matchersProblem(text: string): string | undefined {
  const s = text.replace(/^\{/, '').replace(/\}$/, '');
  const tokens: string[] = [];
  let token = '';
  let quoted = false;
  let escaped = false;
  for (const c of s) {
    if (c === ',' && !quoted) {
      tokens.push(token);
      token = '';
      continue;
    }
    if (c === '"') {
      if (!escaped) quoted = !quoted;
      else escaped = false;
    } else if (c === '\\') escaped = !escaped;
    else escaped = false;
    token += c;
  }
  if (token.trim() !== '') tokens.push(token.trim());
  for (const t of tokens) {
    const problem = matcherProblem(t);
    if (problem) return problem;
  }
  return undefined;
}

function matcherProblem(text: string): string | undefined {
  const m = MATCHER.exec(text);
  if (!m) return `bad matcher format: ${text}`;
  const [, , op, raw = ''] = m;
  let value = raw;
  let expectQuote = false;
  if (value.startsWith('"')) {
    value = value.slice(1);
    expectQuote = true;
  }
  let out = '';
  const chars = [...value];
  for (let i = 0, escaped = false; i < chars.length; i++) {
    const c = chars[i] as string;
    if (escaped) {
      escaped = false;
      out += c === 'n' ? '\n' : c === '"' || c === '\\' ? c : `\\${c}`;
      continue;
    }
    if (c === '\\' && i < chars.length - 1) escaped = true;
    else if (c === '"') {
      if (!expectQuote || i < chars.length - 1) return `matcher value contains unescaped double quote: ${raw}`;
      expectQuote = false;
    } else out += c;
  }
  if (expectQuote) return `matcher value contains unescaped double quote: ${raw}`;
  return op === '=~' || op === '!~' ? regexpProblem(out) : undefined;
}

/**
 * Whether Go's RE2 would refuse `pattern`, approximated with JavaScript's parser after
 * rewriting the RE2 syntax it lacks (flag groups, `(?P<name>`). Only errors both
 * engines agree on are reported; RE2 refusing more (back references, look-arounds) is
 * left to amtool.
 */
export function regexpProblem(pattern: string): string | undefined {
  const js = pattern.replace(/\(\?[imsU]+\)/g, '').replace(/\(\?[imsU]*(-[imsU]+)?:/g, '(?:').replace(/\(\?P</g, '(?<');
  try {
    new RegExp(`^(?:${js})$`);
    return undefined;
  } catch (e) {
    return `error parsing regexp ${JSON.stringify(pattern)}: ${(e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /, '')}`;
  }
}
