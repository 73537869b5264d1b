import path from 'node:path';
import { parseAllDocuments, visit, isScalar } from 'yaml';
import { MARKER } from './dictionary.ts';

/** Something wrong in one rendered file. */
export interface OutputProblem {
  readonly kind: 'injection' | 'invalid-output';
  readonly file: string;
  readonly detail: string;
}

/** Characters that continue a shell word: a marker after one of them is part of a value. */
const SHELL_WORD = /[A-Za-z0-9_@%+=:,./-]/;

/**
 * A marker outside single quotes that follows a character ending a word, a command or a
 * quote is shell syntax, not data: the value escaped its quoting. Comments are skipped.
 */
export function shellInjections(text: string): string[] {
  const found: string[] = [];
  let state: 'none' | 'single' | 'double' = 'none';
  let comment = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (comment) {
      if (c === '\n') comment = false;
      continue;
    }
    if (state === 'single') {
      if (c === "'") state = 'none';
      continue;
    }
    if (c === '\\') {
      i++;
      continue;
    }
    if (text.startsWith(MARKER, i)) {
      const before = text[i - 1] ?? '\n';
      if (!SHELL_WORD.test(before)) found.push(lineAt(text, i));
      continue;
    }
    if (state === 'double') {
      if (c === '"') state = 'none';
      continue;
    }
    if (c === "'") state = 'single';
    else if (c === '"') state = 'double';
    else if (c === '#' && /\s/.test(text[i - 1] ?? '\n')) comment = true;
  }
  return found;
}

function lineAt(text: string, i: number): string {
  const start = text.lastIndexOf('\n', i - 1) + 1;
  const end = text.indexOf('\n', i);
  return JSON.stringify(text.slice(start, end < 0 ? undefined : end).slice(0, 200));
}

/** Words of a keepalived.conf or haproxy.cfg line: whitespace separates them, double quotes group them. */
export function configWords(line: string): Array<{ word: string; quoted: boolean }> {
  const words: Array<{ word: string; quoted: boolean }> = [];
  const re = /"((?:[^"\\]|\\.)*)"?|[^\s"]+/g;
  for (const m of line.matchAll(re)) words.push(m[1] !== undefined ? { word: m[1], quoted: true } : { word: m[0], quoted: false });
  return words;
}

/** A marker that starts an unquoted word of a config line is a directive or argument of its own. */
export function configInjections(text: string): string[] {
  const found: string[] = [];
  for (const line of text.split('\n')) {
    const code = line.replace(/^\s*[#!].*$/, '');
    if (configWords(code).some((w) => !w.quoted && w.word.startsWith(MARKER))) found.push(JSON.stringify(line.slice(0, 200)));
  }
  return found;
}

/**
 * A unit file holds sections, comments and `Key=value` lines only; a value must not
 * carry an unescaped `%` specifier or `$` variable of the input's.
 */
export function unitInjections(text: string): string[] {
  const found: string[] = [];
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  for (const line of lines) {
    const t = line.trim();
    if (t === '' || t.startsWith('#') || t.startsWith(';') || /^\[[A-Za-z]+\]$/.test(t)) continue;
    const m = /^([A-Za-z]+)=(.*)$/.exec(t);
    if (!m || (m[1] as string).includes(MARKER)) {
      found.push(`not a line of the template: ${JSON.stringify(line.slice(0, 200))}`);
      continue;
    }
    const value = (m[2] as string).replace(/%%/g, '').replace(/\$\$/g, '');
    if (value.includes('%')) found.push(`unescaped % specifier: ${JSON.stringify(line.slice(0, 200))}`);
    if (new RegExp(`\\$\\{?${MARKER}`).test(value)) found.push(`unescaped $ variable: ${JSON.stringify(line.slice(0, 200))}`);
  }
  return found;
}

/** A rendered YAML or JSON file must parse, and hold no key that came from a value of the input. */
export function yamlProblems(text: string): { invalid: string[]; injected: string[] } {
  const invalid: string[] = [];
  const injected: string[] = [];
  for (const doc of parseAllDocuments(text, { uniqueKeys: true })) {
    for (const e of doc.errors) invalid.push(e.message.split('\n')[0] as string);
    visit(doc, {
      Pair(_, pair) {
        if (isScalar(pair.key) && String(pair.key.value).includes(MARKER)) injected.push(JSON.stringify(String(pair.key.value).slice(0, 200)));
      },
    });
  }
  return { invalid, injected };
}

/** Every problem of one rendered file, judged by the syntax of its target. */
export function scanRendered(file: string, content: string): OutputProblem[] {
  const base = path.basename(file);
  const ext = path.extname(file);
  const problems: OutputProblem[] = [];
  const add = (kind: OutputProblem['kind'], details: string[]) => {
    for (const detail of details) problems.push({ kind, file, detail });
  };
  if (ext === '.yml' || ext === '.yaml' || ext === '.json') {
    const { invalid, injected } = yamlProblems(content);
    add('invalid-output', invalid);
    add('injection', injected);
    if (ext === '.json')
      try {
        JSON.parse(content);
      } catch (e) {
        add('invalid-output', [(e as Error).message]);
      }
    return problems;
  }
  if (ext === '.sh' || ext === '.cmdline') add('injection', shellInjections(content));
  else if (ext === '.service') add('injection', unitInjections(content));
  else if (base === 'keepalived.conf' || base === 'haproxy.cfg') add('injection', configInjections(content));
  else add('injection', content.split('\n').filter((l) => l.trimStart().startsWith(MARKER)).map((l) => JSON.stringify(l.slice(0, 200))));
  if (ext !== '.pem' && content.includes('\u0000')) add('invalid-output', ['a NUL character']);
  return problems;
}
