import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Duration } from '../src/duration.ts';
import { parseMetrics } from '../src/probe/metrics-text.ts';
import { PrometheusClient } from '../src/probe/prometheus.ts';
import { haVariants, type TestGroup, type Variant } from '../src/rules/ha-conditions.ts';
import { expandValues } from '../src/rules/series-values.ts';
import type { RunState } from '../src/runtime/state.ts';
import { FAST_RULES, fastTopology, promha, tempProject, stackSkip, until } from './helpers.ts';

/*
 * track_timestamps_staleness (Prometheus 2.48+), decided by measurement. A federator
 * merges both scraper members' copies of a series into one. With the setting on, the
 * federator writes staleness markers for every series of a federate target that goes
 * down, and those markers land in the series the surviving member still feeds: queries
 * see no series until the survivor's next newer sample (up to a federate interval, 30 s
 * at the seed's intervals), and alerts on it resolve and fire again. Off, the dead copy
 * just stops. promha renders it off; this test shows both on the real binaries.
 */
describe('track_timestamps_staleness on the federate jobs (trixie, loopback)', { skip: stackSkip('loopback') }, () => {
  let project: Awaited<ReturnType<typeof tempProject>>;
  let stateDir: string;
  const run = (...args: string[]) => promha([...args, '--state-dir', stateDir], project.dir);
  const federators = ['federator1-1', 'federator1-2'];

  before(async () => {
    project = await tempProject({ 'promha.yaml': fastTopology(), 'rules/demo.yml': FAST_RULES });
    stateDir = path.join(project.dir, '.promha');
    const up = await run('up', '--network', 'loopback', '--detach', '--release', 'trixie');
    assert.equal(up.exitCode, 0, up.stdout + up.stderr);
    bothSince = await bothFeeding(0);
  });
  after(async () => {
    await run('down');
    await project.cleanup();
  });

  const state = async () => JSON.parse(await readFile(path.join(stateDir, 'state.json'), 'utf8')) as RunState;
  const client = async (name: string) => new PrometheusClient(`http://${(await state()).nodes.find((n) => n.name === name)?.localAddress}`);
  /** The member these tests stop and start, of the first scraper set (demo1). */
  const MEMBER = 'scraper1-1';
  const SERIES = 'promha_demo_requests_total{group="demo1"}';
  /** The fast topology's scrape and federate interval, in seconds. */
  const INTERVAL = 1;
  const sleepUntil = (seconds: number) => sleep(Math.max(0, seconds * 1000 - Date.now()));
  /** Since when (Unix seconds) both members of the set have fed the federators: set by `up` and each restart. */
  let bothSince = 0;

  /** A federator's federate target of a scraper member. */
  async function federateTarget(federator: string, member: string) {
    const address = (await state()).nodes.find((n) => n.name === member)?.localAddress;
    return (await (await client(federator)).targets()).find((t) => new URL(t.scrapeUrl).host === address);
  }

  /**
   * Returns once MEMBER scrapes its exporters and every federator has federated it after
   * that: from then on both copies feed the merged series. Returns that time (Unix s).
   */
  async function bothFeeding(since: number): Promise<number> {
    await until(`${MEMBER} to scrape its exporters`, async () => {
      const own = await (await client(MEMBER)).targets();
      return own.length > 0 && own.every((t) => t.health === 'up' && (t.lastScrape?.getTime() ?? 0) >= since) ? true : undefined;
    });
    const scraped = Date.now();
    for (const f of federators)
      await until(`${f} to federate ${MEMBER}`, async () => {
        const t = await federateTarget(f, MEMBER);
        return t?.health === 'up' && (t.lastScrape?.getTime() ?? 0) >= scraped ? true : undefined;
      });
    return Date.now() / 1000;
  }

  /** Stops MEMBER; returns once every federator has failed to federate it: the latest failed scrape's time (Unix s). */
  async function stopMember(): Promise<number> {
    const stoppedAt = Date.now();
    assert.equal((await run('stop', MEMBER)).exitCode, 0);
    let down = 0;
    for (const f of federators) {
      const t = await until(`${f} to find ${MEMBER} down`, async () => {
        const x = await federateTarget(f, MEMBER);
        return x?.health === 'down' && (x.lastScrape?.getTime() ?? 0) >= stoppedAt ? x : undefined;
      });
      down = Math.max(down, t.lastScrape?.getTime() ?? 0);
    }
    return down / 1000;
  }

  /** Starts MEMBER; returns once both copies feed again, from `bothSince` on. */
  async function startMember(): Promise<void> {
    const startedAt = Date.now();
    assert.equal((await run('start', MEMBER)).exitCode, 0);
    bothSince = await bothFeeding(startedAt);
  }

  /** Sets the field in both federators' configs and reloads them (SIGHUP); returns once both run it. */
  async function setTracking(on: boolean): Promise<void> {
    const s = await state();
    const sent = Date.now() / 1000;
    for (const name of federators) {
      const file = path.join(stateDir, 'nodes', name, 'prometheus.yml');
      const text = await readFile(file, 'utf8');
      assert.equal(text.match(/track_timestamps_staleness: (true|false)/g)?.length, 2, 'both federate jobs carry the field');
      await writeFile(file, text.replace(/track_timestamps_staleness: (true|false)/g, `track_timestamps_staleness: ${on}`));
      const pid = s.nodes.find((n) => n.name === name)?.processes[0]?.pid;
      assert.ok(pid);
      process.kill(pid, 'SIGHUP');
    }
    // Reloaded once each federator reports a successful reload after the signal, and the
    // config it serves says so (Prometheus leaves the field out when false).
    for (const name of federators) {
      const c = await client(name);
      await until(`${name} to reload with track_timestamps_staleness: ${on}`, async () => {
        const metrics = parseMetrics(await c.metrics());
        const value = (metric: string) => metrics.find((m) => m.name === metric)?.value;
        const reloaded = value('prometheus_config_last_reload_successful') === 1 && (value('prometheus_config_last_reload_success_timestamp_seconds') ?? 0) >= sent;
        const tracking = (await c.config()).match(/track_timestamps_staleness: true/g)?.length ?? 0;
        return reloaded && tracking === (on ? 2 : 0) ? true : undefined;
      });
    }
  }

  /**
   * Stops MEMBER and returns, per federator, how long its merged series was missing
   * around the stop (0.01 s steps from 3 s before the stop until the surviving member's
   * copy has fed a sample newer than the failed federate scrape: a hole a staleness marker
   * cut has closed by then), then starts it again.
   */
  async function missingSeconds(): Promise<number[]> {
    // The window starts 3 s before the stop: wait until the series has been fed that long,
    // or the steps before its first sample would count as missing.
    await sleepUntil(bothSince + 2 * INTERVAL + 3);
    const t0 = Date.now() / 1000;
    const down = await stopMember();
    for (const f of federators) {
      const c = await client(f);
      await until(`${f} to store a sample of the surviving copy after the failed scrape`, async () =>
        ((await c.rawSamples(SERIES, 10))[0]?.values ?? []).some((v) => v.timestamp > down + INTERVAL) ? true : undefined,
      );
    }
    const t1 = Date.now() / 1000;
    const out: number[] = [];
    for (const name of federators) {
      const c = await client(name);
      // Whole milliseconds, as Prometheus reads the bounds: its steps are then exactly these.
      const [startMs, endMs] = [Math.round((t0 - 3) * 1000), Math.round(t1 * 1000)];
      const series = await c.queryRange(`count(${SERIES})`, startMs / 1000, endMs / 1000, 0.01);
      const steps = Math.floor((endMs - startMs) / 10) + 1;
      out.push((steps - (series[0]?.values.length ?? 0)) * 0.01);
    }
    await startMember();
    return out;
  }

  it('renders it off on every federate job, and off no merged series goes missing when a scraper member stops', async (t) => {
    await setTracking(false);
    const missing = await missingSeconds();
    t.diagnostic(`missing ${missing.map((m) => `${m.toFixed(2)} s`).join(', ')}`);
    // Off, no staleness marker is written: the surviving copy keeps the series within the
    // lookback at every step, so no hole reaches a scrape interval (it should be none).
    assert.ok(missing.every((m) => m < INTERVAL), `missing ${missing.map((m) => `${m.toFixed(2)} s`).join(', ')}`);
  });

  it("PH605's claim: over one scrape interval, rate has values while both copies feed the series and none while one scraper member is down", async (t) => {
    await setTracking(false);
    const c = await client('federator1-1');
    /** The share of the 0.1 s steps in [start, end] at which `expr` has a value. */
    const covered = async (expr: string, start: number, end: number) => {
      const series = await c.queryRange(expr, start, end, 0.1);
      return (series[0]?.values.length ?? 0) / (Math.round((end - start) * 10) + 1);
    };
    const oneInterval = `rate(${SERIES}[1s])`;
    const twoIntervals = `rate(${SERIES}[2s])`;
    const span = 8;
    // Windows placed by what was observed, each waited for in full, plus a federate
    // interval for the last samples to arrive: both copies from a range after both fed…
    const bothFrom = bothSince + 2 * INTERVAL;
    await sleepUntil(bothFrom + span + INTERVAL);
    const both = await covered(oneInterval, bothFrom, bothFrom + span);
    // …and one copy from the first [2s] range that holds none of the stopped one's samples.
    const down = await stopMember();
    const oneFrom = down + 2 * INTERVAL;
    await sleepUntil(oneFrom + span + INTERVAL);
    const one = await covered(oneInterval, oneFrom, oneFrom + span);
    const oneWide = await covered(twoIntervals, oneFrom, oneFrom + span);
    await startMember();
    t.diagnostic(`[1s] both ${both.toFixed(2)}, one ${one.toFixed(2)}; [2s] one ${oneWide.toFixed(2)}`);
    // Both copies: a 1 s range holds a sample of each, two samples, at nearly every step.
    assert.ok(both > 0.5, `both copies: [1s] has a value at ${(both * 100).toFixed(0)} % of the steps`);
    // One copy: a 1 s range holds its one sample, two only where a scrape came early.
    assert.ok(one < 0.2, `one copy: [1s] has a value at ${(one * 100).toFixed(0)} % of the steps`);
    // One copy over two intervals: two samples, except after a missed one.
    assert.ok(oneWide > 0.9, `one copy: [2s] has a value at ${(oneWide * 100).toFixed(0)} % of the steps`);
  });

  it("promha test rules' models of merged copies and of a lost scraper member store as many samples as the federators do", async (t) => {
    await setTracking(false);
    const c = await client('federator1-1');
    const stored = async (end: number) => (await c.rawSamples(SERIES, 10, end))[0]?.values.length ?? 0;
    // The same exporter series in a promtool test at the scrape interval (1 s), 40 s long; the member is lost at 20 s.
    const group: TestGroup = { interval: '1s', input_series: [{ series: SERIES, values: '1+1x40' }], promql_expr_test: [{ eval_time: '40s' }] };
    const [merged, lost] = haVariants(group, undefined, { pushed: () => false, pushGap: Duration.seconds(1) });
    /** Samples the variant feeds promtool in (from, to] seconds. */
    const modelled = (v: Variant | undefined, from: number, to: number) => {
      assert.ok(v && !('skipped' in v.group) && v.group.interval);
      const step = Duration.tryParse(v.group.interval)?.ms ?? 0;
      const values = expandValues(v.group.input_series?.[0]?.values ?? '');
      assert.ok(Array.isArray(values));
      return values.filter((x, i) => x !== '_' && i * step > from * 1000 && i * step <= to * 1000).length;
    };
    const modelBoth = modelled(merged, 10, 20);
    const modelOne = modelled(lost, 30, 40);
    assert.deepEqual([modelBoth, modelOne], [20, 10]);
    // 10 s windows placed by what was observed, each waited for in full plus a federate
    // interval: the first after both copies fed, the second after the stopped one's last sample.
    const bothEnd = bothSince + INTERVAL + 10;
    await sleepUntil(bothEnd + INTERVAL);
    const both = await stored(bothEnd);
    const down = await stopMember();
    const oneEnd = down + INTERVAL + 10;
    await sleepUntil(oneEnd + INTERVAL);
    const one = await stored(oneEnd);
    await startMember();
    t.diagnostic(`stored in 10 s: ${both} of both members, ${one} of one`);
    // Each copy stores one sample per scrape interval: 10 in 10 s, one more or fewer where
    // a sample falls on the window's edge.
    assert.ok(Math.abs(both - modelBoth) <= 2, `both members: ${both} samples in 10 s at the federator, the model ${modelBoth}`);
    assert.ok(Math.abs(one - modelOne) <= 1, `one member: ${one} samples in 10 s at the federator, the model ${modelOne}`);
  });

  it('on, the staleness markers of the stopped member cut a hole into the series its partner still feeds', async (t) => {
    await setTracking(true);
    const missing = await missingSeconds();
    const shown = `missing ${missing.map((m) => `${m.toFixed(2)} s`).join(', ')}`;
    t.diagnostic(shown);
    assert.ok(missing.some((m) => m > 0), shown);
    // The hole ends at the surviving copy's next sample: within a scrape interval of the
    // marker, arriving within a federate interval.
    assert.ok(missing.every((m) => m <= 2 * INTERVAL), shown);
    await setTracking(false);
  });
});
