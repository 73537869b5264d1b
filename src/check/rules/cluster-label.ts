import type { CheckRule } from '../finding.ts';

export const clusterLabel: CheckRule = {
  code: 'PH504',
  name: 'cluster-label',
  description: 'Alertmanagers of a release with --cluster.label run with one, so a cluster that names a member of this one as a peer never merges with it.',
  *run({ topology, release }) {
    if (!release.clusterLabel || topology.spec.alertmanagers.cluster_label !== false) return;
    yield {
      severity: 'warning',
      message: `${topology.spec.alertmanagers.name} runs without --cluster.label on ${release.name}: another cluster that names one of its members as a peer merges with it`,
      location: topology.locate(['alertmanagers', 'cluster_label']),
      hint: 'once every member runs a release with labels, remove `cluster_label: false` and restart the three members within a short window (members of different labels do not gossip, and `promha apply` refuses to change a label one member at a time)',
    };
  },
};
