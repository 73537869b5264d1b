import { setTimeout as sleep } from 'node:timers/promises';
import { AlertmanagerClient } from '../probe/alertmanager.ts';
import { PrometheusClient } from '../probe/prometheus.ts';
import { PushgatewayClient } from '../probe/pushgateway.ts';
import type { Role } from '../plan/node-spec.ts';
import { memberUrl } from '../probe/client-security.ts';
import { send } from '../probe/http.ts';

/** One readiness verdict with the evidence, for progress lines and `status`. */
export interface Readiness {
  readonly ready: boolean;
  readonly detail: string;
}

const url = memberUrl;

/** `/-/ready` of a VIP (a member behind it, so secure in secure mode) or of a demo process (plain HTTP). */
async function httpReady(base: string): Promise<Readiness> {
  try {
    await send('GET', `${base}/-/ready`, undefined, undefined, { timeoutMs: 2000 });
    return { ready: true, detail: '/-/ready 200' };
  } catch (e) {
    return { ready: false, detail: (e as Error).message };
  }
}

/**
 * Real readiness: Prometheus and Pushgateway `/-/ready`; Alertmanager from
 * `/api/v2/status` (cluster ready with every peer), since its `/-/ready` answers 200
 * while gossip still settles (DESIGN §2).
 */
export async function readiness(role: Role | 'demo', address: string, clusterSize = 3): Promise<Readiness> {
  switch (role) {
    case 'scraper':
    case 'federator':
      return (await new PrometheusClient(url(address)).ready()) ? { ready: true, detail: 'ready' } : { ready: false, detail: '/-/ready not 200' };
    case 'pushgateway':
      return (await new PushgatewayClient(url(address)).ready()) ? { ready: true, detail: 'ready' } : { ready: false, detail: '/-/ready not 200' };
    case 'alertmanager':
      try {
        const s = await new AlertmanagerClient(url(address)).status();
        const peers = s.cluster.peers.length;
        return { ready: s.cluster.status === 'ready' && peers >= clusterSize, detail: `cluster ${s.cluster.status}, ${peers}/${clusterSize} peers` };
      } catch (e) {
        return { ready: false, detail: `unreachable (${(e as Error).message})` };
      }
    case 'vip':
      return httpReady(url(address));
    case 'demo':
      return httpReady(`http://${address}`);
  }
}

/** Every federation target of a federator is up: scrapers, gateways, and the meta jobs. */
export async function federationUp(address: string): Promise<Readiness> {
  try {
    const targets = await new PrometheusClient(url(address)).targets();
    const down = targets.filter((t) => t.health !== 'up');
    return down.length === 0 && targets.length > 0
      ? { ready: true, detail: `${targets.length} targets up` }
      : { ready: false, detail: `${down.length} of ${targets.length} targets not up: ${down.slice(0, 3).map((t) => t.scrapeUrl).join(', ')}` };
  } catch (e) {
    return { ready: false, detail: `unreachable (${(e as Error).message})` };
  }
}

/** Polls `probe` until ready, `failed()` reports a reason, or the deadline passes. */
export async function waitFor(probe: () => Promise<Readiness>, o: { timeoutMs: number; failed?: () => string | undefined }): Promise<Readiness> {
  const deadline = Date.now() + o.timeoutMs;
  let last: Readiness = { ready: false, detail: 'not probed' };
  while (Date.now() < deadline) {
    const reason = o.failed?.();
    if (reason) return { ready: false, detail: reason };
    last = await probe();
    if (last.ready) return last;
    await sleep(250);
  }
  return { ready: false, detail: `timed out: ${last.detail}` };
}
