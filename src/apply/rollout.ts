// The rollout plan of `promha apply`: what changed on each member, and the order that
// keeps the system whole while it changes (one member per set at a time, the VIP off a
// gateway before it changes, the backup Alertmanager last, rules validated first).
import { COMPONENT_OF_ROLE, liveVersion } from '../doctor/checks/members.ts';
import type { Observations } from '../doctor/result.ts';
import type { NodeSpec, Role } from '../plan/node-spec.ts';
import { releaseOfVersion, versionMatches, type Release } from '../release/release.ts';
import { startDelayOf } from '../plan/alertmanager.ts';
import { filesRead } from '../render/files-read.ts';

/** Where a federator's rule files live in its config directory. */
export const RULES_DIR = 'rules';

/** What a member runs now: its files and its processes' command lines. */
export interface MemberSnapshot {
  readonly name: string;
  /** Contents by path, relative to the member's config directory. */
  readonly files: ReadonlyMap<string, string>;
  readonly processes: ReadonlyArray<{ readonly name: string; readonly args: readonly string[] }>;
}

/** The processes that take a changed config without a restart, and the signal that makes them. */
export const RELOAD_SIGNAL: Readonly<Record<string, NodeJS.Signals>> = { prometheus: 'SIGHUP', alertmanager: 'SIGHUP', keepalived: 'SIGHUP', haproxy: 'SIGUSR2' };

export interface MemberChange {
  readonly member: string;
  readonly role: Role;
  readonly set: string;
  readonly backup: boolean;
  /** Processes whose files changed and that reload them. */
  readonly reload: readonly string[];
  /** Processes whose flags or binaries changed, or that cannot reload. */
  readonly restart: readonly string[];
  /** The files that changed, relative to the config directory. */
  readonly files: readonly string[];
  readonly reason: string;
}

/**
 * What must happen to `current` to run `next`. A file no process reads (the unit files,
 * install.sh) changes nothing on a running member. Undefined when nothing changes.
 */
export function memberChange(current: MemberSnapshot, next: NodeSpec, release?: { readonly from: string; readonly to: string }): MemberChange | undefined {
  const reload: string[] = [];
  const restart: string[] = [];
  const reasons: string[] = [];
  const changed = new Set<string>();
  for (const p of next.processes) {
    const before = current.processes.find((x) => x.name === p.name);
    const files = filesRead(next, p).filter((f) => current.files.get(f.path) !== f.content).map((f) => f.path);
    for (const f of files) changed.add(f);
    if (!before) {
      restart.push(p.name);
      reasons.push(`${p.name} is new`);
    } else if (release && release.from !== release.to) {
      restart.push(p.name);
      reasons.push(`${p.name}: release ${release.from} → ${release.to}`);
    } else if (before.args.join('\0') !== p.args.join('\0')) {
      restart.push(p.name);
      reasons.push(`${p.name}: flags ${flagDifference(before.args, p.args)}`);
    } else if (files.length > 0) {
      (RELOAD_SIGNAL[p.name] ? reload : restart).push(p.name);
      reasons.push(`${p.name}: ${files.join(', ')} changed`);
    }
  }
  if (reload.length + restart.length === 0) return undefined;
  return { member: next.name, role: next.role, set: next.set, backup: next.backup, reload, restart, files: [...changed], reason: reasons.join('; ') };
}

/** A member whose server runs another release than the one its host's bundle is rendered for. */
export interface ReleaseMove {
  readonly member: string;
  /** The release it runs (its version where no release ships that). */
  readonly from: string;
  readonly fromRelease?: Release;
  readonly to: string;
}

/** Whether a member's server, as observed, runs another release than `release`. */
export function releaseMove(node: NodeSpec, observed: Observations, release: Release): ReleaseMove | undefined {
  const component = COMPONENT_OF_ROLE[node.role];
  const version = component && liveVersion(observed, node.name, node.role);
  // Unreachable: the health check before the rollout says so.
  if (!component || !version || versionMatches(version, release.components[component].version)) return undefined;
  const fromRelease = releaseOfVersion(component, version);
  return { member: node.name, from: fromRelease?.name ?? version, ...(fromRelease ? { fromRelease } : {}), to: release.name };
}

