import { readFile } from 'node:fs/promises';

/** The codename of this machine's Debian release (`bookworm`), from /etc/os-release. */
export async function hostCodename(osRelease = '/etc/os-release'): Promise<string | undefined> {
  const text = await readFile(osRelease, 'utf8').catch(() => '');
  return /^VERSION_CODENAME=("?)([a-z]+)\1$/m.exec(text)?.[2];
}
