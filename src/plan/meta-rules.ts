import { Duration } from '../duration.ts';
import type { TopologySpec } from '../topology/schema.ts';

/** One generated alert rule that lets the HA system watch itself (DESIGN §4). */
export interface MetaRule {
  readonly name: string;
  readonly expr: string;
  readonly for?: Duration;
  readonly severity: 'none' | 'warning' | 'critical';
  readonly summary: string;
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const quote = (s: string) => JSON.stringify(s);

/*
 * Every meta job carries target labels promha_set / promha_member / promha_role, so the
 * alerts name members in the seed's words. On the federate and pushgateway jobs the
 * federators drop those labels again from the scraped samples (metric_relabel_configs
 * do not touch `up` and scrape_*), so the merged copies stay one series.
 */
/** The meta-alert that always fires, so a silent receiver means a broken pipeline. */
export const WATCHDOG_ALERT = 'PromhaWatchdog';

export function metaRules(spec: TopologySpec): MetaRule[] {
  const { federate, push } = spec.intervals;
  const settle = federate.times(3);
  const window = Duration.max(Duration.minutes(1), federate.times(4));
  const backup = spec.alertmanagers.backup.name;
  const timeoutSeconds = spec.intervals.federate.seconds;
  const rules: MetaRule[] = [
    {
      name: WATCHDOG_ALERT,
      expr: 'vector(1)',
      severity: 'none',
      summary: 'Always firing: if this stops reaching the receiver, the alerting pipeline is broken',
    },
    {
      name: 'PromhaScraperMemberDown',
      expr: 'up{job=~"promha-federate-.+"} == 0',
      for: settle,
      severity: 'warning',
      summary: 'Scraper member {{ $labels.promha_member }} of {{ $labels.promha_set }} cannot be federated; its pair still covers the set',
    },
    {
      name: 'PromhaScraperSetDown',
      expr: 'sum by (promha_set) (up{job=~"promha-federate-.+"}) == 0',
      for: settle,
      severity: 'critical',
      summary: 'Both members of scraper set {{ $labels.promha_set }} are down: its exporters are a blind spot',
    },
    {
      name: 'PromhaFederateScrapeSlow',
      expr: `scrape_duration_seconds{job=~"promha-federate-.+"} > ${Number((timeoutSeconds * 0.8).toFixed(3))}`,
      for: settle,
      severity: 'warning',
      summary: 'Federating {{ $labels.promha_member }} takes {{ $value }}s, close to its timeout; narrow match[] or split the set',
    },
    {
      name: 'PromhaFederatorPeerDown',
      expr: `up{job="promha-federator"} == 0`,
      for: settle,
      severity: 'warning',
      summary: 'Federator {{ $labels.promha_member }} is down: alerts now depend on one federator',
    },
    {
      name: 'PromhaAlertmanagerDown',
      expr: `up{job="promha-alertmanager"} == 0`,
      for: settle,
      severity: 'warning',
      summary: 'Alertmanager {{ $labels.promha_member }} ({{ $labels.promha_role }}) is down',
    },
    {
      name: 'PromhaAlertmanagerClusterDegraded',
      expr: `alertmanager_cluster_members{job="promha-alertmanager"} < 3`,
      for: settle,
      severity: 'warning',
      summary: 'Alertmanager {{ $labels.promha_member }} sees {{ $value }} cluster members instead of 3: silences and the notification log lose redundancy',
    },
    {
      name: 'PromhaNotificationsFailing',
      expr: `sum by (promha_member, integration) (rate(alertmanager_notifications_failed_total{job="promha-alertmanager"}[${window}])) > 0`,
      severity: 'critical',
      summary: 'Alertmanager {{ $labels.promha_member }} fails to send {{ $labels.integration }} notifications',
    },
    {
      name: 'PromhaNotificationsDropped',
      expr: `rate(prometheus_notifications_dropped_total{job="promha-federator"}[${window}]) > 0`,
      severity: 'warning',
      summary: 'Federator {{ $labels.promha_member }} drops alerts it could not send to Alertmanager',
    },
    {
      name: 'PromhaBackupAlertmanagerReceivesAlerts',
      expr: `increase(alertmanager_alerts_received_total{job="promha-alertmanager",promha_member=${quote(backup)}}[${window}]) > 0`,
      severity: 'warning',
      summary: `The backup Alertmanager ${backup} receives alerts: a federator is configured to send to it`,
    },
    {
      name: 'PromhaBackupAlertmanagerNotifies',
      expr: `increase(alertmanager_notifications_total{job="promha-alertmanager",promha_member=${quote(backup)}}[${window}]) > 0`,
      severity: 'warning',
      summary: `The backup Alertmanager ${backup} sends notifications: its route must lead to a receiver without integrations`,
    },
  ];
  if (spec.pushgateways.length > 0) {
    rules.push(
      {
        name: 'PromhaPushgatewayMemberDown',
        expr: 'up{job=~"promha-pushgateway-.+"} == 0',
        for: settle,
        severity: 'warning',
        summary: 'Pushgateway {{ $labels.promha_member }} of {{ $labels.promha_set }} is down',
      },
      {
        name: 'PromhaPushgatewaySetDown',
        expr: 'sum by (promha_set) (up{job=~"promha-pushgateway-.+"}) == 0',
        for: settle,
        severity: 'critical',
        summary: 'Both pushgateways of {{ $labels.promha_set }} are down: pushes are lost',
      },
      {
        name: 'PromhaStandbyPushgatewayHoldsData',
        expr: 'count without (instance, promha_member) (promha_member_push_time_seconds) > 1',
        for: Duration.max(federate, push).times(3),
        severity: 'warning',
        summary: 'Both pushgateways of {{ $labels.promha_set }} hold push group {{ $labels.exported_job }}: the standby was not wiped',
      },
    );
    const jobs = spec.pushgateways.flatMap((s) => s.jobs.map((j) => j.name));
    if (jobs.length > 0)
      rules.push({
        name: 'PromhaPushGroupStale',
        expr: `time() - push_time_seconds{job=~${quote(jobs.map(escapeRegex).join('|'))}} > ${push.times(3).plus(federate).seconds}`,
        severity: 'warning',
        summary: 'Push group {{ $labels.job }} has not been pushed for {{ $value }}s',
      });
  }
  return rules;
}

/** The rule file rendered for the federators. */
export function metaRuleFile(spec: TopologySpec): object {
  return {
    groups: [
      {
        name: 'promha-meta',
        interval: spec.intervals.evaluate.toString(),
        rules: metaRules(spec).map((r) => ({
          alert: r.name,
          expr: r.expr,
          ...(r.for ? { for: r.for.toString() } : {}),
          labels: { severity: r.severity, promha: 'meta' },
          annotations: { summary: r.summary },
        })),
      },
    ],
  };
}