/** The flags added and removed: `+--a=1 -b=2`. */
function flagDifference(before: readonly string[], after: readonly string[]): string {
  const added = after.filter((a) => !before.includes(a));
  const removed = before.filter((a) => !after.includes(a));
  return [...added.map((a) => `+${a}`), ...removed.map((a) => `-${a}`)].join(' ');
}

/** The --cluster.label of an Alertmanager command line; '' when it has none. */
const labelOf = (args: readonly string[]) => args.find((a) => a.startsWith('--cluster.label='))?.slice('--cluster.label='.length) ?? '';
const describeLabel = (label: string) => (label === '' ? 'no --cluster.label' : `--cluster.label=${label}`);

/**
 * Why the rollout would split the Alertmanager cluster, or undefined. Alertmanager 0.26+
 * gossips only with members of its own --cluster.label, and 0.25 (no label) only with
 * unlabeled ones (measured: a 0.28 member with a label joining 0.25 members gets EOF), so
 * members restarted one at a time onto another label stay apart from the others until the
 * last one restarts: notifications from both sides, silences and the notification log not
 * shared meanwhile.
 */
export function clusterLabelSplit(current: readonly MemberSnapshot[], nodes: readonly NodeSpec[]): string | undefined {
  const running = new Set<string>();
  const next = new Set<string>();
  for (const n of nodes.filter((x) => x.role === 'alertmanager')) {
    const now = current.find((c) => c.name === n.name)?.processes.find((p) => p.name === 'alertmanager');
    const then = n.processes.find((p) => p.name === 'alertmanager');
    if (now) running.add(labelOf(now.args));
    if (then) next.add(labelOf(then.args));
  }
  const [was] = running;
  const will = [...next].find((l) => l !== was);
  if (running.size !== 1 || was === undefined || will === undefined) return undefined;
  const set = nodes.find((n) => n.role === 'alertmanager')?.set ?? 'the Alertmanagers';
  return (
    `${set} runs with ${describeLabel(was)} and would restart one member at a time onto ${describeLabel(will)}: members of different labels do not gossip, so the cluster would be split until the last member restarted (duplicate notifications, silences and the notification log not shared meanwhile). Nothing was changed.\n` +
    `    fix: keep the running label through the rollout (alertmanagers.cluster_label: ${was === '' ? 'false' : was} in the topology), and change it later in a maintenance window`
  );
}

/** What secure mode a stack runs or a topology asks for. */
export interface SecureMode {
  readonly tls: boolean;
  readonly auth: boolean;
}

const describeMode = (m: SecureMode) => (m.tls || m.auth ? [m.tls ? 'TLS' : '', m.auth ? 'basic auth' : ''].filter(Boolean).join(' and ') : 'plain HTTP');

/**
 * Why secure mode cannot change one member at a time, or undefined. A member serves
 * either HTTP or HTTPS on its port, and one that wants credentials refuses clients
 * without them: changed one at a time, each member is cut off from the clients not
 * changed yet (a scraper from both federators, an Alertmanager from the federators and
 * its peers), and every gate would fail and roll it back.
 */
export function secureModeSwitch(running: SecureMode, next: SecureMode): string | undefined {
  if (running.tls === next.tls && running.auth === next.auth) return undefined;
  return (
    `the stack runs ${describeMode(running)} and the topology asks for ${describeMode(next)}: changed one member at a time, each member would be cut off from its clients not changed yet (the federators from the scrapers, the Alertmanagers from the federators), and every gate would fail. Nothing was changed.\n` +
    '    fix: `promha down` and `promha up` the new topology (the federators and Alertmanagers keep their data)'
  );
}

export type StepAction = 'validate' | 'reload' | 'restart' | 'move-vip' | 'start' | 'stop';

