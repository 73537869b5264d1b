// VIP failover time and pushes lost: the pushgateway-host-lost drill, repeated, per network mode.
import { runDrills, selectScenarios } from '../src/drills/run.ts';
import type { NetworkMode } from '../src/runtime/local-topology.ts';
import { FAST_RULES, fastTopology } from '../test/helpers.ts';
import { withStack } from './stack.ts';
import type { ReleaseName } from '../src/release/release.ts';
import { median } from './stats.ts';

export interface VipFailoverResult {
  readonly mode: NetworkMode;
  readonly runs: number;
  /** Seconds until the VIP reached the standby, per run where it moved. */
  readonly failoverSeconds: readonly number[];
  readonly medianSeconds: number;
  readonly maxSeconds: number;
  /** Pushes that failed after the pusher's retries, summed over the runs. */
  readonly pushesLost: number;
  readonly allExpectationsMet: boolean;
  /** The drill's expectations that failed, with their evidence. */
  readonly failedExpectations: readonly string[];
}

export async function vipFailover(o: { mode: NetworkMode; runs: number; progress: (l: string) => void; release?: ReleaseName }): Promise<VipFailoverResult> {
  return withStack({ 'promha.yaml': fastTopology(), 'rules/demo.yml': FAST_RULES }, o.mode, async (stack) => {
    o.progress(`vip    stack up in ${stack.upSeconds.toFixed(1)} s (${o.mode}, 1 s profile)`);
    const outcomes = await runDrills(stack.topology, stack.stateDir, selectScenarios(Array(o.runs).fill('pushgateway-host-lost')), (l) => o.progress(`vip    ${l}`));
    const failoverSeconds = outcomes.flatMap((x) => (x.measurements.recoverSeconds === undefined ? [] : [x.measurements.recoverSeconds]));
    for (const x of outcomes) o.progress(`vip    ${o.mode}: moved in ${x.measurements.recoverSeconds?.toFixed(1) ?? '–'} s, ${x.measurements.pushesLost} push(es) lost, ${x.ok ? 'all expectations met' : `failed: ${x.expectations.filter((e) => !e.ok).map((e) => `${e.name} (${e.detail})`).join('; ')}`}`);
    return {
      mode: o.mode,
      runs: outcomes.length,
      failoverSeconds,
      medianSeconds: median(failoverSeconds),
      maxSeconds: Math.max(...failoverSeconds),
      pushesLost: outcomes.reduce((sum, x) => sum + (x.measurements.pushesLost ?? 0), 0),
      allExpectationsMet: outcomes.every((x) => x.ok),
      failedExpectations: outcomes.flatMap((x) => x.expectations.filter((e) => !e.ok).map((e) => `${e.name}: ${e.detail}`)),
    };
  }, o.release);
}
