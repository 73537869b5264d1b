// A demo batch job that pushes to a Pushgateway (through the VIP) on a fixed interval,
// and counts what happened so a drill can tell whether pushes were lost during failover.
import http from 'node:http';
import https from 'node:https';
import { Counter, Gauge, Registry } from 'prom-client';
import * as z from 'zod';
import { authorization, type ClientSecurity } from '../probe/client-security.ts';
import { json, notFound, readJson, serve, sleep, type DemoServer } from './http.ts';

export type { DemoServer } from './http.ts';

export interface PusherOptions {
  readonly listen: string;
  /** The Pushgateway base URL, normally the VIP, e.g. http://127.0.0.100:9091. */
  readonly pushUrl: string;
  readonly job: string;
  readonly intervalMs: number;
  /** Further attempts after a failed one, 200 ms apart (default 3). */
  readonly retries?: number;
  /**
   * Keep retrying, 200 ms apart, until this long after the first attempt, even past
   * `retries`: a gateway host whose processes died but whose kernel lives keeps the VIP
   * and refuses at once until the standby takes it over. @default 0
   */
  readonly retryForMs?: number;
  /** Per-attempt timeout (default 2000 ms); tests shorten it. */
  readonly attemptTimeoutMs?: number;
  /** CA, client certificate and basic auth for a secure gateway (https push URL). */
  readonly security?: ClientSecurity;
  /**
   * Serve at once but push only after `POST /-/start`: `promha up` binds every demo
   * server early and lets the pushers go once their VIP answers.
   * @default false
   */
  readonly paused?: boolean;
}

/**
 * What the pusher did. `attempts` counts HTTP requests; `succeeded` and `failed` count
 * pushes (one sequence number each); `retried` counts the attempts that were retries.
 * So attempts = succeeded + failed + retried, except for a push cut short by close().
 */
export interface PusherStats {
  readonly attempts: number;
  readonly succeeded: number;
  /** Pushes that failed after all retries. */
  readonly failed: number;
  readonly retried: number;
  /** The sequence number of the latest push (0 before the first). */
  readonly sequence: number;
  readonly lastError?: string;
  /** ISO time of the latest successful push. */
  readonly lastSuccessAt?: string;
  /** The X-Served-By header of the latest successful push, when the server sent one. */
  readonly servedBy?: string;
}

const RETRY_PAUSE_MS = 200;
const FaultPatch = z.strictObject({ value: z.number() });

