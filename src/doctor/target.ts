import { Duration } from '../duration.ts';
import { peerTimeout } from '../plan/derived.ts';
import { plan } from '../plan/plan.ts';
import { localPlan } from '../runtime/up.ts';
import { chooseRelease } from '../release/choose.ts';
import type { Release } from '../release/release.ts';
import type { StateDir } from '../runtime/state.ts';
import type { Topology } from '../topology/topology.ts';
import { useClientSecurity } from '../probe/client-security.ts';
import { deploymentClientSecurity } from '../security/material.ts';
import type { DoctorMember, DoctorTarget } from './result.ts';
import { stateRelease } from '../runtime/binaries.ts';

/**
 * On the local stack doctor reaches members at their local addresses and expects the
 * plan `up` ran; for a real deployment, the topology's own addresses and plan.
 */
export async function resolveTarget(topology: Topology, stateDir: StateDir, release?: Release): Promise<DoctorTarget> {
  const state = await stateDir.read();
  if (state) {
    // The stack runs the release `up` chose (stacks from before releases ran Debian 12's), unless the caller expects another.
    const running = release ?? stateRelease(state);
    const { local, nodes } = localPlan(topology, stateDir, { mode: state.mode, subnet: state.network?.subnet, release: running, running: state });
    const recorded = new Map(state.nodes.map((n) => [n.name, n]));
    const members: DoctorMember[] = nodes
      .filter((n) => n.role !== 'vip')
      .map((n) => {
        const r = recorded.get(n.name);
        return {
          name: n.name,
          role: n.role,
          set: n.set,
          backup: n.backup,
          address: String(n.address),
          topologyAddress: r?.topologyAddress ?? '',
          ...(r?.netns ? { netns: r.netns } : {}),
        };
      });
    const amArgs = state.nodes.find((n) => n.role === 'alertmanager')?.processes[0]?.args ?? [];
    const live = amArgs.find((a) => a.startsWith('--cluster.peer-timeout='))?.slice('--cluster.peer-timeout='.length);
    const livePeerTimeout = live ? Duration.tryParse(live) : undefined;
    return {
      topology: local,
      members,
      vips: new Map(local.spec.pushgateways.map((s) => [s.name, String(s.vip.address)])),
      planned: nodes,
      peerTimeout: peerTimeout(local.spec),
      ...(livePeerTimeout ? { livePeerTimeout } : {}),
      release: running,
    };
  }
  return deploymentTarget(topology, release);
}

/** A real deployment: the members at the topology's own addresses, running its plan. */
export async function deploymentTarget(topology: Topology, release?: Release): Promise<DoctorTarget> {
  // A real deployment in secure mode: the topology's CA and password, as the members expect them.
  const security = await deploymentClientSecurity(topology);
  if (security) useClientSecurity(security);
  const expected = release ?? (await chooseRelease(undefined, topology.spec.release));
  const nodes = plan(topology, { vipStandIns: false, release: expected });
  return {
    topology,
    members: nodes.map((n) => ({ name: n.name, role: n.role, set: n.set, backup: n.backup, address: String(n.address), topologyAddress: String(n.address) })),
    vips: new Map(topology.spec.pushgateways.map((s) => [s.name, String(s.vip.address)])),
    planned: nodes,
    peerTimeout: peerTimeout(topology.spec),
    release: expected,
  };
}
