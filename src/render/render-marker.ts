import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FileSpec } from '../plan/node-spec.ts';
import { displayName, utf8Name } from './display-name.ts';

/**
 * The file by which `promha render` recognises a directory it wrote: every file it wrote,
 * with its SHA-256. Hidden and without a .json or .yaml extension, so neither
 * `kubectl apply -f DIR` nor a config loader takes it for one of the rendered files.
 */
export const RENDER_MARKER = '.promha-render';

const GENERATOR = 'promha render';

interface Marker {
  readonly generator: typeof GENERATOR;
  readonly version: 1;
  /** Relative path → SHA-256 of the content, hex. */
  readonly files: Readonly<Record<string, string>>;
}

export const sha256 = (content: string | Buffer): string => createHash('sha256').update(content).digest('hex');

export function markerFile(files: readonly FileSpec[]): FileSpec {
  const marker: Marker = { generator: GENERATOR, version: 1, files: Object.fromEntries(files.map((f) => [f.path, sha256(f.content)])) };
  return {
    path: RENDER_MARKER,
    content: `${JSON.stringify(marker, null, 2)}\n`,
  };
}

/** The files a marker lists, or undefined when the text is no marker of promha's. */
export function parseMarker(text: string): ReadonlyMap<string, string> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const m = value as Partial<Marker>;
  if (m.generator !== GENERATOR || m.version !== 1 || typeof m.files !== 'object' || m.files === null) return undefined;
  const files = Object.entries(m.files);
  if (!files.every(([, digest]) => typeof digest === 'string' && /^[0-9a-f]{64}$/.test(digest))) return undefined;
  return new Map(files);
}

/** Why a directory may not be replaced: the entries promha did not write, and the files changed since it wrote them. */
export interface ForeignEntries {
  readonly unexpected: readonly string[];
  readonly modified: readonly string[];
}

/**
 * What `dir` holds beyond what its marker lists, or undefined when it has no valid
 * marker. A listed file that is gone is fine: replacing the directory loses nothing.
 * Names are returned as {@link displayName} prints them (one line each, byte-exact).
 *
 * The walk reads names as bytes: a name that is no UTF-8 came out of a string readdir
 * with U+FFFD in it, and the lstat of that text failed with ENOENT, which render then
 * reported as "a part of the path does not exist". Such a name is never one promha
 * wrote, so it is listed as not written by promha render, without a look inside.
 */
export async function foreignEntries(dir: string): Promise<ForeignEntries | undefined> {
  const text = await readFile(path.join(dir, RENDER_MARKER), 'utf8').catch(() => undefined);
  const listed = text === undefined ? undefined : parseMarker(text);
  if (!listed) return undefined;
  // Every directory that holds a listed file: the others are the user's, named once with nothing inside.
  const listedDirs = new Set([...listed.keys()].flatMap((f) => f.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'))));
  const unexpected: string[] = [];
  const modified: string[] = [];
  const visit = async (abs: Buffer, rel: Buffer | undefined, relText: string): Promise<void> => {
    for (const entry of await readdir(abs, { withFileTypes: true, encoding: 'buffer' })) {
      const entryAbs = Buffer.concat([abs, SLASH, entry.name]);
      const entryRel = rel ? Buffer.concat([rel, SLASH, entry.name]) : entry.name;
      const name = utf8Name(entry.name);
      const entryText = name === undefined ? undefined : relText === '' ? name : `${relText}/${name}`;
      const directory = entry.isDirectory();
      if (entryText === RENDER_MARKER) continue;
      if (directory) {
        if (entryText !== undefined && listedDirs.has(entryText)) await visit(entryAbs, entryRel, entryText);
        else unexpected.push(`${displayName(entryRel)}/`);
        continue;
      }
      const digest = entryText === undefined ? undefined : listed.get(entryText);
      if (digest === undefined || !entry.isFile()) unexpected.push(displayName(entryRel));
      else if (sha256(await readFile(entryAbs)) !== digest) modified.push(displayName(entryRel));
    }
  };
  await visit(Buffer.from(dir), undefined, '');
  return { unexpected: unexpected.sort(), modified: modified.sort() };
}

const SLASH = Buffer.from('/');
