// The demo workload against real sockets on loopback (127.0.0.x, ports 19100-19199).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startExporter } from '../src/demo/exporter.ts';
import type { DemoServer } from '../src/demo/http.ts';
import { alertsIn, countNotifications, openAlerts, type NotificationRecord, type WebhookPayload } from '../src/demo/notifications.ts';
import { startPusher, type PusherStats } from '../src/demo/pusher.ts';
import { startWebhook } from '../src/demo/webhook.ts';
import { readWorkloadSpec, startWorkload } from '../src/demo/workload.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

async function get(url: string): Promise<{ status: number; text: string }> {
  const r = await fetch(url);
  return { status: r.status, text: await r.text() };
}

async function postJson(url: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const r = await fetch(url, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: r.status, json: await r.json() };
}

/** Polls `probe` until it returns a value other than undefined. */
async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** For starts that must fail: should one succeed, its server must not outlive the test. */
async function startedThenClosed(start: Promise<DemoServer>): Promise<void> {
  const s = await start;
  await s.close();
}

/** The value of one sample line `name{...} value` in a text exposition. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('exporter', () => {
  let exporter: DemoServer;
  const metrics = () => get(`${exporter.url}/metrics`);
  before(async () => {
    exporter = await startExporter({ listen: '127.0.0.11:19101', group: 'demo1' });
  });
  after(() => exporter.close());

  test('exposes the gauge at 0, then at the value /-/fault sets, and no process metrics', async () => {
    assert.equal(exporter.url, 'http://127.0.0.11:19101');
    const first = await metrics();
    assert.equal(first.status, 200);
    assert.equal(sample(first.text, 'promha_demo_value{group="demo1"}'), 0);
    assert.doesNotMatch(first.text, /^process_/m);
    assert.deepEqual(await postJson(`${exporter.url}/-/fault`, { value: 3 }), { status: 200, json: { mode: 'ok', value: 3, delayMs: 0, series: 0 } });
    assert.equal(sample((await metrics()).text, 'promha_demo_value{group="demo1"}'), 3);
    assert.deepEqual(JSON.parse((await get(`${exporter.url}/-/fault`)).text), { mode: 'ok', value: 3, delayMs: 0, series: 0 });
  });

  test('rejects invalid fault bodies with 400 and keeps the state', async () => {
    for (const body of ['not json', '[1]', { mode: 'broken' }, { delayMs: -1 }, { value: 'high' }, { extra: 1 }]) {
      const r = await postJson(`${exporter.url}/-/fault`, body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(typeof (r.json as { error: unknown }).error, 'string');
    }
    assert.deepEqual(JSON.parse((await get(`${exporter.url}/-/fault`)).text), { mode: 'ok', value: 3, delayMs: 0, series: 0 });
  });

  test('answers 503 while down and 200 again once ok', async () => {
    await postJson(`${exporter.url}/-/fault`, { mode: 'down' });
    assert.equal((await metrics()).status, 503);
    assert.equal((await get(`${exporter.url}/-/ready`)).status, 200, 'readiness stays up: only the target is down');
    await postJson(`${exporter.url}/-/fault`, { mode: 'ok' });
    assert.equal((await metrics()).status, 200);
  });

  test('delays /metrics by delayMs while slow', async () => {
    await postJson(`${exporter.url}/-/fault`, { mode: 'slow', delayMs: 400 });
    const t0 = performance.now();
    const r = await metrics();
    const took = performance.now() - t0;
    assert.equal(r.status, 200);
    assert.ok(took >= 398, `took ${took} ms`); // timers may fire up to 1 ms early
  });

  test('ok mode drops the delay: a slow setting left in place no longer holds /metrics', async () => {
    // The longest delay /-/fault takes (10 min): were ok mode still to wait, the request
    // below would outlast the generous abort and the test timeout.
    await postJson(`${exporter.url}/-/fault`, { mode: 'slow', delayMs: 600_000 });
    await postJson(`${exporter.url}/-/fault`, { mode: 'ok' });
    assert.deepEqual(JSON.parse((await get(`${exporter.url}/-/fault`)).text), { mode: 'ok', value: 3, delayMs: 600_000, series: 0 }, 'the delay stays set');
    const r = await fetch(`${exporter.url}/metrics`, { signal: AbortSignal.timeout(60_000) });
    assert.equal(r.status, 200);
    assert.equal(sample(await r.text(), 'promha_demo_value{group="demo1"}'), 3);
    await postJson(`${exporter.url}/-/fault`, { delayMs: 0 });
  });

  test('exposes as many extra series as /-/fault asks for, and none again at 0', async () => {
    const extra = (text: string) => text.split('\n').filter((l) => l.startsWith('promha_demo_series{'));
    assert.equal((await postJson(`${exporter.url}/-/fault`, { series: 2500 })).status, 200);
    const lines = extra((await metrics()).text);
    assert.equal(lines.length, 2500);
    assert.equal(new Set(lines.map((l) => l.split(' ')[0])).size, 2500, 'every series is distinct');
    assert.equal(sample((await metrics()).text, 'promha_demo_series{group="demo1",series="2499"}'), 99);
    assert.equal(sample((await metrics()).text, 'promha_demo_value{group="demo1"}'), 3, 'the demo series are still there');
    assert.equal((await postJson(`${exporter.url}/-/fault`, { series: -1 })).status, 400);
    await postJson(`${exporter.url}/-/fault`, { series: 0 });
    assert.deepEqual(extra((await metrics()).text), []);
  });

  test('the counter grows by 10 every second', { timeout: 60_000 }, async () => {
    const series = 'promha_demo_requests_total{group="demo1"}';
    const read = async () => {
      const v = sample((await metrics()).text, series);
      assert.ok(v !== undefined, `no ${series}`);
      return v;
    };
    // The window is bracketed by the reads: it starts before the first and ends after the last.
    const t0 = performance.now();
    const first = await read();
    const seen = [first];
    // At least two ticks of the 1 s timer, with a deadline far beyond what two ticks need.
    const last = await waitFor(
      'the counter to grow by 20',
      async () => {
        const v = await read();
        if (v !== seen.at(-1)) seen.push(v);
        return v - first >= 20 ? v : undefined;
      },
      30_000,
    );
    const elapsed = (performance.now() - t0) / 1000;
    // Every step of the counter is a whole number of ticks of 10 (a slow poll may miss one)…
    for (let i = 1; i < seen.length; i++) {
      const step = (seen[i] as number) - (seen[i - 1] as number);
      assert.ok(step > 0 && step % 10 === 0, `a step of ${step} in ${seen.join(', ')}`);
    }
    // …and it never grows faster than the timer: at most one tick per second of the window,
    // plus one for a tick right at its start (timers may fire up to 1 ms early: 2 % spare).
    const ticks = (last - first) / 10;
    assert.ok(ticks <= Math.floor(elapsed * 1.02) + 1, `${ticks} ticks in ${elapsed.toFixed(2)} s`);
  });

  test('close() does not wait for a slow response in flight', { timeout: 60_000 }, async () => {
    const slow = await startExporter({ listen: '127.0.0.12:19102', group: 'g' });
    try {
      // The longest delay /-/fault takes (10 min), far past this test's timeout: should
      // close() wait for the response in flight, the test times out instead of passing.
      await postJson(`${slow.url}/-/fault`, { mode: 'slow', delayMs: 600_000 });
      const pending = fetch(`${slow.url}/metrics`).catch(() => 'dropped');
      await new Promise((r) => setTimeout(r, 100));
      await slow.close();
      assert.equal(await pending, 'dropped');
    } finally {
      await slow.close();
    }
  });
});

interface Put {
  readonly method: string;
  readonly url: string;
  readonly contentType: string | undefined;
  readonly sequence: number | undefined;
  readonly value: number | undefined;
}

/** A stand-in Pushgateway that records every request; `respond` picks each answer. */
async function pushTarget(
  listen: { host: string; port: number },
  respond: (i: number) => { status: number; delayMs?: number; hang?: boolean } = () => ({ status: 200 }),
) {
  const puts: Put[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const server = http.createServer(async (req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    let body = '';
    for await (const c of req) body += String(c);
    const i = puts.length;
    puts.push({
      method: req.method ?? '',
      url: req.url ?? '',
      contentType: req.headers['content-type'],
      sequence: sample(body, 'promha_demo_push_sequence'),
      value: sample(body, 'promha_demo_pushed_value'),
    });
    const r = respond(i);
    if (r.hang) return; // never answers: the pusher's attempt timeout must fire
    if (r.delayMs) await new Promise((ok) => setTimeout(ok, r.delayMs));
    inFlight--;
    res.writeHead(r.status, { 'x-served-by': 'target-a' }).end(r.status === 200 ? '' : 'unavailable');
  });
  server.listen(listen.port, listen.host);
  await once(server, 'listening');
  return {
    url: `http://${listen.host}:${listen.port}`,
    puts,
    maxInFlight: () => maxInFlight,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}

describe('pusher', () => {
  const closers: (() => Promise<void>)[] = [];
  after(async () => {
    for (const close of closers) await close();
  });
  async function started<T extends { close(): Promise<void> }>(p: Promise<T>): Promise<T> {
    const s = await p;
    closers.push(() => s.close());
    return s;
  }
  const stats = async (p: DemoServer) => JSON.parse((await get(`${p.url}/-/stats`)).text) as PusherStats;
  /** Polls the pusher's stats until `ok` holds; returns them. */
  const statsWhen = (p: DemoServer, what: string, ok: (s: PusherStats) => boolean, timeoutMs?: number) =>
    waitFor(
      what,
      async () => {
        const st = await stats(p);
        return ok(st) ? st : undefined;
      },
      timeoutMs,
    );

  test('pushes increasing sequences with the value /-/fault sets', async () => {
    const target = await started(pushTarget({ host: '127.0.0.22', port: 19112 }));
    const pusher = await started(startPusher({ listen: '127.0.0.21:19111', pushUrl: `${target.url}/`, job: 'demo-batch', intervalMs: 100 }));
    await waitFor('three pushes', () => (target.puts.length >= 3 ? true : undefined));
    const first = target.puts[0];
    // The text exposition format 0.0.4, which every Pushgateway release parses.
    assert.deepEqual(first, { method: 'PUT', url: '/metrics/job/demo-batch', contentType: 'text/plain; version=0.0.4; charset=utf-8', sequence: 1, value: 0 });

    assert.deepEqual(await postJson(`${pusher.url}/-/fault`, { value: 7 }), { status: 200, json: { value: 7 } });
    assert.equal((await postJson(`${pusher.url}/-/fault`, { value: 'x' })).status, 400);
    const from = await waitFor('a push of value 7', () => {
      const i = target.puts.findIndex((p) => p.value === 7);
      return i >= 0 && target.puts.length >= i + 3 ? i : undefined;
    });
    assert.ok(target.puts.slice(from).every((p) => p.value === 7));
    target.puts.forEach((p, i) => assert.equal(p.sequence, i + 1, 'one request per push, numbered 1, 2, 3, ...'));

    const s = await stats(pusher);
    assert.equal(s.failed, 0);
    assert.equal(s.retried, 0);
    assert.ok(s.succeeded >= 3);
    assert.equal(s.servedBy, 'target-a');
    assert.ok(s.lastSuccessAt && !Number.isNaN(Date.parse(s.lastSuccessAt)));
    const own = (await get(`${pusher.url}/metrics`)).text;
    assert.ok((sample(own, 'promha_demo_push_succeeded_total') ?? 0) >= 3);
    assert.equal(sample(own, 'promha_demo_push_failed_total'), 0);
  });

  test('a push whose first attempt gets a 503 succeeds on the retry', async () => {
    const target = await started(pushTarget({ host: '127.0.0.24', port: 19114 }, (i) => ({ status: i === 0 ? 503 : 200 })));
    const pusher = await started(startPusher({ listen: '127.0.0.23:19113', pushUrl: target.url, job: 'retry', intervalMs: 60_000 }));
    const s = await statsWhen(pusher, 'the push to succeed', (st) => st.succeeded === 1);
    assert.equal(s.attempts, 2);
    assert.equal(s.retried, 1);
    assert.equal(s.failed, 0);
    assert.match(s.lastError ?? '', /HTTP 503/);
    assert.deepEqual(
      target.puts.map((p) => p.sequence),
      [1, 1],
      'a retry resends the same push',
    );
  });

  test('with a retry window, a push refused for longer than its retries succeeds once the gateway answers (a VIP failing over)', { timeout: 120_000 }, async () => {
    // The first 8 attempts are refused (at least 1.6 s at 200 ms apart): the default 3
    // retries would give up. The window is generous, so that 8 refusals fit it on any
    // machine: the counts below follow from the target's answers, not from the clock.
    const target = await started(pushTarget({ host: '127.0.0.34', port: 19134 }, (i) => ({ status: i < 8 ? 503 : 200 })));
    const pusher = await started(startPusher({ listen: '127.0.0.33:19133', pushUrl: target.url, job: 'failover', intervalMs: 600_000, retryForMs: 60_000 }));
    const s = await statsWhen(pusher, 'the push to succeed', (st) => st.succeeded === 1, 90_000);
    assert.deepEqual({ attempts: s.attempts, retried: s.retried, failed: s.failed }, { attempts: 9, retried: 8, failed: 0 });
    assert.deepEqual(
      target.puts.map((p) => p.sequence),
      Array(9).fill(1),
      'every attempt resends the one push',
    );
  });

  test('a retry window ends: a gateway that keeps refusing fails the push, after no more attempts than the pause allows', { timeout: 60_000 }, async () => {
    const windowMs = 2_000;
    const target = await started(pushTarget({ host: '127.0.0.36', port: 19136 }, () => ({ status: 503 })));
    const t0 = performance.now();
    const pusher = await started(startPusher({ listen: '127.0.0.35:19135', pushUrl: target.url, job: 'refused', intervalMs: 600_000, retries: 0, retryForMs: windowMs }));
    const s = await statsWhen(pusher, 'the push to fail', (st) => st.failed === 1, 30_000);
    const elapsedMs = performance.now() - t0;
    assert.equal(s.succeeded, 0);
    assert.equal(s.retried, s.attempts - 1, 'every attempt after the first is a retry');
    assert.match(s.lastError ?? '', /HTTP 503/);
    // retries: 0, yet it retried: the window, not the count, kept it going (the first retry
    // starts 200 ms after the first attempt, inside the 2 s window on any machine)…
    assert.ok(s.attempts >= 2, `${s.attempts} attempt(s)`);
    // …and the pause bounds the rate: one attempt at the start, then one per 200 ms, the
    // last of them begun inside the window (timers may fire up to 1 ms early).
    assert.ok(s.attempts <= 1 + Math.floor(Math.min(elapsedMs, windowMs) / 199) + 1, `${s.attempts} attempts in ${elapsedMs.toFixed(0)} ms`);
    assert.equal(target.puts.length, s.attempts, 'one request per attempt');
  });

  test('a push to an unreachable gateway fails after all retries', async () => {
    // Nothing listens on 127.0.0.26:19116.
    const pusher = await started(startPusher({ listen: '127.0.0.25:19115', pushUrl: 'http://127.0.0.26:19116', job: 'lost', intervalMs: 60_000, retries: 2 }));
    const s = await statsWhen(pusher, 'the push to fail', (st) => st.failed === 1);
    assert.deepEqual({ attempts: s.attempts, retried: s.retried, succeeded: s.succeeded }, { attempts: 3, retried: 2, succeeded: 0 });
    assert.match(s.lastError ?? '', /ECONNREFUSED/);
    assert.equal(s.lastSuccessAt, undefined);
    assert.equal(sample((await get(`${pusher.url}/metrics`)).text, 'promha_demo_push_failed_total'), 1);
  });

  test('an attempt the gateway never answers times out', async () => {
    const target = await started(pushTarget({ host: '127.0.0.28', port: 19118 }, () => ({ status: 200, hang: true })));
    const pusher = await started(
      startPusher({ listen: '127.0.0.27:19117', pushUrl: target.url, job: 'silent', intervalMs: 60_000, retries: 0, attemptTimeoutMs: 300 }),
    );
    const s = await statsWhen(pusher, 'the push to time out', (st) => st.failed === 1);
    assert.equal(s.lastError, 'no answer within 300 ms');
  });

  test('pushes never overlap, even when the gateway is slower than the interval', async () => {
    const target = await started(pushTarget({ host: '127.0.0.30', port: 19120 }, () => ({ status: 200, delayMs: 250 })));
    await started(startPusher({ listen: '127.0.0.29:19119', pushUrl: target.url, job: 'slow', intervalMs: 50 }));
    await waitFor('three pushes', () => (target.puts.length >= 3 ? true : undefined));
    assert.equal(target.maxInFlight(), 1);
  });

  test('refuses bad options', async () => {
    for (const [bad, expected] of [
      [{ job: 'a/b' }, /job/],
      [{ intervalMs: 0 }, /intervalMs/],
      [{ retries: -1 }, /retries/],
    ] as const)
      await assert.rejects(startedThenClosed(startPusher({ listen: '127.0.0.31:19121', pushUrl: 'http://127.0.0.1:1', job: 'j', intervalMs: 100, ...bad })), expected);
  });
});

const payload = (status: 'firing' | 'resolved', alerts: { alertname: string; status?: 'firing' | 'resolved'; [label: string]: string | undefined }[]): WebhookPayload => ({
  version: '4',
  groupKey: '{}:{alertname="x"}',
  status,
  receiver: 'webhook',
  groupLabels: {},
  commonLabels: {},
  commonAnnotations: {},
  externalURL: 'http://127.0.0.81:9093',
  alerts: alerts.map(({ status: alertStatus, ...labels }) => ({
    status: alertStatus ?? status,
    labels: Object.fromEntries(Object.entries(labels).filter((e): e is [string, string] => e[1] !== undefined)),
    annotations: {},
    startsAt: '2024-01-01T00:00:00Z',
    endsAt: '0001-01-01T00:00:00Z',
    fingerprint: 'f',
  })),
});

describe('webhook', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'promha-demo-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('records every POST in memory and in the JSONL file, and keeps them across a restart', async () => {
    const file = path.join(dir, 'nested/dir/notifications.jsonl');
    const p1 = payload('firing', [{ alertname: 'DemoHigh', group: 'demo1' }]);
    const p2 = payload('resolved', [{ alertname: 'DemoHigh', group: 'demo1' }]);
    const first = await startWebhook({ listen: '127.0.0.41:19141', file });
    try {
      assert.equal((await get(`${first.url}/-/ready`)).status, 200);
      assert.equal((await postJson(`${first.url}/`, p1)).status, 200);
      assert.equal((await postJson(`${first.url}/backup`, p2)).status, 200);
      assert.equal((await postJson(`${first.url}/`, 'not json')).status, 400);
      assert.equal((await postJson(`${first.url}/`, [1, 2])).status, 400);
      const got = JSON.parse((await get(`${first.url}/notifications`)).text) as NotificationRecord[];
      assert.deepEqual(
        got.map((r) => [r.path, r.payload]),
        [
          ['/', p1],
          ['/backup', p2],
        ],
      );
      assert.ok(got.every((r) => !Number.isNaN(Date.parse(r.receivedAt))));
      const lines = (await readFile(file, 'utf8')).split('\n');
      assert.equal(lines.length, 3, 'two lines, each ended by a newline');
      assert.deepEqual(lines.slice(0, 2).map((l) => JSON.parse(l) as NotificationRecord), got);
    } finally {
      await first.close();
    }

    const second = await startWebhook({ listen: '127.0.0.41:19141', file });
    try {
      const got = JSON.parse((await get(`${second.url}/notifications`)).text) as NotificationRecord[];
      assert.deepEqual(
        got.map((r) => r.payload),
        [p1, p2],
      );
      await postJson(`${second.url}/`, p1);
      assert.equal((await readFile(file, 'utf8')).trimEnd().split('\n').length, 3);
    } finally {
      await second.close();
    }
  });

  test('drops a torn last line left by a crash, so the next record starts its own line', async () => {
    const file = path.join(dir, 'torn.jsonl');
    const good = JSON.stringify({ receivedAt: '2024-01-01T00:00:00.000Z', path: '/', payload: payload('firing', [{ alertname: 'A' }]) });
    await writeFile(file, `${good}\n{"receivedAt": "2024-01-01T00:00:01`);
    const webhook = await startWebhook({ listen: '127.0.0.42:19142', file });
    try {
      assert.equal((JSON.parse((await get(`${webhook.url}/notifications`)).text) as unknown[]).length, 1);
      await postJson(`${webhook.url}/`, payload('firing', [{ alertname: 'B' }]));
      const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
      assert.deepEqual(
        lines.map((l) => (JSON.parse(l) as NotificationRecord).payload.alerts[0]?.labels.alertname),
        ['A', 'B'],
      );
    } finally {
      await webhook.close();
    }
  });

  test('refuses to start on a corrupt line in the middle of the file', async () => {
    const file = path.join(dir, 'corrupt.jsonl');
    await writeFile(file, 'garbage\n{}\n');
    await assert.rejects(startedThenClosed(startWebhook({ listen: '127.0.0.43:19143', file })), /corrupt\.jsonl:1: not a JSON line/);
  });
});

