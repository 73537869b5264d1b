import { setTimeout as sleep } from 'node:timers/promises';
import { expect, flapWindow, type DrillScenario } from '../drill.ts';

export const vipMovedGatewayAlive: DrillScenario = {
  name: 'vip-moved-gateway-alive',
  title: 'The VIP moves while the old gateway stays alive',
  // HAProxy has no demote hook: only keepalived moves a VIP away from a live gateway.
  modes: ['netns'],
  async run(ctx) {
    const set = ctx.spec.pushgateways[0];
    if (!set) throw new Error('the topology has no pushgateway set');
    const budget = 60_000 + ctx.spec.intervals.push.times(20).ms;
    const alert = { alertname: 'PromhaDemoPushedValueHigh' };
    const t0 = new Date();
    await ctx.fault('pusher', set.name, { value: 1 });
    const detect = await ctx.waitFor(async () => (await ctx.count({ ...alert, status: 'firing' }, t0)) > 0, budget);
    const active = await ctx.vipHolder(set);
    if (!active) throw new Error(`the VIP ${set.vip.address} reaches no member`);
    const old = ctx.pushgateway(active);
    const groupsBefore = (await old.groups()).length;
    // keepalived stopped on purpose (maintenance, a restart): the VIP leaves a live gateway.
    await ctx.signal(active, 'keepalived', 'SIGTERM');
    let moved: number | undefined;
    let wiped: number | undefined;
    let resolvedIn: number | undefined;
    let stale = 0;
    const start = Date.now();
    try {
      moved = await ctx.waitFor(async () => {
        const now = await ctx.vipHolder(set).catch(() => undefined);
        return now !== undefined && now !== active;
      }, budget);
      wiped = await ctx.waitFor(async () => (await old.groups()).length === 0, budget);
      // A stale copy of 1 left at the old gateway would keep the alert firing, or make it flap.
      await ctx.fault('pusher', set.name, { value: 0 });
      const valueChangedAt = Date.now();
      resolvedIn = await ctx.waitFor(async () => (await ctx.count({ ...alert, status: 'resolved' }, t0)) > 0, budget);
      await sleep(flapWindow(ctx.spec.lookback_delta).ms);
      for (const f of ctx.spec.federators.members) {
        const series = await ctx.prometheus(f.name).rawSamples(`promha_demo_pushed_value{job="${set.jobs[0]?.name ?? ''}"}`, (Date.now() - valueChangedAt) / 1000);
        // Samples after the change that still carry the old value came from the demoted gateway.
        stale += series.flatMap((s) => s.values).filter((v) => v.timestamp * 1000 > valueChangedAt + ctx.spec.intervals.push.times(3).ms && v.value !== 0).length;
      }
    } finally {
      // keepalived rejoins as BACKUP (nopreempt): the VIP stays where it went.
      await ctx.start(active);
    }
    const recover = await ctx.waitFor(async () => (await old.ready()) && (await ctx.vipHolder(set)) !== active, budget);
    const firing = await ctx.count({ ...alert, status: 'firing' }, t0);
    const resolved = await ctx.count({ ...alert, status: 'resolved' }, t0);
    return {
      expectations: [
        expect('the VIP moves to the standby', moved !== undefined, moved !== undefined ? `from ${active} in ${moved.toFixed(1)} s, with its gateway still up` : 'did not move'),
        expect('the demoted gateway is wiped', groupsBefore > 0 && wiped !== undefined, wiped !== undefined ? `${active} held ${groupsBefore} group(s), none ${wiped.toFixed(1)} s after the move` : `${active} still holds its groups`),
        expect('the federators never see its stale value again', stale === 0 && resolvedIn !== undefined, `${stale} sample(s) of the old value after the change; the alert resolved ${resolvedIn !== undefined ? `after ${resolvedIn.toFixed(1)} s` : 'never'}`),
        expect('no alert flaps', firing === 1 && resolved === 1, `${firing} firing, ${resolved} resolved notification(s) in ${Math.round((Date.now() - start) / 1000)} s`),
        expect('the old host rejoins as standby', recover !== undefined, recover !== undefined ? `${active} ready after ${recover.toFixed(1)} s; the VIP did not fail back` : 'not ready, or the VIP failed back'),
      ],
      measurements: {
        ...(detect !== undefined ? { detectSeconds: detect } : {}),
        ...(moved !== undefined ? { recoverSeconds: moved } : {}),
        notificationsExpected: 2,
        notificationsReceived: firing + resolved,
        notificationsDuplicated: Math.max(0, firing - 1) + Math.max(0, resolved - 1),
        watchedSeconds: Math.round((Date.now() - start) / 1000),
      },
    };
  },
};
