import { setTimeout as sleep } from 'node:timers/promises';
import { expect, type DrillScenario } from '../drill.ts';
import { memberUrl } from '../../probe/client-security.ts';

export const alertmanagerKilled: DrillScenario = {
  name: 'alertmanager-killed',
  title: 'An active Alertmanager is killed',
  modes: ['loopback', 'netns'],
  async run(ctx) {
    const am = ctx.spec.alertmanagers;
    const victim = am.members[0]?.name;
    // Another group than scraper-killed's, so the drills never share a test alert.
    const group = ctx.spec.exporters[ctx.spec.exporters.length - 1]?.name;
    if (!victim || !group) throw new Error('the topology has no Alertmanager or exporter group');
    const settle = 60_000;
    const t0 = new Date();
    await ctx.kill(victim);
    const alert = { alertname: 'PromhaDemoValueHigh', labels: { group } };
    await ctx.fault('exporter', group, { value: 5 });
    const detect = await ctx.waitFor(async () => (await ctx.count({ ...alert, status: 'firing' }, t0)) > 0, settle);
    await ctx.fault('exporter', group, { value: 0 });
    const resolvedAfter = await ctx.waitFor(async () => (await ctx.count({ ...alert, status: 'resolved' }, t0)) > 0, settle);
    // Longer than a group interval plus every member's wait: a duplicate would show.
    await sleep(Math.min(ctx.groupInterval.ms * 1.5, 120_000));
    const firing = await ctx.count({ ...alert, status: 'firing' }, t0);
    const resolved = await ctx.count({ ...alert, status: 'resolved' }, t0);
    await ctx.start(victim);
    // The victim's new peer name must be older than the backup's next one.
    await sleep(2000);
    const recover = await ctx.restartBackup(settle);
    return {
      expectations: [
        expect('the firing notification arrives once', firing === 1, `${firing} firing notification(s)`),
        expect('the resolved notification arrives once', resolved === 1, `${resolved} resolved notification(s)`),
        expect('the cluster is whole again after a restart', recover !== undefined, recover !== undefined ? `${victim} back in a cluster of ${am.members.length + 1}, the backup last, after ${recover.toFixed(1)} s` : 'not ready'),
      ],
      measurements: {
        ...(detect !== undefined ? { detectSeconds: detect } : {}),
        ...(recover !== undefined ? { recoverSeconds: recover } : {}),
        notificationsExpected: 2,
        notificationsReceived: firing + resolved,
        notificationsDuplicated: Math.max(0, firing - 1) + Math.max(0, resolved - 1),
        ...(resolvedAfter !== undefined ? { watchedSeconds: Math.round((Date.now() - t0.getTime()) / 1000) } : {}),
      },
    };
  },
};
