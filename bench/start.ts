// Start and size: `promha up` to ready for the seed topology, and the memory of the whole stack.
import { collectStatus } from '../src/commands/status.ts';
import type { NetworkMode } from '../src/runtime/local-topology.ts';
import { seedTopology } from '../src/topology/seed.ts';
import { withStack } from './stack.ts';
import type { ReleaseName } from '../src/release/release.ts';
import { mib } from './stats.ts';

export interface StartResult {
  readonly mode: NetworkMode;
  readonly upSeconds: number;
  readonly members: number;
  readonly totalMiB: number;
  /** Resident memory by role (the demo workload included), MiB. */
  readonly byRoleMiB: Readonly<Record<string, number>>;
  /** The real components' memory (every role but the demo workload), MiB. */
  readonly componentsMiB: number;
  /** The memory goal: 1.15 × the components + 100 MiB for the demo workload and the rest. */
  readonly memoryGoalMiB: number;
  /** The start's floor: one federate interval (the federators' first scrape) + 10 s (gossip settling). */
  readonly floorSeconds: number;
}

export async function startAndSize(o: { mode: NetworkMode; progress: (l: string) => void; release?: ReleaseName }): Promise<StartResult> {
  // The seed exactly as `promha init` writes it, at its 30 s intervals.
  return withStack({ 'promha.yaml': seedTopology('promha.schema.json') }, o.mode, async (stack) => {
    const status = await collectStatus(stack.stateDir);
    const byRoleMiB: Record<string, number> = {};
    for (const m of status.members) byRoleMiB[m.role] = (byRoleMiB[m.role] ?? 0) + mib(m.rssBytes);
    const totalMiB = Object.values(byRoleMiB).reduce((a, b) => a + b, 0);
    const componentsMiB = totalMiB - (byRoleMiB['demo'] ?? 0);
    const floorSeconds = stack.topology.spec.intervals.federate.ms / 1000 + 10;
    o.progress(`start  ${o.mode}: up to ready in ${stack.upSeconds.toFixed(1)} s (floor ${floorSeconds} s); ${status.members.length} members, ${totalMiB.toFixed(0)} MiB (demo ${(byRoleMiB['demo'] ?? 0).toFixed(0)})`);
    return { mode: o.mode, upSeconds: stack.upSeconds, members: status.members.length, totalMiB, byRoleMiB, componentsMiB, memoryGoalMiB: componentsMiB * 1.15 + 100, floorSeconds };
  }, o.release);
}
