import type { StateDir } from '../runtime/state.ts';
import type { Topology } from '../topology/topology.ts';
import { alertRouting } from './checks/alert-routing.ts';
import { backupPosition, backupSilent, clusterSize, silencesIdentical } from './checks/alertmanager-cluster.ts';
import { drift } from './checks/drift.ts';
import { federateDuration, federationDirect } from './checks/federation.ts';
import { membersReady, memberVersions } from './checks/members.ts';
import { pushFreshness, standbyClean, vipHolder } from './checks/pushgateways.ts';
import { liveDedup, liveRetention, liveTiming, ruleHealth } from './checks/rules-and-labels.ts';
import { scraperTargets } from './checks/scrapers.ts';
import { observe } from './observe.ts';
import type { DoctorCheck, DoctorResult, DoctorTarget, Observations } from './result.ts';
import { resolveTarget } from './target.ts';
import type { Release } from '../release/release.ts';

export const DOCTOR_CHECKS: readonly DoctorCheck[] = [
  membersReady,
  memberVersions,
  scraperTargets,
  federationDirect,
  federateDuration,
  alertRouting,
  clusterSize,
  backupSilent,
  silencesIdentical,
  backupPosition,
  vipHolder,
  standbyClean,
  pushFreshness,
  liveRetention,
  liveDedup,
  liveTiming,
  ruleHealth,
  drift,
];

/** Every check over one set of observations. */
export function evaluate(t: DoctorTarget, o: Observations, checks: readonly DoctorCheck[] = DOCTOR_CHECKS): DoctorResult[] {
  return checks.flatMap((c) => [...c.run(t, o)].map((r) => ({ code: c.code, check: c.name, ...r })));
}

/** `release`: the release the members should run. @default the local stack's, else the topology's. */
export async function doctor(topology: Topology, stateDir: StateDir, release?: Release): Promise<DoctorResult[]> {
  const target = await resolveTarget(topology, stateDir, release);
  return evaluate(target, await observe(target));
}