/** One step of a rollout; the next starts only once its gate holds. */
export interface RolloutStep {
  /** The member, or the set of a step on a whole set (validate, start, stop). */
  readonly member: string;
  /** The members a whole-set step starts or stops. */
  readonly members?: readonly string[];
  readonly role: Role;
  readonly action: StepAction;
  /** The processes the step reloads or restarts. */
  readonly processes: readonly string[];
  readonly reason: string;
  /** What must hold before the next step; a failed gate rolls this step back. */
  readonly gate: string;
}

export interface RolloutContext {
  /** The new plan of every member. */
  readonly nodes: readonly NodeSpec[];
  /** Pushgateway set → the member holding its VIP now. */
  readonly vipHolders: ReadonlyMap<string, string>;
  /** The release's Alertmanager takes --cluster.peer-name: positions survive restarts. */
  readonly peerNames: boolean;
  /** Scraper sets the topology adds: started before the federators learn of them. @default none */
  readonly addedSets?: readonly SetChange[];
  /** Scraper sets the topology drops: stopped once no federator federates them. @default none */
  readonly removedSets?: readonly SetChange[];
}

/** A whole set that comes or goes. */
export interface SetChange {
  readonly set: string;
  readonly members: readonly string[];
}

const GATES: Readonly<Record<Role, string>> = {
  scraper: 'ready; its exporter targets up; both federators federate it again',
  pushgateway: 'ready; one member holds the VIP',
  vip: 'the VIP answers',
  alertmanager: 'ready; the cluster whole with the backup last',
  federator: 'ready; its config loaded; every federation target up',
};

/**
 * The order of the changes: rules validated first; new scraper sets started (both
 * members at once: they serve nothing yet); then scrapers, pushgateways,
 * Alertmanagers and federators, one member at a time; a gateway holding its VIP after
 * its standby, with the VIP moved off it first; the backup Alertmanager after the active
 * members, and restarted again when an active one restarted and the release has no peer
 * names, so that it keeps the last position; scraper sets gone from the topology stopped
 * last, once the federators no longer federate them.
 */
export function planRollout(changes: readonly MemberChange[], ctx: RolloutContext): RolloutStep[] {
  const steps: RolloutStep[] = [];
  const byMember = new Map(changes.map((c) => [c.member, c]));
  const step = (c: MemberChange): RolloutStep => ({
    member: c.member,
    role: c.role,
    action: c.restart.length > 0 ? 'restart' : 'reload',
    // A restart takes the reloads of the same member with it.
    processes: c.restart.length > 0 ? [...c.restart, ...c.reload] : c.reload,
    reason: c.reason,
    gate: c.restart.length > 0 ? restartGate(c.role, c.member) : GATES[c.role],
  });
  // A restarted Alertmanager with a start delay notifies nothing until it ends: the next
  // member may restart only then, or both active members would be silent at once.
  const restartGate = (role: Role, member: string) => {
    const delay = role === 'alertmanager' ? startDelayOf(ctx.nodes.find((n) => n.name === member)?.processes ?? []) : undefined;
    return delay ? `${GATES[role]}; its start delay (${delay}) over` : GATES[role];
  };
  const inOrder = (role: Role) => ctx.nodes.filter((n) => n.role === role && byMember.has(n.name)).map((n) => byMember.get(n.name) as MemberChange);

  const rules = [...new Set(inOrder('federator').flatMap((c) => c.files.filter((f) => f.startsWith(`${RULES_DIR}/`))))];
  const federators = inOrder('federator')[0]?.set;
  if (federators && rules.length > 0)
    steps.push({ member: federators, role: 'federator', action: 'validate', processes: [], reason: `${rules.join(', ')} changed`, gate: "the release's promtool accepts every rule file" });
  for (const a of ctx.addedSets ?? [])
    steps.push({ member: a.set, members: a.members, role: 'scraper', action: 'start', processes: ['prometheus'], reason: `new scraper set: ${a.members.join(', ')}`, gate: 'both members ready; their exporter targets up' });
  for (const c of inOrder('scraper')) steps.push(step(c));
  for (const set of new Set(ctx.nodes.filter((n) => n.role === 'pushgateway').map((n) => n.set))) {
    const changed = inOrder('pushgateway').filter((c) => c.set === set);
    const holder = ctx.vipHolders.get(set);
    for (const c of changed.filter((x) => x.member !== holder)) steps.push(step(c));
    const active = changed.find((x) => x.member === holder);
    if (active) {
      const standby = ctx.nodes.find((n) => n.role === 'pushgateway' && n.set === set && n.name !== holder)?.name ?? '?';
      steps.push({ member: active.member, role: 'pushgateway', action: 'move-vip', processes: [], reason: `holds the VIP of ${set}: it moves to ${standby} first`, gate: `the VIP answers from ${standby}` });
      steps.push(step(active));
    }
  }
  for (const c of inOrder('vip')) steps.push(step(c));
  const ams = inOrder('alertmanager');
  const actives = ams.filter((c) => !c.backup);
  for (const c of actives) steps.push(step(c));
  const backup = ams.find((c) => c.backup);
  const activeRestarted = actives.some((c) => c.restart.length > 0);
  if (backup) {
    const s = step(backup);
    steps.push(
      activeRestarted && !ctx.peerNames && s.action === 'reload'
        ? { ...s, action: 'restart', processes: ['alertmanager'], reason: `${s.reason}; restarted after the active members to keep the last position`, gate: restartGate('alertmanager', s.member) }
        : s,
    );
  } else if (activeRestarted && !ctx.peerNames) {
    const b = ctx.nodes.find((n) => n.role === 'alertmanager' && n.backup);
    if (b)
      steps.push({
        member: b.name,
        role: 'alertmanager',
        action: 'restart',
        processes: ['alertmanager'],
        reason: 'an active member restarted: the backup restarts after it to keep the last position',
        gate: restartGate('alertmanager', b.name),
      });
  }
  for (const c of inOrder('federator')) steps.push(step(c));
  for (const r of ctx.removedSets ?? [])
    steps.push({ member: r.set, members: r.members, role: 'scraper', action: 'stop', processes: ['prometheus'], reason: `scraper set gone from the topology: ${r.members.join(', ')}`, gate: 'its members stopped' });
  return steps;
}

