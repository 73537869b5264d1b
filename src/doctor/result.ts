import type { Duration } from '../duration.ts';
import type { NodeSpec, Role } from '../plan/node-spec.ts';
import type { ActiveTarget, AlertmanagerTargets, RuleGroup } from '../probe/prometheus.ts';
import type { AlertmanagerStatus, Silence } from '../probe/alertmanager.ts';
import type { PushGroup } from '../probe/pushgateway.ts';
import type { Sample } from '../probe/metrics-text.ts';
import type { Topology } from '../topology/topology.ts';
import type { Release } from '../release/release.ts';

export type Verdict = 'pass' | 'warn' | 'fail';

/** One verdict with its evidence: which member, which value. */
export interface DoctorResult {
  /** Stable code, e.g. DR101. */
  readonly code: string;
  readonly check: string;
  readonly verdict: Verdict;
  /** Where the evidence was read. */
  readonly member?: string;
  /**
   * The member the result is about when that is not `member`: a federator that finds a
   * scraper target down observes the fault, but the fault is the scraper's.
   */
  readonly concerns?: string;
  readonly message: string;
}

export interface DoctorMember {
  readonly name: string;
  readonly role: Role;
  readonly set: string;
  readonly backup: boolean;
  /** Where doctor reaches it (local address on the local stack). */
  readonly address: string;
  /** Its address in the topology file. */
  readonly topologyAddress: string;
  /** netns mode: the member's namespace. */
  readonly netns?: string;
}

/** What doctor verifies: the topology (in the addresses doctor reaches) and the plan it should run. */
export interface DoctorTarget {
  readonly topology: Topology;
  readonly members: readonly DoctorMember[];
  /** Pushgateway set → VIP address. */
  readonly vips: ReadonlyMap<string, string>;
  readonly planned: readonly NodeSpec[];
  readonly peerTimeout: Duration;
  /** Live Alertmanager peer timeout, when known (the local stack records command lines). */
  readonly livePeerTimeout?: Duration;
  /** The release the members should run: the one `up` ran, or the topology's. */
  readonly release: Release;
}

export interface PrometheusObservation {
  readonly error?: string;
  readonly ready: boolean;
  readonly targets?: readonly ActiveTarget[];
  readonly flags?: Readonly<Record<string, string>>;
  readonly config?: string;
  readonly alertmanagers?: AlertmanagerTargets;
  /** From /api/v1/status/buildinfo. */
  readonly version?: string;
  /** The rule groups it evaluates, with each rule's health and last error. */
  readonly rules?: readonly RuleGroup[];
}

export interface AlertmanagerObservation {
  readonly error?: string;
  readonly status?: AlertmanagerStatus;
  readonly metrics?: readonly Sample[];
  readonly silences?: readonly Silence[];
}

export interface PushgatewayObservation {
  readonly error?: string;
  readonly ready: boolean;
  readonly groups?: readonly PushGroup[];
  /** From the build information of /api/v1/status. */
  readonly version?: string;
}

export interface VipObservation {
  /** The member whose gateway answered on the VIP. */
  readonly servedBy?: string;
  /** netns: the members whose interface holds the VIP. */
  readonly holders?: readonly string[];
  readonly error?: string;
}

/** Everything doctor read from the live system, once; the checks only reason over it. */
export interface Observations {
  readonly now: Date;
  readonly prometheus: ReadonlyMap<string, PrometheusObservation>;
  readonly alertmanager: ReadonlyMap<string, AlertmanagerObservation>;
  readonly pushgateway: ReadonlyMap<string, PushgatewayObservation>;
  readonly vip: ReadonlyMap<string, VipObservation>;
}

/** One check of the design against the live system: pure, over observations. */
export interface DoctorCheck {
  readonly code: string;
  readonly name: string;
  readonly description: string;
  run(t: DoctorTarget, o: Observations): Iterable<Omit<DoctorResult, 'code' | 'check'>>;
}
