import type { DrillContext } from '../context.ts';
import { sustainedFor } from '../../runtime/demo-rules.ts';
import { expect, type DrillScenario } from '../drill.ts';

/**
 * Sample times held before the kill that are gone after the restart. More samples in the
 * same window afterwards are legitimate: federated samples carry the scrapers' timestamps
 * and arrive up to a federate interval later, and the other scraper copy's samples land
 * out of order within the out-of-order window, so samples stamped before the first query
 * may only have been written after it. Only a missing sample is lost data.
 */
export function samplesMissing(before: readonly number[], after: readonly number[]): number[] {
  const kept = new Set(after);
  return before.filter((t) => !kept.has(t));
}

/** The demo's sustained alert for a group, as one federator holds it. */
async function heldAlert(ctx: DrillContext, federator: string, group: string) {
  const alerts = await ctx.prometheus(federator).alerts();
  return alerts.find((a) => a.labels['alertname'] === 'PromhaDemoValueSustained' && a.labels['group'] === group);
}

export const federatorKilled: DrillScenario = {
  name: 'federator-killed',
  title: 'A federator is killed',
  modes: ['loopback', 'netns'],
  async run(ctx) {
    const [victim, survivor] = ctx.spec.federators.members.map((m) => m.name);
    const held = ctx.spec.exporters[0]?.name;
    const other = ctx.spec.exporters[ctx.spec.exporters.length - 1]?.name;
    if (!victim || !survivor || !held || !other) throw new Error('the topology has no federator pair or exporter group');
    const hold = sustainedFor(ctx.spec);
    const budget = 60_000 + hold.ms + ctx.spec.intervals.federate.times(10).ms;
    const evaluate = ctx.spec.intervals.evaluate.seconds;
    const sustained = { alertname: 'PromhaDemoValueSustained', labels: { group: held } };
    // Another alert name than the held alert's: nothing joins its notification group.
    const down = { alertname: 'PromhaDemoExporterDown' };
    const t0 = new Date();

    // An alert past its `for:` on both federators when one dies.
    await ctx.fault('exporter', held, { value: 2 });
    await ctx.waitFor(async () => (await Promise.all([victim, survivor].map((f) => heldAlert(ctx, f, held)))).every((a) => a?.state === 'firing'), budget);
    const activeBefore = (await heldAlert(ctx, victim, held))?.activeAt;
    const historyAt = new Date();
    const historySeconds = (historyAt.getTime() - t0.getTime()) / 1000;
    const series = `promha_demo_requests_total{group="${held}"}`;
    const samplesBefore = await ctx.sampleTimes(victim, series, historySeconds, historyAt);

    const killedAt = new Date();
    await ctx.kill(victim);
    await ctx.fault('exporter', other, { mode: 'down' });
    const detect = await ctx.waitFor(async () => (await ctx.count({ ...down, status: 'firing' }, killedAt)) > 0, budget);
    // Restart well inside the lookback, as an operator would: the restored alert is still active.
    await ctx.start(victim);
    const restartedAt = Date.now();
    const recover = await ctx.waitFor(async () => {
      const targets = await ctx.prometheus(victim).targets();
      return targets.length > 0 && targets.every((t) => t.health === 'up');
    }, budget);
    await ctx.waitFor(async () => (await heldAlert(ctx, victim, held))?.state === 'firing', budget);
    const activeAfter = (await heldAlert(ctx, victim, held))?.activeAt;
    const samplesAfter = await ctx.sampleTimes(victim, series, historySeconds, historyAt);
    const lost = samplesMissing(samplesBefore, samplesAfter);

    await ctx.fault('exporter', other, { mode: 'ok' });
    await ctx.waitFor(async () => (await ctx.count({ ...down, status: 'resolved' }, killedAt)) > 0, budget);
    await ctx.fault('exporter', held, { value: 0 });
    await ctx.waitFor(async () => (await ctx.count({ ...sustained, status: 'resolved' }, t0)) > 0, budget);
    const downFiring = await ctx.count({ ...down, status: 'firing' }, killedAt);
    const downResolved = await ctx.count({ ...down, status: 'resolved' }, killedAt);
    const sustainedFiring = await ctx.count({ ...sustained, status: 'firing' }, t0);

    // ALERTS_FOR_STATE keeps whole seconds; a fresh alert would be active only after the restart.
    const drift = activeBefore && activeAfter ? Math.abs(activeAfter.getTime() - activeBefore.getTime()) / 1000 : undefined;
    const restored = drift !== undefined && drift <= evaluate + 1 && (activeAfter as Date).getTime() < killedAt.getTime();
    return {
      expectations: [
        expect('notifications continue from the other federator', detect !== undefined && downFiring === 1, detect !== undefined ? `${downFiring} firing notification(s) from ${survivor} alone, after ${detect.toFixed(1)} s` : 'none while the federator was down'),
        expect(
          'after the restart its old samples can still be queried',
          samplesBefore.length > 0 && lost.length === 0,
          `${samplesBefore.length - lost.length} of the ${samplesBefore.length} samples it held before the kill are still there (${samplesAfter.length} in that window now)`,
        ),
        expect(
          '`for:` state is restored',
          restored,
          `activeAt ${activeAfter?.toISOString() ?? 'none'} after the restart, ${activeBefore?.toISOString() ?? 'none'} before (for: ${hold}, for-grace-period ${ctx.spec.federators.for_grace_period ?? '10m'})`,
        ),
        expect('a firing alert is not notified again', sustainedFiring === 1, `${sustainedFiring} firing notification(s) of PromhaDemoValueSustained{group="${held}"}`),
        expect('the federator recovers', recover !== undefined, recover !== undefined ? `${victim} scrapes every target ${recover.toFixed(1)} s after its restart` : 'not up again'),
      ],
      measurements: {
        ...(detect !== undefined ? { detectSeconds: detect } : {}),
        ...(recover !== undefined ? { recoverSeconds: recover } : {}),
        notificationsExpected: 3,
        notificationsReceived: downFiring + downResolved + sustainedFiring,
        notificationsDuplicated: Math.max(0, downFiring - 1) + Math.max(0, downResolved - 1) + Math.max(0, sustainedFiring - 1),
        samplesLost: lost.length,
        watchedSeconds: Math.round((Date.now() - restartedAt) / 1000),
      },
    };
  },
};
