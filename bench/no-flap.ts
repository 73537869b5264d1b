// The seed-interval no-flap check: the seed topology at its own 30 s intervals in network
// namespaces, alerts firing on a scraped and a pushed metric, then a scraper member is
// SIGKILLed and the active gateway's link goes down. For the whole watch, no resolved
// notification and no second firing one may arrive. Long (15 minutes by default), so
// only `npm run bench -- --only no-flap` runs it.
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { DrillContext } from '../src/drills/context.ts';
import type { ReleaseName } from '../src/release/release.ts';
import { seedTopology } from '../src/topology/seed.ts';
import { withStack } from './stack.ts';

export interface NoFlapResult {
  readonly release: string;
  readonly versions: Readonly<Record<string, string>>;
  readonly watchedMinutes: number;
  /** Notifications of the two alerts during the watch: any is a flap or a duplicate. */
  readonly resolved: number;
  readonly firingAgain: number;
  readonly killed: string;
  readonly linkDown: string;
  readonly passed: boolean;
}

export async function noFlap(o: { minutes: number; progress: (l: string) => void; release?: ReleaseName }): Promise<NoFlapResult> {
  return withStack(
    { 'promha.yaml': seedTopology('promha.schema.json') },
    'netns',
    async (stack) => {
      const ctx = await DrillContext.open(stack.topology, stack.stateDir);
      o.progress(`noflap stack up in ${stack.upSeconds.toFixed(1)} s (${ctx.state.release ?? 'bookworm'}, seed intervals)`);
      const scraperSet = ctx.spec.scrapers[0];
      const gatewaySet = ctx.spec.pushgateways[0];
      const group = scraperSet?.exporters[0];
      const member = scraperSet?.members[0]?.name;
      if (!scraperSet || !gatewaySet || !group || !member) throw new Error('the seed topology has no scraper or pushgateway set');
      const scraped = { alertname: 'PromhaDemoValueHigh', labels: { group } };
      const pushed = { alertname: 'PromhaDemoPushedValueHigh' };
      const t0 = new Date();
      await ctx.fault('exporter', group, { value: 3 });
      await ctx.fault('pusher', gatewaySet.name, { value: 1 });
      const budget = 10 * 60_000;
      const firing = await ctx.waitFor(
        async () => (await ctx.count({ ...scraped, status: 'firing' }, t0)) > 0 && (await ctx.count({ ...pushed, status: 'firing' }, t0)) > 0,
        budget,
      );
      if (firing === undefined) throw new Error('the alerts did not fire within 10 minutes');
      o.progress(`noflap both alerts notified after ${firing.toFixed(0)} s`);

      const active = await ctx.vipHolder(gatewaySet);
      const node = ctx.state.nodes.find((n) => n.name === active);
      if (!active || !node?.netns) throw new Error('no gateway holds the VIP');
      const faultAt = new Date();
      await ctx.kill(member);
      await execa('ip', ['-n', node.netns, 'link', 'set', 'eth0', 'down']);
      o.progress(`noflap killed ${member}, took ${active}'s link down; watching ${o.minutes} min`);
      const watchMs = o.minutes * 60_000;
      for (let left = watchMs; left > 0; left -= 60_000) {
        await sleep(Math.min(60_000, left));
        const resolved = (await ctx.count({ ...scraped, status: 'resolved' }, faultAt)) + (await ctx.count({ ...pushed, status: 'resolved' }, faultAt));
        o.progress(`noflap ${((watchMs - left + Math.min(60_000, left)) / 60_000).toFixed(0)} min: ${resolved} resolved`);
      }
      const resolved = (await ctx.count({ ...scraped, status: 'resolved' }, faultAt)) + (await ctx.count({ ...pushed, status: 'resolved' }, faultAt));
      const firingAgain = (await ctx.count({ ...scraped, status: 'firing' }, faultAt)) + (await ctx.count({ ...pushed, status: 'firing' }, faultAt));

      await execa('ip', ['-n', node.netns, 'link', 'set', 'eth0', 'up']);
      await ctx.start(member);
      await ctx.fault('exporter', group, { value: 0 });
      await ctx.fault('pusher', gatewaySet.name, { value: 0 });
      return {
        release: ctx.state.release ?? 'bookworm',
        versions: { ...ctx.state.versions },
        watchedMinutes: o.minutes,
        resolved,
        firingAgain,
        killed: member,
        linkDown: active,
        passed: resolved === 0 && firingAgain === 0,
      };
    },
    o.release,
  );
}
