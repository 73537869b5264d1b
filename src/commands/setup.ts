import { readFile } from 'node:fs/promises';
import { execa } from 'execa';
import { ExitError } from '../errors.ts';

export const SETUP_PACKAGES = ['prometheus', 'prometheus-alertmanager', 'prometheus-pushgateway', 'keepalived', 'haproxy', 'iproute2', 'openssl'] as const;

async function missingPackages(): Promise<string[]> {
  const missing: string[] = [];
  for (const p of SETUP_PACKAGES) {
    const r = await execa('dpkg-query', ['-W', '-f=${Status}', p], { reject: false });
    if (r.exitCode !== 0 || !r.stdout.includes('install ok installed')) missing.push(p);
  }
  return missing;
}

/** Installs the Debian packages of the real components, as root on Debian or Ubuntu. */
export async function runSetup(print: (s: string) => void): Promise<void> {
  const osRelease = await readFile('/etc/os-release', 'utf8').catch(() => '');
  const debianLike = /^(ID|ID_LIKE)=.*\b(debian|ubuntu)\b/m.test(osRelease);
  const command = `apt-get install -y ${SETUP_PACKAGES.join(' ')}`;
  if (!debianLike) throw new ExitError(2, `promha setup installs Debian packages; this is not Debian or Ubuntu.\n    install the equivalents of: ${SETUP_PACKAGES.join(', ')}, or point promha at the binaries with --bin NAME=PATH or PROMHA_<NAME>`);
  const missing = await missingPackages();
  if (missing.length === 0) {
    print('every package is installed');
    return;
  }
  if (process.getuid?.() !== 0) throw new ExitError(2, `missing packages: ${missing.join(' ')}\n    run as root: ${command}`);
  print(`installing ${missing.join(' ')}`);
  await execa('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  await execa('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env: { DEBIAN_FRONTEND: 'noninteractive' } });
  print('installed');
}
