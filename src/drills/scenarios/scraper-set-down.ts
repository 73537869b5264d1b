import { expect, type DrillScenario } from '../drill.ts';

export const scraperSetDown: DrillScenario = {
  name: 'scraper-set-down',
  title: 'A whole scraper set is down',
  modes: ['loopback', 'netns'],
  async run(ctx) {
    const set = ctx.spec.scrapers[ctx.spec.scrapers.length - 1];
    const federator = ctx.spec.federators.members[0]?.name;
    if (!set || !federator) throw new Error('the topology has no scraper set');
    const budget = 60_000 + ctx.spec.intervals.federate.times(10).ms;
    const t0 = new Date();
    for (const m of set.members) await ctx.kill(m.name);
    const filter = { alertname: 'PromhaScraperSetDown', status: 'firing' as const, labels: { promha_set: set.name, severity: 'critical' } };
    const detect = await ctx.waitFor(async () => (await ctx.count(filter, t0)) > 0, budget);
    for (const m of set.members) await ctx.start(m.name);
    const recover = await ctx.waitFor(async () => (await Promise.all(set.members.map((m) => ctx.scraperRecovered(federator, m.name)))).every(Boolean), budget);
    const received = await ctx.count(filter, t0);
    return {
      expectations: [
        expect('the blind-spot critical alert fires', detect !== undefined, detect !== undefined ? `PromhaScraperSetDown{promha_set="${set.name}"} after ${detect.toFixed(1)} s` : 'not received'),
        expect('it is delivered once', received === 1, `${received} firing notification(s)`),
        expect('the set recovers after a restart', recover !== undefined, recover !== undefined ? `both members federated again after ${recover.toFixed(1)} s` : 'not up again'),
      ],
      measurements: {
        ...(detect !== undefined ? { detectSeconds: detect } : {}),
        ...(recover !== undefined ? { recoverSeconds: recover } : {}),
        notificationsExpected: 1,
        notificationsReceived: received,
        notificationsDuplicated: Math.max(0, received - 1),
      },
    };
  },
};
