// The dashboard's HTTP server: node:http on a loopback address, its own assets only,
// the diagram and the live state as JSON, Server-Sent Events for live updates, and
// stop/start of members of a local stack.
import { fileURLToPath } from 'node:url';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ExitError } from '../errors.ts';
import { startMember, stopMember } from '../runtime/members.ts';
import type { StateDir } from '../runtime/state.ts';
import type { Topology } from '../topology/topology.ts';
import { layoutTopology, type Diagram } from './layout.ts';
import { collectLive, type LiveState } from './live.ts';

import { DEFAULT_DASHBOARD_LISTEN } from './listen.ts';

export { DEFAULT_DASHBOARD_LISTEN };
/** Browsers send a custom header only after a CORS preflight, which this server never grants. */
export const ACTION_HEADER = 'x-promha-action';

export interface DashboardOptions {
  /** host:port on the loopback network. @default 127.0.0.1:9797 */
  readonly listen?: string;
  readonly stateDir: StateDir;
  readonly topology: Topology;
  /** Time between two observations while a page is open. @default 1500 */
  readonly intervalMs?: number;
}

export interface Dashboard {
  readonly url: string;
  close(): Promise<void>;
}

const ASSETS: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/assets/dashboard.css': { file: 'dashboard.css', type: 'text/css; charset=utf-8' },
  '/assets/dashboard.js': { file: 'dashboard.js', type: 'text/javascript; charset=utf-8' },
};

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/** `host:port` with a loopback host (127.0.0.0/8, ::1 or localhost), else exit 2 with a fix. */
export function parseLoopbackListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(listen);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (!m || !host || port > 65535) throw new ExitError(2, `--listen ${listen}: not host:port\n    fix: e.g. --listen ${DEFAULT_DASHBOARD_LISTEN}`);
  if (!isLoopback(host)) throw new ExitError(2, `--listen ${listen}: the dashboard serves on loopback only (it can stop members)\n    fix: use 127.0.0.1, ::1 or localhost`);
  return { host, port };
}

const isLoopback = (host: string) => host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);

/** The Host header names a loopback host: a page from another site cannot rebind a name to us. */
function hostAllowed(req: http.IncomingMessage): boolean {
  const host = req.headers.host ?? '';
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.split(':')[0];
  return isLoopback(name ?? '');
}

/** A state-changing request: our custom header, and an Origin (when sent) that is this server. */
function actionAllowed(req: http.IncomingMessage): boolean {
  if (req.headers[ACTION_HEADER] !== '1') return false;
  const origin = req.headers.origin;
  return origin === undefined || origin === `http://${req.headers.host}`;
}

export async function startDashboard(o: DashboardOptions): Promise<Dashboard> {
  const { host, port } = parseLoopbackListen(o.listen ?? DEFAULT_DASHBOARD_LISTEN);
  const intervalMs = o.intervalMs ?? 1500;
  // This module sits one level below the package root in the sources (src/dashboard/) and
  // in the bundle (dist/cli/); the build copies the assets to dist/dashboard/assets.
  const assetDir = fileURLToPath(new URL('../dashboard/assets', import.meta.url));
  const assets = new Map(await Promise.all(Object.entries(ASSETS).map(async ([p, a]) => [p, { ...a, body: await readFile(path.join(assetDir, a.file)) }] as const)));
  const diagram: Diagram = layoutTopology(o.topology.spec);

  let latest: LiveState | undefined;
  let running: Promise<LiveState> | undefined;
  const streams = new Set<http.ServerResponse>();
  // One observation at a time; every caller waiting then gets the same one.
  const refresh = (): Promise<LiveState> => {
    running ??= collectLive(o.topology, o.stateDir, diagram)
      .then((s) => {
        latest = s;
        const event = `event: state\ndata: ${JSON.stringify(s)}\n\n`;
        for (const r of streams) r.write(event);
        return s;
      })
      .finally(() => (running = undefined));
    return running;
  };
  const fresh = async () => (latest && Date.now() - Date.parse(latest.at) < intervalMs ? latest : refresh());
  const timer = setInterval(() => {
    if (streams.size > 0) refresh().catch(() => {});
  }, intervalMs);

  const send = (res: http.ServerResponse, status: number, body: unknown, type = 'application/json') => {
    res.writeHead(status, { 'content-type': type, ...SECURITY_HEADERS });
    res.end(type === 'application/json' ? JSON.stringify(body) : (body as Buffer));
  };

  const server = http.createServer(async (req, res) => {
    try {
      if (!hostAllowed(req)) return send(res, 403, { error: 'the dashboard answers to loopback host names only' });
      const url = new URL(req.url ?? '/', 'http://dashboard');
      const asset = assets.get(url.pathname);
      if (req.method === 'GET' && asset) return send(res, 200, asset.body, asset.type);
      if (req.method === 'GET' && url.pathname === '/favicon.ico') return send(res, 204, Buffer.alloc(0), 'image/x-icon');
      if (req.method === 'GET' && url.pathname === '/-/ready') return send(res, 200, { ready: true });
      if (req.method === 'GET' && url.pathname === '/api/topology') return send(res, 200, diagram);
      if (req.method === 'GET' && url.pathname === '/api/state') return send(res, 200, await fresh());
      if (req.method === 'GET' && url.pathname === '/api/events') {
        res.writeHead(200, { 'content-type': 'text/event-stream', connection: 'keep-alive', ...SECURITY_HEADERS });
        res.write('retry: 2000\n\n');
        streams.add(res);
        req.on('close', () => streams.delete(res));
        if (latest) res.write(`event: state\ndata: ${JSON.stringify(latest)}\n\n`);
        refresh().catch(() => {});
        return;
      }
      const action = /^\/api\/members\/([A-Za-z0-9_.-]+)\/(stop|start)$/.exec(url.pathname);
      if (action && req.method === 'POST') {
        if (!actionAllowed(req)) return send(res, 403, { error: `send the ${ACTION_HEADER}: 1 header from the dashboard's own page` });
        const [, name, verb] = action as unknown as [string, string, 'stop' | 'start'];
        const state = await o.stateDir.read();
        if (!state) return send(res, 409, { error: 'no local stack runs from this state directory: members of a real deployment are not stopped from here' });
        if (!diagram.nodes.some((n) => n.id === name) || !state.nodes.some((n) => n.name === name)) return send(res, 404, { error: `no member "${name}" in the running stack` });
        const count = verb === 'stop' ? await stopMember(o.stateDir, name) : await startMember(o.stateDir, name);
        refresh().catch(() => {});
        return send(res, 200, { member: name, action: verb, processes: count });
      }
      return send(res, 404, { error: `${req.method} ${url.pathname}: not found` });
    } catch (e) {
      return send(res, 500, { error: e instanceof Error ? e.message : String(e) });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new ExitError(1, `the dashboard cannot listen on ${host}:${port}: ${e.code === 'EADDRINUSE' ? 'the port is in use' : e.message}\n    fix: choose another with --listen`)),
    );
    server.listen({ host, port }, resolve);
  });
  const bound = server.address() as AddressInfo;
  const shown = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return {
    url: `http://${shown}:${bound.port}/`,
    async close() {
      clearInterval(timer);
      for (const r of streams) r.end();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Browsers keep idle connections open; they would hold the close up.
      server.closeAllConnections();
      await closed;
      await running?.catch(() => {});
    },
  };
}
