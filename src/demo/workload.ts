// The whole demo workload of a local stack in one process: every exporter, pusher and the
// webhook receiver keep their own address and port (the federators scrape distinct
// targets), but share one Node runtime instead of one each.
import { readFile } from 'node:fs/promises';
import * as z from 'zod';
import type { ClientSecurity } from '../probe/client-security.ts';
import { startExporter } from './exporter.ts';
import type { DemoServer } from './http.ts';
import { startPusher } from './pusher.ts';
import { startWebhook } from './webhook.ts';

/** What `promha up` asks the workload process to serve, written as JSON beside the state. */
export const WorkloadSpec = z.strictObject({
  exporters: z.array(z.strictObject({ listen: z.string(), group: z.string() })),
  /** Pushers serve at once and push after `POST /-/start` (their VIP must answer first). */
  pushers: z.array(
    z.strictObject({
      listen: z.string(),
      pushUrl: z.string(),
      job: z.string(),
      intervalMs: z.number().int().positive(),
      /** Retry a failed push for this long: the VIP's failover time and a margin. */
      retryForMs: z.number().int().nonnegative().optional(),
      /** CA, client certificate and credentials of a secure gateway (files of `promha up`). */
      clientDir: z.string().optional(),
    }),
  ),
  webhook: z.strictObject({ listen: z.string(), file: z.string() }).optional(),
});
export type WorkloadSpec = z.infer<typeof WorkloadSpec>;

export async function readWorkloadSpec(file: string): Promise<WorkloadSpec> {
  const parsed = WorkloadSpec.safeParse(JSON.parse(await readFile(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file}: not a demo workload spec: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** One server of a spec, by everything that defines it: an entry that changes is another server. */
type Entry = { readonly key: string; readonly start: () => Promise<DemoServer> };

function entries(spec: WorkloadSpec, readClient: (dir: string) => Promise<ClientSecurity>): Entry[] {
  return [
    ...(spec.webhook ? [{ key: `webhook ${JSON.stringify(spec.webhook)}`, start: () => startWebhook(spec.webhook as NonNullable<WorkloadSpec['webhook']>) }] : []),
    ...spec.exporters.map((e) => ({ key: `exporter ${JSON.stringify(e)}`, start: () => startExporter(e) })),
    ...spec.pushers.map(({ clientDir, ...p }) => ({
      key: `pusher ${JSON.stringify({ clientDir, ...p })}`,
      start: async () => startPusher({ ...p, paused: true, ...(clientDir ? { security: await readClient(clientDir) } : {}) }),
    })),
  ];
}

/** Starts entries, all or nothing: when one cannot listen, those already listening are closed and the first error is thrown, naming its address. */
async function startAll(list: readonly Entry[]): Promise<Map<string, DemoServer>> {
  const results = await Promise.allSettled(list.map((e) => e.start()));
  const servers = new Map<string, DemoServer>();
  results.forEach((r, i) => r.status === 'fulfilled' && servers.set((list[i] as Entry).key, r.value));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all([...servers.values()].map((s) => s.close()));
    throw failed.reason;
  }
  return servers;
}

export interface Workload extends DemoServer {
  /**
   * Serves `spec` from now on: servers it no longer lists close, new ones start (pushers
   * paused, as at the start), and the others keep running untouched, with their state
   * (an exporter's fault, a pusher's episodes). Returns what changed.
   */
  reload(spec: WorkloadSpec): Promise<{ readonly started: number; readonly closed: number }>;
}

/**
 * Starts every server of the spec. All or nothing: when one cannot listen, those already
 * listening are closed and the first error is thrown, naming its address.
 */
export async function startWorkload(spec: WorkloadSpec, readClient: (dir: string) => Promise<ClientSecurity>): Promise<Workload> {
  const servers = await startAll(entries(spec, readClient));
  return {
    get url() {
      return [...servers.values()].map((s) => s.url).join(' ');
    },
    async close() {
      await Promise.all([...servers.values()].map((s) => s.close()));
    },
    async reload(next) {
      const wanted = entries(next, readClient);
      const keys = new Set(wanted.map((e) => e.key));
      const gone = [...servers.keys()].filter((k) => !keys.has(k));
      // Closed first: a server that moved to another entry may keep its address.
      await Promise.all(gone.map((k) => servers.get(k)?.close()));
      for (const k of gone) servers.delete(k);
      const started = await startAll(wanted.filter((e) => !servers.has(e.key)));
      for (const [k, v] of started) servers.set(k, v);
      return { started: started.size, closed: gone.length };
    },
  };
}
