// `promha apply --hosts`: the rollout of the local stack, on real hosts. The plan and the
// gates are the same; each member is changed over SSH by its host bundle's own
// install.sh (which reloads or restarts through systemctl what changed), and a member
// whose gate fails gets back, byte for byte, the files and units it had before.
// Packages are the hosts' (apt is the operator's): another release is rolled out once
// its packages are installed, by restarting each member that still runs the old ones.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { check, CHECK_RULES } from '../check/check.ts';
import { assertHostRoots, layoutFor } from '../commands/render.ts';
import { evaluate } from '../doctor/doctor.ts';
import { observe } from '../doctor/observe.ts';
import { deploymentTarget } from '../doctor/target.ts';
import { ExitError } from '../errors.ts';
import { DEBIAN_BINARY_PATHS, type Layout, type NodeSpec, type ProcessSpec } from '../plan/node-spec.ts';
import { plan } from '../plan/plan.ts';
import { chooseRelease } from '../release/choose.ts';
import { COMPONENT_OF_BINARY, parseVersionOutput, versionProblem, type Release, type ReleaseName } from '../release/release.ts';
import { shellQuote } from '../render/command-line.ts';
import { hostBundle } from '../render/host-bundle.ts';
import { INSTALL_SCRIPT, OWNED_MARKER, SYSTEMD_DIR } from '../render/install-script.ts';
import { execStartOf, unitName } from '../render/systemd.ts';
import { waitFor } from '../runtime/readiness.ts';
import { prepareSecurity } from '../security/material.ts';
import type { Topology } from '../topology/topology.ts';
import { backupRestartFollows, gateHolds, gateTimeout, rolledBackMessage, ruleFailuresBeforeStep, stepLabel, validateRules, vipHolder, type GateMember } from './gate.ts';
import type { ApplyResult } from './local.ts';
import { clusterLabelSplit, memberChange, planRollout, releaseMove, type MemberSnapshot, type RolloutStep } from './rollout.ts';
import { runOnHost, type SshOptions } from './ssh.ts';

export interface HostsApplyOptions {
  readonly topology: Topology;
  readonly ssh: SshOptions;
  /**
   * The release the hosts' packages are: members whose servers still run another one
   * restart onto it. @default the topology's `release`, else this machine's, else bookworm (as `render`)
   */
  readonly release?: ReleaseName;
  /** As `render --config-root`. @default /etc/promha */
  readonly configRoot?: string;
  /** As `render --data-root`. @default /var/lib/promha */
  readonly dataRoot?: string;
  /** Plan only. */
  readonly dryRun?: boolean;
  /** How long a gate may take. @default max(60 s, 4 × the federate interval) */
  readonly gateTimeoutMs?: number;
  readonly progress?: (line: string, ok?: boolean) => void;
}

/** Where apply keeps, on a member's host, its new bundle and what the bundle replaced. */
export const STAGE_ROOT = '/var/lib/promha-apply';

/** The processes a member may run: the units a snapshot looks for. */
const PROCESS_NAMES = ['prometheus', 'alertmanager', 'pushgateway', 'keepalived', 'haproxy'];

const q = shellQuote;
/** A path as tar keeps it, relative to `/`. */
const rel = (p: string) => p.replace(/^\/+/, '');
const hostOf = (n: NodeSpec) => n.address.host;
const unitPath = (member: string, process: string) => `${SYSTEMD_DIR}/promha-${member}-${process}.service`;

