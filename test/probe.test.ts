/**
 * The probe clients against the real Debian binaries: one Prometheus, one
 * Pushgateway and a two-member Alertmanager cluster on loopback addresses,
 * plus the pure parts (text-format parser, errors from a wrong server).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import type { ResultPromise } from 'execa';
import {
  AlertmanagerClient,
  getText,
  groupPath,
  ownPeerPosition,
  parseMetrics,
  parsePeerName,
  parsePeerPosition,
  peerPosition,
  ProbeError,
  PrometheusClient,
  PushgatewayClient,
} from '../src/probe/index.ts';
import type { Sample } from '../src/probe/index.ts';
import { stackSkip } from './helpers.ts';

// ---------- helpers ----------

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns a value other than undefined, or fails with the last error. */
async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>, alive?: () => void): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    alive?.();
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const reason = last instanceof Error ? `: ${last.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${reason}`);
    }
    await sleep(250);
  }
}

async function rejectsWith(promise: Promise<unknown>, check: (error: ProbeError) => void): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ProbeError, `expected a ProbeError, got ${String(error)}`);
    check(error);
    return true;
  });
}

// ---------- the text-format parser ----------

describe('parseMetrics', { skip: stackSkip('loopback') }, () => {
  const cases: ReadonlyArray<{ name: string; text: string; want: Sample[] }> = [
    { name: 'bare sample', text: 'up 1\n', want: [{ name: 'up', labels: {}, value: 1 }] },
    {
      name: 'comments and blank lines are skipped',
      text: '# HELP up Whether.\n# TYPE up gauge\n\n   \nup{job="a"} 0\n# a free comment\n',
      want: [{ name: 'up', labels: { job: 'a' }, value: 0 }],
    },
    {
      name: 'escaped label values',
      text: 'm{a="x\\"y",b="back\\\\slash",c="new\\nline",d="é ünï"} 2\n',
      want: [{ name: 'm', labels: { a: 'x"y', b: 'back\\slash', c: 'new\nline', d: 'é ünï' }, value: 2 }],
    },
    {
      name: 'a } and , inside a value',
      text: 'm{a="{x},y",b=""} 3',
      want: [{ name: 'm', labels: { a: '{x},y', b: '' }, value: 3 }],
    },
    {
      name: 'special floats',
      text: 'a NaN\nb +Inf\nc -Inf\nd 1.5e-07\ne -0.25\nf 1e+06\n',
      want: [
        { name: 'a', labels: {}, value: NaN },
        { name: 'b', labels: {}, value: Infinity },
        { name: 'c', labels: {}, value: -Infinity },
        { name: 'd', labels: {}, value: 1.5e-7 },
        { name: 'e', labels: {}, value: -0.25 },
        { name: 'f', labels: {}, value: 1e6 },
      ],
    },
    {
      name: 'timestamps, a trailing comma, CRLF, colons in names',
      text: 'job:up:sum{job="x",} 4 1700000000000\r\nh_bucket{le="+Inf"} 7\r\n',
      want: [
        { name: 'job:up:sum', labels: { job: 'x' }, value: 4, timestamp: 1700000000000 },
        { name: 'h_bucket', labels: { le: '+Inf' }, value: 7 },
      ],
    },
    {
      name: 'spaces around labels',
      text: 'm { a = "1" , b="2" }   5  \n',
      want: [{ name: 'm', labels: { a: '1', b: '2' }, value: 5 }],
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(parseMetrics(c.text), c.want));
  }

  const bad: ReadonlyArray<{ text: string; message: RegExp }> = [
    { text: 'ok 1\nm{a="x} 1\n', message: /line 2: unterminated label value/ },
    { text: 'm{a="\\t"} 1', message: /invalid escape/ },
    { text: 'm abc', message: /invalid value "abc"/ },
    { text: 'm', message: /expected a value/ },
    { text: '{a="b"} 1', message: /expected a metric name/ },
    { text: 'm 1 2 3', message: /unexpected text/ },
    { text: 'm{a="1",a="2"} 1', message: /duplicate label a/ },
  ];
  for (const b of bad) {
    it(`rejects ${JSON.stringify(b.text)}`, () => assert.throws(() => parseMetrics(b.text), b.message));
  }

  it('finds the own peer name and position of an Alertmanager', () => {
    const text = [
      '# HELP alertmanager_cluster_peer_info A metric with a constant \'1\' value labeled by peer name.',
      '# TYPE alertmanager_cluster_peer_info gauge',
      'alertmanager_cluster_peer_info{peer="01M85Z6FRRVK7SZGBKX4TH9FWW"} 1',
      'alertmanager_peer_position 1',
    ].join('\n');
    assert.equal(parsePeerName(text), '01M85Z6FRRVK7SZGBKX4TH9FWW');
    assert.equal(parsePeerPosition(text), 1);
    assert.equal(parsePeerName('alertmanager_cluster_enabled 0\n'), undefined);
  });
});

