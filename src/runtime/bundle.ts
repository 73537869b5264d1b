import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DEBIAN_BINARY_PATHS, type BinaryName, type NodeSpec } from '../plan/node-spec.ts';
import { UNITS_DIR } from '../render/install-script.ts';
import { execStartOf, unitName } from '../render/systemd.ts';

export interface BundleCommand {
  /** The process name, as in the plan. */
  readonly name: string;
  readonly binary: BinaryName;
  readonly args: readonly string[];
}

const BINARY_BY_PATH = new Map(Object.entries(DEBIAN_BINARY_PATHS).map(([name, p]) => [p, name as BinaryName]));

/**
 * What each process of a node runs, read back from the ExecStart of its systemd unit in
 * the host bundle: the local stack runs a host exactly as systemd would, minus systemd.
 */
export async function bundleCommands(bundleDir: string, node: NodeSpec): Promise<BundleCommand[]> {
  return Promise.all(
    node.processes.map(async (p) => {
      const unit = path.join(bundleDir, UNITS_DIR, unitName(node, p));
      const [binaryPath, ...args] = execStartOf(await readFile(unit, 'utf8')) ?? [];
      const binary = BINARY_BY_PATH.get(binaryPath ?? '');
      if (!binary) throw new Error(`${unit}: ExecStart runs ${binaryPath ?? 'nothing'}, not a binary of the Debian packages`);
      return { name: p.name, binary, args };
    }),
  );
}
