import { lstat, readdir, stat } from 'node:fs/promises';
import path from 'node:path';

/*
 * Go's path/filepath Match and Glob on a POSIX system, which is what Prometheus uses
 * to expand `rule_files`. Ported construct by construct, so that the corner cases
 * agree: `*` and `?` never cross a `/`, a class may hold `/`, a dot file matches `*`,
 * a malformed pattern is an error wherever it is malformed, and I/O errors while
 * walking directories are ignored (an unreadable directory matches nothing).
 * Strings are handled as code points, as Go handles valid UTF-8 as runes.
 */

/** Go's filepath.ErrBadPattern. */
export class GlobSyntaxError extends Error {
  constructor() {
    super('syntax error in pattern');
    this.name = 'GlobSyntaxError';
  }
}

const SEPARATOR = '/';

/** Whether `pattern` holds any of the characters that make Glob read directories. */
export function hasMeta(pattern: string): boolean {
  return /[*?[\\]/.test(pattern);
}

/** Splits off the leading stars and the chunk up to the next unbracketed star. */
function scanChunk(pattern: string[]): { star: boolean; chunk: string[]; rest: string[] } {
  let i = 0;
  while (i < pattern.length && pattern[i] === '*') i++;
  const star = i > 0;
  const p = pattern.slice(i);
  let inRange = false;
  let j = 0;
  scan: for (; j < p.length; j++) {
    switch (p[j]) {
      case '\\':
        // A trailing backslash is left for matchChunk to reject.
        if (j + 1 < p.length) j++;
        break;
      case '[':
        inRange = true;
        break;
      case ']':
        inRange = false;
        break;
      case '*':
        if (!inRange) break scan;
        break;
    }
  }
  return { star, chunk: p.slice(0, j), rest: p.slice(j) };
}

/** One character of a class: `c` or `\c`; never `-` or `]` unescaped, never last. */
function getEsc(chunk: string[]): { r: number; rest: string[] } {
  let c = chunk;
  if (c.length === 0 || c[0] === '-' || c[0] === ']') throw new GlobSyntaxError();
  if (c[0] === '\\') {
    c = c.slice(1);
    if (c.length === 0) throw new GlobSyntaxError();
  }
  const rest = c.slice(1);
  if (rest.length === 0) throw new GlobSyntaxError();
  return { r: (c[0] as string).codePointAt(0) as number, rest };
}

/**
 * Matches `chunk` (no unbracketed `*`) at the start of `s`: the rest of `s`, or undefined.
 * Like Go, it keeps parsing after a mismatch, so a bad pattern is an error even then.
 */
function matchChunk(chunkIn: string[], sIn: string[]): string[] | undefined {
  let chunk = chunkIn;
  let s = sIn;
  let failed = false;
  while (chunk.length > 0) {
    if (!failed && s.length === 0) failed = true;
    switch (chunk[0]) {
      case '[': {
        let r = -1;
        if (!failed) {
          r = (s[0] as string).codePointAt(0) as number;
          s = s.slice(1);
        }
        chunk = chunk.slice(1);
        let negated = false;
        if (chunk.length > 0 && chunk[0] === '^') {
          negated = true;
          chunk = chunk.slice(1);
        }
        let match = false;
        let nrange = 0;
        for (;;) {
          if (chunk.length > 0 && chunk[0] === ']' && nrange > 0) {
            chunk = chunk.slice(1);
            break;
          }
          const lo = getEsc(chunk);
          chunk = lo.rest;
          let hi = lo.r;
          if (chunk[0] === '-') {
            const h = getEsc(chunk.slice(1));
            chunk = h.rest;
            hi = h.r;
          }
          if (lo.r <= r && r <= hi) match = true;
          nrange++;
        }
        if (match === negated) failed = true;
        break;
      }
      case '?':
        if (!failed) {
          if (s[0] === SEPARATOR) failed = true;
          s = s.slice(1);
        }
        chunk = chunk.slice(1);
        break;
      case '\\':
        chunk = chunk.slice(1);
        if (chunk.length === 0) throw new GlobSyntaxError();
      // falls through: the escaped character is matched literally
      default:
        if (!failed) {
          if (chunk[0] !== s[0]) failed = true;
          s = s.slice(1);
        }
        chunk = chunk.slice(1);
    }
  }
  return failed ? undefined : s;
}

/** Go's filepath.Match: whether `name` matches the whole shell pattern. Throws GlobSyntaxError. */
export function globMatch(patternText: string, nameText: string): boolean {
  let pattern = [...patternText];
  let name = [...nameText];
  pattern: while (pattern.length > 0) {
    const { star, chunk, rest } = scanChunk(pattern);
    pattern = rest;
    if (star && chunk.length === 0) return !name.includes(SEPARATOR);
    const t = matchChunk(chunk, name);
    // The last chunk must use up the name; otherwise a later star may still match.
    if (t !== undefined && (t.length === 0 || pattern.length > 0)) {
      name = t;
      continue;
    }
    if (star)
      for (let i = 0; i < name.length && name[i] !== SEPARATOR; i++) {
        const t2 = matchChunk(chunk, name.slice(i + 1));
        if (t2 !== undefined) {
          if (pattern.length === 0 && t2.length > 0) continue;
          name = t2;
          continue pattern;
        }
      }
    // No match: the rest of the pattern must still be well formed.
    while (pattern.length > 0) {
      const next = scanChunk(pattern);
      pattern = next.rest;
      matchChunk(next.chunk, []);
    }
    return false;
  }
  return name.length === 0;
}

/** What Glob needs from the file system; every failure is "not there". */
export interface GlobFs {
  exists(p: string): Promise<boolean>;
  isDirectory(p: string): Promise<boolean>;
  /** Entry names of a directory; undefined when it cannot be read. */
  list(p: string): Promise<string[] | undefined>;
}

export const nodeGlobFs: GlobFs = {
  exists: (p) => lstat(p).then(() => true, () => false),
  isDirectory: (p) => stat(p).then((s) => s.isDirectory(), () => false),
  list: (p) => readdir(p).then((names) => names.map(String), () => undefined),
};

/** Go's sort.Strings: byte order of the UTF-8 encoding. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Go's cleanGlobPath on POSIX. */
function cleanGlobDir(dir: string): string {
  if (dir === '') return '.';
  if (dir === SEPARATOR) return dir;
  return dir.slice(0, -1);
}

/** filepath.Join of a directory and a name (Join cleans). */
function join(dir: string, name: string): string {
  return path.posix.normalize(`${dir}/${name}`);
}

async function globIn(dir: string, pattern: string, fs: GlobFs, into: string[]): Promise<void> {
  if (!(await fs.isDirectory(dir))) return;
  const names = await fs.list(dir);
  if (!names) return;
  for (const n of [...names].sort(byteOrder)) if (globMatch(pattern, n)) into.push(join(dir, n));
}

async function globDepth(pattern: string, fs: GlobFs, depth: number): Promise<string[]> {
  globMatch(pattern, '');
  // Go's pathSeparatorsLimit guards against runaway recursion.
  if (depth === 10000) throw new GlobSyntaxError();
  if (!hasMeta(pattern)) return (await fs.exists(pattern)) ? [pattern] : [];
  const cut = pattern.lastIndexOf(SEPARATOR) + 1;
  const dir = cleanGlobDir(pattern.slice(0, cut));
  const file = pattern.slice(cut);
  const out: string[] = [];
  if (!hasMeta(dir)) {
    await globIn(dir, file, fs, out);
    return out;
  }
  if (dir === pattern) throw new GlobSyntaxError();
  for (const d of await globDepth(dir, fs, depth + 1)) await globIn(d, file, fs, out);
  return out;
}

/**
 * Go's filepath.Glob: the paths matching `pattern`, in Go's order; an empty list when
 * nothing matches (a plain path that does not exist included). Throws GlobSyntaxError.
 */
export function glob(pattern: string, fs: GlobFs = nodeGlobFs): Promise<string[]> {
  return globDepth(pattern, fs, 0);
}
