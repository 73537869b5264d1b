import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, readlink, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ExitError } from '../errors.ts';
import { DEBIAN_BINARY_PATHS, type FileSpec, type Layout, type NodeSpec } from '../plan/node-spec.ts';
import { hostBundle } from './host-bundle.ts';
import { RELEASES, type Release } from '../release/release.ts';
import { foreignEntries, markerFile, RENDER_MARKER } from './render-marker.ts';
import { displayName } from './display-name.ts';

export const PLAN_FILE = 'plan.json';
/** `kubectl apply -k DIR` reads it. */
export const KUSTOMIZATION_FILE = 'kustomization.yaml';

/** A machine-readable summary of the plan, read back by the runtime and by doctor. */
export function planSummary(nodes: readonly NodeSpec[], release: Release = RELEASES.bookworm): object {
  return {
    release: { name: release.name, ...Object.fromEntries(Object.entries(release.components).map(([c, i]) => [c, i.version])) },
    nodes: nodes.map((n) => ({
      name: n.name,
      role: n.role,
      set: n.set,
      backup: n.backup,
      standIn: n.standIn,
      address: String(n.address),
      configDir: n.configDir,
      dataDir: n.dataDir ?? null,
      persistent: n.persistent,
      processes: n.processes.map((p) => ({ name: p.name, binary: DEBIAN_BINARY_PATHS[p.binary], args: p.args })),
    })),
  };
}

/** What an errno means for someone choosing --out. */
const WRITE_ERRORS: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted (an immutable file, or a file system such as /proc or /sys that takes no files)',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ENOTDIR: 'a part of the path is a file, not a directory',
  ENOENT: 'a part of the path does not exist and cannot be created there',
  EISDIR: 'a directory stands where a file must go',
  ENAMETOOLONG: 'the path is too long',
  ELOOP: 'too many symbolic links in the path',
  EXDEV: 'the directory and its temporary copy are on different file systems',
  EBUSY: 'the directory is in use (a mount point?)',
  EEXIST: 'a file already stands where a directory must go',
};

/**
 * A file-system failure as the exit-2 message of a command, never an "unexpected error".
 * Anything else (a bug) passes unchanged.
 */
export function writeError(target: string, e: unknown): unknown {
  const err = e as NodeJS.ErrnoException;
  if (e instanceof ExitError || !(e instanceof Error) || typeof err.code !== 'string' || err.syscall === undefined) return e;
  const why = WRITE_ERRORS[err.code] ?? err.message;
  const where = err.path && err.path !== target ? ` (${err.syscall ?? 'at'} ${displayName(err.path)})` : '';
  const shown = displayName(target);
  return new ExitError(2, `cannot write ${shown}: ${why}${err.code ? ` [${err.code}]` : ''}${where}\n    fix: choose another --out, or make ${shown} writable`);
}

/**
 * `mkdir -p` that fails instead of spinning: Node's recursive mkdir loops forever under
 * /proc, where mkdir answers ENOENT although the parent exists. Each level is tried at
 * most twice, so a refused mkdir ends in an error.
 */
export async function makeDirs(dir: string): Promise<void> {
  try {
    await mkdir(dir);
    return;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      if ((await stat(dir)).isDirectory()) return;
      throw e;
    }
    const parent = path.dirname(dir);
    if (code !== 'ENOENT' || parent === dir) throw e;
    await makeDirs(parent);
  }
  await mkdir(dir).catch(async (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EEXIST' || !(await stat(dir)).isDirectory()) throw e;
  });
}

/** Writes one file of a command's output (e.g. `schema --out`), with the same messages as a rendered tree. */
export async function writeOutputFile(file: string, content: string): Promise<void> {
  if (file === '') throw new ExitError(2, '--out is empty\n    fix: name the file to write, e.g. --out promha.schema.json');
  await writeFile(file, content).catch((e: unknown) => {
    const code = (e as NodeJS.ErrnoException).code;
    // A single file's parent is not created for it: say which directory is missing.
    if (code === 'ENOENT' || code === 'ENOTDIR')
      throw new ExitError(2, `cannot write ${file}: ${path.dirname(file)}/ does not exist or is no directory [${code}]\n    fix: create ${path.dirname(file)}/ first, or choose another --out`);
    throw writeError(file, e);
  });
}

/** A file of a rendered tree, relative to the output directory. */
export type TreeFile = FileSpec;

const MAX_LISTED = 10;
/** Entries come escaped from foreignEntries (one line each, whatever their names hold). */
const listed = (entries: readonly string[]) =>
  [...entries.slice(0, MAX_LISTED).map((e) => `    ${e}`), ...(entries.length > MAX_LISTED ? [`    … and ${entries.length - MAX_LISTED} more`] : [])].join('\n');

/**
 * Refuses to replace `outDir` unless it is empty or holds exactly what an earlier render
 * wrote: a directory someone else wrote (a kustomize overlay, a Terraform folder) or
 * a file edited since the render is never deleted.
 */
