import { AlertmanagerClient } from '../probe/alertmanager.ts';
import { parseMetrics } from '../probe/metrics-text.ts';
import { PrometheusClient } from '../probe/prometheus.ts';
import { PushgatewayClient, vipServedBy } from '../probe/pushgateway.ts';
import { holdsAddress } from '../runtime/netns.ts';
import type { AlertmanagerObservation, DoctorTarget, Observations, PrometheusObservation, PushgatewayObservation, VipObservation } from './result.ts';
import { memberUrl } from '../probe/client-security.ts';

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
const url = memberUrl;

async function observePrometheus(address: string): Promise<PrometheusObservation> {
  const c = new PrometheusClient(url(address));
  try {
    const [ready, targets, flags, config, alertmanagers, build, rules] = await Promise.all([c.ready(), c.targets(), c.flags(), c.config(), c.alertmanagers(), c.buildInfo(), c.rules()]);
    return { ready, targets, flags, config, alertmanagers, version: build.version, rules };
  } catch (e) {
    return { ready: false, error: message(e) };
  }
}

async function observeAlertmanager(address: string): Promise<AlertmanagerObservation> {
  const c = new AlertmanagerClient(url(address));
  try {
    const [status, metrics, silences] = await Promise.all([c.status(), c.metrics(), c.silences()]);
    return { status, metrics: parseMetrics(metrics), silences };
  } catch (e) {
    return { error: message(e) };
  }
}

async function observePushgateway(address: string): Promise<PushgatewayObservation> {
  const c = new PushgatewayClient(url(address));
  try {
    const [ready, groups, status] = await Promise.all([c.ready(), c.groups(), c.status()]);
    const version = status.buildInformation['version'];
    return { ready, groups, ...(version ? { version } : {}) };
  } catch (e) {
    return { ready: false, error: message(e) };
  }
}

/** The gateway behind a VIP names itself in its --web.external-url. */
async function observeVip(t: DoctorTarget, set: string, vip: string): Promise<VipObservation> {
  const members = t.members.filter((m) => m.role === 'pushgateway' && m.set === set);
  let holders: string[] | undefined;
  if (members.every((m) => m.netns)) {
    const host = vip.slice(0, vip.lastIndexOf(':'));
    holders = [];
    for (const m of members) if (await holdsAddress(m.netns as string, host)) holders.push(m.name);
  }
  try {
    const { member: servedBy, externalUrl } = await vipServedBy(vip, members);
    return { ...(servedBy ? { servedBy } : { error: `the VIP answered as ${externalUrl || 'an unknown gateway'}` }), ...(holders ? { holders } : {}) };
  } catch (e) {
    return { error: message(e), ...(holders ? { holders } : {}) };
  }
}

/** Reads every member once, all in parallel. */
export async function observe(t: DoctorTarget): Promise<Observations> {
  const of = (role: string) => t.members.filter((m) => m.role === role || (role === 'prometheus' && (m.role === 'scraper' || m.role === 'federator')));
  const [prometheus, alertmanager, pushgateway, vip] = await Promise.all([
    Promise.all(of('prometheus').map(async (m) => [m.name, await observePrometheus(m.address)] as const)),
    Promise.all(of('alertmanager').map(async (m) => [m.name, await observeAlertmanager(m.address)] as const)),
    Promise.all(of('pushgateway').map(async (m) => [m.name, await observePushgateway(m.address)] as const)),
    Promise.all([...t.vips].map(async ([set, address]) => [set, await observeVip(t, set, address)] as const)),
  ]);
  return { now: new Date(), prometheus: new Map(prometheus), alertmanager: new Map(alertmanager), pushgateway: new Map(pushgateway), vip: new Map(vip) };
}
