import { readFile } from 'node:fs/promises';
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

/** The codename of this machine's Debian release (`bookworm`), from /etc/os-release. */
export async function hostCodename(osRelease = '/etc/os-release'): Promise<string | undefined> {
  const text = await readFile(osRelease, 'utf8').catch(() => '');
  return /^VERSION_CODENAME=("?)([a-z]+)\1$/m.exec(text)?.[2];
}
