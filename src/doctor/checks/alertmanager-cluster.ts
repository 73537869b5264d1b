import { peerPosition } from '../../probe/alertmanager.ts';
import { findSamples } from '../../probe/metrics-text.ts';
import type { DoctorCheck } from '../result.ts';

const sum = (xs: readonly { value: number }[]) => xs.reduce((a, s) => a + s.value, 0);

export const clusterSize: DoctorCheck = {
  code: 'DR501',
  name: 'alertmanager-cluster',
  description: 'The Alertmanager cluster has all 3 members, each of them ready and seeing the others.',
  *run(t, o) {
    const ams = t.members.filter((m) => m.role === 'alertmanager');
    for (const m of ams) {
      const s = o.alertmanager.get(m.name)?.status;
      if (!s) continue;
      const peers = s.cluster.peers.length;
      if (peers !== ams.length)
        yield { verdict: 'fail', member: m.name, message: `${m.name} sees ${peers} cluster member(s) [${s.cluster.peers.map((p) => p.address).join(', ')}], expected ${ams.length}` };
      else yield { verdict: 'pass', member: m.name, message: `${m.name} sees all ${peers} members, status ${s.cluster.status}` };
    }
  },
};

export const backupSilent: DoctorCheck = {
  code: 'DR502',
  name: 'backup-silent',
  description: 'The backup Alertmanager has received no alert and sent no notification.',
  *run(t, o) {
    const backup = t.members.find((m) => m.role === 'alertmanager' && m.backup);
    const metrics = backup && o.alertmanager.get(backup.name)?.metrics;
    if (!backup || !metrics) return;
    const received = sum(findSamples(metrics, 'alertmanager_alerts_received_total'));
    const sent = sum(findSamples(metrics, 'alertmanager_notifications_total'));
    if (received > 0) yield { verdict: 'fail', member: backup.name, message: `the backup ${backup.name} has received ${received} alert(s): some Prometheus sends to it` };
    if (sent > 0) yield { verdict: 'fail', member: backup.name, message: `the backup ${backup.name} has sent ${sent} notification(s)` };
    if (received === 0 && sent === 0) yield { verdict: 'pass', member: backup.name, message: `the backup ${backup.name}: 0 alerts received, 0 notifications sent` };
  },
};

export const silencesIdentical: DoctorCheck = {
  code: 'DR503',
  name: 'silences-identical',
  description: 'Silences are identical on every Alertmanager member (gossip works).',
  *run(t, o) {
    const lists = t.members
      .filter((m) => m.role === 'alertmanager')
      .flatMap((m) => {
        const s = o.alertmanager.get(m.name)?.silences;
        return s ? [{ name: m.name, ids: s.map((x) => `${x.id}@${x.endsAt.toISOString()}`).sort() }] : [];
      });
    const first = lists[0];
    if (!first) return;
    const differing = lists.filter((l) => l.ids.join() !== first.ids.join());
    if (differing.length)
      yield {
        verdict: 'fail',
        message: `silences differ: ${lists.map((l) => `${l.name} has ${l.ids.length}`).join(', ')}: gossip does not carry them`,
      };
    else yield { verdict: 'pass', message: `${lists.length} members hold the same ${first.ids.length} silence(s)` };
  },
};

export const backupPosition: DoctorCheck = {
  code: 'DR504',
  name: 'backup-position',
  description: 'The backup holds the last peer position, so it delays no real notification (DESIGN §2).',
  *run(t, o) {
    const ams = t.members.filter((m) => m.role === 'alertmanager');
    const backup = ams.find((m) => m.backup);
    const status = backup && o.alertmanager.get(backup.name)?.status;
    if (!backup || !status?.cluster.name) return;
    const position = peerPosition(status, status.cluster.name);
    const last = ams.length - 1;
    if (position === last) {
      yield { verdict: 'pass', member: backup.name, message: `the backup ${backup.name} holds position ${position} of 0-${last}` };
      return;
    }
    // The first active member now waits one position more for every place the backup took.
    const timeout = t.livePeerTimeout ?? t.peerTimeout;
    const firstActive = Math.min(...ams.filter((m) => !m.backup).map((m) => {
      const s = o.alertmanager.get(m.name)?.status;
      return s?.cluster.name ? peerPosition(s, s.cluster.name) : last;
    }));
    yield {
      verdict: 'warn',
      member: backup.name,
      message: `the backup ${backup.name} holds position ${position}, not ${last}: every notification waits ${(firstActive * timeout.seconds).toFixed(1)} s more (${firstActive} × peer_timeout ${timeout}); restart the backup to move it last`,
    };
  },
};
