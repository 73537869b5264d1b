import type { CheckRule } from '../finding.ts';

export const persistence: CheckRule = {
  code: 'PH401',
  name: 'persistence',
  description: 'Scrapers and pushgateways persist nothing; federators persist their history.',
  *run({ topology }) {
    const { spec } = topology;
    for (const [i, s] of spec.scrapers.entries())
      if (s.storage.persistent)
        yield {
          severity: 'warning',
          message: `scraper set ${s.name} is persistent: the seed's scrapers need no persistence, the federators keep the history`,
          location: topology.locate(['scrapers', i, 'storage', 'persistent']),
          hint: 'set `persistent: false` (throwaway storage, short retention)',
        };
    for (const [i, s] of spec.pushgateways.entries())
      if (s.persistence_file !== '')
        yield {
          severity: 'error',
          message: `pushgateway set ${s.name} persists to ${s.persistence_file}: a restarted gateway would bring back old push groups next to the active one, and the merged series would alternate`,
          location: topology.locate(['pushgateways', i, 'persistence_file']),
          hint: 'remove persistence_file: a restarted gateway must come back empty',
        };
    if (!spec.federators.storage.persistent)
      yield {
        severity: 'error',
        message: `federator set ${spec.federators.name} is not persistent: alert rules need their history to survive a restart`,
        location: topology.locate(['federators', 'storage', 'persistent']),
        hint: 'set `persistent: true` and a storage path',
      };
  },
};
