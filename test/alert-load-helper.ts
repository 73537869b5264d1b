// Runs a step of a live test under the steady alert load, and splits the judged
// episodes into those before the step (the healthy baseline) and those during and after.
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AlertLoad, describeLoad, type LoadContext, type LoadResult } from '../src/drills/alert-load.ts';
import { DrillContext } from '../src/drills/context.ts';
import { latencySummary, type DuplicateNotification, type Flap } from '../src/drills/episodes.ts';
import { StateDir } from '../src/runtime/state.ts';
import { loadTopology } from '../src/topology/load.ts';

export interface LoadedRun<T> {
  readonly value: T;
  readonly load: LoadResult;
  /** Latency of the episodes notified before the step began. */
  readonly healthy: ReturnType<typeof latencySummary>;
  /** Latency of the episodes that began during the step or in the notify bound before it. */
  readonly during: ReturnType<typeof latencySummary>;
  /**
   * The duplicates and flaps the receiver got once the step began: the step's. Those
   * before it are the healthy stack's (at the 1 s test profile Alertmanager's
   * at-least-once HA can show one there too: README, Chaos campaigns), and are reported.
   */
  readonly sinceStep: { readonly duplicates: readonly DuplicateNotification[]; readonly flaps: readonly Flap[] };
  readonly report: string;
}

/** Starts the load, lets it run `healthyMs` on the healthy stack, runs `step`, then judges. */
export async function underLoad<T>(projectDir: string, stateDir: string, o: { seed: number; healthyMs: number }, step: () => Promise<T>): Promise<LoadedRun<T>> {
  return underLoadOn(await DrillContext.open(await loadTopology(path.join(projectDir, 'promha.yaml')), new StateDir(stateDir)), o, step);
}

/** {@link underLoad} on any deployment whose demo servers `ctx` reaches. */
export async function underLoadOn<T>(ctx: LoadContext, o: { seed: number; healthyMs: number }, step: () => Promise<T>): Promise<LoadedRun<T>> {
  const load = await AlertLoad.start(ctx, { seed: o.seed });
  let began = Date.now();
  let outcome: { value: T } | { error: unknown };
  try {
    await sleep(o.healthyMs);
    began = Date.now();
    outcome = { value: await step() };
  } catch (error) {
    outcome = { error };
  }
  // The load's timers end with it, whatever the step did.
  const result = await load.finish();
  if ('error' in outcome) throw outcome.error;
  const value = outcome.value;
  const before = result.verdicts.filter((v) => v.notifiedAt !== undefined && v.notifiedAt < began);
  const during = result.verdicts.filter((v) => !before.includes(v));
  const healthy = latencySummary(before);
  const later = latencySummary(during);
  const report = `${describeLoad(result)}\nlatency before the step: median ${healthy.median?.toFixed(1) ?? '-'} s over ${healthy.count}; during and after: median ${later.median?.toFixed(1) ?? '-'} s, max ${later.max?.toFixed(1) ?? '-'} s over ${later.count}`;
  const sinceStep = { duplicates: result.duplicates.filter((d) => d.receivedAt >= began), flaps: result.flaps.filter((f) => f.receivedAt >= began) };
  return { value, load: result, healthy, during: later, sinceStep, report: `${report}\nsince the step began: ${sinceStep.duplicates.length} duplicate(s), ${sinceStep.flaps.length} flap(s)` };
}
