// A benchmark's own stack: a temporary project, `promha up --detach`, and always `down`.
import path from 'node:path';
import type { NetworkMode } from '../src/runtime/local-topology.ts';
import { StateDir } from '../src/runtime/state.ts';
import { loadTopology } from '../src/topology/load.ts';
import type { Topology } from '../src/topology/topology.ts';
import type { ReleaseName } from '../src/release/release.ts';
import { promha, tempProject } from '../test/helpers.ts';

export interface Stack {
  readonly dir: string;
  readonly stateDir: StateDir;
  readonly topology: Topology;
  /** Wall time of `promha up --detach` until it returned ready. */
  readonly upSeconds: number;
  /** Runs the real CLI against this stack's state directory. */
  run(...args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }>;
}

/**
 * Starts `files` (with `promha.yaml`) as a stack, runs `body`, and brings the stack down
 * whatever happens. The caller holds the machine-wide stack lock.
 */
export async function withStack<T>(files: Record<string, string | object>, mode: NetworkMode, body: (s: Stack) => Promise<T>, release?: ReleaseName): Promise<T> {
  const project = await tempProject(files);
  const stateRoot = path.join(project.dir, '.promha');
  const run = async (...args: string[]) => {
    const r = await promha([...args, '--state-dir', stateRoot], project.dir);
    return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
  };
  try {
    const t0 = performance.now();
    const up = await run('up', 'promha.yaml', '--network', mode, '--detach', '--no-dashboard', ...(release ? ['--release', release] : []));
    const upSeconds = (performance.now() - t0) / 1000;
    if (up.exitCode !== 0) throw new Error(`promha up failed (exit ${up.exitCode}):\n${up.stdout}\n${up.stderr}`);
    const topology = await loadTopology(path.join(project.dir, 'promha.yaml'));
    return await body({ dir: project.dir, stateDir: new StateDir(stateRoot), topology, upSeconds, run });
  } finally {
    await run('down');
    await project.cleanup();
  }
}