export async function applyHosts(o: HostsApplyOptions): Promise<ApplyResult> {
  const say = (line: string, ok = true) => o.progress?.(line, ok);
  assertHostRoots(o);
  const release = await chooseRelease(o.release, o.topology.spec.release);
  const errors = check(o.topology, CHECK_RULES, release).filter((f) => f.severity === 'error');
  if (errors.length) throw new ExitError(1, `the topology has ${errors.length} error(s) for ${release.name}; nothing was changed\n    fix: \`promha check --release ${release.name}\` shows them`);
  const layout = layoutFor(o);
  const security = await prepareSecurity(o.topology);
  // The VIP is keepalived's, on the gateways' hosts (as doctor expects): no HAProxy stand-in host.
  const nodes = plan(o.topology, { layout, release, vipStandIns: false, ...(security ? { security } : {}) });

  const snapshots = new Map<string, MemberSnapshot>();
  const missing: string[] = [];
  const unmarked: string[] = [];
  for (const n of nodes) {
    const s = await readInstalled(n, o.ssh);
    if (s && 'unmarked' in s) unmarked.push(...s.unmarked.map((d) => `${n.name} (${hostOf(n)}): echo ${n.name} > ${d}/${OWNED_MARKER}`));
    else if (s) snapshots.set(n.name, s);
    else missing.push(`${n.name} (${hostOf(n)})`);
  }
  if (missing.length)
    throw new ExitError(
      2,
      `no promha bundle is installed on ${missing.join(', ')}: apply over SSH changes members that run; nothing was changed\n    fix: \`promha render --target hosts\` and run each new member's install.sh on its host first`,
    );
  // install.sh would refuse these (it takes only directories it created): say so before any member is touched, not as a failed step.
  if (unmarked.length)
    throw new ExitError(
      1,
      `members' directories on their hosts hold no ${OWNED_MARKER} (installed by an older promha, or not promha's): each new install.sh refuses them; nothing was changed\n` +
        `    fix: on each host, check that the directory is that member's, then mark it:\n${unmarked.map((l) => `      ${l}`).join('\n')}`,
    );
  const split = clusterLabelSplit([...snapshots.values()], nodes);
  if (split) throw new ExitError(1, split);
  const target = await deploymentTarget(o.topology, release);
  const observed = await observe(target);
  const moves = new Map(nodes.flatMap((n) => releaseMove(n, observed, release) ?? []).map((m) => [m.member, m]));
  const changes = nodes.flatMap((n) => memberChange(snapshots.get(n.name) as MemberSnapshot, n, moves.get(n.name)) ?? []);
  const vipHolders = new Map<string, string>();
  const vips = new Map(o.topology.spec.pushgateways.map((s) => [s.name, String(s.vip.address)]));
  for (const s of o.topology.spec.pushgateways) {
    const holder = await vipHolder(vips.get(s.name) as string, s.members.map((m) => ({ name: m.name, address: String(m.address) })));
    if (holder) vipHolders.set(s.name, holder);
  }
  // Positions survive the restarts only if every Alertmanager, before and after, takes peer names (one on a version no release ships: assume not).
  const peerNames = release.clusterPeerName && nodes.filter((n) => n.role === 'alertmanager').every((n) => !moves.has(n.name) || (moves.get(n.name)?.fromRelease?.clusterPeerName ?? false));
  const steps = planRollout(changes, { nodes, vipHolders, peerNames });
  if (steps.length === 0) return { steps, done: 0 };
  const stepping = new Set(steps.filter((s) => s.action === 'reload' || s.action === 'restart').map((s) => s.member));
  const offRelease = await packagesOffRelease(nodes.filter((n) => stepping.has(n.name)), release, o.ssh);
  if (offRelease.length)
    throw new ExitError(
      1,
      `the packages on ${offRelease.length} host(s) are not ${release.name}'s (${release.title}), for which the bundles are rendered; nothing was changed:\n${offRelease.map((l) => `    ${l}`).join('\n')}\n` +
        `    fix: install ${release.name}'s packages on those hosts first (their servers keep running until apply restarts them), or apply with --release set to the release they have`,
    );
  if (o.dryRun) return { steps, done: 0 };

  // Health before the rollout. A member still on the old release is what the rollout restarts.
  const before = evaluate(target, observed).filter((r) => r.verdict === 'fail' && r.code !== 'DR801' && !(r.code === 'DR102' && moves.has(r.member ?? '')));
  if (before.length)
    throw new ExitError(1, `doctor fails before the rollout; nothing was changed:\n${before.map((r) => `    ${r.code} ${r.message}`).join('\n')}\n    fix: bring the deployment back to health first (\`promha doctor\`)`);

  const gateTimeoutMs = gateTimeout(o.topology.spec, o.gateTimeoutMs);
  const adding = new Set<string>();
  let done = 0;
  for (const [i, s] of steps.entries()) {
    const label = stepLabel(steps, i);
    say(`${label}: ${s.reason}`);
    if (s.action === 'validate') {
      await validateRules(nodes.filter((n) => n.role === 'federator'), release);
    } else if (s.action === 'move-vip') {
      await moveVip(nodes, s.member, vips, o.ssh, gateTimeoutMs);
    } else if (s.action === 'reload' || s.action === 'restart') {
      const node = nodes.find((n) => n.name === s.member) as NodeSpec;
      const was = snapshots.get(s.member) as MemberSnapshot;
      const since = Date.now() / 1000;
      const member = (processes: MemberSnapshot['processes']): GateMember => ({ name: node.name, role: node.role, set: node.set, address: String(node.address), processes });
      const ruleFailuresBefore = await ruleFailuresBeforeStep(node.role, s, String(node.address));
      const installed = await runOnHost(hostOf(node), stepScript(node, s), o.ssh, await bundleTar(node, layout, release));
      const gate =
        installed.exitCode !== 0
          ? { ready: false, detail: `its install.sh failed (exit ${installed.exitCode}): ${lastLines(`${installed.stdout.toString('utf8')}\n${installed.stderr}`)}` }
          : await waitFor(() => gateHolds(member(node.processes), async () => target, s, since, { positionLater: backupRestartFollows(steps, i, nodes), adding, ...(ruleFailuresBefore ? { ruleFailuresBefore } : {}) }), { timeoutMs: gateTimeoutMs });
      if (!gate.ready) {
        say(`${label}: gate failed: ${gate.detail}`, false);
        say(`${label}: rolling back to what it ran before`, false);
        const undone = await runOnHost(hostOf(node), rollbackScript(node, s), o.ssh);
        const back =
          undone.exitCode !== 0
            ? { ready: false, detail: `the rollback failed (exit ${undone.exitCode}): ${lastLines(undone.stderr)}` }
            : await waitFor(() => gateHolds(member(was.processes), async () => target, { ...s, action: 'restart' }, since, { positionLater: true, rollback: true, adding }), { timeoutMs: gateTimeoutMs });
        const kept = moves.has(s.member) ? `\n    its host keeps ${release.name}'s packages (apt is yours): the files and units it had before run on them` : '';
        throw new ExitError(1, rolledBackMessage(steps, i, gate.detail, back) + kept);
      }
    } else {
      throw new ExitError(2, `apply over SSH does not ${s.action} members yet (${s.member}); nothing more was changed`);
    }
    done++;
    say(`${label}: gate holds`);
  }
  return { steps, done };
}

