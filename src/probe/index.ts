/** Typed clients of the HTTP APIs of Prometheus, Alertmanager and the Pushgateway. */
export * from './http.ts';
export * from './metrics-text.ts';
export type { Labels } from './schema-util.ts';
export { PrometheusClient } from './prometheus.ts';
export type * from './prometheus.ts';
export { AlertmanagerClient, ownPeerPosition, parsePeerName, parsePeerPosition, peerPosition } from './alertmanager.ts';
export type * from './alertmanager.ts';
export { groupPath, PUSHGATEWAY_META_METRICS, PushgatewayClient } from './pushgateway.ts';
export type * from './pushgateway.ts';