export async function startPusher(o: PusherOptions): Promise<DemoServer> {
  const retries = o.retries ?? 3;
  const retryForMs = o.retryForMs ?? 0;
  const attemptTimeoutMs = o.attemptTimeoutMs ?? 2000;
  if (!Number.isInteger(o.intervalMs) || o.intervalMs <= 0) throw new RangeError(`intervalMs must be a positive integer, not ${o.intervalMs}`);
  if (!Number.isInteger(retries) || retries < 0) throw new RangeError(`retries must be a non-negative integer, not ${retries}`);
  if (o.job === '' || o.job.includes('/')) throw new RangeError(`job "${o.job}" must be non-empty and contain no "/"`);
  const target = new URL(`${o.pushUrl.replace(/\/+$/, '')}/metrics/job/${encodeURIComponent(o.job)}`);
  if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new RangeError(`push URL ${o.pushUrl} is not http(s)`);

  // What is pushed: its own registry, so the body holds exactly these two gauges.
  const pushed = new Registry();
  const pushedValue = new Gauge({ name: 'promha_demo_pushed_value', help: 'Value set through the pusher /-/fault.', registers: [pushed] });
  const pushedSequence = new Gauge({ name: 'promha_demo_push_sequence', help: 'Number of the push, increasing.', registers: [pushed] });

  // The pusher's own metrics: the same numbers as /-/stats.
  const own = new Registry();
  const counter = (name: string, help: string) => new Counter({ name, help, registers: [own] });
  const attemptsTotal = counter('promha_demo_push_attempts_total', 'HTTP push attempts, retries included.');
  const succeededTotal = counter('promha_demo_push_succeeded_total', 'Pushes that succeeded.');
  const failedTotal = counter('promha_demo_push_failed_total', 'Pushes that failed after all retries.');
  const retriedTotal = counter('promha_demo_push_retried_total', 'Push attempts that were retries.');
  const lastSuccess = new Gauge({ name: 'promha_demo_push_last_success_timestamp_seconds', help: 'Time of the latest successful push.', registers: [own] });

  let value = 0;
  let stats: PusherStats = { attempts: 0, succeeded: 0, failed: 0, retried: 0, sequence: 0 };
  const stop = new AbortController();

  /** One push: its attempts share one body, hence one sequence number. */
  async function pushOnce(): Promise<void> {
    const sequence = stats.sequence + 1;
    stats = { ...stats, sequence };
    pushedValue.set(value);
    pushedSequence.set(sequence);
    const body = await pushed.metrics();
    const firstAt = Date.now();
    for (let attempt = 0; attempt <= retries || Date.now() - firstAt < retryForMs; attempt++) {
      if (attempt > 0) {
        if (!(await sleep(RETRY_PAUSE_MS, stop.signal))) return;
        stats = { ...stats, retried: stats.retried + 1 };
        retriedTotal.inc();
      }
      stats = { ...stats, attempts: stats.attempts + 1 };
      attemptsTotal.inc();
      const r = await put(target, body, pushed.contentType, attemptTimeoutMs, stop.signal, o.security);
      if (stop.signal.aborted) return; // closing: neither a success nor a failure
      if (r.ok) {
        const now = new Date();
        stats = { ...stats, succeeded: stats.succeeded + 1, lastSuccessAt: now.toISOString(), servedBy: r.servedBy };
        succeededTotal.inc();
        lastSuccess.set(now.getTime() / 1000);
        return;
      }
      stats = { ...stats, lastError: r.error };
    }
    stats = { ...stats, failed: stats.failed + 1 };
    failedTotal.inc();
  }

  // One loop, so pushes never overlap: the next starts intervalMs after the previous
  // started, or at once when the previous took longer than that.
  async function loop(): Promise<void> {
    while (!stop.signal.aborted) {
      const started = Date.now();
      await pushOnce();
      if (!(await sleep(Math.max(0, o.intervalMs - (Date.now() - started)), stop.signal))) return;
    }
  }

  let running: Promise<void> | undefined;
  const begin = () => void (running ??= loop());

  const server = await serve(o.listen, async (req, path) => {
    if (path === '/-/fault' && req.method === 'GET') return json(200, { value });
    if (path === '/-/fault' && req.method === 'POST') {
      const patch = await readJson(req, FaultPatch);
      if (!patch.ok) return patch.reply;
      value = patch.value.value;
      return json(200, { value });
    }
    if (path === '/-/start' && req.method === 'POST') {
      begin();
      return json(200, { pushing: true });
    }
    if (path === '/-/stats' && req.method === 'GET') return json(200, stats);
    if (path === '/metrics' && req.method === 'GET') return { status: 200, body: await own.metrics(), contentType: own.contentType };
    if (path === '/-/ready' && req.method === 'GET') return json(200, { ready: true });
    return notFound(req.method, path);
  });

  // Started only once listening: a failed start pushes nothing.
  if (!o.paused) begin();
  return {
    url: server.url,
    async close() {
      stop.abort();
      await running;
      await server.close();
    },
  };
}

type PutResult = { ok: true; servedBy?: string } | { ok: false; error: string };

/**
 * One PUT on a fresh connection (no keep-alive agent): after a VIP failover, every push
 * reaches whichever member holds the VIP now, never a connection to the old one.
 */
function put(url: URL, body: string, contentType: string, timeoutMs: number, stop: AbortSignal, sec?: ClientSecurity): Promise<PutResult> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = AbortSignal.any([stop, timeout]);
  const secure = url.protocol === 'https:';
  const client = secure ? https : http;
  const auth = secure ? authorization(sec) : undefined;
  const tls = secure && sec ? { ...(sec.ca ? { ca: sec.ca } : {}), ...(sec.cert ? { cert: sec.cert } : {}), ...(sec.key ? { key: sec.key } : {}) } : {};
  return new Promise((resolve) => {
    const fail = (e: unknown) => {
      if (timeout.aborted) return resolve({ ok: false, error: `no answer within ${timeoutMs} ms` });
      const err = e as NodeJS.ErrnoException;
      resolve({ ok: false, error: err.code ? `${err.code}: ${err.message}` : String(err.message ?? e) });
    };
    const headers = { 'content-type': contentType, ...(auth ? { authorization: auth } : {}) };
    const req = client.request(url, { method: 'PUT', agent: false, signal, headers, ...tls }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', fail);
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        const header = res.headers['x-served-by'];
        const servedBy = Array.isArray(header) ? header.join(',') : header;
        if (status >= 200 && status < 300) return resolve(servedBy === undefined ? { ok: true } : { ok: true, servedBy });
        const text = Buffer.concat(chunks).toString('utf8').trim().slice(0, 200);
        resolve({ ok: false, error: `HTTP ${status}${text ? `: ${text}` : ''}` });
      });
    });
    req.on('error', fail);
    req.end(body);
  });
}
