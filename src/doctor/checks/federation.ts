import { Duration } from '../../duration.ts';
import { FEDERATE_JOB_PREFIX, PUSHGATEWAY_JOB_PREFIX } from '../../plan/derived.ts';
import type { DoctorCheck } from '../result.ts';

const hostPort = (scrapeUrl: string) => new URL(scrapeUrl).host;

export const federationDirect: DoctorCheck = {
  code: 'DR301',
  name: 'federation-direct',
  description: 'Each federator scrapes every scraper and pushgateway member directly (never a VIP), and all are up.',
  *run(t, o) {
    const wanted = t.members.filter((m) => m.role === 'scraper' || m.role === 'pushgateway');
    const vips = new Set(t.vips.values());
    for (const f of t.members.filter((m) => m.role === 'federator')) {
      const p = o.prometheus.get(f.name);
      if (!p?.targets) continue;
      const federation = p.targets.filter((x) => x.scrapePool.startsWith(FEDERATE_JOB_PREFIX) || x.scrapePool.startsWith(PUSHGATEWAY_JOB_PREFIX) || vips.has(hostPort(x.scrapeUrl)));
      let ok = true;
      for (const x of p.targets)
        if (vips.has(hostPort(x.scrapeUrl))) {
          ok = false;
          yield { verdict: 'fail', member: f.name, message: `${f.name} scrapes the VIP ${hostPort(x.scrapeUrl)} (job ${x.scrapePool}): it sees only whichever gateway holds the VIP` };
        }
      for (const m of wanted) {
        const target = federation.find((x) => hostPort(x.scrapeUrl) === m.address);
        if (!target) {
          ok = false;
          yield { verdict: 'fail', member: f.name, concerns: m.name, message: `${f.name} does not scrape ${m.name} (${m.address})` };
        } else if (target.health !== 'up') {
          ok = false;
          yield { verdict: 'fail', member: f.name, concerns: m.name, message: `${f.name}: target ${m.name} (${m.address}) is ${target.health}: ${target.lastError || 'no error text'}` };
        }
      }
      if (ok) yield { verdict: 'pass', member: f.name, message: `${f.name}: all ${wanted.length} scraper and pushgateway members scraped directly and up` };
    }
  },
};

export const federateDuration: DoctorCheck = {
  code: 'DR302',
  name: 'federate-duration',
  description: 'Federate scrapes take well under their timeout (warn above half, fail above 80%).',
  *run(t, o) {
    for (const f of t.members.filter((m) => m.role === 'federator')) {
      const p = o.prometheus.get(f.name);
      if (!p?.targets) continue;
      const federate = p.targets.filter((x) => x.scrapePool.startsWith(FEDERATE_JOB_PREFIX) && x.lastScrape);
      if (federate.length === 0) continue;
      const worst = federate.reduce((a, b) => (b.lastScrapeDuration / (Duration.tryParse(b.scrapeTimeout)?.seconds ?? 1) > a.lastScrapeDuration / (Duration.tryParse(a.scrapeTimeout)?.seconds ?? 1) ? b : a));
      const timeout = Duration.tryParse(worst.scrapeTimeout)?.seconds ?? 10;
      const share = worst.lastScrapeDuration / timeout;
      const text = `${f.name}: slowest federate scrape ${hostPort(worst.scrapeUrl)} took ${worst.lastScrapeDuration.toFixed(3)} s of a ${timeout} s timeout (${Math.round(share * 100)}%)`;
      yield { verdict: share > 0.8 ? 'fail' : share > 0.5 ? 'warn' : 'pass', member: f.name, message: text };
    }
  },
};