const lastLines = (text: string) => text.trim().split('\n').slice(-5).join(' | ');

/**
 * The members whose hosts have binaries of another release than `release` (one line
 * each): every step installs a bundle rendered for `release`, whose install.sh refuses
 * other versions, and a restart would run them with that release's flags. Read over SSH
 * (`--version` of each binary the member's units run) before any member is touched.
 */
async function packagesOffRelease(nodes: readonly NodeSpec[], release: Release, ssh: SshOptions): Promise<string[]> {
  const off: string[] = [];
  for (const node of nodes) {
    const binaries = [...new Set(node.processes.map((p) => p.binary))].flatMap((b) => {
      const component = COMPONENT_OF_BINARY[b];
      return component ? [{ path: DEBIAN_BINARY_PATHS[b], component }] : [];
    });
    if (binaries.length === 0) continue;
    const script = binaries.map((b) => `printf '%s\\n' "$(${q(b.path)} --version 2>&1 | head -n 1)"`).join('\n');
    const r = await runOnHost(hostOf(node), script, ssh);
    if (r.exitCode !== 0) throw new ExitError(1, `cannot read the versions of ${node.name}'s binaries on ${hostOf(node)} (ssh exit ${r.exitCode}): ${r.stderr || 'no message'}; nothing was changed`);
    const lines = r.stdout.toString('utf8').split('\n');
    const wrong = binaries.flatMap((b, i) => {
      const version = parseVersionOutput(lines[i] ?? '');
      const problem = version ? versionProblem(release, b.component, version) : 'missing';
      return problem ? [`${b.path}: ${problem}`] : [];
    });
    if (wrong.length) off.push(`${node.name} (${hostOf(node)}): ${wrong.join(', ')}`);
  }
  return off;
}

