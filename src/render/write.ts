import { chmod, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ExitError } from '../errors.ts';
import { DEBIAN_BINARY_PATHS, type FileSpec, type Layout, type NodeSpec } from '../plan/node-spec.ts';
import { hostBundle } from './host-bundle.ts';

export const PLAN_FILE = 'plan.json';
export const KUBERNETES_MARKER = 'kustomization.yaml';
/** Files that show a directory was written by `promha render` (hosts or kubernetes). */
export const RENDER_MARKERS: readonly string[] = [PLAN_FILE, KUBERNETES_MARKER];

/** A machine-readable summary of the plan, read back by the runtime and by doctor. */
export function planSummary(nodes: readonly NodeSpec[]): object {
  return {
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

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

/** A file of a rendered tree, relative to the output directory. */
export type TreeFile = FileSpec;

/**
 * Writes a whole tree of files into `outDir`. The tree is written beside `outDir` first
 * and swapped in at the end, so a failure never leaves a half-written directory. An
 * existing directory is replaced only when an earlier render made it, which the
 * `marker` file of this tree (or of another render target) shows.
 */
export async function writeTree(outDir: string, files: readonly TreeFile[], markers: readonly string[] = RENDER_MARKERS): Promise<string[]> {
  if (await exists(outDir)) {
    const entries = await readdir(outDir).catch(() => null);
    if (entries === null) throw new ExitError(2, `${outDir} exists and is not a directory`);
    if (entries.length > 0 && !entries.some((e) => markers.includes(e)))
      throw new ExitError(2, `${outDir} is not empty and was not written by promha render: choose another --out`);
  }
  const tmp = `${outDir.replace(/\/+$/, '')}.promha-tmp-${process.pid}`;
  try {
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp, { recursive: true });
    for (const f of files) {
      const file = path.join(tmp, f.path);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, f.content, { mode: f.mode ?? 0o644 });
      // Exact modes whatever the umask: files that hold secrets are 0600 (0700 for scripts).
      await chmod(file, f.mode ?? 0o644);
    }
    const old = `${tmp}-old`;
    if (await exists(outDir)) await rename(outDir, old);
    await rename(tmp, outDir);
    await rm(old, { recursive: true, force: true });
    return files.map((f) => path.join(outDir, f.path));
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Writes one host bundle per node under `outDir/<node>/` (see {@link hostBundle}) and
 * `plan.json`, which lists every node and process.
 */
export async function writeRender(outDir: string, nodes: readonly NodeSpec[], layout: Layout): Promise<string[]> {
  const files: TreeFile[] = nodes.flatMap((n) => hostBundle(n, layout).map((f) => ({ ...f, path: path.join(n.name, f.path) })));
  files.push({ path: PLAN_FILE, content: `${JSON.stringify(planSummary(nodes), null, 2)}\n` });
  return writeTree(outDir, files);
}
