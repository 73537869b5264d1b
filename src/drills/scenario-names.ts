/** The drill scenarios in the order `promha drill` runs them; test/drill.test.ts keeps it equal to SCENARIOS. */
export const SCENARIO_NAMES = [
  'scraper-killed',
  'pushgateway-host-lost',
  'vip-moved-gateway-alive',
  'federator-killed',
  'scraper-set-down',
  // The Alertmanager drills restart members, and the next drill waits until they are past
  // their first flush: last, so that only they wait.
  'alertmanager-killed',
  'alertmanager-data-lost',
  'alertmanager-partitioned',
] as const;
