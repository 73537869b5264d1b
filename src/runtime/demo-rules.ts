import { stringify } from 'yaml';
import { Duration } from '../duration.ts';
import { parseRuleFile } from '../rules/rule-file.ts';
import type { TopologySpec } from '../topology/schema.ts';
import { forGracePeriod, vipFailoverTime, pushedKeepFiringFor } from '../plan/derived.ts';
import { DEMO_RULES_FILE } from './local-topology.ts';

/**
 * The `for:` of the demo's sustained alert: no shorter than the federators' grace
 * period, or a restarted federator would not restore its state (DESIGN §2).
 */
export function sustainedFor(spec: TopologySpec): Duration {
  return Duration.max(forGracePeriod(spec), spec.intervals.evaluate.times(5));
}

/**
 * Alert rules on the demo metrics, so faults injected with `promha fault` reach the
 * receiver. The pushed-metric rule carries keep_firing_for (DESIGN §3.4).
 */
/**
 * The keep_firing_for of the demo's pushed-metric alert. Twice push + failover leaves room
 * for a slow failover at short intervals; at long ones what PH601 asks of every user's
 * rule (push + gateway scrape + evaluation + failover) is more.
 */
export function demoPushedKeepFiringFor(spec: TopologySpec): Duration {
  const advert = Duration.max(Duration.seconds(1), ...spec.pushgateways.map((s) => s.vip.advert_int));
  return Duration.max(spec.intervals.push.plus(vipFailoverTime(advert)).times(2), pushedKeepFiringFor(spec, advert, spec.intervals.evaluate).need);
}

export function demoRules(spec: TopologySpec) {
  const keep = demoPushedKeepFiringFor(spec);
  const text = stringify({
    groups: [
      {
        name: 'promha-demo',
        rules: [
          {
            alert: 'PromhaDemoValueHigh',
            expr: 'max by (group) (promha_demo_value) > 0',
            labels: { severity: 'warning', promha: 'demo' },
            annotations: { summary: 'Demo exporter group {{ $labels.group }} reports {{ $value }}' },
          },
          {
            alert: 'PromhaDemoValueSustained',
            expr: 'max by (group) (promha_demo_value) > 0',
            for: sustainedFor(spec).toString(),
            labels: { severity: 'warning', promha: 'demo' },
            annotations: { summary: 'Demo exporter group {{ $labels.group }} has reported {{ $value }} for a while' },
          },
          {
            alert: 'PromhaDemoExporterDown',
            expr: 'up{job!~"promha-.+"} == 0',
            for: spec.intervals.scrape.times(3).toString(),
            labels: { severity: 'warning', promha: 'demo' },
            annotations: { summary: 'Exporter {{ $labels.instance }} of job {{ $labels.job }} is down' },
          },
          {
            alert: 'PromhaDemoPushedValueHigh',
            expr: 'max by (job) (promha_demo_pushed_value) > 0',
            keep_firing_for: keep.toString(),
            labels: { severity: 'warning', promha: 'demo' },
            annotations: { summary: 'Pushed value of {{ $labels.job }} is {{ $value }}' },
          },
        ],
      },
    ],
  });
  return { name: DEMO_RULES_FILE, text, parsed: parseRuleFile(DEMO_RULES_FILE, text) };
}
