/** The drill scenarios in the order `promha drill` runs them; test/drill.test.ts keeps it equal to SCENARIOS. */
export const SCENARIO_NAMES = [
  'scraper-killed',
  'pushgateway-host-lost',
  'vip-moved-gateway-alive',
  'federator-killed',
  'alertmanager-killed',
  'alertmanager-data-lost',
  'alertmanager-partitioned',
  'scraper-set-down',
] as const;
