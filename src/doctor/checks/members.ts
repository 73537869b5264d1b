import type { DoctorCheck } from '../result.ts';

export const membersReady: DoctorCheck = {
  code: 'DR101',
  name: 'members-ready',
  description: 'Every member is reachable and ready; Alertmanager readiness from /api/v2/status, not /-/ready.',
  *run(t, o) {
    for (const m of t.members) {
      const where = `${m.name} (${m.address})`;
      if (m.role === 'alertmanager') {
        const a = o.alertmanager.get(m.name);
        if (!a?.status) yield { verdict: 'fail', member: m.name, message: `${where} is unreachable: ${a?.error ?? 'not probed'}` };
        else if (a.status.cluster.status !== 'ready') yield { verdict: 'fail', member: m.name, message: `${where}: cluster status is "${a.status.cluster.status}", not ready` };
        else yield { verdict: 'pass', member: m.name, message: `${where}: cluster ready` };
      } else {
        const p = m.role === 'pushgateway' ? o.pushgateway.get(m.name) : o.prometheus.get(m.name);
        if (!p || p.error) yield { verdict: 'fail', member: m.name, message: `${where} is unreachable: ${p?.error ?? 'not probed'}` };
        else if (!p.ready) yield { verdict: 'fail', member: m.name, message: `${where}: /-/ready is not 200` };
        else yield { verdict: 'pass', member: m.name, message: `${where}: ready` };
      }
    }
  },
};
