// Federation capacity: series per exporter group, doubled from 10k until a federate scrape
// takes more than half its interval; at each step the federate duration and the
// federator's CPU and memory.
import { setTimeout as sleep } from 'node:timers/promises';
import { DrillContext } from '../src/drills/context.ts';
import { parseMetrics } from '../src/probe/metrics-text.ts';
import { FAST_RULES, fastTopology } from '../test/helpers.ts';
import { withStack } from './stack.ts';
import type { ReleaseName } from '../src/release/release.ts';
import { cpuCores, firstAbove, mib } from './stats.ts';

export interface CapacityStep {
  readonly series: number;
  /** Series of promha_demo_series the federator holds (both scraper copies merged). */
  readonly federated: number;
  /** Mean and max duration of the federate scrapes of the group's scraper members, seconds. */
  readonly federateMeanSeconds: number;
  readonly federateMaxSeconds: number;
  /** Whether every federate target was up through the step. */
  readonly targetsUp: boolean;
  /** The federator's CPU over the step, in cores. */
  readonly federatorCpuCores: number;
  readonly federatorRssMiB: number;
  /** Resident memory of one scraper member of the group, MiB. */
  readonly scraperRssMiB: number;
}

export interface CapacityResult {
  readonly intervalSeconds: number;
  readonly steps: readonly CapacityStep[];
  /** The first step whose federate duration exceeded half the interval, if any. */
  readonly halfIntervalExceededAt?: number;
  readonly stoppedBecause: string;
}

/** 2 s intervals: every step settles in seconds, and the machine keeps up. */
const INTERVAL = '2s';

export function capacityTopology(): Record<string, unknown> {
  const base = fastTopology();
  const am = base['alertmanagers'] as Record<string, any>;
  return {
    ...base,
    intervals: { scrape: INTERVAL, push: INTERVAL, federate: INTERVAL, evaluate: INTERVAL },
    // peer_timeout is 3 × evaluate = 6 s: (3 − 1) × 6 s must stay below group_interval.
    alertmanagers: { ...am, route: { ...am['route'], group_interval: '20s' } },
  };
}

async function processMetrics(url: string): Promise<{ cpuSeconds: number; rss: number; at: number }> {
  const at = Date.now();
  const samples = parseMetrics(await (await fetch(`${url}/metrics`)).text());
  const value = (name: string) => samples.find((s) => s.name === name)?.value ?? Number.NaN;
  return { cpuSeconds: value('process_cpu_seconds_total'), rss: value('process_resident_memory_bytes'), at };
}

async function step(ctx: DrillContext, series: number, intervalSeconds: number): Promise<CapacityStep> {
  const group = ctx.spec.exporters[0]?.name as string;
  const scraperSet = ctx.spec.scrapers.find((s) => s.exporters.includes(group));
  const federator = ctx.spec.federators.members[0]?.name as string;
  const members = (scraperSet?.members ?? []).map((m) => ctx.address(m.name));
  await ctx.fault('exporter', group, { series });
  const prom = ctx.prometheus(federator);
  const count = async () => Number((await prom.query('count(promha_demo_series)'))[0]?.value ?? 0);
  await ctx.waitFor(async () => (await count()) >= series, 120_000);
  // A few intervals at the new size before measuring.
  await sleep(intervalSeconds * 3000);
  const url = `http://${ctx.address(federator)}`;
  const before = await processMetrics(url);
  const durations: number[] = [];
  let targetsUp = true;
  for (let i = 0; i < 8; i++) {
    const targets = (await prom.targets()).filter((t) => members.includes(new URL(t.scrapeUrl).host));
    for (const t of targets) {
      durations.push(t.lastScrapeDuration);
      if (t.health !== 'up') targetsUp = false;
    }
    await sleep(intervalSeconds * 1000);
  }
  const after = await processMetrics(url);
  const scraper = await processMetrics(`http://${members[0]}`);
  return {
    series,
    federated: await count(),
    federateMeanSeconds: durations.reduce((a, b) => a + b, 0) / durations.length,
    federateMaxSeconds: Math.max(...durations),
    targetsUp,
    federatorCpuCores: cpuCores(before, after),
    federatorRssMiB: mib(after.rss),
    scraperRssMiB: mib(scraper.rss),
  };
}

export async function capacity(o: { maxSeries: number; progress: (l: string) => void; release?: ReleaseName }): Promise<CapacityResult> {
  return withStack({ 'promha.yaml': capacityTopology(), 'rules/demo.yml': FAST_RULES }, 'loopback', async (stack) => {
    const ctx = await DrillContext.open(stack.topology, stack.stateDir);
    const intervalSeconds = ctx.spec.intervals.federate.ms / 1000;
    const steps: CapacityStep[] = [];
    let stoppedBecause = `reached the largest step asked for (${o.maxSeries})`;
    for (let series = 10_000; series <= o.maxSeries; series *= 2) {
      const s = await step(ctx, series, intervalSeconds);
      steps.push(s);
      o.progress(`capacity ${series} series: federate mean ${s.federateMeanSeconds.toFixed(3)} s, max ${s.federateMaxSeconds.toFixed(3)} s; federator ${s.federatorCpuCores.toFixed(2)} cores, ${s.federatorRssMiB.toFixed(0)} MiB; ${s.federated} federated`);
      if (s.federateMeanSeconds > intervalSeconds / 2) {
        stoppedBecause = `the mean federate scrape took more than half the ${intervalSeconds} s interval`;
        break;
      }
      if (!s.targetsUp || s.federated < series) {
        stoppedBecause = 'a federate target went down or the federator missed series';
        break;
      }
    }
    const exceeded = firstAbove(steps, (s) => s.federateMeanSeconds, intervalSeconds / 2);
    return { intervalSeconds, steps, ...(exceeded ? { halfIntervalExceededAt: exceeded.series } : {}), stoppedBecause };
  }, o.release);
}
