import path from 'node:path';
import type { Topology } from '../topology/topology.ts';
import {
  ALERTMANAGER_JOB,
  FEDERATE_JOB_PREFIX,
  FEDERATOR_JOB,
  federateTimeout,
  federatorRetention,
  META_RULES_FILE,
  outOfOrderWindow,
  PUSH_GROUPS_JOB,
  PUSHGATEWAY_JOB_PREFIX,
  alertmanagerSendTimeout,
} from './derived.ts';
import { metaRuleFile } from './meta-rules.ts';
import type { FileSpec, Layout, NodeSpec } from './node-spec.ts';
import { prometheusArgs } from './prometheus-flags.ts';
import { clientHttpConfig, securityFiles, type SecurityMaterial } from './security.ts';
import { yamlFile } from './yaml-file.ts';
import { RELEASES, type Release } from '../release/release.ts';

/** Rule files as the federators load them: the user's, copied unchanged, then the generated meta rules. */
export function federatorRuleFiles(topology: Topology): FileSpec[] {
  const used = new Set<string>([META_RULES_FILE]);
  const files: FileSpec[] = topology.ruleFiles.map((f) => {
    let base = path.basename(f.name);
    for (let i = 2; used.has(base); i++) base = `${i}-${path.basename(f.name)}`;
    used.add(base);
    return { path: `rules/${base}`, content: f.text };
  });
  files.push(yamlFile(`rules/${META_RULES_FILE}`, metaRuleFile(topology.spec)));
  return files;
}

const memberTarget = (address: string, labels: Record<string, string>) => ({ targets: [address], labels });
// Target labels name members in alerts; dropped from scraped samples so copies still merge.
const dropMemberLabels = { action: 'labeldrop', regex: 'promha_set|promha_member' };

export function federatorConfig(topology: Topology, member: string, configDir: string, release: Release = RELEASES.bookworm): Record<string, unknown> {
  const { spec } = topology;
  // Every endpoint a federator reaches is a promha member: in secure mode each link is TLS and authenticated.
  const client = clientHttpConfig(spec, configDir);
  const interval = spec.intervals.federate.toString();
  const timeout = federateTimeout(spec).toString();
  const federateJobs = spec.scrapers.map((set) => ({
    job_name: `${FEDERATE_JOB_PREFIX}${set.name}`,
    scrape_interval: interval,
    scrape_timeout: timeout,
    honor_labels: true,
    // Explicit where the field exists: a killed member's staleness markers must not mark the merged series stale.
    ...(release.trackTimestampsStaleness ? { track_timestamps_staleness: false } : {}),
    metrics_path: '/federate',
    ...client,
    params: { 'match[]': [...spec.federators.match] },
    // Each member is its own target, addressed directly: never a VIP.
    static_configs: set.members.map((m) => memberTarget(String(m.address), { promha_set: set.name, promha_member: m.name })),
    // Both scraper copies feed ONE series; the out-of-order window absorbs their offsets (DESIGN §3.1).
    metric_relabel_configs: [{ action: 'labeldrop', regex: 'scraper_replica' }, dropMemberLabels],
  }));
  const gatewayJobs = spec.pushgateways.map((set) => ({
    job_name: `${PUSHGATEWAY_JOB_PREFIX}${set.name}`,
    scrape_interval: interval,
    scrape_timeout: timeout,
    honor_labels: true,
    ...client,
    // Gateway copies merge with no per-member label; at most one member holds a group (DESIGN §3.3).
    static_configs: set.members.map((m) => memberTarget(String(m.address), { promha_set: set.name, promha_member: m.name })),
    metric_relabel_configs: [dropMemberLabels],
  }));
  const pushGroupJob =
    spec.pushgateways.length === 0
      ? []
      : [
          {
            job_name: PUSH_GROUPS_JOB,
            scrape_interval: interval,
            scrape_timeout: timeout,
            // Kept per member (honor_labels off) so a standby that still holds groups is visible.
            honor_labels: false,
            ...client,
            static_configs: spec.pushgateways.flatMap((set) =>
              set.members.map((m) => memberTarget(String(m.address), { promha_set: set.name, promha_member: m.name })),
            ),
            metric_relabel_configs: [
              { source_labels: ['__name__'], regex: 'push_time_seconds', action: 'keep' },
              { source_labels: ['__name__'], target_label: '__name__', replacement: 'promha_member_push_time_seconds' },
            ],
          },
        ];
  const am = spec.alertmanagers;
  const metaJobs = [
    {
      job_name: FEDERATOR_JOB,
      scrape_interval: interval,
      scrape_timeout: timeout,
      ...client,
      static_configs: spec.federators.members.map((m) => memberTarget(String(m.address), { promha_member: m.name })),
    },
    {
      job_name: ALERTMANAGER_JOB,
      scrape_interval: interval,
      scrape_timeout: timeout,
      ...client,
      static_configs: [
        ...am.members.map((m) => memberTarget(String(m.address), { promha_member: m.name, promha_role: 'active' })),
        memberTarget(String(am.backup.address), { promha_member: am.backup.name, promha_role: 'backup' }),
      ],
    },
  ];
  return {
    global: {
      scrape_interval: interval,
      scrape_timeout: timeout,
      evaluation_interval: spec.intervals.evaluate.toString(),
      external_labels: { federator_replica: member },
    },
    storage: { tsdb: { out_of_order_time_window: outOfOrderWindow(spec).toString() } },
    rule_files: federatorRuleFiles(topology).map((f) => f.path),
    alerting: {
      // Both federators evaluate the same merged data; without their replica label
      // their alerts are identical and Alertmanager merges them (DESIGN §3.6).
      alert_relabel_configs: [{ action: 'labeldrop', regex: 'federator_replica' }],
      // The backup member is left out on purpose: it must never receive alerts. A send
      // waits for every member: the timeout keeps one hung member from letting the
      // others' alerts expire (see alertmanagerSendTimeout).
      alertmanagers: [{ api_version: 'v2', timeout: alertmanagerSendTimeout(spec).toString(), ...client, static_configs: [{ targets: am.members.map((m) => String(m.address)) }] }],
    },
    scrape_configs: [...federateJobs, ...gatewayJobs, ...pushGroupJob, ...metaJobs, ...spec.federators.scrape_configs],
  };
}

export function planFederators(topology: Topology, layout: Layout, release: Release, security?: SecurityMaterial): NodeSpec[] {
  const { spec } = topology;
  const set = spec.federators;
  const retention = federatorRetention(topology);
  const rules = federatorRuleFiles(topology);
  return set.members.map((member) => {
    const configDir = layout.configDir(member.name);
    const dataDir = layout.dataDir(member.name, set.storage.path);
    const args = prometheusArgs({ spec, configDir, dataDir, address: member.address, retention, lookback: spec.lookback_delta });
    if (set.for_grace_period) args.push(`--rules.alert.for-grace-period=${set.for_grace_period}`);
    if (set.resend_delay) args.push(`--rules.alert.resend-delay=${set.resend_delay}`);
    const config = yamlFile('prometheus.yml', federatorConfig(topology, member.name, configDir, release));
    return {
      name: member.name,
      role: 'federator',
      set: set.name,
      backup: false,
      address: member.address,
      configDir,
      dataDir,
      persistent: set.storage.persistent,
      standIn: false,
      files: [config, ...rules, ...securityFiles(spec, member.name, configDir, security, { server: true, client: true })],
      processes: [{ name: 'prometheus', binary: 'prometheus', args }],
    };
  });
}

