import { renderedYaml } from '../rendered.ts';
import { clusterAddress } from '../../plan/alertmanager.ts';
import type { CheckRule } from '../finding.ts';

interface AlertmanagerFile {
  receivers?: Array<Record<string, unknown>>;
}
interface PrometheusFile {
  alerting?: { alertmanagers?: Array<{ static_configs?: Array<{ targets?: string[] }> }> };
}

export const backupAlertmanager: CheckRule = {
  code: 'PH501',
  name: 'backup-alertmanager',
  description: 'The backup Alertmanager is in the gossip cluster, receives no alerts from the federators and routes to no notifier.',
  *run({ topology, nodes }) {
    const am = topology.spec.alertmanagers;
    const location = topology.locate(['alertmanagers', 'backup']);
    const backupNode = nodes.find((n) => n.role === 'alertmanager' && n.backup);
    if (!backupNode) return;
    const peersOf = (name: string) =>
      nodes.find((n) => n.name === name)?.processes[0]?.args.filter((a) => a.startsWith('--cluster.peer=')).map((a) => a.slice(15)) ?? [];
    for (const m of am.members) {
      if (!peersOf(am.backup.name).includes(String(clusterAddress(m))) || !peersOf(m.name).includes(String(clusterAddress(am.backup))))
        yield {
          severity: 'error',
          message: `backup ${am.backup.name} and ${m.name} do not list each other as gossip peers: silences and the notification log would not reach the backup`,
          location,
          hint: 'every Alertmanager member must peer with every other',
        };
    }
    for (const n of nodes.filter((x) => x.role === 'federator')) {
      const config = renderedYaml(n, 'prometheus.yml') as PrometheusFile;
      const targets = (config.alerting?.alertmanagers ?? []).flatMap((a) => (a.static_configs ?? []).flatMap((s) => s.targets ?? []));
      if (targets.includes(String(am.backup.address)))
        yield {
          severity: 'error',
          message: `federator ${n.name} sends alerts to the backup ${am.backup.name}`,
          location,
          hint: 'the backup only keeps silences and the notification log; send alerts to the two active members',
        };
      for (const m of am.members)
        if (!targets.includes(String(m.address)))
          yield {
            severity: 'error',
            message: `federator ${n.name} does not send alerts to active member ${m.name}`,
            location: topology.locate(['alertmanagers', 'members']),
            hint: 'each federator sends to both active Alertmanagers',
          };
    }
    const config = renderedYaml(backupNode, 'alertmanager.yml') as AlertmanagerFile;
    for (const r of config.receivers ?? []) {
      const integrations = Object.keys(r).filter((k) => k.endsWith('_configs'));
      if (integrations.length)
        yield {
          severity: 'error',
          message: `the backup ${am.backup.name} routes to receiver "${String(r['name'])}" with ${integrations.join(', ')}: it would notify`,
          location,
          hint: 'the backup must route only to receivers without integrations',
        };
    }
  },
};
