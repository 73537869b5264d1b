import type { Layout, NodeSpec } from '../plan/node-spec.ts';

/*
 * install.sh creates each data directory with `install -d -m 750 -o prometheus` and
 * removes stale files from each config directory; systemd removes each runtime
 * directory when its unit stops. A data directory that is one of those, or a shared
 * system directory, would be chowned, emptied or deleted: refuse such layouts.
 */

/**
 * Directories that others share, which a data directory must never be. Besides them,
 * a data directory needs at least two components (a top-level directory such as /data
 * is a mount point that others use too) and is not a home directory (/home/NAME).
 */
export const SYSTEM_DIRECTORIES: ReadonlySet<string> = new Set([
  '/',
  ...['bin', 'boot', 'dev', 'etc', 'home', 'lib', 'lib32', 'lib64', 'libx32', 'media', 'mnt', 'opt', 'proc', 'root', 'run', 'sbin', 'srv', 'sys', 'tmp', 'usr', 'var'].map((d) => `/${d}`),
  ...['bin', 'sbin', 'lib', 'lib64', 'libexec', 'local', 'share', 'include', 'src', 'games'].map((d) => `/usr/${d}`),
  ...['bin', 'sbin', 'lib', 'share', 'etc', 'src'].map((d) => `/usr/local/${d}`),
  ...['lib', 'log', 'cache', 'tmp', 'spool', 'mail', 'opt', 'backups', 'local', 'run', 'lock', 'www'].map((d) => `/var/${d}`),
  ...['systemd', 'systemd/system', 'default', 'ssl', 'prometheus', 'keepalived', 'haproxy'].map((d) => `/etc/${d}`),
  '/var/lib/prometheus',
  '/var/lib/private',
  '/run/user',
]);

/** Why `dir` may not be a data directory by itself, or undefined. */
export function systemDirectoryProblem(dir: string): string | undefined {
  if (SYSTEM_DIRECTORIES.has(dir)) return `${dir} is a system directory that others share`;
  const parts = dir.split('/').filter(Boolean);
  if (parts.length < 2) return `${dir} is a top-level directory, which others share (often a mount point)`;
  if (parts.length === 2 && parts[0] === 'home') return `${dir} is a home directory`;
  return undefined;
}

const within = (inner: string, outer: string) => outer === '/' || inner.startsWith(`${outer}/`);

/** How two host paths overlap: 'same', 'inside' (a within b), 'contains' (b within a), or undefined. */
export function overlap(a: string, b: string): 'same' | 'inside' | 'contains' | undefined {
  if (a === b) return 'same';
  if (within(a, b)) return 'inside';
  if (within(b, a)) return 'contains';
  return undefined;
}

export interface DataDirProblem {
  /** The node whose data directory is wrong. */
  readonly node: NodeSpec;
  readonly message: string;
}

const RELATION = { same: 'is', inside: 'lies inside', contains: 'contains' } as const;

/**
 * Every data directory that is a system directory or overlaps a config or runtime
 * directory, of its own member or of any other: members may share a host.
 */
export function dataDirProblems(nodes: readonly NodeSpec[], layout: Layout): DataDirProblem[] {
  const problems: DataDirProblem[] = [];
  for (const node of nodes) {
    const data = node.dataDir;
    if (data === undefined) continue;
    const system = systemDirectoryProblem(data);
    if (system) {
      problems.push({ node, message: `the data directory of ${node.name}: ${system}; install.sh would give it to the server's user (mode 750)` });
      continue;
    }
    for (const other of nodes) {
      const dirs = [
        { what: 'config directory', dir: other.configDir, harm: 'install.sh would delete its TSDB or state as stale config files' },
        { what: 'runtime directory', dir: layout.runDir(other.name), harm: 'systemd deletes the runtime directory when the unit stops' },
      ];
      for (const d of dirs) {
        const o = overlap(data, d.dir);
        if (o) problems.push({ node, message: `the data directory of ${node.name} (${data}) ${RELATION[o]} the ${d.what} of ${other.name} (${d.dir}): ${d.harm}` });
      }
    }
  }
  return problems;
}
