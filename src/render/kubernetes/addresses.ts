import { Address } from '../../address.ts';
import type { Layout } from '../../plan/node-spec.ts';
import type { TopologySpec } from '../../topology/schema.ts';
import type { Topology } from '../../topology/topology.ts';

/**
 * Each member runs as the single pod of its own StatefulSet (named after the member),
 * and each set has a headless Service (named after the set): a member's in-cluster
 * address is `<member>-0.<set>.<namespace>.svc`. Members get their own StatefulSet
 * because their configs and flags differ (external labels, peers, the backup's config).
 */
export const podName = (member: string): string => `${member}-0`;
export const vipServiceName = (set: string): string => `${set}-vip`;

const memberAddress = (member: string, set: string, ns: string, port: number) => Address.parse(`${podName(member)}.${set}.${ns}.svc:${port}`);

/** Inside a pod: one member per pod, so no member name in the paths. */
export const KUBERNETES_LAYOUT: Layout = {
  configDir: () => '/etc/promha',
  dataDir: () => '/var/lib/promha',
  runDir: () => '/run/promha',
};

/**
 * The topology as it runs in the cluster: every member and VIP at its Service DNS name.
 * Planning this topology gives the in-cluster configs, so federators scrape each member
 * through the headless Service and pushers push to the VIP's ClusterIP Service.
 */
export function kubernetesTopology(topology: Topology, namespace: string): Topology {
  const spec = topology.spec;
  const inSet = (set: string) => <T extends { name: string; address: Address }>(m: T): T => ({ ...m, address: memberAddress(m.name, set, namespace, m.address.port) });
  const am = spec.alertmanagers;
  const amMember = <T extends { name: string; address: Address; cluster_address?: Address | undefined }>(m: T): T => {
    const { cluster_address: cluster, ...rest } = m;
    const address = memberAddress(m.name, am.name, namespace, m.address.port);
    return { ...rest, address, ...(cluster ? { cluster_address: address.withPort(cluster.port) } : {}) } as T;
  };
  const k8s: TopologySpec = {
    ...spec,
    scrapers: spec.scrapers.map((s) => ({ ...s, members: s.members.map(inSet(s.name)) })),
    pushgateways: spec.pushgateways.map((s) => ({
      ...s,
      vip: { ...s.vip, address: Address.parse(`${vipServiceName(s.name)}.${namespace}.svc:${s.vip.address.port}`) },
      members: s.members.map(inSet(s.name)),
    })),
    federators: { ...spec.federators, members: spec.federators.members.map(inSet(spec.federators.name)) },
    alertmanagers: { ...am, members: am.members.map(amMember), backup: amMember(am.backup) },
  };
  return { ...topology, spec: k8s };
}
