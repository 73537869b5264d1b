import { constants } from 'node:fs';
import { access, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { ExitError } from '../errors.ts';
import type { ComponentVersions } from './capabilities.ts';
import { hostCodename } from './host.ts';
import { parseVersion } from './version.ts';
import { parseVersionOutput, releasePackages, versionProblem, type Component, type Release, type ReleaseName } from './release.ts';

/** A release's Go binaries, extracted from its Debian packages, and the versions they print. */
export interface FetchedRelease {
  readonly release: ReleaseName;
  /** Where the packages were extracted (their `usr/bin/…` under it). */
  readonly root: string;
  readonly binaries: Readonly<Record<Component, { readonly path: string; readonly version: string }>>;
  readonly fetchedAt: string;
}

const MANIFEST = 'release.json';
const DEFAULT_MIRROR = 'http://deb.debian.org/debian';
const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

/** `$PROMHA_CACHE`, else `$XDG_CACHE_HOME/promha`, else `~/.cache/promha`; releases live under `releases/`. */
export function releaseCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  const base = env['PROMHA_CACHE'] ?? path.join(env['XDG_CACHE_HOME'] ?? path.join(os.homedir(), '.cache'), 'promha');
  return path.join(base, 'releases');
}

/** Versions already read, by path, size and modification time: a release is judged on every command. */
const versionsRead = new Map<string, Promise<string | undefined>>();

/** What `binary --version` says its version is; undefined when it does not run or says nothing we know. */
export async function binaryVersion(binary: string): Promise<string | undefined> {
  const st = await stat(binary).catch(() => undefined);
  const key = st ? `${binary}\0${st.size}\0${st.mtimeMs}\0${st.ino}` : undefined;
  const known = key === undefined ? undefined : versionsRead.get(key);
  if (known) return known;
  const read = execa(binary, ['--version'], { reject: false, all: true, timeout: 15_000 }).then((r) => parseVersionOutput(r.all ?? ''));
  if (key !== undefined) versionsRead.set(key, read);
  return read;
}

/**
 * Where a release's binaries come from: this machine's Debian packages for the host's own
 * release (`host`), else the cache `promha setup --release` fills (`fetched`, absent until
 * it ran).
 */
export async function releaseSource(release: ReleaseName): Promise<{ readonly host: boolean; readonly fetched?: FetchedRelease }> {
  const host = release === (await hostCodename());
  // Binaries recorded with `setup --from` take the place of the host's packages too.
  const fetched = await readFetchedRelease(release);
  return fetched ? { host, fetched } : { host };
}

/** The versions a fetched release's binaries printed, by component. */
export function fetchedVersions(f: FetchedRelease): ComponentVersions {
  return { prometheus: f.binaries.prometheus.version, alertmanager: f.binaries.alertmanager.version, pushgateway: f.binaries.pushgateway.version };
}

/** The release fetched earlier into `cacheRoot`, if its manifest is there. */
export async function readFetchedRelease(release: ReleaseName, cacheRoot = releaseCacheRoot()): Promise<FetchedRelease | undefined> {
  const file = path.join(cacheRoot, release, MANIFEST);
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    data = undefined;
  }
  const binaries = (data as { binaries?: Record<string, unknown> } | undefined)?.binaries;
  const whole =
    typeof (data as { root?: unknown } | undefined)?.root === 'string' &&
    (['prometheus', 'promtool', 'alertmanager', 'amtool', 'pushgateway'] as const).every((c) => {
      const b = binaries?.[c] as { path?: unknown; version?: unknown } | undefined;
      return typeof b?.path === 'string' && typeof b.version === 'string' && parseVersion(b.version) !== undefined;
    });
  if (!whole) throw new ExitError(2, `${file} is not a release manifest promha wrote\n    fix: \`promha setup --release ${release}\` writes it anew`);
  return data as FetchedRelease;
}

/**
 * apt options that make apt-get use a sources list, state and cache of its own under
 * `dir`: the host's apt configuration and package database are never read or changed.
 */
function privateApt(dir: string): string[] {
  const o = (k: string, v: string) => ['-o', `${k}=${v}`];
  return [
    ...o('Dir::Etc::SourceList', path.join(dir, 'sources.list')),
    ...o('Dir::Etc::SourceParts', '/dev/null'),
    ...o('Dir::Etc::Preferences', '/dev/null'),
    ...o('Dir::Etc::PreferencesParts', '/dev/null'),
    ...o('Dir::State::Lists', path.join(dir, 'lists')),
    ...o('Dir::State::Status', path.join(dir, 'status')),
    ...o('Dir::Cache', path.join(dir, 'cache')),
    ...o('Debug::NoLocking', '1'),
    // apt's download sandbox user cannot write into a directory of root's choosing.
    ...(process.getuid?.() === 0 ? o('APT::Sandbox::User', 'root') : []),
  ];
}

/**
 * Downloads a release's Debian packages from Debian's archive and extracts them into
 * `cacheRoot/<release>/root`, then checks that every binary runs and prints a version of
 * the release's line. The previous copy is replaced only once the new one is complete.
 */