describe('workload', () => {
  const noClient = () => Promise.reject(new Error('no client files in these tests'));

  test('serves every exporter, pusher and the webhook at its own address; pushers push only once started', async () => {
    const target = await pushTarget({ host: '127.0.0.64', port: 19164 });
    const dir = await mkdtemp(path.join(os.tmpdir(), 'promha-workload-'));
    const workload = await startWorkload(
      {
        exporters: [
          { listen: '127.0.0.61:19161', group: 'a' },
          { listen: '127.0.0.62:19161', group: 'b' },
        ],
        pushers: [{ listen: '127.0.0.63:19163', pushUrl: target.url, job: 'batch', intervalMs: 50 }],
        webhook: { listen: '127.0.0.65:19165', file: path.join(dir, 'n.jsonl') },
      },
      noClient,
    );
    try {
      // Distinct targets on one port: each answers with its own group.
      assert.equal(sample((await get('http://127.0.0.61:19161/metrics')).text, 'promha_demo_value{group="a"}'), 0);
      assert.equal(sample((await get('http://127.0.0.62:19161/metrics')).text, 'promha_demo_value{group="b"}'), 0);
      assert.equal((await get('http://127.0.0.65:19165/-/ready')).status, 200);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(target.puts.length, 0, 'a paused pusher pushes nothing');
      assert.equal((JSON.parse((await get('http://127.0.0.63:19163/-/stats')).text) as PusherStats).attempts, 0);
      assert.deepEqual(await postJson('http://127.0.0.63:19163/-/start', {}), { status: 200, json: { pushing: true } });
      await waitFor('two pushes', () => (target.puts.length >= 2 ? true : undefined));
      // Starting twice runs one loop: sequences stay one per push.
      await postJson('http://127.0.0.63:19163/-/start', {});
      await waitFor('four pushes', () => (target.puts.length >= 4 ? true : undefined));
      target.puts.forEach((p, i) => assert.equal(p.sequence, i + 1));
    } finally {
      await workload.close();
      await target.close();
      await rm(dir, { recursive: true, force: true });
    }
    await assert.rejects(fetch('http://127.0.0.61:19161/metrics'), 'closed with the workload');
  });

  test('all or nothing: one address in use fails the start, naming it, and closes the others', async () => {
    const blocker = net.createServer().listen(19166, '127.0.0.67');
    await once(blocker, 'listening');
    try {
      await assert.rejects(
        startWorkload({ exporters: [{ listen: '127.0.0.66:19166', group: 'a' }, { listen: '127.0.0.67:19166', group: 'b' }], pushers: [] }, noClient),
        /cannot listen on 127\.0\.0\.67:19166: address already in use/,
      );
      await assert.rejects(fetch('http://127.0.0.66:19166/metrics'), 'the exporter that had started is closed');
    } finally {
      blocker.close();
    }
  });

  test('reload: new servers start, gone ones close, the others keep running with their state', async () => {
    const a = { listen: '127.0.0.68:19168', group: 'a' };
    const b = { listen: '127.0.0.69:19168', group: 'b' };
    const c = { listen: '127.0.0.70:19168', group: 'c' };
    const workload = await startWorkload({ exporters: [a, b], pushers: [] }, noClient);
    try {
      await postJson('http://127.0.0.68:19168/-/fault', { value: 7 });
      assert.deepEqual(await workload.reload({ exporters: [a, c], pushers: [] }), { started: 1, closed: 1 });
      assert.equal(sample((await get('http://127.0.0.68:19168/metrics')).text, 'promha_demo_value{group="a"}'), 7, 'a kept its value: not restarted');
      assert.equal(sample((await get('http://127.0.0.70:19168/metrics')).text, 'promha_demo_value{group="c"}'), 0);
      await assert.rejects(fetch('http://127.0.0.69:19168/metrics'), 'b closed');
      assert.deepEqual(await workload.reload({ exporters: [a, c], pushers: [] }), { started: 0, closed: 0 });
    } finally {
      await workload.close();
    }
    await assert.rejects(fetch('http://127.0.0.70:19168/metrics'), 'a server started by a reload closes with the workload');
  });

  test('a spec file that is not a workload spec names the field', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'promha-workload-'));
    try {
      const file = path.join(dir, 'spec.json');
      await writeFile(file, JSON.stringify({ exporters: [{ listen: '127.0.0.1:1' }], pushers: [] }));
      await assert.rejects(readWorkloadSpec(file), /spec\.json: not a demo workload spec: exporters\.0\.group: /);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('notifications', () => {
  const rec = (p: WebhookPayload, receivedAt = '2024-01-01T00:00:00.000Z'): NotificationRecord => ({ receivedAt, path: '/', payload: p });
  const records: NotificationRecord[] = [
    rec(payload('firing', [{ alertname: 'DemoHigh', group: 'demo1' }])),
    rec(payload('firing', [{ alertname: 'DemoHigh', group: 'demo1' }, { alertname: 'DemoHigh', group: 'demo2' }])),
    rec(payload('firing', [{ alertname: 'DemoHigh', group: 'demo2' }, { alertname: 'DemoHigh', group: 'demo1', status: 'resolved' }])),
    rec(payload('resolved', [{ alertname: 'DemoHigh', group: 'demo2' }])),
    rec(payload('firing', [{ alertname: 'PromhaWatchdog' }])),
    // Not from Alertmanager: tolerated, never counted.
    rec({} as WebhookPayload),
  ];

  const table: [string, Parameters<typeof countNotifications>[1], number][] = [
    ['any status', { alertname: 'DemoHigh' }, 4],
    ['firing only', { alertname: 'DemoHigh', status: 'firing' }, 3],
    ['resolved alerts, also inside a firing notification', { alertname: 'DemoHigh', status: 'resolved' }, 2],
    ['by label', { alertname: 'DemoHigh', labels: { group: 'demo1' } }, 3],
    ['by label and status', { alertname: 'DemoHigh', status: 'firing', labels: { group: 'demo2' } }, 2],
    ['a label value that never occurs', { alertname: 'DemoHigh', labels: { group: 'demo3' } }, 0],
    ['another alert', { alertname: 'PromhaWatchdog' }, 1],
    ['an alert never sent', { alertname: 'Nope' }, 0],
  ];
  for (const [name, filter, expected] of table)
    test(`countNotifications: ${name}`, () => assert.equal(countNotifications(records, filter), expected));

  test('alertsIn flattens every alert with its notification time', () => {
    const alerts = alertsIn([rec(payload('firing', [{ alertname: 'A', group: 'g' }, { alertname: 'B', status: 'resolved' }]), 't1'), rec({} as WebhookPayload, 't2')]);
    assert.deepEqual(alerts, [
      { receivedAt: 't1', status: 'firing', labels: { alertname: 'A', group: 'g' } },
      { receivedAt: 't1', status: 'resolved', labels: { alertname: 'B' } },
    ]);
  });

  test('openAlerts: the alerts whose latest notification says firing', () => {
    // demo1 resolved in the third notification; demo2 resolved in the fourth; the watchdog never.
    assert.deepEqual(openAlerts(alertsIn(records)), [{ alertname: 'PromhaWatchdog' }]);
    const reopened = [...records, rec(payload('firing', [{ alertname: 'DemoHigh', group: 'demo1' }]))];
    assert.deepEqual(openAlerts(alertsIn(reopened)), [{ alertname: 'DemoHigh', group: 'demo1' }, { alertname: 'PromhaWatchdog' }]);
    // Label order does not make two alerts of one.
    const a = { receivedAt: 't', labels: { a: '1', b: '2' } };
    assert.deepEqual(openAlerts([{ ...a, status: 'firing' }, { ...a, labels: { b: '2', a: '1' }, status: 'resolved' }]), []);
  });
});

/**
 * Runs `promha demo …` the way bin/promha.js will once the command is wired into
 * src/cli/main.ts: typed exit errors become a stderr line and an exit code.
 */
function demoCli(args: string[]) {
  const wrapper = `
    import { Command } from 'commander';
    import { registerDemoCommand } from './src/commands/demo.ts';
    import { ExitError } from './src/errors.ts';
    const cli = new Command('promha').exitOverride();
    registerDemoCommand(cli);
    try {
      await cli.parseAsync(process.argv.slice(1), { from: 'user' });
    } catch (e) {
      if (!(e instanceof ExitError)) throw e;
      process.stderr.write(e.message + '\\n');
      process.exitCode = e.code;
    }`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', wrapper, 'demo', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += String(c)));
  child.stderr.on('data', (c) => (stderr += String(c)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

describe('promha demo (CLI)', () => {
  test('workload: SIGHUP serves the rewritten spec; a bad one is logged and changes nothing', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'promha-workload-'));
    const spec = path.join(dir, 'spec.json');
    const a = { listen: '127.0.0.71:19171', group: 'a' };
    await writeFile(spec, JSON.stringify({ exporters: [a], pushers: [] }));
    const run = demoCli(['workload', '--spec', spec]);
    try {
      await waitFor('ready', () => /^ready /m.exec(run.stdout()) ?? undefined, 15_000);
      await writeFile(spec, JSON.stringify({ exporters: [a, { listen: '127.0.0.72:19171', group: 'b' }], pushers: [] }));
      run.child.kill('SIGHUP');
      await waitFor('reloaded', () => /^reloaded: 1 server\(s\) started, 0 closed$/m.exec(run.stdout()) ?? undefined, 15_000);
      assert.equal(sample((await get('http://127.0.0.72:19171/metrics')).text, 'promha_demo_value{group="b"}'), 0);
      await writeFile(spec, '{"exporters": "not a list"}');
      run.child.kill('SIGHUP');
      await waitFor('refused', () => /reload failed, still serving as before: .*spec\.json: not a demo workload spec/.exec(run.stderr()) ?? undefined, 15_000);
      assert.equal((await get('http://127.0.0.72:19171/metrics')).status, 200);
      run.child.kill('SIGTERM');
      assert.equal(await run.exited, 0, run.stderr());
    } finally {
      run.child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('exporter: prints ready, serves /metrics and exits 0 on SIGTERM', async () => {
    const run = demoCli(['exporter', '--listen', '127.0.0.51:19151', '--group', 'cli']);
    try {
      const url = await waitFor('ready', () => /^ready (\S+)$/m.exec(run.stdout())?.[1], 15_000);
      assert.equal(url, 'http://127.0.0.51:19151');
      const r = await get(`${url}/metrics`);
      assert.equal(r.status, 200);
      assert.equal(sample(r.text, 'promha_demo_value{group="cli"}'), 0);
      run.child.kill('SIGTERM');
      assert.equal(await run.exited, 0, run.stderr());
      assert.equal(run.stdout(), `ready ${url}\n`);
    } finally {
      run.child.kill('SIGKILL');
    }
  });

  for (const [name, listen, code] of [
    ['in use', '127.0.0.52:19152', 'EADDRINUSE'],
    ['not on this host', '203.0.113.77:19153', 'EADDRNOTAVAIL'],
  ] as const) {
    test(`an address ${name} is one line on stderr and exit 1`, async () => {
      const blocker = net.createServer().listen(19152, '127.0.0.52');
      await once(blocker, 'listening');
      try {
        const run = demoCli(['webhook', '--listen', listen, '--file', path.join(os.tmpdir(), 'promha-demo-unused.jsonl')]);
        assert.equal(await run.exited, 1);
        assert.equal(run.stdout(), '');
        const lines = run.stderr().trimEnd().split('\n');
        assert.equal(lines.length, 1, run.stderr());
        assert.match(lines[0] ?? '', new RegExp(`^promha demo webhook: cannot listen on ${listen}: .*${code}`));
      } finally {
        blocker.close();
      }
    });
  }
});