/**
 * What a member's host has installed: its config files and the command lines of its
 * units, read over SSH (tar of the config directory and the units). Undefined when the
 * host has no config directory for it: nothing of promha is installed there. `unmarked`
 * lists its config and data directories that exist without this member's
 * {@link OWNED_MARKER}, which install.sh refuses.
 */
async function readInstalled(node: NodeSpec, ssh: SshOptions): Promise<MemberSnapshot | { unmarked: string[] } | undefined> {
  const units = PROCESS_NAMES.map((p) => rel(unitPath(node.name, p)));
  const owned = [node.configDir, ...(node.dataDir ? [node.dataDir] : [])];
  const script = [
    'set -eu',
    'cd /',
    `[ -d ${q(node.configDir)} ] || exit 3`,
    'unmarked=',
    `for d in ${owned.map(q).join(' ')}; do if [ -e "$d" ] && [ "$(head -n 1 -- "$d/${OWNED_MARKER}" 2>/dev/null)" != ${q(node.name)} ]; then printf '%s\n' "$d" >&2; unmarked=1; fi; done`,
    '[ -z "$unmarked" ] || exit 4',
    `set -- ${q(rel(node.configDir))}`,
    `for u in ${units.map(q).join(' ')}; do if [ -f "$u" ]; then set -- "$@" "$u"; fi; done`,
    'tar -cf - -- "$@"',
  ].join('\n');
  const r = await runOnHost(hostOf(node), script, ssh);
  if (r.exitCode === 3) return undefined;
  if (r.exitCode === 4) return { unmarked: r.stderr.split('\n').filter((d) => owned.includes(d)) };
  if (r.exitCode !== 0) throw new ExitError(1, `cannot read what ${node.name} runs on ${hostOf(node)} (ssh exit ${r.exitCode}): ${r.stderr || 'no message'}\n    fix: \`ssh ${hostOf(node)} true\` must work without a prompt (keys, known hosts, --ssh-config, --ssh-user)`);
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'promha-apply-installed-'));
  try {
    await execa('tar', ['-x', '-C', tmp], { input: r.stdout });
    const files = new Map<string, string>();
    for (const f of node.files) {
      const text = await readFile(path.join(tmp, rel(node.configDir), f.path), 'utf8').catch(() => undefined);
      if (text !== undefined) files.set(f.path, text);
    }
    const processes = [];
    for (const name of PROCESS_NAMES) {
      const unit = await readFile(path.join(tmp, rel(unitPath(node.name, name))), 'utf8').catch(() => undefined);
      const words = unit === undefined ? undefined : execStartOf(unit);
      if (words) processes.push({ name, args: words.slice(1) });
    }
    return { name: node.name, files, processes };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** The member's host bundle as a tar stream. */
async function bundleTar(node: NodeSpec, layout: Layout, release: Parameters<typeof hostBundle>[2]): Promise<Buffer> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'promha-apply-bundle-'));
  try {
    for (const f of hostBundle(node, layout, release)) {
      const file = path.join(tmp, f.path);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, f.content, { mode: f.mode ?? 0o644 });
    }
    return Buffer.from((await execa('tar', ['-c', '-C', tmp, '.'], { encoding: 'buffer' })).stdout);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

const stageOf = (member: string) => `${STAGE_ROOT}/${member}`;

/**
 * One step on the host: the new bundle unpacked beside what is installed, what is
 * installed kept in a tar (the rollback's), then the bundle's install.sh, which reloads
 * or restarts what changed. A restart the files do not call for (new binaries from a
 * package upgrade, the backup Alertmanager's position) follows, unless install.sh did it.
 */
