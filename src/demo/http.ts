// The small HTTP plumbing the demo processes share: listening with readable errors,
// JSON replies, bounded body reading and abortable sleeps.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import type * as z from 'zod';
import { Address } from '../address.ts';

/** A running demo server. `close` stops its timers and drops every open connection. */
export interface DemoServer {
  readonly url: string;
  close(): Promise<void>;
}

/** The server could not bind its address: the CLI turns this into one line and exit 1. */
export class ListenError extends Error {
  constructor(
    readonly listen: string,
    readonly code: string | undefined,
    reason: string,
  ) {
    super(`cannot listen on ${listen}: ${reason}`);
    this.name = 'ListenError';
  }
}

export interface Reply {
  readonly status: number;
  readonly body: string;
  readonly contentType?: string;
}

export const json = (status: number, value: unknown): Reply => ({
  status,
  body: `${JSON.stringify(value)}\n`,
  contentType: 'application/json',
});

export const notFound = (method: string | undefined, path: string): Reply =>
  json(404, { error: `no route for ${method ?? '?'} ${path}` });

export type Handler = (req: http.IncomingMessage, path: string) => Promise<Reply>;

const REASONS: Record<string, string> = {
  EADDRINUSE: 'address already in use (EADDRINUSE)',
  EADDRNOTAVAIL: 'address not assigned to any interface of this host (EADDRNOTAVAIL)',
  EACCES: 'permission denied (EACCES)',
};

/**
 * Serves `handle` on `listen` (host:port, as in the topology file). Resolves once the
 * socket is bound, so a caller may announce readiness; rejects with a ListenError.
 */
export async function serve(listen: string, handle: Handler): Promise<DemoServer> {
  let address: Address;
  try {
    address = Address.parse(listen);
  } catch (e) {
    throw new ListenError(listen, undefined, (e as Error).message);
  }
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://demo').pathname;
    handle(req, path)
      .catch((e: unknown) => json(500, { error: e instanceof Error ? e.message : String(e) }))
      .then((r) => {
        // The client may be gone (a scrape timeout, or close() dropped it): nothing to answer.
        if (res.destroyed) return;
        res.writeHead(r.status, { 'content-type': r.contentType ?? 'text/plain; charset=utf-8' });
        res.end(r.body);
      });
  });
  // Node wants a bare IPv6 literal; the URL keeps the brackets.
  const host = address.host.replace(/^\[(.*)\]$/, '$1');
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new ListenError(listen, e.code, (e.code && REASONS[e.code]) ?? e.message)),
    );
    server.listen(address.port, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${address.host}:${port}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive and in-flight (slow) requests would otherwise hold close() open.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** Reads a request body; bodies here are small JSON documents, so larger ones are refused. */
export async function readBody(req: http.IncomingMessage, limit = 1 << 20): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new Error(`body larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads and validates a JSON body, or returns the 400 reply that explains why not. */
export async function readJson<T>(req: http.IncomingMessage, schema: z.ZodType<T>): Promise<{ ok: true; value: T } | { ok: false; reply: Reply }> {
  let text: string;
  try {
    text = await readBody(req);
  } catch (e) {
    return { ok: false, reply: json(400, { error: (e as Error).message }) };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return { ok: false, reply: json(400, { error: `body is not valid JSON: ${(e as Error).message}` }) };
  }
  const r = schema.safeParse(parsed);
  if (r.success) return { ok: true, value: r.data };
  const error = r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : 'body'}: ${i.message}`).join('; ');
  return { ok: false, reply: json(400, { error }) };
}

/** Sleeps `ms`; resolves false instead of throwing when `signal` aborts first. */
export async function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await delay(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}
