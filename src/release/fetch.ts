import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { ExitError } from '../errors.ts';
import { hostCodename } from './choose.ts';
import { parseVersionOutput, releasePackages, versionMatches, type Component, type Release, type ReleaseName } from './release.ts';

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

/** What `binary --version` says its version is; undefined when it does not run or says nothing we know. */
export async function binaryVersion(binary: string): Promise<string | undefined> {
  const r = await execa(binary, ['--version'], { reject: false, all: true, timeout: 15_000 });
  return parseVersionOutput(r.all ?? '');
}

/**
 * Where a release's binaries come from: this machine's Debian packages for the host's own
 * release (`host`), else the cache `promha setup --release` fills (`fetched`, absent until
 * it ran).
 */
export async function releaseSource(release: ReleaseName): Promise<{ readonly host: boolean; readonly fetched?: FetchedRelease }> {
  if (release === (await hostCodename())) return { host: true };
  const fetched = await readFetchedRelease(release);
  return fetched ? { host: false, fetched } : { host: false };
}

/** The release fetched earlier into `cacheRoot`, if its manifest is there. */
export async function readFetchedRelease(release: ReleaseName, cacheRoot = releaseCacheRoot()): Promise<FetchedRelease | undefined> {
  const text = await readFile(path.join(cacheRoot, release, MANIFEST), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : (JSON.parse(text) as FetchedRelease);
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
      if (!version || !versionMatches(version, info.version))
        throw new ExitError(1, `${release.name}: ${info.path} from ${info.package} says version ${version ?? '(none)'}, expected ${info.version}.x`);
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