export function stepScript(node: NodeSpec, s: Pick<RolloutStep, 'action' | 'processes'>): string {
  const kept = [rel(node.configDir), ...PROCESS_NAMES.map((p) => rel(unitPath(node.name, p)))];
  const restart = s.action === 'restart' ? node.processes.filter((p) => s.processes.includes(p.name)).map((p) => unitName(node, p)) : [];
  return [
    'set -euo pipefail',
    `stage=${q(stageOf(node.name))}`,
    'mkdir -p -m 700 -- "$stage"',
    'rm -rf -- "$stage/next" "$stage/previous.tar" "$stage/previous.list"',
    'mkdir -m 700 -- "$stage/next"',
    'tar -x -C "$stage/next"',
    'cd /',
    'kept=()',
    `for p in ${kept.map(q).join(' ')}; do if [[ -e $p ]]; then kept+=("$p"); fi; done`,
    'tar -cf "$stage/previous.tar" -- "${kept[@]}"',
    'tar -tf "$stage/previous.tar" >"$stage/previous.list"',
    `bash "$stage/next/${INSTALL_SCRIPT}" | tee "$stage/install.log"`,
    `for unit in ${restart.map(q).join(' ')}; do grep -qxF -- "restarted $unit" "$stage/install.log" || { systemctl restart "$unit"; echo "restarted $unit"; }; done`,
  ].join('\n');
}

/**
 * Undoes a step on the host: the files and units the new bundle added go, what the
 * step replaced comes back from its tar, and the step's units restart (or reload) on it.
 */
export function rollbackScript(node: NodeSpec, s: RolloutStep): string {
  const added = [...node.files.map((f) => rel(`${node.configDir}/${f.path}`)), ...node.processes.map((p) => rel(`${SYSTEMD_DIR}/${unitName(node, p)}`))];
  const units = node.processes.filter((p: ProcessSpec) => s.processes.includes(p.name)).map((p) => unitName(node, p));
  return [
    'set -euo pipefail',
    `stage=${q(stageOf(node.name))}`,
    'cd /',
    `for p in ${added.map(q).join(' ')}; do grep -qxF -- "$p" "$stage/previous.list" || rm -f -- "$p"; done`,
    'tar -xpf "$stage/previous.tar"',
    'systemctl daemon-reload',
    `for unit in ${units.map(q).join(' ')}; do systemctl ${s.action === 'reload' ? 'reload-or-restart' : 'restart'} "$unit"; done`,
    `systemctl start ${units.map(q).join(' ')}`,
  ].join('\n');
}

/**
 * Moves a set's VIP off the member holding it: its keepalived stops (its notify_stop
 * wipes the gateway, as on demotion) and the standby takes the VIP. The step that
 * follows installs the member's new bundle, whose install.sh starts keepalived again.
 */
async function moveVip(nodes: readonly NodeSpec[], holder: string, vips: ReadonlyMap<string, string>, ssh: SshOptions, timeoutMs: number): Promise<void> {
  const node = nodes.find((n) => n.name === holder) as NodeSpec;
  const standby = nodes.find((n) => n.role === 'pushgateway' && n.set === node.set && n.name !== holder) as NodeSpec;
  const keepalived = node.processes.find((p) => p.name === 'keepalived');
  if (!keepalived) throw new ExitError(1, `${holder} runs no keepalived: its VIP cannot be moved by apply over SSH`);
  const unit = q(unitName(node, keepalived));
  const stopped = await runOnHost(hostOf(node), `systemctl stop ${unit}`, ssh);
  if (stopped.exitCode !== 0) throw new ExitError(1, `cannot stop keepalived on ${holder}: ${stopped.stderr}`);
  const members = [node, standby].map((n) => ({ name: n.name, address: String(n.address) }));
  const vipAddress = vips.get(node.set) ?? '';
  const moved = await waitFor(
    async () => {
      const now = await vipHolder(vipAddress, members);
      return { ready: now === standby.name, detail: `the VIP answers from ${now ?? 'nobody'}` };
    },
    { timeoutMs },
  );
  if (!moved.ready) {
    await runOnHost(hostOf(node), `systemctl start ${unit}`, ssh);
    throw new ExitError(1, `the VIP of ${node.set} did not move to ${standby.name}: ${moved.detail}; ${holder} was not changed`);
  }
}
