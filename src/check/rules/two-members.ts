import type { CheckRule } from '../finding.ts';

export const twoMembers: CheckRule = {
  code: 'PH101',
  name: 'two-members',
  description: 'Every set has exactly two members (the Alertmanager cluster: two active plus the backup).',
  *run({ topology }) {
    const { spec } = topology;
    const sets: Array<{ path: (string | number)[]; what: string; count: number }> = [
      ...spec.scrapers.map((s, i) => ({ path: ['scrapers', i, 'members'], what: `scraper set ${s.name}`, count: s.members.length })),
      ...spec.pushgateways.map((s, i) => ({ path: ['pushgateways', i, 'members'], what: `pushgateway set ${s.name}`, count: s.members.length })),
      { path: ['federators', 'members'], what: `federator set ${spec.federators.name}`, count: spec.federators.members.length },
      { path: ['alertmanagers', 'members'], what: `Alertmanager cluster ${spec.alertmanagers.name} (active members)`, count: spec.alertmanagers.members.length },
    ];
    for (const s of sets)
      if (s.count !== 2)
        yield {
          severity: 'error',
          message: `${s.what} has ${s.count} member(s); the design needs exactly 2`,
          location: topology.locate(s.path, { key: true }),
          hint: s.count < 2 ? 'add a second member: one member is a single point of failure' : 'split the extra members into another set',
        };
  },
};
