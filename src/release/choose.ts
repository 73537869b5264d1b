import { hostCodename } from './fetch.ts';
import { isReleaseName, RELEASES, type Release, type ReleaseName } from './release.ts';

/**
 * The release a command works for: `--release`, else the topology's `release`, else the
 * release of this machine (whose packages `promha setup` installs), else Debian 12.
 */
export async function chooseRelease(flag?: ReleaseName, fromTopology?: ReleaseName, osRelease?: string): Promise<Release> {
  if (flag) return RELEASES[flag];
  if (fromTopology) return RELEASES[fromTopology];
  const host = await hostCodename(osRelease);
  return RELEASES[host && isReleaseName(host) ? host : 'bookworm'];
}
