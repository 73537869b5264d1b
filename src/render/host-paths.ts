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
  // Package state on every Debian host: cheap to name, though no list is complete (install.sh's mark is the rule).
  ...['dpkg', 'apt', 'systemd', 'ucf'].map((d) => `/var/lib/${d}`),
  ...['apt', 'debconf'].map((d) => `/var/cache/${d}`),
  '/run/user',
]);

/** The operating system's own trees: packages own what lies there, and /usr may be mounted read-only. */
const OS_TREES = ['/usr', '/boot', '/proc', '/sys', '/dev', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

/**
 * Shared directories that may still hold promha's roots: /srv and /mnt hold the site's own
 * directories and mount points, which the operator names (/srv/promha, /mnt/tsdb).
 */
const SITE_DIRECTORIES: ReadonlySet<string> = new Set(['/srv', '/mnt']);

/** Why `dir` may not be a data directory by itself, or undefined. */
export function systemDirectoryProblem(dir: string): string | undefined {
  if (SYSTEM_DIRECTORIES.has(dir)) return `${dir} is a system directory that others share`;
  const tree = OS_TREES.find((t) => dir.startsWith(`${t}/`));
  if (tree) return `${dir} lies in ${tree}, the operating system's own files (packages own what is there, and it may be read-only)`;
  const parts = dir.split('/').filter(Boolean);
  if (parts.length < 2) return `${dir} is a top-level directory, which others share (often a mount point)`;
  if (parts.length === 2 && parts[0] === 'home') return `${dir} is a home directory`;
  return undefined;
}

/**
 * Why `root` may not be --config-root or --data-root, or undefined. Each member's
 * directory is `<root>/<member>`: under a shared directory such as /var/lib, /etc or
 * /usr/share, a member's name picks another program's directory (a scraper named dpkg
 * rendered with --data-root /var/lib got /var/lib/dpkg, dpkg's database). install.sh
 * refuses any directory it did not create; this refuses the obvious roots at render time.
 */
export function rootDirectoryProblem(root: string): string | undefined {
  if (SITE_DIRECTORIES.has(root)) return undefined;
  if (SYSTEM_DIRECTORIES.has(root) || OS_TREES.some((t) => root === t || root.startsWith(`${t}/`)))
    return `${root} is a system directory that others share: each member's directory would be ${root === '/' ? '' : root}/<member>, beside other programs' own (a member named after one would take its directory)`;
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
  // Every node's config and runtime directory, indexed by its path and by each directory
  // above it: a data directory is then compared with the few paths that can overlap it,
  // not with every node (a thousand members made that a million comparisons).
  const dirs = nodes.flatMap((other, index) => [
    { other, order: 2 * index, what: 'config directory', dir: other.configDir, harm: 'install.sh would delete its TSDB or state as stale config files' },
    { other, order: 2 * index + 1, what: 'runtime directory', dir: layout.runDir(other.name), harm: 'systemd deletes the runtime directory when the unit stops' },
  ]);
  type Dir = (typeof dirs)[number];
  const at = new Map<string, Dir[]>();
  const below = new Map<string, Dir[]>();
  const add = (map: Map<string, Dir[]>, key: string, d: Dir) => {
    const list = map.get(key);
    if (list) list.push(d);
    else map.set(key, [d]);
  };
  for (const d of dirs) {
    add(at, d.dir, d);
    for (const a of parentsOf(d.dir)) add(below, a, d);
  }
  const problems: DataDirProblem[] = [];
  for (const node of nodes) {
    const data = node.dataDir;
    if (data === undefined) continue;
    const system = systemDirectoryProblem(data);
    if (system) {
      problems.push({ node, message: `the data directory of ${node.name}: ${system}; install.sh would give it to the server's user (mode 750)` });
      continue;
    }
    const found = [
      ...(at.get(data) ?? []).map((d) => ({ d, o: 'same' as const })),
      ...['/', ...parentsOf(data)].flatMap((p) => (p === data ? [] : (at.get(p) ?? []).map((d) => ({ d, o: 'inside' as const })))),
      ...(below.get(data) ?? []).map((d) => ({ d, o: 'contains' as const })),
    ].sort((x, y) => x.d.order - y.d.order);
    for (const { d, o } of found)
      problems.push({ node, message: `the data directory of ${node.name} (${data}) ${RELATION[o]} the ${d.what} of ${d.other.name} (${d.dir}): ${d.harm}` });
  }
  return problems;
}

/** The directories strictly above a path, by its text: /a/b/c gives /a and /a/b (`/` apart). */
function parentsOf(dir: string): string[] {
  const parents: string[] = [];
  for (let i = dir.indexOf('/', 1); i > 0; i = dir.indexOf('/', i + 1)) parents.push(dir.slice(0, i));
  return parents;
}
