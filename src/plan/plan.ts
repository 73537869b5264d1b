import type { Topology } from '../topology/topology.ts';
import { planAlertmanagers } from './alertmanager.ts';
import { planFederators } from './federator.ts';
import { HOST_LAYOUT, type Layout, type NodeSpec, type VipMode } from './node-spec.ts';
import { planPushgatewaySet, planVipStandIn } from './pushgateway.ts';
import { planScraperSet } from './scraper.ts';
import type { SecurityMaterial } from './security.ts';
import { RELEASES, type Release } from '../release/release.ts';

export interface PlanOptions {
  /** @default HOST_LAYOUT */
  readonly layout?: Layout;
  /** Add an HAProxy node per pushgateway set that stands in for the VIP. @default true */
  readonly vipStandIns?: boolean;
  /**
   * What serves the VIP at run time. With keepalived the VIP lands on the gateway's own
   * host, so the gateway listens on every interface and runs keepalived beside it; with
   * the HAProxy stand-in the gateways bind their member address only.
   * @default 'keepalived'
   */
  readonly vip?: VipMode;
  /** Certificates and password for secure mode; without them the secret files are left out (as in `check`). */
  readonly security?: SecurityMaterial;
  /** The release whose flags the processes get. @default Debian 12 (bookworm) */
  readonly release?: Release;
}

/**
 * Every node of the topology, in start order: scrapers, pushgateways (and VIP
 * stand-ins), the active Alertmanagers, the backup (last of the cluster, so it holds
 * the last peer position), and the federators, whose alerts then find the cluster up.
 */
export function plan(topology: Topology, options: PlanOptions = {}): NodeSpec[] {
  const layout = options.layout ?? HOST_LAYOUT;
  const { spec } = topology;
  const sec = options.security;
  return [
    ...spec.scrapers.flatMap((s) => planScraperSet(spec, s, layout, sec)),
    ...spec.pushgateways.flatMap((s) => planPushgatewaySet(spec, s, layout, options.vip ?? 'keepalived', sec)),
    ...(options.vipStandIns === false ? [] : spec.pushgateways.map((s) => planVipStandIn(spec, s, layout, sec))),
    ...planAlertmanagers(spec, layout, options.release ?? RELEASES.bookworm, sec),
    ...planFederators(topology, layout, options.release ?? RELEASES.bookworm, sec),
  ];
}
