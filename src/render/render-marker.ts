import { createHash } from 'node:crypto';
import { lstat, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FileSpec } from '../plan/node-spec.ts';

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
 */
export async function foreignEntries(dir: string): Promise<ForeignEntries | undefined> {
  const text = await readFile(path.join(dir, RENDER_MARKER), 'utf8').catch(() => undefined);
  const listed = text === undefined ? undefined : parseMarker(text);
  if (!listed) return undefined;
  const unexpected: string[] = [];
  const modified: string[] = [];
  for (const entry of await readdir(dir, { recursive: true })) {
    const rel = entry.split(path.sep).join('/');
    if (rel === RENDER_MARKER) continue;
    const full = path.join(dir, entry);
    const st = await lstat(full);
    if (st.isDirectory()) {
      // A directory is promha's when it holds a listed file; an empty one of the user's counts as theirs.
      if (![...listed.keys()].some((f) => f.startsWith(`${rel}/`))) unexpected.push(`${rel}/`);
      continue;
    }
    const digest = listed.get(rel);
    if (digest === undefined || !st.isFile()) unexpected.push(rel);
    else if (sha256(await readFile(full)) !== digest) modified.push(rel);
  }
  // A foreign directory is named once, not with everything inside it.
  const dirs = unexpected.filter((e) => e.endsWith('/'));
  const top = unexpected.filter((e) => !dirs.some((d) => e !== d && e.startsWith(d)));
  return { unexpected: top.sort(), modified: modified.sort() };
}
