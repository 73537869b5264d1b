import { chmod, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ExitError } from '../errors.ts';
import { DEBIAN_BINARY_PATHS, type NodeSpec, type ProcessSpec } from '../plan/node-spec.ts';

export const PLAN_FILE = 'plan.json';

/** Quotes a word for a POSIX shell only when it needs it. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export function commandLine(p: ProcessSpec): string {
  return [DEBIAN_BINARY_PATHS[p.binary], ...p.args].map(shellQuote).join(' ');
}

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

/**
 * Writes every node under `outDir/<node>/`, plus each process's exact command line.
 * The whole tree is written beside `outDir` first and swapped in at the end, so a
 * failure never leaves a half-written directory. An existing directory is replaced
 * only when an earlier render made it.
 */
export async function writeRender(outDir: string, nodes: readonly NodeSpec[]): Promise<string[]> {
  if (await exists(outDir)) {
    const entries = await readdir(outDir).catch(() => null);
    if (entries === null) throw new ExitError(2, `${outDir} exists and is not a directory`);
    if (entries.length > 0 && !entries.includes(PLAN_FILE))
      throw new ExitError(2, `${outDir} is not empty and was not written by promha render: choose another --out`);
  }
  const tmp = `${outDir.replace(/\/+$/, '')}.promha-tmp-${process.pid}`;
  const written: string[] = [];
  try {
    await rm(tmp, { recursive: true, force: true });
    for (const node of nodes) {
      const dir = path.join(tmp, node.name);
      for (const f of node.files) {
        const file = path.join(dir, f.path);
        await mkdir(path.dirname(file), { recursive: true });
        await writeFile(file, f.content, { mode: f.mode ?? 0o644 });
        // Exact modes whatever the umask: files that hold secrets are 0600 (0700 for scripts).
        await chmod(file, f.mode ?? 0o644);
        written.push(path.join(outDir, node.name, f.path));
      }
      await mkdir(dir, { recursive: true });
      for (const p of node.processes) {
        await writeFile(path.join(dir, `${p.name}.cmdline`), `${commandLine(p)}\n`);
        written.push(path.join(outDir, node.name, `${p.name}.cmdline`));
      }
    }
    await writeFile(path.join(tmp, PLAN_FILE), `${JSON.stringify(planSummary(nodes), null, 2)}\n`);
    written.push(path.join(outDir, PLAN_FILE));
    const old = `${tmp}-old`;
    if (await exists(outDir)) await rename(outDir, old);
    await rename(tmp, outDir);
    await rm(old, { recursive: true, force: true });
    return written;
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}
