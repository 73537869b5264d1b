import { check, CHECK_RULES } from '../check/check.ts';
import { chooseRelease } from '../release/choose.ts';
import type { ReleaseName } from '../release/release.ts';
import type { Finding } from '../check/finding.ts';
import { formatLocation } from '../location.ts';
import { loadTopology } from '../topology/load.ts';
import { plain, type Paint } from '../cli/paint.ts';

export interface CheckReport {
  readonly file: string;
  /** The release checked for: its PromQL and flags. */
  readonly release: ReleaseName;
  readonly findings: readonly Finding[];
  readonly errors: number;
  readonly warnings: number;
}

export async function runCheck(file?: string, releaseName?: ReleaseName): Promise<CheckReport> {
  const topology = await loadTopology(file);
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
