import type { DoctorCheck } from '../result.ts';

export const scraperTargets: DoctorCheck = {
  code: 'DR201',
  name: 'scraper-targets',
  description: "Each scraper member's exporter targets are up, and both members of a set see the same targets.",
  *run(t, o) {
    for (const set of t.topology.spec.scrapers) {
      const seen = new Map<string, string[]>();
      for (const m of set.members) {
        const p = o.prometheus.get(m.name);
        if (!p?.targets) continue;
        const down = p.targets.filter((x) => x.health !== 'up');
        seen.set(m.name, p.targets.map((x) => x.scrapeUrl).sort());
        if (p.targets.length === 0) yield { verdict: 'fail', member: m.name, message: `${m.name} has no active exporter targets` };
        else if (down.length)
          yield {
            verdict: 'fail',
            member: m.name,
            message: `${m.name}: ${down.length} of ${p.targets.length} exporter targets down: ${down.map((x) => `${x.scrapeUrl} (${x.lastError || x.health})`).join(', ')}`,
          };
        else yield { verdict: 'pass', member: m.name, message: `${m.name}: ${p.targets.length} exporter targets up` };
      }
      const [a, b] = [...seen.entries()];
      if (a && b && a[1].join() !== b[1].join()) {
        const only = (x: string[], y: string[]) => x.filter((u) => !y.includes(u));
        yield {
          verdict: 'fail',
          member: set.name,
          message: `the members of ${set.name} see different targets: only ${a[0]}: ${only(a[1], b[1]).join(', ') || '-'}; only ${b[0]}: ${only(b[1], a[1]).join(', ') || '-'}`,
        };
      }
    }
  },
};