async function assertReplaceable(outDir: string, shown: string): Promise<void> {
  const st = await stat(outDir).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw writeError(outDir, e);
  });
  if (!st) return;
  if (!st.isDirectory()) throw new ExitError(2, `${shown} exists and is not a directory\n    fix: choose another --out`);
  const entries = await readdir(outDir).catch((e: unknown) => {
    throw writeError(outDir, e);
  });
  if (entries.length === 0) return;
  const foreign = await foreignEntries(outDir).catch((e: unknown) => {
    throw writeError(outDir, e);
  });
  if (!foreign)
    throw new ExitError(
      2,
      `${shown} is not empty and holds no ${RENDER_MARKER} of promha render: it was not written by promha render, and nothing in it is deleted\n` +
        '    fix: choose another --out (a directory that does not exist, or an empty one); a directory rendered by an older promha without the marker: check it and remove it yourself',
    );
  if (foreign.unexpected.length || foreign.modified.length)
    throw new ExitError(
      2,
      [
        `${shown} was written by promha render, but it now holds files that render would delete:`,
        ...(foreign.unexpected.length ? [`  not written by promha render:\n${listed(foreign.unexpected)}`] : []),
        ...(foreign.modified.length ? [`  changed since promha render wrote them:\n${listed(foreign.modified)}`] : []),
        '    fix: move these files out of the directory (edit the topology, not the rendered files), or render into another --out',
      ].join('\n'),
    );
}

/**
 * Where the tree goes: `out`, or, when `out` is a symbolic link, the directory it
 * points to. The swap renames the directory at the path it swaps, and renaming over a
 * link replaced the link by a real directory (the link's target kept the old render,
 * the link was gone). An operator who points --out at a link (`current -> /data/x`)
 * means the directory behind it, as cp and tar do: the new tree is swapped in there,
 * and the link stays as it was. A link to nothing is refused: render would not know
 * whether to create its target or to replace the link.
 */
async function resolveOut(out: string): Promise<string> {
  const st = await lstat(out).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw writeError(out, e);
  });
  if (!st?.isSymbolicLink()) return out;
  return realpath(out).catch(async (e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw writeError(out, e);
    const to = await readlink(out).catch(() => '?');
    throw new ExitError(
      2,
      `${displayName(out)} is a symbolic link to ${displayName(to)}, which does not exist: render writes into the directory a link points to, and replaces no link\n` +
        `    fix: create the directory the link points to (or point the link at one), or choose another --out`,
    );
  });
}

/**
 * Writes a whole tree of files into `outDir`, with a {@link RENDER_MARKER} that lists
 * them. The tree is written beside `outDir` first and swapped in at the end, so a
 * failure never leaves a half-written directory. An existing directory is replaced
 * only when it is empty or holds exactly what an earlier render wrote.
 */
export async function writeTree(outDir: string, files: readonly TreeFile[]): Promise<string[]> {
  if (outDir === '') throw new ExitError(2, '--out is empty\n    fix: name the directory to write, e.g. --out out/');
  const given = outDir.replace(/(?<=.)\/+$/, '');
  const target = await resolveOut(given);
  await assertReplaceable(target, target === given ? displayName(given) : `${displayName(given)} (a link to ${displayName(target)})`);
  const tmp = `${target}.promha-tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const old = `${tmp}-old`;
  let created = false;
  try {
    await makeDirs(path.dirname(path.resolve(target)));
    await mkdir(tmp);
    created = true;
    for (const f of [...files, markerFile(files)]) {
      const file = path.join(tmp, f.path);
      await makeDirs(path.dirname(file));
      await writeFile(file, f.content, { mode: f.mode ?? 0o644 });
      // Exact modes whatever the umask: files that hold secrets are 0600 (0700 for scripts).
      await chmod(file, f.mode ?? 0o644);
    }
    const replacing = await stat(target).then(
      () => true,
      () => false,
    );
    if (replacing) await rename(target, old);
    try {
      await rename(tmp, target);
    } catch (e) {
      // Put the earlier render back: the directory is never left missing.
      if (replacing) await rename(old, target);
      throw e;
    }
    await rm(old, { recursive: true, force: true });
    return files.map((f) => path.join(given, f.path));
  } catch (e) {
    if (created) await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw writeError(target, e);
  }
}

/**
 * Writes one host bundle per node under `outDir/<node>/` (see {@link hostBundle}) and
 * `plan.json`, which lists every node and process.
 */
export async function writeRender(outDir: string, nodes: readonly NodeSpec[], layout: Layout, release: Release = RELEASES.bookworm): Promise<string[]> {
  const files: TreeFile[] = nodes.flatMap((n) => hostBundle(n, layout, release).map((f) => ({ ...f, path: path.join(n.name, f.path) })));
  files.push({ path: PLAN_FILE, content: `${JSON.stringify(planSummary(nodes, release), null, 2)}\n` });
  return writeTree(outDir, files);
}
