import type { Topology } from '../topology/topology.ts';
import { planAlertmanagers } from './alertmanager.ts';
import { planFederators } from './federator.ts';
import { HOST_LAYOUT, type Layout, type NodeSpec, type VipMode } from './node-spec.ts';
import { planPushgatewaySet, planVipStandIn } from './pushgateway.ts';
import { planScraperSet } from './scraper.ts';

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
}

/**
 * Every node of the topology, in start order: scrapers, pushgateways (and VIP
 * stand-ins), the active Alertmanagers, the backup (last of the cluster, so it holds
 * the last peer position), and the federators, whose alerts then find the cluster up.
 */
export function plan(topology: Topology, options: PlanOptions = {}): NodeSpec[] {
  const layout = options.layout ?? HOST_LAYOUT;
  const { spec } = topology;
  return [
    ...spec.scrapers.flatMap((s) => planScraperSet(spec, s, layout)),
    ...spec.pushgateways.flatMap((s) => planPushgatewaySet(spec, s, layout, options.vip ?? 'keepalived')),
    ...(options.vipStandIns === false ? [] : spec.pushgateways.map((s) => planVipStandIn(s, layout))),
    ...planAlertmanagers(spec, layout),
    ...planFederators(topology, layout),
  ];
}
