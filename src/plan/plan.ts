import type { Topology } from '../topology/topology.ts';
import { planAlertmanagers } from './alertmanager.ts';
import { planFederators } from './federator.ts';
import { HOST_LAYOUT, type Layout, type NodeSpec } from './node-spec.ts';
import { planPushgatewaySet, planVipStandIn } from './pushgateway.ts';
import { planScraperSet } from './scraper.ts';

export interface PlanOptions {
  /** @default HOST_LAYOUT */
  readonly layout?: Layout;
  /** Add an HAProxy node per pushgateway set that stands in for the VIP. @default true */
  readonly vipStandIns?: boolean;
}

/**
 * Every node of the topology, in start order: scrapers, pushgateways (and VIP
 * stand-ins), federators, active Alertmanagers, and the backup Alertmanager last.
 */
export function plan(topology: Topology, options: PlanOptions = {}): NodeSpec[] {
  const layout = options.layout ?? HOST_LAYOUT;
  const { spec } = topology;
  return [
    ...spec.scrapers.flatMap((s) => planScraperSet(spec, s, layout)),
    ...spec.pushgateways.flatMap((s) => planPushgatewaySet(spec, s, layout)),
    ...(options.vipStandIns === false ? [] : spec.pushgateways.map((s) => planVipStandIn(s, layout))),
    ...planFederators(topology, layout),
    ...planAlertmanagers(spec, layout),
  ];
}
