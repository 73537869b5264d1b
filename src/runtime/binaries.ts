import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { ExitError } from '../errors.ts';
import { DEBIAN_BINARY_PATHS, DEBIAN_PACKAGES, type BinaryName } from '../plan/node-spec.ts';

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
 * Finds each binary: an explicit path (flag), then the environment variable, then the
 * Debian package path, then PATH. Reports every missing one at once, with the fix.
 */
export function findBinaries(needed: Iterable<BinaryName>, explicit: Partial<Record<BinaryName, string>> = {}, env = process.env): Record<BinaryName, string> {
  const found: Partial<Record<BinaryName, string>> = {};
  const missing: BinaryName[] = [];
  for (const b of new Set(needed)) {
    const given = explicit[b] ?? env[envName(b)];
    if (given) {
      if (!executable(given)) throw new ExitError(2, `${b}: "${given}" is not an executable file (from ${explicit[b] ? '--bin' : envName(b)})`);
      found[b] = given;
      continue;
    }
    const candidates = [DEBIAN_BINARY_PATHS[b], ...(env['PATH'] ?? '').split(':').filter(Boolean).flatMap((d) => OTHER_NAMES[b].map((n) => path.join(d, n)))];
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
