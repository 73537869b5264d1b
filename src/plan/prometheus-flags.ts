import type { Address } from '../address.ts';
import type { Duration } from '../duration.ts';
import type { TopologySpec } from '../topology/schema.ts';
import { scheme, webConfigArgs } from './security.ts';

/** Flags every Prometheus server gets: scraper and federator alike. */
export function prometheusArgs(o: {
  readonly spec: TopologySpec;
  readonly configDir: string;
  readonly dataDir: string;
  readonly address: Address;
  readonly retention: Duration;
  readonly lookback: Duration;
}): string[] {
  return [
    `--config.file=${o.configDir}/prometheus.yml`,
    `--storage.tsdb.path=${o.dataDir}`,
    `--storage.tsdb.retention.time=${o.retention}`,
    `--web.listen-address=${o.address.listen}`,
    // The default uses the machine's hostname, which then ends up in alert generator URLs.
    `--web.external-url=${scheme(o.spec)}://${o.address}/`,
    `--query.lookback-delta=${o.lookback}`,
    ...webConfigArgs(o.spec, o.configDir),
  ];
}