/** A member that runs now, as the stack's state records it. */
export interface RunningMember {
  readonly name: string;
  readonly role: Role | 'demo';
  readonly set: string;
}

/**
 * The scraper sets a topology adds to or drops from what runs, or why apply cannot: a
 * new scraper set serves nothing until the federators learn of it, and a dropped one
 * nothing once they forgot it, so either can come and go while everything else runs.
 * Any other member that comes or goes changes what the rest is configured with
 * (gateway VIPs, cluster peers and positions, alerting targets) beyond one member at a
 * time.
 */
export function setChanges(nodes: readonly NodeSpec[], running: readonly RunningMember[]): { addedSets: SetChange[]; removedSets: SetChange[]; refused?: string } {
  const members = running.filter((r) => r.role !== 'demo');
  const runs = new Set(members.map((r) => r.name));
  const planned = new Set(nodes.map((n) => n.name));
  const added = nodes.filter((n) => !runs.has(n.name));
  const removed = members.filter((r) => !planned.has(r.name));
  // A whole set: every member of it comes (none of its set runs) or goes (none is planned).
  const bad = [
    ...added.filter((n) => n.role !== 'scraper' || members.some((r) => r.set === n.set)).map((n) => `new: ${n.name}`),
    ...removed.filter((r) => r.role !== 'scraper' || nodes.some((n) => n.set === r.set)).map((r) => `gone: ${r.name}`),
  ];
  const bySet = (list: ReadonlyArray<{ name: string; set: string }>): SetChange[] =>
    [...new Set(list.map((m) => m.set))].map((set) => ({ set, members: list.filter((m) => m.set === set).map((m) => m.name) }));
  if (bad.length === 0) return { addedSets: bySet(added), removedSets: bySet(removed) };
  return {
    addedSets: [],
    removedSets: [],
    refused:
      `apply adds and removes whole scraper sets, and changes the other members in place, but does not add or remove them (${bad.join('; ')})\n` +
      '    fix: `promha down` and `promha up` the new topology (the federators and Alertmanagers keep their data)',
  };
}