export async function fetchRelease(release: Release, options: { cacheRoot?: string; mirror?: string; print?: (s: string) => void } = {}): Promise<FetchedRelease> {
  const cacheRoot = options.cacheRoot ?? releaseCacheRoot();
  const mirror = options.mirror ?? process.env['PROMHA_DEBIAN_MIRROR'] ?? DEFAULT_MIRROR;
  if (!/^https?:\/\/[A-Za-z0-9.:/_-]+$/.test(mirror)) throw new ExitError(2, `mirror "${mirror}" is not an http(s) URL`);
  const print = options.print ?? (() => {});
  const dir = path.join(cacheRoot, release.name);
  const work = path.join(dir, `.fetch-${process.pid}`);
  const apt = path.join(work, 'apt');
  try {
    await rm(work, { recursive: true, force: true });
    for (const d of ['lists/partial', 'cache/archives/partial', 'debs']) await mkdir(path.join(apt, d), { recursive: true });
    const signedBy = await readFile(KEYRING).then(
      () => `[signed-by=${KEYRING}] `,
      () => '',
    );
    await writeFile(path.join(apt, 'sources.list'), `deb ${signedBy}${mirror} ${release.name} main\n`);
    await writeFile(path.join(apt, 'status'), '');
    const packages = releasePackages(release);
    print(`downloading ${packages.join(' ')} from ${mirror} ${release.name}`);
    const aptGet = async (args: string[], cwd?: string) => {
      const r = await execa('apt-get', [...privateApt(apt), ...args], { reject: false, all: true, cwd });
      if (r.failed) throw new ExitError(1, `apt-get ${args[0]} for ${release.name} failed:\n${(r.all ?? r.message).trim().split('\n').slice(-5).join('\n')}`);
    };
    await aptGet(['update', '-qq']);
    await aptGet(['download', '-qq', ...packages], path.join(apt, 'debs'));
    const root = path.join(work, 'root');
    for (const p of packages) {
      const deb = (await execa('sh', ['-c', 'ls -1 "$1"_*.deb', 'sh', p], { cwd: path.join(apt, 'debs'), reject: false })).stdout.split('\n')[0];
      if (!deb) throw new ExitError(1, `apt-get download gave no package file for ${p}`);
      await execa('dpkg-deb', ['-x', path.join(apt, 'debs', deb), root]);
    }
    const binaries = {} as Record<Component, { path: string; version: string }>;
    for (const [component, info] of Object.entries(release.components) as [Component, Release['components'][Component]][]) {
      const staged = path.join(root, info.path);
      const version = await binaryVersion(staged);
      const problem = version ? versionProblem(release, component, version) : 'it prints no version';
      if (problem || !version) throw new ExitError(1, `${release.name}: ${info.path} from ${info.package}: ${problem ?? ''}`);
      binaries[component] = { path: path.join(dir, 'root', info.path), version };
      print(`  ${component} ${version}`);
    }
    const fetched: FetchedRelease = { release: release.name, root: path.join(dir, 'root'), binaries, fetchedAt: new Date().toISOString() };
    await writeFile(path.join(work, MANIFEST), `${JSON.stringify(fetched, null, 2)}\n`);
    await rm(path.join(dir, 'root'), { recursive: true, force: true });
    await rm(path.join(dir, MANIFEST), { force: true });
    await rename(root, path.join(dir, 'root'));
    await rename(path.join(work, MANIFEST), path.join(dir, MANIFEST));
    return fetched;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Names a component's binary has in a directory: upstream tarballs' and Debian's. */
const NAMES_IN_DIRECTORY: Readonly<Record<Component, readonly string[]>> = {
  prometheus: ['prometheus'],
  promtool: ['promtool'],
  alertmanager: ['alertmanager', 'prometheus-alertmanager'],
  amtool: ['amtool'],
  pushgateway: ['pushgateway', 'prometheus-pushgateway'],
};

/**
 * Records the binaries in `from` (an upstream release's files, a build of one's own) as
 * `release`'s, after checking each runs and prints a version the release can use: every
 * command then runs and judges them as it would fetched ones. Nothing is copied or
 * changed in `from`; the binaries must stay there.
 */
export async function recordRelease(release: Release, from: string, options: { cacheRoot?: string; print?: (s: string) => void } = {}): Promise<FetchedRelease> {
  const cacheRoot = options.cacheRoot ?? releaseCacheRoot();
  const print = options.print ?? (() => {});
  const root = path.resolve(from);
  const binaries = {} as Record<Component, { path: string; version: string }>;
  const problems: string[] = [];
  for (const component of Object.keys(NAMES_IN_DIRECTORY) as Component[]) {
    const names = NAMES_IN_DIRECTORY[component];
    let file: string | undefined;
    for (const n of names) {
      const candidate = path.join(root, n);
      if (await access(candidate, constants.X_OK).then(() => true, () => false)) {
        file = candidate;
        break;
      }
    }
    if (!file) {
      problems.push(`${component}: no executable ${names.join(' or ')} in ${root}`);
      continue;
    }
    const version = await binaryVersion(file);
    const problem = version ? versionProblem(release, component, version) : 'it prints no version promha can read';
    if (problem || !version) problems.push(`${component}: ${file}: ${problem ?? ''}`);
    else {
      binaries[component] = { path: file, version };
      print(`  ${component} ${version} (${file})`);
    }
  }
  if (problems.length > 0) throw new ExitError(1, `the binaries in ${root} cannot be ${release.name}'s:\n    ${problems.join('\n    ')}`);
  const dir = path.join(cacheRoot, release.name);
  const fetched: FetchedRelease = { release: release.name, root, binaries, fetchedAt: new Date().toISOString() };
  await mkdir(dir, { recursive: true });
  // A fetched copy of the release's packages stays until a fetch replaces it; the manifest decides what runs.
  const next = path.join(dir, `.${MANIFEST}.${process.pid}`);
  await writeFile(next, `${JSON.stringify(fetched, null, 2)}\n`);
  await rename(next, path.join(dir, MANIFEST));
  return fetched;
}
