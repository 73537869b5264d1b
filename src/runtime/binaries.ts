import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { ExitError } from '../errors.ts';
import { DEBIAN_BINARY_PATHS, DEBIAN_PACKAGES, type BinaryName } from '../plan/node-spec.ts';
import { binaryVersion, type FetchedRelease } from '../release/fetch.ts';
import type { VersionedComponent } from '../release/capabilities.ts';
import { COMPONENT_OF_BINARY, RELEASES, VERSIONED, versionProblem, withVersions, type Release } from '../release/release.ts';
import type { RunState } from './state.ts';
import { parseVersion } from '../release/version.ts';

/** Names the binaries have outside Debian (upstream tarballs). */
const OTHER_NAMES: Readonly<Record<BinaryName, readonly string[]>> = {
  prometheus: ['prometheus'],
  'prometheus-alertmanager': ['prometheus-alertmanager', 'alertmanager'],
  'prometheus-pushgateway': ['prometheus-pushgateway', 'pushgateway'],
  keepalived: ['keepalived'],
  haproxy: ['haproxy'],
};

/** PROMHA_PROMETHEUS, PROMHA_PROMETHEUS_ALERTMANAGER, … */
export const envName = (b: BinaryName) => `PROMHA_${b.toUpperCase().replace(/-/g, '_')}`;

const executable = (p: string) => {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/**
 * Finds each binary: an explicit path (flag), then the environment variable, then a
 * release fetched by `promha setup --release`, then the Debian package path, then PATH.
 * Reports every missing one at once, with the fix.
 */
export function findBinaries(
  needed: Iterable<BinaryName>,
  explicit: Partial<Record<BinaryName, string>> = {},
  env = process.env,
  fetched?: FetchedRelease,
): Record<BinaryName, string> {
  const found: Partial<Record<BinaryName, string>> = {};
  const missing: BinaryName[] = [];
  for (const b of new Set(needed)) {
    const given = explicit[b] ?? env[envName(b)];
    if (given) {
      if (!executable(given)) throw new ExitError(2, `${b}: "${given}" is not an executable file (from ${explicit[b] ? '--bin' : envName(b)})`);
      found[b] = given;
      continue;
    }
    const component = COMPONENT_OF_BINARY[b];
    const fromRelease = fetched && component ? [fetched.binaries[component].path] : [];
    const candidates = [...fromRelease, DEBIAN_BINARY_PATHS[b], ...(env['PATH'] ?? '').split(':').filter(Boolean).flatMap((d) => OTHER_NAMES[b].map((n) => path.join(d, n)))];
    const hit = candidates.find(executable);
    if (hit) found[b] = hit;
    else missing.push(b);
  }
  if (missing.length)
    throw new ExitError(
      2,
      `missing binaries: ${missing.join(', ')}\n    fix: run \`promha setup\` (as root on Debian/Ubuntu: apt-get install ${missing.map((m) => DEBIAN_PACKAGES[m]).join(' ')}), or name them with --bin NAME=PATH or ${missing.map(envName).join(', ')}`,
    );
  return found as Record<BinaryName, string>;
}

/**
 * Runs `--version` of each Prometheus-project binary and refuses any that `release`
 * cannot be (older than it ships, or than promha renders for): a stack of another
 * release's binaries would prove nothing about this one. Newer ones are taken, and judged
 * by their version (releaseRunning). Returns the version each binary printed.
 */
export async function checkReleaseVersions(bins: Readonly<Partial<Record<BinaryName, string>>>, release: Release): Promise<Partial<Record<BinaryName, string>>> {
  const versions: Partial<Record<BinaryName, string>> = {};
  const wrong: string[] = [];
  for (const [b, file] of Object.entries(bins) as [BinaryName, string][]) {
    const component = COMPONENT_OF_BINARY[b];
    if (!component) continue;
    const version = await binaryVersion(file);
    const problem = version ? versionProblem(release, component, version) : 'it prints no version promha can read';
    if (version && !problem) versions[b] = version;
    else wrong.push(`${b}: ${file}: ${problem ?? ''}`);
  }
  if (wrong.length)
    throw new ExitError(
      2,
      `binaries of another release than ${release.name} (${release.title}):\n    ${wrong.join('\n    ')}\n    fix: run \`promha setup --release ${release.name}\`, choose the release of your binaries with --release, or name the right ones with --bin NAME=PATH`,
    );
  return versions;
}

/** `release` as the binaries that run it are: the versions `checkReleaseVersions` returned (state.json keeps them). */
export function releaseRunning(release: Release, versions: Readonly<Partial<Record<BinaryName, string>>>): Release {
  const found: Partial<Record<VersionedComponent, string>> = {};
  for (const [b, v] of Object.entries(versions) as [BinaryName, string][]) {
    const component = COMPONENT_OF_BINARY[b];
    if (component && v && parseVersion(v)) found[VERSIONED[component]] = v;
  }
  return withVersions(release, found);
}

/** The release a running stack runs: the one `up` chose (stacks from before releases ran Debian 12's), as its binaries' versions are. */
export function stateRelease(state: Pick<RunState, 'release' | 'versions'>): Release {
  return releaseRunning(RELEASES[state.release ?? 'bookworm'], state.versions ?? {});
}
