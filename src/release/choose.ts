import type { VersionedComponent } from './capabilities.ts';
import { binaryVersion, releaseSource } from './fetch.ts';
import { hostCodename } from './host.ts';
import { isReleaseName, RELEASES, versionProblem, withVersions, type Release, type ReleaseName } from './release.ts';

export { hostCodename } from './host.ts';

/**
 * The release a command works for: `--release`, else the topology's `release`, else the
 * release of this machine (whose packages `promha setup` installs), else Debian 12 —
 * judged by the versions of its binaries at hand (releaseAtHand).
 */
export async function chooseRelease(flag?: ReleaseName, fromTopology?: ReleaseName, osRelease?: string): Promise<Release> {
  return releaseAtHand(RELEASES[await chooseReleaseName(flag, fromTopology, osRelease)]);
}

/** The name alone, as chooseRelease picks it: `setup` fetches by name, before any binaries are at hand. */
export async function chooseReleaseName(flag?: ReleaseName, fromTopology?: ReleaseName, osRelease?: string): Promise<ReleaseName> {
  if (flag) return flag;
  if (fromTopology) return fromTopology;
  const host = await hostCodename(osRelease);
  return host && isReleaseName(host) ? host : 'bookworm';
}

/**
 * `release` as its binaries here are: those `promha setup --release` recorded, or for this
 * machine's own release its packages' binaries. Without any (rendering for a release this
 * machine does not have), what promha knows Debian ships. A binary of an unusable version
 * is left to whatever runs it, which refuses it with the reason (checkReleaseVersions).
 */
export async function releaseAtHand(release: Release): Promise<Release> {
  const { host, fetched } = await releaseSource(release.name);
  const found: Partial<Record<VersionedComponent, string>> = {};
  for (const c of ['prometheus', 'alertmanager', 'pushgateway'] as const) {
    let version = fetched?.binaries[c]?.version;
    // binaryVersion says undefined for a binary that is not there.
    if (version === undefined && host) version = await binaryVersion(release.components[c].path);
    if (version !== undefined && versionProblem(release, c, version) === undefined) found[c] = version;
  }
  return withVersions(release, found);
}
