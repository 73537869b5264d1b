// What `promha apply` checks between its steps, wherever the members run (the local
// stack or hosts over SSH): a step's gate, the VIP holder, the new rule files.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { evaluate } from '../doctor/doctor.ts';
import { observe } from '../doctor/observe.ts';
import type { DoctorResult, DoctorTarget } from '../doctor/result.ts';
import { ExitError } from '../errors.ts';
import { startDelayOf } from '../plan/alertmanager.ts';
import type { NodeSpec, Role } from '../plan/node-spec.ts';
import type { TopologySpec } from '../topology/schema.ts';
import { AlertmanagerClient } from '../probe/alertmanager.ts';
import { memberUrl } from '../probe/client-security.ts';
import { getText } from '../probe/http.ts';
import { findSamples, parseMetrics, sampleValue } from '../probe/metrics-text.ts';
import { vipServedBy } from '../probe/pushgateway.ts';
import { releasePromtool, runLimited } from '../release/promtool.ts';
import type { Release } from '../release/release.ts';
import { readiness, type Readiness } from '../runtime/readiness.ts';
import { RULES_DIR, type RolloutStep } from './rollout.ts';

/** Metric families that say whether the latest reload took. */
const RELOAD_METRIC: Readonly<Record<string, string>> = { prometheus: 'prometheus_config_last_reload_success', alertmanager: 'alertmanager_config_last_reload_success' };

/** How long a gate may take: the caller's, else max(60 s, 4 × the federate interval). */
export const gateTimeout = (spec: TopologySpec, given?: number): number => given ?? Math.max(60_000, 4 * spec.intervals.federate.ms);

/** The backup Alertmanager restarts after step `i`: its position is not judged before. */
export const backupRestartFollows = (steps: readonly RolloutStep[], i: number, nodes: readonly NodeSpec[]): boolean =>
  steps.slice(i + 1).some((s) => s.role === 'alertmanager' && s.action === 'restart' && nodes.find((n) => n.name === s.member)?.backup);

/** A step's line in the progress: `' 2/6 reload   federator1-1'`. */
export const stepLabel = (steps: readonly RolloutStep[], i: number): string => `${String(i + 1).padStart(2)}/${steps.length} ${steps[i]?.action.padEnd(8)} ${steps[i]?.member}`;

/** Why the rollout stopped at step `i`, and how the member stands after its rollback. */
export function rolledBackMessage(steps: readonly RolloutStep[], i: number, detail: string, back: Readiness): string {
  const s = steps[i] as RolloutStep;
  return (
    `step ${i + 1} (${s.action} ${s.member}) failed its gate: ${detail}\n` +
    `    ${s.member} runs what it ran before${back.ready ? ' and passes its checks again' : `, but does not pass its checks yet: ${back.detail}`}; ${i} step(s) done, ${steps.length - i - 1} not run`
  );
}

/** The member a gate is about, as it runs now. */
export interface GateMember {
  readonly name: string;
  readonly role: Role;
  readonly set: string;
  /** Where it answers. */
  readonly address: string;
  /** Its processes' command lines now (an Alertmanager's start delay is one of its flags). */
  readonly processes: ReadonlyArray<{ readonly args: readonly string[] }>;
  /** The last lines a process logged, for the evidence of a refused reload. @default none */
  readonly logOf?: (process: string) => string;
}

export interface GateOptions {
  /** The backup Alertmanager restarts later in the rollout: its position is not judged yet. */
  readonly positionLater: boolean;
  /** The member is back on what it ran: drift, versions and added members are not judged. */
  readonly rollback?: boolean;
  /** Members the rollout adds. */
  readonly adding: ReadonlySet<string>;
  /**
   * A federator's failed evaluations per rule group before the step (`ruleFailures`):
   * its gate fails while any group failed one since. @default not judged
   */
  readonly ruleFailuresBefore?: ReadonlyMap<string, number>;
}

/**
 * Failed evaluations so far of each rule group of a Prometheus (`file;group`), from its
 * own counter: a rule health shows the last evaluation only, and a rule that fails only
 * when both copies of a federated series are in passes an evaluation that meets one.
 */
export async function ruleFailures(address: string): Promise<ReadonlyMap<string, number>> {
  return ruleFailuresIn(await getText(`${memberUrl(address)}/metrics`));
}

/**
 * What a federator's gate compares its rule failures with: nothing before a restart (the
 * counter begins again with the new process, all of whose failures follow the change),
 * else the counter now; undefined for other members, or when it cannot be read.
 */
export async function ruleFailuresBeforeStep(role: Role, s: RolloutStep, address: string): Promise<ReadonlyMap<string, number> | undefined> {
  if (role !== 'federator') return undefined;
  if (s.action === 'restart') return new Map();
  return ruleFailures(address).catch(() => undefined);
}

/** `prometheus_rule_evaluation_failures_total` of a Prometheus' metrics, per rule group. */
export const ruleFailuresIn = (metrics: string): ReadonlyMap<string, number> =>
  new Map(findSamples(parseMetrics(metrics), 'prometheus_rule_evaluation_failures_total').map((s) => [s.labels['rule_group'] ?? '', s.value] as const));

/** The rule groups that failed evaluations since `before`; a counter lower than before means the process restarted. */
export function failedSince(before: ReadonlyMap<string, number>, now: ReadonlyMap<string, number>): string[] {
  return [...now].flatMap(([group, n]) => {
    const failed = n < (before.get(group) ?? 0) ? n : n - (before.get(group) ?? 0);
    return failed > 0 ? [`${group} (${failed})`] : [];
  });
}

