import { DEBIAN_PACKAGES, type FileSpec, type Layout, type NodeSpec } from '../plan/node-spec.ts';
import { INSTALL_SCRIPT, installScript, PACKAGES_FILE, UNITS_DIR } from './install-script.ts';
import { systemdUnits } from './systemd.ts';
import { commandLine } from './command-line.ts';
import { RELEASES, type Release } from '../release/release.ts';

/**
 * Everything one host needs, relative to its bundle directory: the member's config files
 * (at the paths they take under its config directory), a systemd unit per process, the
 * Debian packages, the install script, and each process's exact command line.
 */
export function hostBundle(node: NodeSpec, layout: Layout, release: Release = RELEASES.bookworm): FileSpec[] {
  const units = systemdUnits(node, layout);
  const packages = [...new Set(node.processes.map((p) => DEBIAN_PACKAGES[p.binary]))];
  return [
    ...node.files,
    ...node.processes.map((p) => ({ path: `${p.name}.cmdline`, content: `${commandLine(p)}\n` })),
    ...units.map((u) => ({ path: `${UNITS_DIR}/${u.name}`, content: u.content })),
    { path: PACKAGES_FILE, content: `${packages.join('\n')}\n` },
    { path: INSTALL_SCRIPT, content: installScript(node, units, release), mode: 0o755 },
  ];
}
