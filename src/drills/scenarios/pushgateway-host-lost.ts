import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import type { PusherStats } from '../../demo/pusher.ts';
import { PushgatewayClient } from '../../probe/pushgateway.ts';
import { expect, type DrillScenario } from '../drill.ts';
import { memberUrl } from '../../probe/client-security.ts';

export const pushgatewayHostLost: DrillScenario = {
  name: 'pushgateway-host-lost',
  title: "The active pushgateway's host is lost",
  modes: ['loopback', 'netns'],
  async run(ctx) {
    const set = ctx.spec.pushgateways[0];
    if (!set) throw new Error('the topology has no pushgateway set');
    const vip = String(set.vip.address);
    const pusher = `pusher-${set.name}`;
    const budget = 60_000;
    const servedBy = () => ctx.vipHolder(set);
    const stats = async () => (await (await fetch(`http://${ctx.address(pusher)}/-/stats`)).json()) as PusherStats;
    const t0 = new Date();
    const alert = { alertname: 'PromhaDemoPushedValueHigh' };
    await ctx.fault('pusher', set.name, { value: 1 });
    const detect = await ctx.waitFor(async () => (await ctx.count({ ...alert, status: 'firing' }, t0)) > 0, budget);
    const active = await servedBy();
    if (!active) throw new Error(`the VIP ${vip} reaches no member`);
    const before = await stats();
    const lostAt = Date.now();
    const node = ctx.state.nodes.find((n) => n.name === active);
    // A lost host: in netns its link goes down (keepalived then drops the VIP and wipes
    // it); on loopback the gateway dies and HAProxy fails over.
    if (node?.netns) await execa('ip', ['-n', node.netns, 'link', 'set', 'eth0', 'down']);
    else await ctx.kill(active);
    const moved = await ctx.waitFor(async () => {
      const now = await servedBy().catch(() => undefined);
      return now !== undefined && now !== active;
    }, budget);
    // Several push intervals on the standby, and longer than keep_firing_for would hide.
    await sleep(Math.max(10_000, ctx.spec.intervals.push.times(10).ms));
    const after = await stats();
    const resolvedDuringFailover = await ctx.count({ ...alert, status: 'resolved' }, t0);
    if (node?.netns) await execa('ip', ['-n', node.netns, 'link', 'set', 'eth0', 'up']);
    else await ctx.start(active);
    const recover = await ctx.waitFor(async () => new PushgatewayClient(memberUrl(ctx.address(active))).ready(), budget);
    await ctx.fault('pusher', set.name, { value: 0 });
    await ctx.waitFor(async () => (await ctx.count({ ...alert, status: 'resolved' }, t0)) > 0, budget + ctx.spec.intervals.push.times(20).ms);
    const pushesLost = after.failed - before.failed;
    const firing = await ctx.count({ ...alert, status: 'firing' }, t0);
    return {
      expectations: [
        expect('the VIP moves to the standby', moved !== undefined, moved !== undefined ? `from ${active} in ${moved.toFixed(1)} s` : 'did not move'),
        expect('no push is lost', pushesLost === 0, `${pushesLost} push(es) failed after retries; ${after.succeeded - before.succeeded} succeeded during the drill`),
        expect('the pushed-metric alert does not resolve during the failover', resolvedDuringFailover === 0, `${resolvedDuringFailover} resolved notification(s) while the VIP moved`),
        expect('the lost gateway comes back', recover !== undefined, recover !== undefined ? `${active} ready after ${recover.toFixed(1)} s (as standby: no failback)` : 'not ready'),
      ],
      measurements: {
        ...(detect !== undefined ? { detectSeconds: detect } : {}),
        ...(moved !== undefined ? { recoverSeconds: moved } : {}),
        pushesLost,
        notificationsExpected: 1,
        notificationsReceived: firing,
        notificationsDuplicated: Math.max(0, firing - 1),
        watchedSeconds: Math.round((Date.now() - lostAt) / 1000),
      },
    };
  },
};
