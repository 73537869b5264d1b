import type { Duration } from '../duration.ts';
import type { NetworkMode } from '../runtime/local-topology.ts';
import type { ReleaseName } from '../release/release.ts';
import type { DrillContext } from './context.ts';

export interface Expectation {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** What a drill measured; absent fields do not apply to the scenario. */
export interface Measurements {
  readonly detectSeconds?: number;
  readonly recoverSeconds?: number;
  readonly notificationsExpected?: number;
  readonly notificationsReceived?: number;
  readonly notificationsDuplicated?: number;
  readonly pushesLost?: number;
  readonly samplesLost?: number;
  /** How long the drill watched for flaps. */
  readonly watchedSeconds?: number;
}

export interface DrillOutcome {
  readonly scenario: string;
  readonly title: string;
  readonly mode: NetworkMode;
  /** The release the stack ran, and the versions its servers printed at start. */
  readonly release: ReleaseName;
  readonly versions: Readonly<Record<string, string>>;
  readonly ok: boolean;
  readonly expectations: readonly Expectation[];
  readonly measurements: Measurements;
  readonly startedAt: string;
  readonly seconds: number;
}

export interface DrillScenario {
  /** Stable name used on the command line, e.g. scraper-killed. */
  readonly name: string;
  readonly title: string;
  /** Network modes the scenario applies to. */
  readonly modes: readonly NetworkMode[];
  /** Injects the fault, drives a test alert, measures, and restores the stack. */
  run(ctx: DrillContext): Promise<{ expectations: Expectation[]; measurements: Measurements }>;
}

export const expect = (name: string, ok: boolean, detail: string): Expectation => ({ name, ok, detail });

/** How long to watch for a resolved/firing flap: past the lookback, as 7 min is past 5 min. */
export const flapWindow = (lookback: Duration): Duration => lookback.times(1.4);
