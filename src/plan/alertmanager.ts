import { Address } from '../address.ts';
import { Duration } from '../duration.ts';
import type { AlertmanagerMemberSpec, TopologySpec } from '../topology/schema.ts';
import type { Release } from '../release/release.ts';
import { clusterLabel, DEFAULT_CLUSTER_PORT, dispatchStartDelay, peerTimeout } from './derived.ts';
import type { Layout, NodeSpec } from './node-spec.ts';
import { clusterTlsArgs, scheme, securityFiles, webConfigArgs, type SecurityMaterial } from './security.ts';
import { yamlFile } from './yaml-file.ts';

export const BACKUP_RECEIVER = 'promha-backup-blackhole';

export const clusterAddress = (m: AlertmanagerMemberSpec): Address => m.cluster_address ?? m.address.withPort(DEFAULT_CLUSTER_PORT);

/** The configuration of the active members: the topology's, passed through. */
export function activeAlertmanagerConfig(spec: TopologySpec): Record<string, unknown> {
  const am = spec.alertmanagers;
  return {
    ...(am.global ? { global: am.global } : {}),
    ...(am.templates ? { templates: am.templates } : {}),
    route: am.route,
    ...(am.inhibit_rules ? { inhibit_rules: am.inhibit_rules } : {}),
    receivers: am.receivers,
  };
}

/**
 * The backup holds silences and the notification log through gossip only: its one
 * receiver has no integration, so it can never notify even if an alert reaches it.
 */
export function backupAlertmanagerConfig(spec: TopologySpec): Record<string, unknown> {
  const route = spec.alertmanagers.route;
  const keep = ['group_by', 'group_wait', 'group_interval', 'repeat_interval'].filter((k) => k in route);
  return {
    route: { receiver: BACKUP_RECEIVER, ...Object.fromEntries(keep.map((k) => [k, route[k]])) },
    receivers: [{ name: BACKUP_RECEIVER }],
  };
}

/**
 * The gossip name of each member where Alertmanager takes one (0.30+). A peer's position
 * is the index of its name among the sorted names, so numbering the members in cluster
 * order, backup last, fixes the backup at the last position whatever the start order
 * and however often the active members restart.
 */
export function peerName(spec: TopologySpec, member: AlertmanagerMemberSpec): string {
  const all = [...spec.alertmanagers.members, spec.alertmanagers.backup];
  const width = String(all.length).length;
  return `${String(all.indexOf(member) + 1).padStart(width, '0')}-${member.name}`;
}

const START_DELAY_FLAG = '--dispatch.start-delay=';

/**
 * Where Alertmanager has no start delay (before 0.30), a started member flushes the first
 * alert of each group at once and sends that snapshot only once its gossip settled
 * (about 10 s by default): measured, it then notified resolved alerts that had fired
 * again meanwhile. Its peers' state arrives before that, with the join (a push/pull with
 * every --cluster.peer), so the member does not wait for the settling.
 */
const SETTLE_TIMEOUT = '2s';

/**
 * The --dispatch.start-delay a member's processes set, if any: how long after its start
 * an Alertmanager notifies nothing. Takes a plan's processes or a running member's.
 */
export function startDelayOf(processes: ReadonlyArray<{ readonly args: readonly string[] }>): Duration | undefined {
  const arg = processes.flatMap((p) => p.args).find((a) => a.startsWith(START_DELAY_FLAG));
  return arg === undefined ? undefined : Duration.tryParse(arg.slice(START_DELAY_FLAG.length));
}

export function planAlertmanagers(spec: TopologySpec, layout: Layout, release: Release, security?: SecurityMaterial): NodeSpec[] {
  const am = spec.alertmanagers;
  const all = [...am.members, am.backup];
  const timeout = peerTimeout(spec);
  const label = clusterLabel(spec);
  // Without --cluster.peer-name the backup must start last: start order decides peer positions (DESIGN §2).
  return all.map((member) => {
    const backup = member === am.backup;
    const configDir = layout.configDir(member.name);
    const dataDir = layout.dataDir(member.name);
    const cluster = clusterAddress(member);
    const args = [
      `--config.file=${configDir}/alertmanager.yml`,
      `--storage.path=${dataDir}`,
      `--web.listen-address=${member.address.listen}`,
      `--web.external-url=${scheme(spec)}://${member.address}/`,
      ...webConfigArgs(spec, configDir),
      `--cluster.listen-address=${cluster.isIp ? cluster : `0.0.0.0:${cluster.port}`}`,
      ...(cluster.isIp ? [`--cluster.advertise-address=${cluster}`] : []),
      ...all.filter((p) => p !== member).map((p) => `--cluster.peer=${clusterAddress(p)}`),
      `--cluster.peer-timeout=${timeout}`,
      ...(release.dispatchStartDelay ? [`${START_DELAY_FLAG}${dispatchStartDelay(spec)}`] : [`--cluster.settle-timeout=${SETTLE_TIMEOUT}`]),
      ...(release.clusterLabel && label !== undefined ? [`--cluster.label=${label}`] : []),
      ...(release.clusterPeerName ? [`--cluster.peer-name=${peerName(spec, member)}`] : []),
      ...clusterTlsArgs(spec, configDir),
    ];
    return {
      name: member.name,
      role: 'alertmanager',
      set: am.name,
      backup,
      address: member.address,
      configDir,
      dataDir,
      // Silences and the notification log live here; losing them is what the backup guards against.
      persistent: true,
      standIn: false,
      files: [
        yamlFile('alertmanager.yml', backup ? backupAlertmanagerConfig(spec) : activeAlertmanagerConfig(spec)),
        ...securityFiles(spec, member.name, configDir, security, { server: true, client: false, gossip: true }),
      ],
      processes: [{ name: 'alertmanager', binary: 'prometheus-alertmanager', args }],
    };
  });
}
