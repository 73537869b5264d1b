import { setTimeout as sleep } from 'node:timers/promises';
import type { DrillContext } from '../context.ts';
import { expect, type DrillScenario } from '../drill.ts';

export const alertmanagerPartitioned: DrillScenario = {
  name: 'alertmanager-partitioned',
  title: 'An active Alertmanager is partitioned from the cluster',
  // Loopback members share one network stack: nothing can cut one off.
  modes: ['netns'],
  async run(ctx) {
    const am = ctx.spec.alertmanagers;
    const victim = am.members[0]?.name;
    const others = [...am.members.slice(1).map((m) => m.name), am.backup.name];
    const group = ctx.spec.exporters[0]?.name;
    if (!victim || !group) throw new Error('the topology has no Alertmanager or exporter group');
    const client = (member: string) => ctx.alertmanager(member);
    const peers = async (member: string) => (await client(member).status()).cluster.peers.length;
    const groupInterval = ctx.groupInterval;
    const budget = 60_000;
    const alert = { alertname: 'PromhaDemoValueHigh', labels: { group } };
    const t0 = new Date();
    let split: number | undefined;
    let detect: number | undefined;
    let healed: number | undefined;
    let firing = 0;
    await ctx.partition(victim, others, 'cut');
    try {
      split = await ctx.waitFor(async () => (await peers(victim)) === 1 && (await peers(others[0] as string)) === others.length, budget);
      await ctx.fault('exporter', group, { value: 6 });
      detect = await ctx.waitFor(async () => (await ctx.count({ ...alert, status: 'firing' }, t0)) > 0, budget);
      // Each side notifies on its own: wait long enough for both.
      await sleep(Math.min(groupInterval.ms, 60_000));
      firing = await ctx.count({ ...alert, status: 'firing' }, t0);
    } finally {
      await ctx.partition(victim, others, 'heal');
    }
    healed = await ctx.waitFor(async () => (await Promise.all([victim, ...others].map(peers))).every((n) => n === others.length + 1), budget + 30_000);
    await ctx.fault('exporter', group, { value: 0 });
    const resolvedIn = await ctx.waitFor(async () => (await ctx.count({ ...alert, status: 'resolved' }, t0)) > 0, budget);
    await sleep(Math.min(groupInterval.times(1.5).ms, 120_000));
    const resolved = await ctx.count({ ...alert, status: 'resolved' }, t0);
    const duplicated = Math.max(0, firing - 1) + Math.max(0, resolved - 1);
    return {
      expectations: [
        expect('the member is cut off from the cluster', split !== undefined, split !== undefined ? `${victim} alone and the others ${others.length} together after ${split.toFixed(1)} s` : 'gossip did not split'),
        expect('no notification is lost (delivery is at least once)', firing >= 1 && resolvedIn !== undefined, `${firing} firing, ${resolved} resolved notification(s): ${duplicated} duplicate(s)`),
        expect('the cluster heals', healed !== undefined, healed !== undefined ? `${others.length + 1} peers again ${healed.toFixed(1)} s after the partition ended` : 'not whole again'),
      ],
      measurements: {
        ...(detect !== undefined ? { detectSeconds: detect } : {}),
        ...(healed !== undefined ? { recoverSeconds: healed } : {}),
        notificationsExpected: 2,
        notificationsReceived: firing + resolved,
        notificationsDuplicated: duplicated,
      },
    };
  },
};
