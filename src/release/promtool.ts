import { accessSync, constants } from 'node:fs';
import { ExitError } from '../errors.ts';
import { binaryVersion, releaseSource } from './fetch.ts';
import { versionMatches, type Release } from './release.ts';

/**
 * The release's own promtool: the host's Debian package for the host's release, else the
 * one `promha setup --release` fetched. Its version is checked, because a rule test or a
 * rule check by another Prometheus version answers for that version, not for the release.
 */
export async function releasePromtool(release: Release): Promise<{ path: string; version: string }> {
  const { host, fetched } = await releaseSource(release.name);
  const file = fetched?.binaries.promtool.path ?? release.components.promtool.path;
  try {
    accessSync(file, constants.X_OK);
  } catch {
    const fix = host ? `apt-get install ${release.components.promtool.package}` : `promha setup --release ${release.name}`;
    throw new ExitError(2, `${release.name}'s promtool is not at ${file}\n    fix: \`${fix}\``);
  }
  const version = await binaryVersion(file);
  if (version === undefined || !versionMatches(version, release.components.promtool.version))
    throw new ExitError(2, `${file} is promtool ${version ?? 'of an unknown version'}, not ${release.components.promtool.version} of ${release.name}\n    fix: \`promha setup --release ${release.name}\`, or pass the release this promtool belongs to with --release`);
  return { path: file, version };
}
