import { check } from '../check/check.ts';
import type { Finding } from '../check/finding.ts';
import { formatLocation } from '../location.ts';
import { loadTopology } from '../topology/load.ts';
import { plain, type Paint } from '../cli/paint.ts';

export interface CheckReport {
  readonly file: string;
  readonly findings: readonly Finding[];
  readonly errors: number;
  readonly warnings: number;
}

export async function runCheck(file?: string): Promise<CheckReport> {
  const topology = await loadTopology(file);
  const findings = check(topology);
  return {
    file: topology.file,
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
      ? pc.green(`${r.file}: no problems found`)
      : `${r.file}: ${r.errors} error(s), ${r.warnings} warning(s)`;
  return [...lines, summary].join('\n');
}
