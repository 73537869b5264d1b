import { readFile } from 'node:fs/promises';
import { execa } from 'execa';
import { ExitError } from '../errors.ts';
import { chooseReleaseName, hostCodename } from '../release/choose.ts';
import { versionNotes } from '../release/capabilities.ts';
import { fetchedVersions, fetchRelease, recordRelease } from '../release/fetch.ts';
import { releasePackages, RELEASES, type ReleaseName } from '../release/release.ts';

export const SETUP_PACKAGES = ['prometheus', 'prometheus-alertmanager', 'prometheus-pushgateway', 'keepalived', 'haproxy', 'iproute2', 'openssl'] as const;
/** What every release takes from the host itself: keepalived and HAProxy are not release-bound in promha. */
const HOST_PACKAGES = ['keepalived', 'haproxy', 'iproute2', 'openssl'] as const;

async function missingPackages(packages: readonly string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const p of packages) {
    const r = await execa('dpkg-query', ['-W', '-f=${Status}', p], { reject: false });
    if (r.exitCode !== 0 || !r.stdout.includes('install ok installed')) missing.push(p);
  }
  return missing;
}

/** Installs `packages` with the host's apt where missing (root only). */
async function installHostPackages(packages: readonly string[], print: (s: string) => void): Promise<void> {
  const missing = await missingPackages(packages);
  if (missing.length === 0) {
    print(`every package is installed: ${packages.join(' ')}`);
    return;
  }
  if (process.getuid?.() !== 0) throw new ExitError(2, `missing packages: ${missing.join(' ')}\n    run as root: apt-get install -y ${missing.join(' ')}`);
  print(`installing ${missing.join(' ')}`);
  await execa('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  await execa('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env: { DEBIAN_FRONTEND: 'noninteractive' } });
  print('installed');
}

/**
 * Makes a release runnable here. The machine's own release comes from its apt; another
 * release's Prometheus, Alertmanager and Pushgateway come from Debian's archive into
 * promha's cache (their Go binaries need only libc), never into the host's packages.
 */
export async function runSetup(print: (s: string) => void, release?: ReleaseName, from?: string): Promise<void> {
  if (from !== undefined) {
    // By name: a broken manifest of an earlier fetch must not stop the fetch that replaces it.
    const chosen = RELEASES[await chooseReleaseName(release)];
    print(`${chosen.name}: the binaries in ${from}`);
    const fetched = await recordRelease(chosen, from, { print });
    for (const note of versionNotes(fetchedVersions(fetched))) print(`note: ${note}`);
    print(`\`promha up --release ${chosen.name}\`, check and test rules run them`);
    return;
  }
  const osRelease = await readFile('/etc/os-release', 'utf8').catch(() => '');
  const debianLike = /^(ID|ID_LIKE)=.*\b(debian|ubuntu)\b/m.test(osRelease);
  if (!debianLike)
    throw new ExitError(
      2,
      `promha setup installs Debian packages; this is not Debian or Ubuntu.\n    install the equivalents of: ${SETUP_PACKAGES.join(', ')}, or point promha at the binaries with --bin NAME=PATH or PROMHA_<NAME>`,
    );
  const host = await hostCodename();
  // By name: a broken manifest of an earlier fetch must not stop the fetch that replaces it.
  const chosen = RELEASES[await chooseReleaseName(release)];
  if (chosen.name === host) {
    await installHostPackages(SETUP_PACKAGES, print);
    return;
  }
  await installHostPackages(HOST_PACKAGES, print);
  print(`${chosen.name} (${chosen.title}) is not this machine's release (${host ?? 'unknown'}): fetching ${releasePackages(chosen).join(' ')}`);
  const fetched = await fetchRelease(chosen, { print });
  for (const note of versionNotes(fetchedVersions(fetched))) print(`note: ${note}`);
  print(`${chosen.name} binaries in ${fetched.root}; \`promha up --release ${chosen.name}\` runs them`);
}