/**
 * The gate of a step: the member ready, its reloads taken, a federator's rule groups
 * evaluated for a federate interval since the change without a failed evaluation, and
 * no doctor check about the member or its set failing (the drift and versions of members not changed yet aside; the backup's position aside
 * while its restart is still to come; members the rollout adds aside where another
 * member, not changed yet, is to federate them). A rollback's gate skips drift and
 * versions, and the added members: the member is back on what it ran, not on the topology.
 */
export async function gateHolds(member: GateMember, target: () => Promise<DoctorTarget>, s: RolloutStep, since: number, o: GateOptions): Promise<Readiness> {
  const rollback = o.rollback ?? false;
  const ready = await readiness(member.role, member.address);
  if (!ready.ready) return ready;
  const delay = s.action === 'restart' && member.role === 'alertmanager' ? startDelayOf(member.processes) : undefined;
  if (delay) {
    const started = await new AlertmanagerClient(memberUrl(member.address)).startedAtMs().catch(() => undefined);
    if (started === undefined || Date.now() < started + delay.ms) return { ready: false, detail: `its start delay (${delay}) is not over: it notifies nothing yet` };
  }
  if (s.action === 'reload')
    for (const name of s.processes) {
      const family = RELOAD_METRIC[name];
      if (!family) continue;
      const samples = parseMetrics(await getText(`${memberUrl(member.address)}/metrics`).catch(() => ''));
      const ok = sampleValue(samples, `${family}ful`);
      const at = sampleValue(samples, `${family}_timestamp_seconds`) ?? 0;
      if (ok === 0) return { ready: false, detail: `${name} refused the new config (${family}ful 0)${member.logOf ? `; its log: ${member.logOf(name)}` : ''}` };
      if (at < Math.floor(since)) return { ready: false, detail: `${name} has not reloaded yet` };
    }
  const t = await target();
  const observed = await observe(t);
  // A rule can fail only when it meets the live series (DR704): judge it once every group has
  // run for a whole federate interval since the change, so that its evaluations met every copy.
  let failedGroups: string[] = [];
  if (member.role === 'federator') {
    const groups = observed.prometheus.get(member.name)?.rules;
    const settled = since + t.topology.spec.intervals.federate.ms / 1000;
    const behind = groups?.filter((g) => (g.lastEvaluation?.getTime() ?? 0) / 1000 < settled).map((g) => g.name);
    if (!groups || (behind?.length ?? 0) > 0) return { ready: false, detail: groups ? `rule group(s) ${behind?.join(', ')} not evaluated for a federate interval since the change` : 'its rules cannot be read yet' };
    if (o.ruleFailuresBefore && !rollback) {
      const now = await ruleFailures(member.address).catch(() => undefined);
      if (!now) return { ready: false, detail: 'its rule evaluation counters cannot be read' };
      failedGroups = failedSince(o.ruleFailuresBefore, now);
    }
  }
  const setMates = new Set(t.members.filter((m) => m.set === member.set).map((m) => m.name));
  const failing = evaluate(t, observed).filter(
    (r: DoctorResult) =>
      r.verdict === 'fail' &&
      (r.member === member.name || r.concerns === member.name || (r.member !== undefined && setMates.has(r.member))) &&
      !(r.concerns !== undefined && o.adding.has(r.concerns) && (rollback || r.member !== member.name)) &&
      // Drift (DR801) and versions (DR102) of members not changed yet are what the rollout is about to fix.
      !((r.code === 'DR801' || r.code === 'DR102') && (rollback || r.member !== member.name)) &&
      !(r.code === 'DR504' && o.positionLater),
  );
  const details = [...failing.map((r) => `${r.code} ${r.message}`), ...(failedGroups.length ? [`rule group(s) with failed evaluations since the change: ${failedGroups.join(', ')}`] : [])];
  return details.length ? { ready: false, detail: details.join('; ') } : { ready: true, detail: 'checks pass' };
}

/** The member serving a VIP, undefined while it answers from none or not at all. */
export async function vipHolder(vip: string, members: ReadonlyArray<{ name: string; address: string }>): Promise<string | undefined> {
  return (await vipServedBy(vip, members, { timeoutMs: 1000 }).catch(() => ({ member: undefined }))).member;
}

/** The rule files every federator will load, through the release's own promtool. */
export async function validateRules(federators: readonly NodeSpec[], release: Release): Promise<void> {
  const promtool = (await releasePromtool(release)).path;
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'promha-apply-rules-'));
  try {
    const files: string[] = [];
    for (const f of new Map(federators.flatMap((n) => n.files.filter((x) => x.path.startsWith(`${RULES_DIR}/`)).map((x) => [x.path, x.content] as const)))) {
      const file = path.join(tmp, f[0]);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, f[1]);
      files.push(file);
    }
    if (files.length === 0) return;
    const r = await runLimited(promtool, ['check', 'rules', ...files]);
    const said = r.output.trim().replaceAll(tmp + path.sep, '');
    if (r.stopped) throw new ExitError(1, `${release.name}'s promtool could not check the new rule files (${r.failure ?? 'stopped'}); no member was changed`);
    if (r.exitCode !== 0) throw new ExitError(1, `${release.name}'s promtool refuses the new rule files; no member was changed:\n${said || r.failure || `exit code ${r.exitCode ?? 'none'}`}`);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
