import { setTimeout as sleep } from 'node:timers/promises';
import { missingIntervals } from '../context.ts';
import { expect, flapWindow, type DrillScenario } from '../drill.ts';

export const scraperKilled: DrillScenario = {
  name: 'scraper-killed',
  title: 'A scraper member is killed',
  modes: ['loopback', 'netns'],
  async run(ctx) {
    const set = ctx.spec.scrapers[0];
    const member = set?.members[0]?.name;
    const group = set?.exporters[0];
    const federator = ctx.spec.federators.members[0]?.name;
    if (!set || !member || !group || !federator) throw new Error('the topology has no scraper set');
    const { scrape, federate } = ctx.spec.intervals;
    const budget = 60_000 + federate.times(10).ms;
    const t0 = new Date();
    await ctx.kill(member);
    await ctx.fault('exporter', group, { value: 3 });
    const alert = { alertname: 'PromhaDemoValueHigh', labels: { group } };
    const detect = await ctx.waitFor(async () => (await ctx.count({ ...alert, status: 'firing' }, t0)) > 0, budget);
    const memberDown = await ctx.waitFor(
      async () => (await ctx.count({ alertname: 'PromhaScraperMemberDown', status: 'firing', labels: { promha_member: member } }, t0)) > 0,
      budget,
    );
    // Past the lookback, the killed member's last federated samples expire: no flap may follow.
    const window = flapWindow(ctx.spec.lookback_delta);
    await sleep(window.ms);
    const firing = await ctx.count({ ...alert, status: 'firing' }, t0);
    const resolved = await ctx.count({ ...alert, status: 'resolved' }, t0);
    const watched = (Date.now() - t0.getTime()) / 1000;
    const times = await ctx.sampleTimes(federator, `promha_demo_requests_total{group="${group}"}`, watched);
    const lost = missingIntervals(times, scrape.seconds);
    await ctx.start(member);
    const recover = await ctx.waitFor(async () => ctx.scraperRecovered(federator, member), budget);
    // Leave a clean baseline: the test alert resolved before the next drill starts.
    await ctx.fault('exporter', group, { value: 0 });
    await ctx.waitFor(async () => (await ctx.count({ ...alert, status: 'resolved' }, t0)) > 0, budget);
    return {
      expectations: [
        expect('the alert is delivered once', firing === 1, `${firing} firing notification(s) for ${group}`),
        expect('no resolved/firing flap past the lookback', resolved === 0, `${resolved} resolved notification(s) in ${watched.toFixed(0)} s (lookback ${ctx.spec.lookback_delta})`),
        expect('the member-down meta-alert fires', memberDown !== undefined, memberDown !== undefined ? `PromhaScraperMemberDown after ${memberDown.toFixed(1)} s` : 'not received'),
        expect('no sample of the set is lost', lost === 0, `${lost} scrape interval(s) missing in ${times.length} samples at ${federator}`),
        expect('the member recovers after a restart', recover !== undefined, recover !== undefined ? `${member} federated again after ${recover.toFixed(1)} s` : 'not up again'),
      ],
      measurements: {
        ...(detect !== undefined ? { detectSeconds: detect } : {}),
        ...(recover !== undefined ? { recoverSeconds: recover } : {}),
        notificationsExpected: 1,
        notificationsReceived: firing,
        notificationsDuplicated: Math.max(0, firing - 1),
        samplesLost: lost,
        watchedSeconds: Math.round(watched),
      },
    };
  },
};
