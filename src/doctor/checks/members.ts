import { versionMatches, type Component } from '../../release/release.ts';
import type { DoctorCheck, Observations } from '../result.ts';
import type { Role } from '../../plan/node-spec.ts';

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

/** The component a member of each role serves (a gateway's keepalived is the host's). */
export const COMPONENT_OF_ROLE: Readonly<Partial<Record<Role, Component>>> = {
  scraper: 'prometheus',
  federator: 'prometheus',
  alertmanager: 'alertmanager',
  pushgateway: 'pushgateway',
};

/** The version a member's server reports, undefined while it cannot be read. */
export function liveVersion(o: Observations, name: string, role: Role): string | undefined {
  if (role === 'alertmanager') return o.alertmanager.get(name)?.status?.versionInfo['version'];
  return (role === 'pushgateway' ? o.pushgateway.get(name) : o.prometheus.get(name))?.version;
}

export const memberVersions: DoctorCheck = {
  code: 'DR102',
  name: 'member-versions',
  description: "Every member runs its component's version of the release: the rendered flags and config fields are that release's.",
  *run(t, o) {
    for (const m of t.members) {
      const component = COMPONENT_OF_ROLE[m.role];
      if (!component) continue;
      const expected = t.release.components[component].version;
      const version = liveVersion(o, m.name, m.role);
      if (!version) continue; // unreachable: DR101 says so
      if (versionMatches(version, expected)) yield { verdict: 'pass', member: m.name, message: `${m.name}: ${component} ${version} (${t.release.name})` };
      else
        yield {
          verdict: 'fail',
          member: m.name,
          message: `${m.name}: runs ${component} ${version}, but ${t.release.name} (${t.release.title}) is ${expected}.x: its flags and config fields may be refused or mean something else; install ${t.release.name}'s packages there, or render and check with --release for the release it runs`,
        };
    }
  },
};
