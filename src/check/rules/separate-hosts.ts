import type { Address } from '../../address.ts';
import { namesByHost } from '../../faults/matrix.ts';
import type { CheckRule } from '../finding.ts';

export const separateHosts: CheckRule = {
  code: 'PH107',
  name: 'separate-hosts',
  description: 'The members of a set (and the three Alertmanagers) run on different hosts: a pair on one host fails as one.',
  *run({ topology }) {
    const { spec } = topology;
    const sets: Array<{ what: string; path: (string | number)[]; members: ReadonlyArray<{ name: string; address: Address }> }> = [
      ...spec.scrapers.map((s, i) => ({ what: `scraper set ${s.name}`, path: ['scrapers', i, 'members'], members: s.members })),
      ...spec.pushgateways.map((s, i) => ({ what: `pushgateway set ${s.name}`, path: ['pushgateways', i, 'members'], members: s.members })),
      { what: `federator set ${spec.federators.name}`, path: ['federators', 'members'], members: spec.federators.members },
      { what: `Alertmanager cluster ${spec.alertmanagers.name}`, path: ['alertmanagers', 'members'], members: [...spec.alertmanagers.members, spec.alertmanagers.backup] },
    ];
    for (const set of sets) {
      for (const [host, names] of namesByHost(set.members))
        if (names.length > 1)
          yield {
            severity: 'warning',
            message: `${names.join(' and ')} of ${set.what} run on one host, ${host}: losing it loses them together`,
            location: topology.locate(set.path),
            hint: 'put the members of a set on different hosts (`promha check --faults` shows what each host costs)',
          };
    }
  },
};
