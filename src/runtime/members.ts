import { ExitError } from '../errors.ts';
import { isRunning, restartFromRecord, stopProcess } from './process.ts';
import type { NodeRecord, StateDir } from './state.ts';

/** Stops one member of a running stack (all its processes); the state keeps it for `start`. */
export async function stopMember(dir: StateDir, name: string): Promise<number> {
  const state = await dir.read();
  const node = state?.nodes.find((n) => n.name === name);
  if (!state || !node) throw new ExitError(2, `no member "${name}" in the running stack`);
  refuseServed(node);
  let stopped = 0;
  for (const p of node.processes)
    if (isRunning(p)) {
      await stopProcess(p);
      stopped++;
    }
  return stopped;
}

/** Starts a stopped member again with the exact command it ran before, in its own namespace. */
export async function startMember(dir: StateDir, name: string): Promise<number> {
  const state = await dir.read();
  const index = state?.nodes.findIndex((n) => n.name === name) ?? -1;
  const node = state?.nodes[index];
  if (!state || !node) throw new ExitError(2, `no member "${name}" in the running stack`);
  refuseServed(node);
  let started = 0;
  node.processes.forEach((p, i) => {
    if (isRunning(p)) return;
    node.processes[i] = restartFromRecord(p, dir.absoluteRoot);
    started++;
  });
  await dir.write(state);
  return started;
}

/** A demo server shares the workload's process: stopping it alone is not possible, failing it is. */
function refuseServed(node: NodeRecord): void {
  if (!node.servedBy) return;
  // An exporter can fail alone through its fault endpoint; pushers and the webhook cannot.
  const alone = node.set === 'exporter' ? `\`promha fault exporter ${node.name.replace(/^exporter-/, '')} down\` makes it fail alone; or ` : '';
  throw new ExitError(2, `${node.name} runs inside the demo workload process "${node.servedBy}", with every other demo server\n    fix: ${alone}stop or start "${node.servedBy}"`);
}
