// A demo exporter whose health and values a drill can steer through /-/fault.
import { Counter, Gauge, Registry } from 'prom-client';
import * as z from 'zod';
import { json, notFound, readJson, serve, sleep, type DemoServer } from './http.ts';

export type { DemoServer } from './http.ts';

export type ExporterMode = 'ok' | 'down' | 'slow';

export interface ExporterFault {
  /** ok: normal; down: /metrics answers 503 (the target goes down); slow: /metrics waits delayMs. */
  readonly mode: ExporterMode;
  /** The value of promha_demo_value. */
  readonly value: number;
  readonly delayMs: number;
  /** How many extra series (`promha_demo_series`) /metrics exposes, for capacity benchmarks. @default 0 */
  readonly series: number;
}

export interface ExporterOptions {
  readonly listen: string;
  readonly group: string;
}

const FaultPatch = z.strictObject({
  mode: z.enum(['ok', 'down', 'slow']).optional(),
  value: z.number().optional(),
  // Ten minutes is far beyond any scrape timeout: a larger delay is a typo.
  delayMs: z.number().int().min(0).max(600_000).optional(),
  // A million series is far beyond what one demo exporter is meant to serve.
  series: z.number().int().min(0).max(1_000_000).optional(),
});

/** The counter's growth: 10 per second, so rate() over it is 10 while the exporter is up. */
const INCREMENT_PER_SECOND = 10;

export async function startExporter(o: ExporterOptions): Promise<DemoServer> {
  // An own registry, without default metrics: the exposition is the same on every run.
  const registry = new Registry();
  const value = new Gauge({ name: 'promha_demo_value', help: 'Value set through /-/fault.', labelNames: ['group'], registers: [registry] });
  const requests = new Counter({
    name: 'promha_demo_requests_total',
    help: `Grows by ${INCREMENT_PER_SECOND} every second.`,
    labelNames: ['group'],
    registers: [registry],
  });
  const labels = { group: o.group };
  // Both series exist from the first scrape on, at 0.
  value.set(labels, 0);
  requests.inc(labels, 0);

  let fault: ExporterFault = { mode: 'ok', value: 0, delayMs: 0, series: 0 };
  // Built once per change of the count: serialising many series through prom-client on
  // every scrape would measure the exporter rather than the pipeline.
  let extra = '';
  // Aborted by close(), so that slow responses do not keep the process alive.
  const stop = new AbortController();

  const server = await serve(o.listen, async (req, path) => {
    if (path === '/metrics' && req.method === 'GET') {
      if (fault.mode === 'down') return json(503, { error: 'exporter is down (fault mode "down")' });
      if (fault.mode === 'slow' && !(await sleep(fault.delayMs, stop.signal))) return json(503, { error: 'closing' });
      return { status: 200, body: (await registry.metrics()) + extra, contentType: registry.contentType };
    }
    if (path === '/-/fault' && req.method === 'GET') return json(200, fault);
    if (path === '/-/fault' && req.method === 'POST') {
      const patch = await readJson(req, FaultPatch);
      if (!patch.ok) return patch.reply;
      const before = fault.series;
      fault = { ...fault, ...stripUndefined(patch.value) };
      value.set(labels, fault.value);
      if (fault.series !== before) extra = extraSeries(o.group, fault.series);
      return json(200, fault);
    }
    if (path === '/-/ready' && req.method === 'GET') return json(200, { ready: true });
    return notFound(req.method, path);
  });

  // Started only once listening, so a failed start leaves no timer behind; unref'd so
  // that the timer alone never keeps the process alive.
  const timer = setInterval(() => requests.inc(labels, INCREMENT_PER_SECOND), 1000).unref();

  return {
    url: server.url,
    async close() {
      clearInterval(timer);
      stop.abort();
      await server.close();
    },
  };
}

/** `count` gauge series in the text exposition format, one per `series` label value. */
export function extraSeries(group: string, count: number): string {
  if (count === 0) return '';
  const lines = ['# HELP promha_demo_series One of the extra series set through /-/fault.', '# TYPE promha_demo_series gauge'];
  for (let i = 0; i < count; i++) lines.push(`promha_demo_series{group="${group}",series="${i}"} ${i % 100}`);
  return `${lines.join('\n')}\n`;
}

/** Drops absent keys, so that a partial update never overwrites a field with undefined. */
function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
