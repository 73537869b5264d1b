import { check, CHECK_RULES } from '../check/check.ts';
import { chooseRelease } from '../release/choose.ts';
import type { ReleaseName } from '../release/release.ts';
import type { Finding } from '../check/finding.ts';
import { formatLocation } from '../location.ts';
import { loadTopology } from '../topology/load.ts';
import type { Topology } from '../topology/topology.ts';
import { plain, type Paint } from '../cli/paint.ts';
import type { FaultImpact } from '../faults/matrix.ts';

export interface CheckReport {
  readonly file: string;
  /** The release checked for: its PromQL and flags. */
  readonly release: ReleaseName;
  readonly findings: readonly Finding[];
  readonly errors: number;
  readonly warnings: number;
}

export async function runCheck(file?: string, releaseName?: ReleaseName): Promise<CheckReport> {
  return checkReport(await loadTopology(file), releaseName);
}

/** The report of `check` for a topology already loaded. */
export async function checkReport(topology: Topology, releaseName?: ReleaseName): Promise<CheckReport> {
  const release = await chooseRelease(releaseName, topology.spec.release);
  const findings = check(topology, CHECK_RULES, release);
  return {
    file: topology.file,
    release: release.name,
    findings,
    errors: findings.filter((f) => f.severity === 'error').length,
    warnings: findings.filter((f) => f.severity === 'warning').length,
  };
}

export function formatFinding(f: Finding, pc: Paint = plain): string {
  const sev = f.severity === 'error' ? pc.red('error') : pc.yellow('warning');
  return `${formatLocation(f.location)}: ${sev} ${pc.dim(`${f.code} ${f.rule}`)}: ${f.message}\n    ${pc.cyan('fix:')} ${f.hint}`;
}

export function formatReport(r: CheckReport, pc: Paint = plain): string {
  const lines = r.findings.map((f) => formatFinding(f, pc));
  const summary =
    r.errors + r.warnings === 0
      ? pc.green(`${r.file}: no problems found for ${r.release}`)
      : `${r.file}: ${r.errors} error(s), ${r.warnings} warning(s) for ${r.release}`;
  return [...lines, summary].join('\n');
}

/** The fault-tolerance matrix of `check --faults`: what each combination of failed hosts loses. */
export function formatFaults(matrix: readonly FaultImpact[], k: number, pc: Paint = plain): string {
  const losing = matrix.filter((i) => i.losses.length > 0);
  const spof = losing.filter((i) => i.failed.length === 1);
  const delay = Math.max(0, ...matrix.filter((i) => i.alerting).map((i) => i.addedDelaySeconds));
  const lines = [pc.bold(`fault tolerance: ${matrix.length} combination(s) of up to ${k} failed host(s)`)];
  lines.push(spof.length ? pc.red(`single points of failure: ${spof.map((i) => i.failed[0]).join(', ')}`) : pc.green('single points of failure: none'));
  const width = Math.max(6, ...losing.map((i) => i.failed.join(' + ').length));
  if (losing.length) lines.push(pc.bold(`${'FAILED'.padEnd(width)}  LOST`));
  for (const i of losing) {
    const failed = i.failed.join(' + ');
    const [first, ...rest] = i.blindSpotAlertDelivered ? [...i.losses, 'the blind-spot alert is delivered'] : i.losses;
    lines.push(`${failed.padEnd(width)}  ${first ?? ''}`, ...rest.map((l) => `${' '.repeat(width)}  ${l}`));
  }
  lines.push(`${matrix.length - losing.length} combination(s) lose nothing; the notification delay grows by up to ${delay} s while a failed active Alertmanager still counts as a peer`);
  return lines.join('\n');
}
