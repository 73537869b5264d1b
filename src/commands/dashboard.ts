import { DEFAULT_DASHBOARD_LISTEN, parseLoopbackListen, startDashboard } from '../dashboard/server.ts';
import { lines, type CliIo } from '../cli/io.ts';
import { StateDir } from '../runtime/state.ts';
import { loadTopology } from '../topology/load.ts';
import { serveUntilSignal } from './demo.ts';

export interface DashboardCommandOptions {
  readonly listen?: string;
  readonly stateDir: string;
}

/**
 * Serves the dashboard until SIGINT or SIGTERM: for the stack `promha up` runs from the
 * state directory, or, when none runs, for the deployment at the topology's addresses.
 */
export async function runDashboard(file: string, o: DashboardCommandOptions, io: CliIo): Promise<void> {
  const print = lines(io);
  const listen = o.listen ?? DEFAULT_DASHBOARD_LISTEN;
  parseLoopbackListen(listen);
  const stateDir = new StateDir(o.stateDir);
  const topology = await loadTopology(file);
  await serveUntilSignal('promha dashboard', async () => {
    const d = await startDashboard({ listen, stateDir, topology });
    const state = await stateDir.read();
    print(io.paint.dim(state ? `watching the ${state.mode} stack in ${stateDir.root}` : `watching ${topology.file} at its own addresses (no local stack in ${stateDir.root})`));
    return d;
  }, io);
}
