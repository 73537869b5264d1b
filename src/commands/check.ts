import { check, CHECK_RULES, sortFindings } from '../check/check.ts';
import type { RealToolOptions } from '../check/real-tools.ts';
import { plan } from '../plan/plan.ts';
import { chooseRelease } from '../release/choose.ts';
import { versionNotes, type ComponentVersions } from '../release/capabilities.ts';
import type { ReleaseName } from '../release/release.ts';
import type { Finding } from '../check/finding.ts';
import { formatLocation } from '../location.ts';
import { loadTopology } from '../topology/load.ts';
import type { Topology } from '../topology/topology.ts';
import { plain, type Paint } from '../cli/paint.ts';
import type { FaultAnalysis } from '../faults/matrix.ts';

export interface CheckReport {
  readonly file: string;
  /** The release checked for: its PromQL and flags. */
  readonly release: ReleaseName;
  /** The versions judged: of the release's binaries at hand, else what Debian ships. */
  readonly versions: ComponentVersions;
  readonly findings: readonly Finding[];
  readonly errors: number;
  readonly warnings: number;
  /** What was assumed of versions newer than promha measured, and known defects of these versions (versionNotes). */
  readonly notes: readonly string[];
}

export async function runCheck(file?: string, releaseName?: ReleaseName, options?: CheckOptions): Promise<CheckReport> {
  return checkReport(await loadTopology(file), releaseName, options);
}

export interface CheckOptions {
  /**
   * Also run the release's amtool and promtool on the files render would write (PH1101):
   * `false` leaves them out (the rules alone, e.g. in unit tests); options pass binaries or a timeout.
   * @default true
   */
  readonly realTools?: boolean | RealToolOptions;
}

/** The report of `check` for a topology already loaded: the rules, then the release's own tools on the rendered files. */
export async function checkReport(topology: Topology, releaseName?: ReleaseName, options: CheckOptions = {}): Promise<CheckReport> {
  const release = await chooseRelease(releaseName, topology.spec.release);
  let findings = check(topology, CHECK_RULES, release);
  // The tools run once the rules find no error: they answer for what the rules cannot see,
  // and each stops at a file's first problem, which a rule's error (located, with its fix) already names.
  if (options.realTools !== false && !findings.some((f) => f.severity === 'error')) {
    // Loaded only here: the pure rules stay free of processes and temporary files.
    const { realToolFindings } = await import('../check/real-tools.ts');
    const tools = await realToolFindings(topology, release, plan(topology, { release }), options.realTools === true ? {} : options.realTools);
    findings = sortFindings([...findings, ...tools]);
  }
  return {
    file: topology.file,
    release: release.name,
    versions: release.versions,
    findings,
    errors: findings.filter((f) => f.severity === 'error').length,
    warnings: findings.filter((f) => f.severity === 'warning').length,
    notes: versionNotes(release.versions),
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
  const versions = `prometheus ${r.versions.prometheus}, alertmanager ${r.versions.alertmanager}, pushgateway ${r.versions.pushgateway}`;
  return [...lines, ...r.notes.map((n) => pc.dim(`note (${r.release}: ${versions}): ${n}`)), summary].join('\n');
}

/** The fault-tolerance analysis of `check --faults`: the minimal combinations of failed hosts that lose something, which stand for all the others. */
export function formatFaults(a: FaultAnalysis, pc: Paint = plain): string {
  const lines = [pc.bold(`fault tolerance: ${a.combinations} combination(s) of up to ${a.k} failed host(s) among ${a.hosts}; ${a.losing.length} minimal one(s) lose something`)];
  if (a.lostWithoutFailure.length) lines.push(pc.red(`lost with every host up: ${a.lostWithoutFailure.join('; ')}`));
  lines.push(a.singlePointsOfFailure.length ? pc.red(`single points of failure: ${a.singlePointsOfFailure.join(', ')}`) : pc.green('single points of failure: none'));
  // A loop, not Math.max(...rows): spreading thousands of rows into a call overflows the stack.
  let width = 6;
  for (const i of a.losing) width = Math.max(width, i.failed.join(' + ').length);
  if (a.losing.length) lines.push(pc.bold(`${'FAILED'.padEnd(width)}  LOST`));
  for (const i of a.losing) {
    const failed = i.failed.join(' + ');
    const [first, ...rest] = i.blindSpotAlertDelivered ? [...i.losses, 'the blind-spot alert is delivered'] : i.losses;
    lines.push(`${failed.padEnd(width)}  ${first ?? ''}`);
    for (const l of rest) lines.push(`${' '.repeat(width)}  ${l}`);
  }
  lines.push(
    `every other combination loses what the listed ones inside it lose, nothing when none is inside it; the notification delay grows by up to ${a.maxAddedDelaySeconds} s while a failed active Alertmanager still counts as a peer`,
  );
  return lines.join('\n');
}

/** `check --faults --json`: the analysis with its count as a JSON number (exact up to 2^53, then rounded). */
export function faultsJson(a: FaultAnalysis): Record<string, unknown> {
  return {
    k: a.k,
    hosts: a.hosts,
    combinations: Number(a.combinations),
    lostWithoutFailure: a.lostWithoutFailure,
    singlePointsOfFailure: a.singlePointsOfFailure,
    maxAddedDelaySeconds: a.maxAddedDelaySeconds,
    matrix: a.losing,
  };
}
