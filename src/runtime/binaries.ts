import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { ExitError } from '../errors.ts';
import { DEBIAN_BINARY_PATHS, DEBIAN_PACKAGES, type BinaryName } from '../plan/node-spec.ts';
import { binaryVersion, type FetchedRelease } from '../release/fetch.ts';
import { COMPONENT_OF_BINARY, versionMatches, type Release } from '../release/release.ts';

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
 * Runs `--version` of each Prometheus-project binary and refuses any that is not of the
 * release's line: a stack of mixed versions would prove nothing about the release.
 * Returns the version each binary printed.
 */
export async function checkReleaseVersions(bins: Readonly<Partial<Record<BinaryName, string>>>, release: Release): Promise<Partial<Record<BinaryName, string>>> {
  const versions: Partial<Record<BinaryName, string>> = {};
  const wrong: string[] = [];
  for (const [b, file] of Object.entries(bins) as [BinaryName, string][]) {
    const component = COMPONENT_OF_BINARY[b];
    if (!component) continue;
    const expected = release.components[component].version;
    const version = await binaryVersion(file);
    if (version && versionMatches(version, expected)) versions[b] = version;
    else wrong.push(`${b}: ${file} is ${version ?? 'of no version it can tell'}, ${release.name} needs ${expected}.x`);
  }
  if (wrong.length)
    throw new ExitError(
      2,
      `binaries of another release than ${release.name} (${release.title}):\n    ${wrong.join('\n    ')}\n    fix: run \`promha setup --release ${release.name}\`, choose the release of your binaries with --release, or name the right ones with --bin NAME=PATH`,
    );
  return versions;
}
