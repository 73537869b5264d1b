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

/**
 * Starts every server of the spec. All or nothing: when one cannot listen, those already
 * listening are closed and the first error is thrown, naming its address.
 */
export async function startWorkload(spec: WorkloadSpec, readClient: (dir: string) => Promise<ClientSecurity>): Promise<DemoServer> {
  const starts: Array<Promise<DemoServer>> = [
    ...(spec.webhook ? [startWebhook(spec.webhook)] : []),
    ...spec.exporters.map((e) => startExporter(e)),
    ...spec.pushers.map(async ({ clientDir, ...p }) => startPusher({ ...p, paused: true, ...(clientDir ? { security: await readClient(clientDir) } : {}) })),
  ];
  const results = await Promise.allSettled(starts);
  const servers = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(servers.map((s) => s.close()));
    throw failed.reason;
  }
  return {
    url: servers.map((s) => s.url).join(' '),
    async close() {
      await Promise.all(servers.map((s) => s.close()));
    },
  };
}
