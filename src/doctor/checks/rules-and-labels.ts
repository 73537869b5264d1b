import { parse } from 'yaml';
import { DEFAULT_GROUP_INTERVAL, routes, type RouteNode } from '../../check/rules/alertmanager-timing.ts';
import { Duration } from '../../duration.ts';
import { FEDERATE_JOB_PREFIX, historyNeed, PUSHGATEWAY_JOB_PREFIX } from '../../plan/derived.ts';
import type { DoctorCheck } from '../result.ts';

interface LiveRelabel {
  action?: string;
  regex?: string;
}
interface LiveJob {
  job_name: string;
  honor_labels?: boolean;
  metric_relabel_configs?: LiveRelabel[];
}
interface LiveConfig {
  storage?: { tsdb?: { out_of_order_time_window?: string } };
  alerting?: { alert_relabel_configs?: LiveRelabel[] };
  scrape_configs?: LiveJob[];
}

const drops = (relabels: LiveRelabel[] | undefined, label: string) =>
  (relabels ?? []).some((r) => (r.action ?? '').toLowerCase() === 'labeldrop' && new RegExp(`^(?:${r.regex ?? ''})$`).test(label));

export const liveRetention: DoctorCheck = {
  code: 'DR701',
  name: 'live-retention',
  description: 'Federator retention, read from the live flags, covers the history the rules read.',
  *run(t, o) {
    const { need, rule } = historyNeed(t.topology);
    for (const f of t.members.filter((m) => m.role === 'federator')) {
      const flag = o.prometheus.get(f.name)?.flags?.['storage.tsdb.retention.time'];
      if (flag === undefined) continue;
      const have = Duration.tryParse(flag);
      if (!have || have.ms === 0) yield { verdict: 'warn', member: f.name, message: `${f.name}: retention "${flag}" is not a time limit (size-based only?)` };
      else if (have.lt(need)) yield { verdict: 'fail', member: f.name, message: `${f.name} keeps ${have}, less than the ${need} that ${rule} reads` };
      else yield { verdict: 'pass', member: f.name, message: `${f.name} keeps ${have}, covering the ${need} that ${rule} reads` };
    }
  },
};

export const liveDedup: DoctorCheck = {
  code: 'DR702',
  name: 'live-dedup-config',
  description: "Each federator's live config merges scraper copies (labeldrop + out-of-order window), merges gateway copies, and drops federator_replica for alerts.",
  *run(t, o) {
    const { scrape, federate } = t.topology.spec.intervals;
    const needWindow = scrape.plus(federate);
    for (const f of t.members.filter((m) => m.role === 'federator')) {
      const text = o.prometheus.get(f.name)?.config;
      if (!text) continue;
      const config = parse(text) as LiveConfig;
      const problems: string[] = [];
      const jobs = config.scrape_configs ?? [];
      for (const j of jobs.filter((x) => x.job_name.startsWith(FEDERATE_JOB_PREFIX))) {
        if (j.honor_labels !== true) problems.push(`job ${j.job_name} lacks honor_labels: true`);
        if (!drops(j.metric_relabel_configs, 'scraper_replica')) problems.push(`job ${j.job_name} does not labeldrop scraper_replica: each scraper copy stays a series of its own`);
      }
      for (const j of jobs.filter((x) => x.job_name.startsWith(PUSHGATEWAY_JOB_PREFIX))) {
        if (j.honor_labels !== true) problems.push(`job ${j.job_name} lacks honor_labels: true`);
        if (!drops(j.metric_relabel_configs, 'promha_member')) problems.push(`job ${j.job_name} keeps a per-member label: gateway copies do not merge`);
      }
      const window = Duration.tryParse(config.storage?.tsdb?.out_of_order_time_window ?? '0s') ?? Duration.ZERO;
      if (window.lt(needWindow)) problems.push(`out_of_order_time_window is ${window}, less than scrape + federate (${needWindow}): one scraper copy is rejected as out-of-order`);
      if (!drops(config.alerting?.alert_relabel_configs, 'federator_replica')) problems.push('alert_relabel_configs do not drop federator_replica: the two federators send different alerts');
      if (problems.length) for (const p of problems) yield { verdict: 'fail', member: f.name, message: `${f.name}: ${p}` };
      else yield { verdict: 'pass', member: f.name, message: `${f.name} merges scraper copies (out-of-order window ${window}), merges gateway copies and drops federator_replica for alerts` };
    }
  },
};

export const ruleHealth: DoctorCheck = {
  code: 'DR704',
  name: 'rule-health',
  description: "Every rule of each federator evaluates without error (promtool accepts rules that fail only on the live series, such as a many-to-many match).",
  *run(t, o) {
    for (const f of t.members.filter((m) => m.role === 'federator')) {
      const groups = o.prometheus.get(f.name)?.rules;
      if (!groups) continue;
      const failing = groups.flatMap((g) => g.rules.filter((r) => r.health === 'err').map((r) => `${r.name} (${g.file}): ${r.lastError}`));
      const count = groups.reduce((n, g) => n + g.rules.length, 0);
      if (failing.length) for (const r of failing) yield { verdict: 'fail', member: f.name, message: `${f.name}: rule ${r}` };
      else yield { verdict: 'pass', member: f.name, message: `${f.name}: its ${count} rules evaluate without error` };
    }
  },
};

export const liveTiming: DoctorCheck = {
  code: 'DR703',
  name: 'live-alertmanager-timing',
  description: 'The live Alertmanager timings keep (members - 1) × peer_timeout < group_interval (DESIGN §3.7).',
  *run(t, o) {
    const ams = t.members.filter((m) => m.role === 'alertmanager' && !m.backup);
    const members = t.members.filter((m) => m.role === 'alertmanager').length;
    const timeout = t.livePeerTimeout ?? t.peerTimeout;
    const wait = timeout.times(members - 1);
    for (const m of ams) {
      const original = o.alertmanager.get(m.name)?.status?.config.original;
      if (!original) continue;
      const config = parse(original) as { route?: Record<string, unknown> };
      const all: RouteNode[] = [];
      if (config.route) routes(config.route, ['route'], DEFAULT_GROUP_INTERVAL, all);
      const short = all.filter((r) => wait.compare(r.groupInterval) >= 0);
      if (short.length)
        yield {
          verdict: 'fail',
          member: m.name,
          message: `${m.name}: (${members} - 1) × peer_timeout ${timeout} = ${wait} is not below group_interval ${short.map((r) => `${r.groupInterval} at ${r.path.join('.')}`).join(', ')}: duplicates`,
        };
      else yield { verdict: 'pass', member: m.name, message: `${m.name}: (${members} - 1) × peer_timeout ${timeout} = ${wait} < every group_interval (min ${Duration.milliseconds(Math.min(...all.map((r) => r.groupInterval.ms)))})` };
    }
  },
};