describe('groupPath', { skip: stackSkip('loopback') }, () => {
  it('uses @base64 for values a path cannot carry', () => {
    assert.equal(groupPath('batch'), '/metrics/job/batch');
    assert.equal(groupPath('batch', { instance: 'host-1.example' }), '/metrics/job/batch/instance/host-1.example');
    assert.equal(groupPath('a/b', { path: '', x: 'é' }), '/metrics/job@base64/YS9i/path@base64/=/x@base64/w6k');
    assert.throws(() => groupPath('j', { 'bad-name': 'x' }), /invalid label name/);
    assert.throws(() => groupPath('j', { job: 'x' }), /cannot contain "job"/);
  });
});

// ---------- errors from servers that are not what we expect ----------

describe('errors', { skip: stackSkip('loopback') }, () => {
  let server: Server;
  let base = '';
  const routes: Record<string, { status: number; body: string; hang?: boolean }> = {
    '/api/v1/targets': { status: 200, body: '{"status":"success","data":{"activeTargets":[{"health":5}]}}' },
    '/api/v1/query': { status: 200, body: '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"x"]}]}}' },
    '/api/v1/status/flags': { status: 200, body: '<html>not json</html>' },
    '/api/v1/rules': { status: 503, body: '{"status":"error","errorType":"unavailable","error":"not ready"}' },
    '/api/v1/alerts': { status: 200, body: '{"status":"weird"}' },
    '/api/v2/status': { status: 200, body: '{"cluster":{"status":"ready","peers":"nope"},"config":{"original":""},"uptime":"x"}' },
    '/api/v2/silences': { status: 200, body: '[{"id":1}]' },
    '/api/v1/metrics': { status: 200, body: '{"status":"success","data":[{"labels":{"job":"j"},"m":{"type":"GAUGE","metrics":[{"value":"bad"}]}}]}' },
    '/slow': { status: 200, body: '', hang: true },
  };

  before(async () => {
    server = createServer((req, res) => {
      const route = routes[(req.url ?? '').split('?')[0] ?? ''];
      if (!route) {
        res.writeHead(404).end('404 page not found\n');
        return;
      }
      if (route.hang) return; // never answers
      res.writeHead(route.status, { 'Content-Type': 'application/json' }).end(route.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('a wrong answer is a ProbeError that says where, never a TypeError', async () => {
    const prom = new PrometheusClient(base);
    await rejectsWith(prom.targets(), (e) => assert.match(e.message, /activeTargets\[0\]\.(health|scrapePool)/));
    await rejectsWith(prom.query('up'), (e) => assert.match(e.message, /not a float: "x"/));
    await rejectsWith(prom.flags(), (e) => assert.match(e.message, /not JSON: <html>not json<\/html>/));
    await rejectsWith(prom.rules(), (e) => {
      assert.equal(e.status, 503);
      assert.equal(e.errorType, 'unavailable');
      assert.match(e.message, /unavailable: not ready/);
    });
    await rejectsWith(prom.alerts(), (e) => assert.match(e.message, /not a Prometheus API answer/));
    await rejectsWith(prom.alertmanagers(), (e) => {
      assert.equal(e.status, 404);
      assert.match(e.message, /HTTP 404: 404 page not found/);
    });
    const am = new AlertmanagerClient(base);
    await rejectsWith(am.status(), (e) => assert.match(e.message, /cluster\.peers|uptime/));
    await rejectsWith(am.silences(), (e) => assert.match(e.message, /\[0\]\.id/));
    await rejectsWith(am.alerts(), (e) => assert.equal(e.status, 404));
    assert.equal(await am.ready(), false);
    const pg = new PushgatewayClient(base);
    await rejectsWith(pg.groups(), (e) => assert.match(e.message, /metric family m: not a float/));
  });

  it('a timeout is a ProbeError that names the url', async () => {
    const url = `${base}/slow`;
    await rejectsWith(getText(url, { timeoutMs: 200 }), (e) => {
      assert.equal(e.url, url);
      assert.match(e.message, /timed out after 200 ms/);
      assert.ok(e.message.includes(url));
    });
  });
});

// ---------- the real binaries ----------

const PROM = '127.0.0.201:19090';
const PUSH = '127.0.0.202:19091';
const AM = ['127.0.0.203', '127.0.0.204'] as const;
const AM_WEB = AM.map((ip) => `${ip}:19093`);
const AM_GOSSIP = AM.map((ip) => `${ip}:19094`);

interface Proc {
  readonly name: string;
  readonly child: ResultPromise;
  readonly log: string;
  exited: boolean;
}

describe('against the real binaries', { timeout: 180_000, skip: stackSkip('loopback') }, () => {
  let dir = '';
  const procs: Proc[] = [];
  const prom = new PrometheusClient(`http://${PROM}`);
  const push = new PushgatewayClient(`http://${PUSH}`);
  const ams = AM_WEB.map((a) => new AlertmanagerClient(`http://${a}`));
  const amA = ams[0]!;
  const amB = ams[1]!;
  let tsdbPath = '';
  /** Before any server started (ms): every time they report is later. */
  let startedAt = 0;

  /** Last resort, should the runner exit without running `after`. */
  const killAllSync = () => {
    for (const p of procs) if (!p.exited) p.child.kill('SIGKILL');
  };

  function start(name: string, file: string, args: string[]): void {
    const log = path.join(dir, `${name}.log`);
    const child = execa(file, args, {
      detached: false,
      reject: false,
      stdin: 'ignore',
      stdout: { file: log },
      stderr: { file: log, append: true },
      cleanup: true,
    });
    const proc: Proc = { name, child, log, exited: false };
    void child.then(() => {
      proc.exited = true;
    });
    procs.push(proc);
  }

  /** Throws with the log's tail if any process has died. */
  async function checkAlive(): Promise<void> {
    for (const p of procs) {
      if (p.exited) {
        const log = await readFile(p.log, 'utf8').catch(() => '');
        throw new Error(`${p.name} exited early:\n${log.split('\n').slice(-15).join('\n')}`);
      }
    }
  }

  async function stopAll(): Promise<void> {
    await Promise.all(
      procs.map(async (p) => {
        if (p.exited) return;
        p.child.kill('SIGTERM');
        const stopped = await Promise.race([p.child.then(() => true), sleep(5000).then(() => false)]);
        if (!stopped) {
          p.child.kill('SIGKILL');
          await p.child;
        }
      }),
    );
  }

  before(async () => {
    process.on('exit', killAllSync);
    startedAt = Date.now();
    dir = await mkdtemp(path.join(os.tmpdir(), 'promha-probe-'));
    try {
      tsdbPath = path.join(dir, 'tsdb');
      await writeFile(
        path.join(dir, 'prometheus.yml'),
        [
          'global: { scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s }',
          'rule_files: [rules.yml]',
          'alerting:',
          `  alertmanagers: [{ static_configs: [{ targets: ['${AM_WEB[0]}', '${AM_WEB[1]}'] }] }]`,
          'scrape_configs:',
          `  - { job_name: prometheus, static_configs: [{ targets: ['${PROM}'] }] }`,
          '',
        ].join('\n'),
      );
      await writeFile(
        path.join(dir, 'rules.yml'),
        [
          'groups:',
          '  - name: probe',
          '    rules:',
          '      - { alert: ProbeAlways, expr: vector(1), labels: { severity: none }, annotations: { summary: always } }',
          '      - { alert: ProbeNever, expr: vector(1) > 2, for: 1h, keep_firing_for: 5m }',
          '      - { record: "job:up:sum", expr: sum by (job) (up) }',
          '',
        ].join('\n'),
      );
      await writeFile(path.join(dir, 'alertmanager.yml'), 'route: { receiver: blackhole }\nreceivers: [{ name: blackhole }]\n');

      start('prometheus', '/usr/bin/prometheus', [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${tsdbPath}`,
        `--web.listen-address=${PROM}`,
        '--rules.alert.resend-delay=1s',
      ]);
      start('pushgateway', '/usr/bin/prometheus-pushgateway', [`--web.listen-address=${PUSH}`, '--persistence.file=', '--web.enable-admin-api']);
      for (const i of [0, 1] as const) {
        const other = 1 - i;
        start(`alertmanager-${i + 1}`, '/usr/bin/prometheus-alertmanager', [
          `--config.file=${path.join(dir, 'alertmanager.yml')}`,
          `--storage.path=${path.join(dir, `am${i + 1}`)}`,
          `--web.listen-address=${AM_WEB[i]}`,
          `--cluster.listen-address=${AM_GOSSIP[i]}`,
          `--cluster.advertise-address=${AM_GOSSIP[i]}`,
          `--cluster.peer=${AM_GOSSIP[other]}`,
          '--cluster.peer-timeout=1s',
        ]);
      }

      const alive = () => {
        for (const p of procs) if (p.exited) throw new Error(`${p.name} exited early (see ${p.log})`);
      };
      const readyOrDead = async (what: string, timeoutMs: number, check: () => Promise<boolean>) => {
        try {
          await waitFor(what, timeoutMs, async () => ((await check()) ? true : undefined), alive);
        } catch (error) {
          await checkAlive(); // a better message: the log of the dead process
          throw error;
        }
      };
      await Promise.all([
        readyOrDead('Prometheus /-/ready', 30_000, () => prom.ready()),
        readyOrDead('Pushgateway /-/ready', 30_000, () => push.ready()),
        ...ams.map((am, i) =>
          readyOrDead(`alertmanager-${i + 1}: cluster ready with 2 peers`, 60_000, async () => {
            const s = await am.status();
            return s.cluster.status === 'ready' && s.cluster.peers.length === 2;
          }),
        ),
      ]);
    } catch (error) {
      await stopAll();
      throw error;
    }
  });

  after(async () => {
    await stopAll();
    process.off('exit', killAllSync);
    for (const p of procs) {
      const pid = p.child.pid;
      assert.ok(p.exited, `${p.name} still running`);
      if (pid !== undefined) assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `${p.name} (pid ${pid}) still exists`);
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe('Prometheus', () => {
    it('is ready and its own target comes up', async () => {
      assert.equal(await prom.ready(), true);
      assert.equal(await prom.healthy(), true);
      // Service discovery hands over even static targets on a 5 s tick.
      const target = await waitFor('the prometheus target to be up', 30_000, async () =>
        (await prom.targets()).find((t) => t.scrapePool === 'prometheus' && t.health === 'up'),
      );
      assert.equal(target.scrapeUrl, `http://${PROM}/metrics`);
      assert.deepEqual(target.labels, { instance: PROM, job: 'prometheus' });
      assert.equal(target.discoveredLabels.__address__, PROM);
      assert.equal(target.lastError, '');
      assert.equal(target.scrapeInterval, '1s');
      assert.equal(target.scrapeTimeout, '1s');
      // A time from this run: after the server started, not after the read.
      const first = target.lastScrape;
      assert.ok(first instanceof Date && first.getTime() >= startedAt && first.getTime() <= Date.now(), `lastScrape ${String(first)}`);
      assert.ok(target.lastScrapeDuration > 0, `lastScrapeDuration ${target.lastScrapeDuration}`);
      // Scraped again and again: a later read reports a later scrape. And the duration is in
      // seconds: a scrape that fit its 1 s timeout is reported as less than 1 (in
      // milliseconds no local scrape would be). Polled: on a loaded machine one scrape may
      // take longer, and Prometheus counts storing its samples too.
      await waitFor('a later scrape, within its timeout', 30_000, async () => {
        const t = (await prom.targets()).find((x) => x.scrapePool === 'prometheus');
        return t?.health === 'up' && t.lastScrape !== undefined && t.lastScrape > first && t.lastScrapeDuration > 0 && t.lastScrapeDuration < 1 ? t : undefined;
      });
    });

    it('query("up") returns 1; scalars, infinities and ranges', async () => {
      const [sample] = await waitFor('up to have a sample', 30_000, async () => {
        const r = await prom.query('up');
        return r.length > 0 ? r : undefined;
      });
      assert.ok(sample);
      assert.equal(sample.value, 1);
      assert.deepEqual(sample.metric, { __name__: 'up', instance: PROM, job: 'prometheus' });
      // Evaluated at the server's time of the query: between the test's start and now.
      assert.ok(sample.timestamp >= startedAt / 1000 && sample.timestamp <= Date.now() / 1000, `timestamp ${sample.timestamp}`);

      assert.deepEqual(
        (await prom.query('1 + 1', 1_700_000_000)).map((s) => ({ ...s })),
        [{ metric: {}, value: 2, timestamp: 1_700_000_000 }],
      );
      const [inf] = await prom.query('vector(1) / 0');
      assert.equal(inf?.value, Infinity);
      const [nan] = await prom.query('vector(0) / 0');
      assert.ok(Number.isNaN(nan?.value));

      const end = new Date();
      const series = await prom.queryRange('up', new Date(end.getTime() - 5000), end, 1);
      assert.equal(series.length, 1);
      assert.ok(series[0]!.values.length >= 1);
      assert.ok(series[0]!.values.every((p) => p.value === 1));
    });

    it('bad PromQL and a matrix result are ProbeErrors', async () => {
      await rejectsWith(prom.query('up('), (e) => {
        assert.equal(e.status, 400);
        assert.equal(e.errorType, 'bad_data');
        assert.match(e.message, /parse error/);
        assert.ok(e.message.includes(`http://${PROM}/api/v1/query`));
      });
      await rejectsWith(prom.query('up[10s]'), (e) => assert.match(e.message, /returned a matrix/));
    });

    it('reports its flags, config and build', async () => {
      const flags = await prom.flags();
      assert.equal(flags['storage.tsdb.path'], tsdbPath);
      assert.equal(flags['web.listen-address'], PROM);
      assert.equal(flags['rules.alert.resend-delay'], '1s');
      const config = await prom.config();
      assert.match(config, /job_name: prometheus/);
      assert.match(config, /scrape_interval: 1s/);
      assert.equal((await prom.buildInfo()).version, '2.42.0+ds');
    });

    it('lists rules and alerts', async () => {
      const [group] = await waitFor('rules to be evaluated', 30_000, async () => {
        const groups = await prom.rules();
        return groups[0]?.lastEvaluation ? groups : undefined;
      });
      assert.ok(group);
      assert.equal(group.name, 'probe');
      assert.equal(group.interval, 1);
      assert.deepEqual(
        group.rules.map((r) => [r.type, r.name, r.health]),
        [
          ['alerting', 'ProbeAlways', 'ok'],
          ['alerting', 'ProbeNever', 'ok'],
          ['recording', 'job:up:sum', 'ok'],
        ],
      );
      const never = group.rules[1];
      assert.ok(never?.type === 'alerting');
      assert.equal(never.duration, 3600);
      assert.equal(never.keepFiringFor, 300);
      assert.equal(never.state, 'inactive');

      const alerts = await prom.alerts();
      const always = alerts.find((a) => a.labels.alertname === 'ProbeAlways');
      assert.ok(always);
      assert.equal(always.state, 'firing');
      assert.equal(always.value, 1);
      assert.deepEqual(always.annotations, { summary: 'always' });
      assert.ok(always.activeAt instanceof Date);
    });

    it('sends to both Alertmanagers, and both get the alert', async () => {
      const targets = await waitFor('two active Alertmanagers', 30_000, async () => {
        const a = await prom.alertmanagers();
        return a.active.length === 2 ? a : undefined;
      });
      assert.deepEqual([...targets.active].sort(), AM_WEB.map((a) => `http://${a}/api/v2/alerts`).sort());
      assert.deepEqual(targets.dropped, []);
      for (const am of ams) {
        const [alert] = await waitFor(`ProbeAlways at ${am.baseUrl}`, 30_000, async () => {
          const list = await am.alerts(['alertname="ProbeAlways"']);
          return list.length > 0 ? list : undefined;
        });
        assert.ok(alert);
        assert.deepEqual(alert.labels, { alertname: 'ProbeAlways', severity: 'none' });
        assert.deepEqual(alert.receivers, ['blackhole']);
        assert.equal(alert.status.state, 'active');
        assert.ok(alert.endsAt > alert.startsAt);
        assert.match(alert.generatorURL, /graph\?g0\.expr=vector/);
      }
    });
  });

  describe('Pushgateway', () => {
    it('push → groups() shows the group; deleteGroup and wipe() remove it', async () => {
      assert.equal((await push.status()).flags['persistence.file'], '');
      const before = Date.now();
      const labels = { instance: 'batch-1', path: 'a/b c' };
      await push.push('promha_probe', '# TYPE pushed_value gauge\npushed_value{kind="x"} 42', labels);
      await push.push('promha_other', 'other_value 1\n');
      const groups = await push.groups();
      const group = groups.find((g) => g.labels.job === 'promha_probe');
      assert.ok(group, JSON.stringify(groups));
      assert.deepEqual(group.labels, { job: 'promha_probe', ...labels });
      assert.deepEqual(group.metrics, ['pushed_value']);
      assert.equal(group.lastPushSuccessful, true);
      assert.equal(group.lastPushFailure, undefined);
      assert.ok(group.lastPush instanceof Date);
      // Stamped by the gateway while the push ran: between before it and now (1 ms either side
      // for the float seconds it is reported in).
      assert.ok(group.lastPush.getTime() >= before - 1 && group.lastPush.getTime() <= Date.now() + 1, `lastPush ${group.lastPush.toISOString()}, pushed from ${new Date(before).toISOString()}`);

      const text = await getText(`http://${PUSH}/metrics`);
      const pushed = parseMetrics(text).find((s) => s.name === 'pushed_value');
      assert.deepEqual(pushed, { name: 'pushed_value', labels: { instance: 'batch-1', job: 'promha_probe', kind: 'x', path: 'a/b c' }, value: 42 });

      await push.deleteGroup('promha_probe', labels);
      assert.deepEqual((await push.groups()).map((g) => g.labels.job), ['promha_other']);

      await push.push('promha_probe', 'pushed_value 1\n', labels);
      await push.wipe();
      assert.deepEqual(await push.groups(), []);
    });

    it('a malformed push is a ProbeError with the server message', async () => {
      await rejectsWith(push.push('promha_probe', 'not valid {'), (e) => {
        assert.equal(e.status, 400);
        assert.ok(e.message.includes(`http://${PUSH}/metrics/job/promha_probe`));
      });
    });
  });

  describe('Alertmanager cluster', () => {
    it('both members see 2 peers and hold distinct positions', async () => {
      const statuses = await Promise.all(ams.map((am) => am.status()));
      const own: string[] = [];
      for (const [i, s] of statuses.entries()) {
        assert.equal(s.cluster.status, 'ready');
        assert.equal(s.cluster.peers.length, 2);
        assert.deepEqual(s.cluster.peers.map((p) => p.address).sort(), [...AM_GOSSIP].sort());
        assert.match(s.config.original, /receiver: blackhole/);
        assert.equal(s.versionInfo.version, '0.25.0');
        assert.ok(s.uptime.getTime() <= Date.now());
        // cluster.name is the member's own peer name; /metrics agrees.
        const metrics = await ams[i]!.metrics();
        assert.equal(parsePeerName(metrics), s.cluster.name);
        own.push(s.cluster.name!);
        assert.equal(parsePeerPosition(metrics), ownPeerPosition(s));
      }
      const positions = own.map((name) => peerPosition(statuses[0]!, name));
      assert.deepEqual([...positions].sort(), [0, 1]);
      // Both members agree on the order.
      assert.deepEqual(own.map((name) => peerPosition(statuses[1]!, name)), positions);
      assert.equal(peerPosition(statuses[0]!, 'nobody'), -1);
    });

    it('a silence created on one member reaches the other by gossip', async () => {
      const now = Date.now();
      const id = await amA.createSilence({
        matchers: [{ name: 'alertname', value: 'ProbeAlways' }, { name: 'severity', value: 'crit.*', isRegex: true, isEqual: false }],
        startsAt: new Date(now),
        endsAt: new Date(now + 3600_000),
        createdBy: 'promha-test',
        comment: 'probe test',
      });
      assert.match(id, /^[0-9a-f-]{36}$/);
      const seen = await waitFor('the silence on the other member', 10_000, async () => (await amB.silences()).find((s) => s.id === id));
      assert.equal(seen.state, 'active');
      assert.equal(seen.createdBy, 'promha-test');
      assert.equal(seen.comment, 'probe test');
      assert.deepEqual(seen.matchers, [
        { name: 'alertname', value: 'ProbeAlways', isRegex: false, isEqual: true },
        { name: 'severity', value: 'crit.*', isRegex: true, isEqual: false },
      ]);
      assert.equal(seen.endsAt.getTime(), now + 3600_000);

      await amB.expireSilence(id);
      await amB.expireSilence(id); // expiring twice is fine
      const expired = await waitFor('the expiry on the first member', 10_000, async () =>
        (await amA.silences()).find((s) => s.id === id && s.state === 'expired'),
      );
      assert.ok(expired.endsAt.getTime() <= Date.now());
      await rejectsWith(amA.expireSilence('00000000-0000-0000-0000-000000000000'), (e) => {
        assert.equal(e.status, 500);
        assert.match(e.message, /silence not found/);
      });
    });
  });

  describe('unreachable servers', () => {
    it('a closed port is a ProbeError that names the url', async () => {
      const closed = new PrometheusClient('http://127.0.0.201:19099');
      const url = 'http://127.0.0.201:19099/api/v1/targets?state=active';
      await rejectsWith(closed.targets(), (e) => {
        assert.equal(e.url, url);
        assert.equal(e.status, undefined);
        assert.ok(e.message.includes(url), e.message);
        assert.match(e.message, /connection refused/);
      });
      assert.equal(await closed.ready(), false);
      assert.equal(await new AlertmanagerClient('http://127.0.0.203:19099').ready(), false);
      await rejectsWith(new PushgatewayClient('http://127.0.0.202:19099').groups(), (e) => assert.match(e.message, /connection refused/));
      // Node's fetch refuses some ports before connecting.
      await rejectsWith(getText('http://127.0.0.1:1/'), (e) => assert.match(e.message, /bad ports/));
    });

    it('a 404 is a ProbeError with the status and a body excerpt', async () => {
      const url = `http://${PROM}/no/such/page`;
      await rejectsWith(getText(url), (e) => {
        assert.equal(e.status, 404);
        assert.equal(e.message, `GET ${url}: HTTP 404: 404 page not found`);
      });
      // An Alertmanager client pointed at Prometheus.
      await rejectsWith(new AlertmanagerClient(`http://${PROM}`).status(), (e) => assert.equal(e.status, 404));
    });
  });
});
