import { mkdir, rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DrillContext } from '../context.ts';
import { expect, type DrillScenario } from '../drill.ts';

export const alertmanagerDataLost: DrillScenario = {
  name: 'alertmanager-data-lost',
  title: 'Both active Alertmanagers lose their data',
  modes: ['loopback', 'netns'],
  async run(ctx) {
    const am = ctx.spec.alertmanagers;
    const actives = am.members.map((m) => m.name);
    const notified = ctx.spec.exporters[0]?.name;
    const silenced = ctx.spec.exporters[ctx.spec.exporters.length - 1]?.name;
    if (actives.length === 0 || !notified || !silenced || notified === silenced) throw new Error('the drill needs Alertmanagers and two exporter groups');
    const client = (member: string) => ctx.alertmanager(member);
    const groupInterval = ctx.groupInterval;
    const budget = 60_000;
    const high = { alertname: 'PromhaDemoValueHigh', labels: { group: notified } };
    const t0 = new Date();

    const silenceId = await client(actives[0] as string).createSilence({
      matchers: [{ name: 'group', value: silenced }],
      startsAt: t0,
      endsAt: new Date(t0.getTime() + 3_600_000),
      createdBy: 'promha drill',
      comment: 'alertmanager-data-lost: this group must stay silent',
    });
    const knows = async (member: string) => (await client(member).silences()).some((s) => s.id === silenceId && s.state === 'active');
    await ctx.waitFor(() => knows(am.backup.name), budget);
    await ctx.fault('exporter', notified, { value: 4 });
    await ctx.fault('exporter', silenced, { value: 4 });
    const detect = await ctx.waitFor(async () => (await ctx.count({ ...high, status: 'firing' }, t0)) > 0, budget);
    // The notification log reaches the backup by gossip within a few gossip rounds.
    await sleep(3000);

    const lostAt = Date.now();
    await Promise.all(actives.map((m) => ctx.kill(m)));
    for (const m of actives) {
      const dir = ctx.storagePath(m);
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
    }
    for (const m of actives) await ctx.start(m);
    const restored = await ctx.waitFor(async () => (await Promise.all(actives.map(knows))).every(Boolean), budget);
    const whole = await ctx.restartBackup(budget);
    const recover = whole !== undefined ? (Date.now() - lostAt) / 1000 : undefined;
    // The federators resend every alert to the empty members: a group interval and a half
    // shows whether they notify it again.
    await sleep(Math.min(groupInterval.times(1.5).ms, 120_000));
    const firing = await ctx.count({ ...high, status: 'firing' }, t0);
    const leaked = (await ctx.alertsSince(t0)).filter((a) => a.labels['group'] === silenced).length;

    await ctx.fault('exporter', notified, { value: 0 });
    await ctx.fault('exporter', silenced, { value: 0 });
    await ctx.waitFor(async () => (await ctx.count({ ...high, status: 'resolved' }, t0)) > 0, budget);
    // Once the group's resolved notification is out, expiring the silence notifies nothing.
    await sleep(groupInterval.ms);
    await client(actives[0] as string).expireSilence(silenceId);
    const resolved = await ctx.count({ ...high, status: 'resolved' }, t0);
    return {
      expectations: [
        expect('silences come back from the backup', restored !== undefined, restored !== undefined ? `both active members hold the silence ${restored.toFixed(1)} s after their restart` : 'the silence did not come back'),
        expect('a silenced alert stays silent', leaked === 0, `${leaked} notified alert(s) of the silenced group ${silenced}`),
        expect('an alert already notified is not notified again', firing === 1, `${firing} firing notification(s) for ${notified}, ${Math.round((Date.now() - lostAt) / 1000)} s after the loss`),
        expect('the cluster is whole again', whole !== undefined, whole !== undefined ? `${actives.length + 1} peers, the backup last` : 'not ready'),
      ],
      measurements: {
        ...(detect !== undefined ? { detectSeconds: detect } : {}),
        ...(recover !== undefined ? { recoverSeconds: recover } : {}),
        notificationsExpected: 2,
        notificationsReceived: firing + resolved,
        notificationsDuplicated: Math.max(0, firing - 1) + Math.max(0, resolved - 1),
      },
    };
  },
};
