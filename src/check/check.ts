import { plan } from '../plan/plan.ts';
import type { Topology } from '../topology/topology.ts';
import type { CheckRule, Finding } from './finding.ts';
import { alertmanagerConfig } from './rules/alertmanager-config.ts';
import { alertmanagerTiming } from './rules/alertmanager-timing.ts';
import { backupAlertmanager } from './rules/backup-alertmanager.ts';
import { directFederation } from './rules/direct-federation.ts';
import { exporterCoverage } from './rules/exporter-coverage.ts';
import { outOfOrder } from './rules/out-of-order.ts';
import { persistence } from './rules/persistence.ts';
import { forRestore } from './rules/for-restore.ts';
import { kubernetesNames } from './rules/kubernetes-names.ts';
import { hostPaths } from './rules/host-paths.ts';
import { federateMatch, ruleFiles } from './rules/promql.ts';
import { pushedKeepFiring } from './rules/pushed-keep-firing.ts';
import { retention } from './rules/retention.ts';
import { ruleFileNames } from './rules/rule-file-names.ts';
import { mergedUp } from './rules/merged-up.ts';
import { sampleCounting } from './rules/sample-counting.ts';
import { scrapeJobs } from './rules/scrape-jobs.ts';
import { securityAuth } from './rules/security-auth.ts';
import { securityTls } from './rules/security-tls.ts';
import { staleness } from './rules/staleness.ts';
import { twoMembers } from './rules/two-members.ts';
import { uniqueAddresses } from './rules/unique-addresses.ts';
import { separateHosts } from './rules/separate-hosts.ts';
import { clusterLabel } from './rules/cluster-label.ts';
import { uniqueNames } from './rules/unique-names.ts';
import { RELEASES, type Release } from '../release/release.ts';
import { vipAddress } from './rules/vip.ts';
import { rateWindow } from './rules/rate-window.ts';

export const CHECK_RULES: readonly CheckRule[] = [
  twoMembers,
  uniqueNames,
  uniqueAddresses,
  separateHosts,
  exporterCoverage,
  scrapeJobs,
  kubernetesNames,
  staleness,
  directFederation,
  persistence,
  retention,
  hostPaths,
  backupAlertmanager,
  alertmanagerTiming,
  alertmanagerConfig,
  clusterLabel,
  pushedKeepFiring,
  forRestore,
  mergedUp,
  sampleCounting,
  rateWindow,
  outOfOrder,
  ruleFiles,
  ruleFileNames,
  federateMatch,
  vipAddress,
  securityTls,
  securityAuth,
];

/**
 * Every finding of every rule, errors first, then by file position.
 * @param release the release the topology runs. @default its `release`, else Debian 12
 */
export function check(topology: Topology, rules: readonly CheckRule[] = CHECK_RULES, release: Release = RELEASES[topology.spec.release ?? 'bookworm']): Finding[] {
  const ctx = { topology, nodes: plan(topology, { release }), release };
  return collapseRepeats(sortFindings(rules.flatMap((r) => [...r.run(ctx)].map((f) => ({ code: r.code, rule: r.name, ...f })))));
}

/** How many places of a repeated finding its message lists. */
const LISTED_REPEATS = 5;

/**
 * One finding for each repeated one: the same code, message and fix in one file (a rule
 * reading the merged `up` 50,000 times in one expression) is reported once, at its first
 * place, with the count and the next places, instead of flooding the terminal.
 */
export function collapseRepeats(sorted: readonly Finding[]): Finding[] {
  const groups = new Map<string, Finding[]>();
  for (const f of sorted) {
    const key = JSON.stringify([f.code, f.severity, f.location.file, f.message, f.hint]);
    const group = groups.get(key);
    if (group) group.push(f);
    else groups.set(key, [f]);
  }
  return [...groups.values()].map(([first, ...rest]) => {
    const f = first as Finding;
    if (rest.length === 0) return f;
    const places = rest.slice(0, LISTED_REPEATS).map((r) => `${r.location.line}:${r.location.column}`);
    const more = rest.length > LISTED_REPEATS ? `, and ${rest.length - LISTED_REPEATS} more` : '';
    return { ...f, message: `${f.message} (also at ${places.join(', ')}${more}: ${rest.length + 1} places in all)` };
  });
}

/** Errors first, then by file position. */
export function sortFindings(findings: Finding[]): Finding[] {
  return findings.sort(
    (a, b) =>
      (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1) ||
      a.location.file.localeCompare(b.location.file) ||
      a.location.line - b.location.line ||
      a.location.column - b.location.column,
  );
}
