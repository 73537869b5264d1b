import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Duration } from '../src/duration.ts';
import { PrometheusClient } from '../src/probe/prometheus.ts';
import { haVariants, type TestGroup, type Variant } from '../src/rules/ha-conditions.ts';
import { expandValues } from '../src/rules/series-values.ts';
import type { RunState } from '../src/runtime/state.ts';
import { FAST_RULES, fastTopology, promha, tempProject, stackSkip } from './helpers.ts';

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
  });
  after(async () => {
    await run('down');
    await project.cleanup();
  });

  const state = async () => JSON.parse(await readFile(path.join(stateDir, 'state.json'), 'utf8')) as RunState;

  /** Sets the field in both federators' configs and reloads them (SIGHUP). */
  async function setTracking(on: boolean): Promise<void> {
    const s = await state();
    for (const name of federators) {
      const file = path.join(stateDir, 'nodes', name, 'prometheus.yml');
      const text = await readFile(file, 'utf8');
      assert.equal(text.match(/track_timestamps_staleness: (true|false)/g)?.length, 2, 'both federate jobs carry the field');
      await writeFile(file, text.replace(/track_timestamps_staleness: (true|false)/g, `track_timestamps_staleness: ${on}`));
      const pid = s.nodes.find((n) => n.name === name)?.processes[0]?.pid;
      assert.ok(pid);
      process.kill(pid, 'SIGHUP');
    }
    await sleep(3_000);
  }

  /**
   * Stops a member of the first scraper set and returns, per federator, how long its
   * merged series was missing around the stop (0.01 s steps over 3 s before to 10 s after).
   */
  async function missingSeconds(): Promise<number[]> {
    const t0 = Date.now() / 1000;
    assert.equal((await run('stop', 'scraper1-1')).exitCode, 0);
    await sleep(10_000);
    const t1 = Date.now() / 1000;
    const s = await state();
    const out: number[] = [];
    for (const name of federators) {
      const address = s.nodes.find((n) => n.name === name)?.localAddress;
      const c = new PrometheusClient(`http://${address}`);
      // Whole milliseconds, as Prometheus reads the bounds: its steps are then exactly these.
      const [startMs, endMs] = [Math.round((t0 - 3) * 1000), Math.round(t1 * 1000)];
      const series = await c.queryRange('count(promha_demo_requests_total{group="demo1"})', startMs / 1000, endMs / 1000, 0.01);
      const steps = Math.floor((endMs - startMs) / 10) + 1;
      out.push((steps - (series[0]?.values.length ?? 0)) * 0.01);
    }
    assert.equal((await run('start', 'scraper1-1')).exitCode, 0);
    await sleep(8_000);
    return out;
  }

  it('renders it off on every federate job, and off no merged series goes missing when a scraper member stops', async () => {
    await setTracking(false);
    const missing = await missingSeconds();
    assert.deepEqual(missing.map((m) => m.toFixed(2)), ['0.00', '0.00']);
  });

  it("PH605's claim: over one scrape interval, rate has values while both copies feed the series and none while one scraper member is down", async () => {
    await setTracking(false);
    const s = await state();
    const c = new PrometheusClient(`http://${s.nodes.find((n) => n.name === 'federator1-1')?.localAddress}`);
    /** The share of 0.1 s steps over the last 8 s at which `expr` has a value. */
    const covered = async (expr: string) => {
      const end = Date.now() / 1000;
      const series = await c.queryRange(expr, end - 8, end, 0.1);
      return (series[0]?.values.length ?? 0) / 81;
    };
    const oneInterval = 'rate(promha_demo_requests_total{group="demo1"}[1s])';
    const twoIntervals = 'rate(promha_demo_requests_total{group="demo1"}[2s])';
    const both = await covered(oneInterval);
    assert.equal((await run('stop', 'scraper1-1')).exitCode, 0);
    await sleep(9_000);
    const one = await covered(oneInterval);
    const oneWide = await covered(twoIntervals);
    assert.equal((await run('start', 'scraper1-1')).exitCode, 0);
    await sleep(8_000);
    assert.ok(both > 0.5, `both copies: [1s] has a value at ${(both * 100).toFixed(0)} % of the steps`);
    assert.ok(one < 0.2, `one copy: [1s] has a value at ${(one * 100).toFixed(0)} % of the steps`);
    assert.ok(oneWide > 0.9, `one copy: [2s] has a value at ${(oneWide * 100).toFixed(0)} % of the steps`);
  });

  it("promha test rules' models of merged copies and of a lost scraper member store as many samples as the federators do", async () => {
    await setTracking(false);
    const s = await state();
    const c = new PrometheusClient(`http://${s.nodes.find((n) => n.name === 'federator1-1')?.localAddress}`);
    const selector = 'promha_demo_requests_total{group="demo1"}';
    const stored = async () => (await c.rawSamples(selector, 10))[0]?.values.length ?? 0;
    // The same exporter series in a promtool test at the scrape interval (1 s), 40 s long; the member is lost at 20 s.
    const group: TestGroup = { interval: '1s', input_series: [{ series: selector, values: '1+1x40' }], promql_expr_test: [{ eval_time: '40s' }] };
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
    // The earlier test restarted scraper1-1: the window must start after its copy is back.
    await sleep(12_000);
    const both = await stored();
    assert.equal((await run('stop', 'scraper1-1')).exitCode, 0);
    await sleep(13_000);
    const one = await stored();
    assert.equal((await run('start', 'scraper1-1')).exitCode, 0);
    await sleep(8_000);
    assert.ok(Math.abs(both - modelBoth) <= 1, `both members: ${both} samples in 10 s at the federator, the model ${modelBoth}`);
    assert.ok(Math.abs(one - modelOne) <= 1, `one member: ${one} samples in 10 s at the federator, the model ${modelOne}`);
  });

  it('on, the staleness markers of the stopped member cut a hole into the series its partner still feeds', async () => {
    await setTracking(true);
    const missing = await missingSeconds();
    assert.ok(missing.some((m) => m > 0), `missing ${missing.map((m) => `${m.toFixed(2)} s`).join(', ')}`);
    await setTracking(false);
  });
});
