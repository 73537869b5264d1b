import type { DoctorCheck } from '../result.ts';

export const alertRouting: DoctorCheck = {
  code: 'DR401',
  name: 'alert-routing',
  description: 'Each federator sends to exactly the two active Alertmanagers, never the backup.',
  *run(t, o) {
    const actives = t.members.filter((m) => m.role === 'alertmanager' && !m.backup).map((m) => m.address).sort();
    const backup = t.members.find((m) => m.role === 'alertmanager' && m.backup);
    for (const f of t.members.filter((m) => m.role === 'federator')) {
      const p = o.prometheus.get(f.name);
      if (!p?.alertmanagers) continue;
      const live = p.alertmanagers.active.map((u) => new URL(u).host).sort();
      if (backup && live.includes(backup.address))
        yield { verdict: 'fail', member: f.name, message: `${f.name} sends alerts to the backup ${backup.name} (${backup.address})` };
      else if (live.join() !== actives.join())
        yield { verdict: 'fail', member: f.name, message: `${f.name} sends to [${live.join(', ') || 'none'}], expected the active members [${actives.join(', ')}]` };
      else yield { verdict: 'pass', member: f.name, message: `${f.name} sends to the two active Alertmanagers only` };
    }
  },
};
