import { Address } from '../address.ts';
import type { AlertmanagerMemberSpec, TopologySpec } from '../topology/schema.ts';
import { DEFAULT_CLUSTER_PORT, peerTimeout } from './derived.ts';
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

export function planAlertmanagers(spec: TopologySpec, layout: Layout, security?: SecurityMaterial): NodeSpec[] {
  const am = spec.alertmanagers;
  const all = [...am.members, am.backup];
  const timeout = peerTimeout(spec);
  // The backup comes last: start order decides peer positions (DESIGN §2).
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
