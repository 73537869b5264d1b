// `promha apply` on the local stack: each member changed in place from its new bundle,
// one step at a time, each step gated by the doctor checks about the member; a failed
// gate puts the member back on what it ran before and stops the rollout.
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { check, CHECK_RULES } from '../check/check.ts';
import { evaluate } from '../doctor/doctor.ts';
import { observe } from '../doctor/observe.ts';
import { resolveTarget } from '../doctor/target.ts';
import { ExitError } from '../errors.ts';
import type { NodeSpec, Role } from '../plan/node-spec.ts';
import { chooseRelease } from '../release/choose.ts';
import { releaseSource } from '../release/fetch.ts';
import type { ReleaseName } from '../release/release.ts';
import { hostBundle } from '../render/host-bundle.ts';
import { markerFile, RENDER_MARKER } from '../render/render-marker.ts';
import { checkReleaseVersions, findBinaries } from '../runtime/binaries.ts';
import { bundleCommands } from '../runtime/bundle.ts';
import { hasExited, isRunning, restartFromRecord, stopProcess, tail, type ProcessRecord } from '../runtime/process.ts';
import { readiness, waitFor } from '../runtime/readiness.ts';
import { DEMO_WORKLOAD, type NodeRecord, type RunState, type StateDir } from '../runtime/state.ts';
import { demoRecord, localPlan, startMemberProcesses, stateLayout, workloadSpec } from '../runtime/up.ts';
import { readWorkloadSpec } from '../demo/workload.ts';
import type { LocalAddressing } from '../runtime/local-topology.ts';
import { createHost, destroyHost, nextHostIndex, type NetworkRecord } from '../runtime/netns.ts';
import { prepareSecurity } from '../security/material.ts';
import type { Topology } from '../topology/topology.ts';
import { backupRestartFollows, gateHolds, gateTimeout, rolledBackMessage, ruleFailuresBeforeStep, stepLabel, validateRules, vipHolder, type GateMember } from './gate.ts';
import { clusterLabelSplit, memberChange, planRollout, releaseMove, setChanges, RELOAD_SIGNAL, secureModeSwitch, type MemberSnapshot, type RolloutStep } from './rollout.ts';
import { authOn, tlsOn } from '../plan/security.ts';
import { stateRelease } from '../runtime/binaries.ts';

export interface ApplyOptions {
  readonly topology: Topology;
  readonly stateDir: StateDir;
  /** @default the release the stack runs */
  readonly release?: ReleaseName;
  /** Plan only. */
  readonly dryRun?: boolean;
  /** How long a gate may take. @default max(60 s, 4 × the federate interval) */
  readonly gateTimeoutMs?: number;
  readonly progress?: (line: string, ok?: boolean) => void;
}

export interface ApplyResult {
  readonly steps: readonly RolloutStep[];
  /** Steps done and gated. */
  readonly done: number;
}

export async function applyLocal(o: ApplyOptions): Promise<ApplyResult> {
  const say = (line: string, ok = true) => o.progress?.(line, ok);
  const state = await o.stateDir.read();
  if (!state) throw new ExitError(1, `nothing is running from ${o.stateDir.root}\n    fix: \`promha up\` starts the topology; apply changes a running one`);
  const from = stateRelease(state);
  const release = o.release || o.topology.spec.release ? await chooseRelease(o.release, o.topology.spec.release) : from;
  const errors = check(o.topology, CHECK_RULES, release).filter((f) => f.severity === 'error');
  if (errors.length) throw new ExitError(1, `the topology has ${errors.length} error(s) for ${release.name}; nothing was changed\n    fix: \`promha check --release ${release.name}\` shows them`);
  // Before anything is prepared: turning TLS on would generate a CA in the state directory.
  const switched = secureModeSwitch(state.security ?? { tls: false, auth: false }, { tls: tlsOn(o.topology.spec), auth: authOn(o.topology.spec) });
  if (switched) throw new ExitError(1, switched);
  const unsecured = localPlan(o.topology, o.stateDir, { mode: state.mode, subnet: state.network?.subnet, release, running: state });
  const security = await prepareSecurity(unsecured.local, { generateIn: o.stateDir.caDir });
  const nodes = security ? localPlan(o.topology, o.stateDir, { mode: state.mode, subnet: state.network?.subnet, release, security, running: state }).nodes : unsecured.nodes;

  const records = new Map(state.nodes.filter((n) => n.role !== 'demo').map((n) => [n.name, n]));
  const { addedSets, removedSets, refused } = setChanges(nodes, state.nodes);
  if (refused) throw new ExitError(2, refused);
  const adding = new Set(addedSets.flatMap((a) => a.members));
  for (const n of nodes.filter((x) => records.has(x.name))) {
    const r = records.get(n.name) as NodeRecord;
    if (r.localAddress !== String(n.address))
      throw new ExitError(2, `${n.name} would move from ${r.localAddress} to ${n.address}: apply keeps every member at its address\n    fix: \`promha down\` and \`promha up\` the new topology`);
  }
  // The demo exporters of exporter groups that come or go (pushers follow pushgateway sets, which cannot).
  const exporterRecords = new Map(state.nodes.filter((n) => n.servedBy === DEMO_WORKLOAD && n.set === 'exporter').map((n) => [n.name, n]));
  const exporters = unsecured.addressing.demo.filter((d) => d.kind === 'exporter');
  const exportersAdded = exporters.filter((d) => !exporterRecords.has(d.name));
  const exportersGone = [...exporterRecords.values()].filter((r) => !exporters.some((d) => d.name === r.name));

  const releaseChange = from.name !== release.name ? { from: from.name, to: release.name } : undefined;
  const changes = [];
  const snapshots: MemberSnapshot[] = [];
  for (const n of nodes.filter((x) => records.has(x.name))) {
    const now = await snapshot(o.stateDir, records.get(n.name) as NodeRecord, n);
    snapshots.push(now);
    const c = memberChange(now, n, releaseChange);
    if (c) changes.push(c);
  }
  const split = clusterLabelSplit(snapshots, nodes);
  if (split) throw new ExitError(1, split);
  const vipHolders = new Map<string, string>();
  const vips = new Map(unsecured.local.spec.pushgateways.map((s) => [s.name, String(s.vip.address)]));
  for (const s of unsecured.local.spec.pushgateways) {
    const holder = await vipHolder(s.vip.address.toString(), s.members.map((m) => ({ name: m.name, address: String(m.address) })));
    if (holder) vipHolders.set(s.name, holder);
  }
  const steps = planRollout(changes, { nodes, vipHolders, peerNames: release.clusterPeerName && from.clusterPeerName, addedSets, removedSets });
  // Exporters alone differ after a rollout that stopped at a new set's start: served or dropped, nothing else.
  if (o.dryRun || steps.length + exportersAdded.length + exportersGone.length === 0) return { steps, done: 0 };

  // Health before the rollout, judged against the release that runs now.
  const target = await resolveTarget(o.topology, o.stateDir, from);
  const observed = await observe(target);
  // A rollout to another release that stopped half-way is resumed: a member already on the new release is no failure.
  const onNewRelease = new Set(nodes.filter((n) => !releaseMove(n, observed, release)).map((n) => n.name));
  // Members the rollout adds do not run yet: what doctor says about them is the rollout's to fix.
  const before = evaluate(target, observed).filter(
    (r) => r.verdict === 'fail' && r.code !== 'DR801' && !(r.code === 'DR102' && onNewRelease.has(r.member ?? '')) && !adding.has(r.member ?? '') && !adding.has(r.concerns ?? ''),
  );
  if (before.length)
    throw new ExitError(1, `doctor fails before the rollout; nothing was changed:\n${before.map((r) => `    ${r.code} ${r.message}`).join('\n')}\n    fix: bring the stack back to health first (\`promha doctor\`)`);

  const { fetched } = await releaseSource(release.name);
  const bins = findBinaries(
    nodes.flatMap((n) => n.processes.map((p) => p.binary)),
    {},
    process.env,
    fetched,
  );
  const gateTimeoutMs = gateTimeout(o.topology.spec, o.gateTimeoutMs);
  const previousRoot = path.join(o.stateDir.root, 'apply', 'previous');
  await rm(previousRoot, { recursive: true, force: true });
  await mkdir(previousRoot, { recursive: true });

  let done = 0;
  try {
    if (exportersAdded.length > 0) {
      await serveExporters(o.stateDir, state, o.topology, unsecured.addressing, security !== undefined, gateTimeoutMs);
      for (const d of exportersAdded) say(`workload: serves ${d.name} at ${d.address}`);
    }
    for (const [i, s] of steps.entries()) {
      const label = stepLabel(steps, i);
      say(`${label}: ${s.reason}`);
      if (s.action === 'validate') {
        await validateRules(nodes.filter((n) => n.role === 'federator'), release);
      } else if (s.action === 'start') {
        const members = nodes.filter((n) => s.members?.includes(n.name));
        const since = Date.now() / 1000;
        const started: NodeRecord[] = [];
        try {
          for (const n of members) started.push(await startMember(o.stateDir, state, n, String(unsecured.addressing.members.get(n.name)?.topology ?? ''), bins));
          const gate = await waitFor(
            async () => {
              for (const r of started) {
                const g = await gateHolds(gateMember(r), () => resolveTarget(o.topology, o.stateDir, release), s, since, { positionLater: backupRestartFollows(steps, i, nodes), adding });
                if (!g.ready) return { ready: false, detail: `${r.name}: ${g.detail}` };
              }
              return { ready: true, detail: 'checks pass' };
            },
            { timeoutMs: gateTimeoutMs, failed: () => started.map(exitedOf).find(Boolean) },
          );
          if (!gate.ready) throw new GateError(gate.detail);
        } catch (e) {
          if (!(e instanceof GateError) && !(e instanceof ExitError)) throw e;
          say(`${label}: ${e instanceof GateError ? 'gate failed' : 'failed'}: ${e.message}`, false);
          say(`${label}: rolling back: the new members stop`, false);
          for (const n of members) await stopMember(o.stateDir, state, n.name);
          throw new ExitError(1, `step ${i + 1} (start ${s.member}) failed${e instanceof GateError ? ' its gate' : ''}: ${e.message}\n    ${s.member} was stopped again; ${i} step(s) done, ${steps.length - i - 1} not run`);
        }
      } else if (s.action === 'stop') {
        for (const name of s.members ?? []) await stopMember(o.stateDir, state, name);
      } else if (s.action === 'move-vip') {
        await moveVip(o.stateDir, state, s.member, nodes, vips, gateTimeoutMs);
      } else {
        const node = nodes.find((n) => n.name === s.member) as NodeSpec;
        const record = records.get(s.member) as NodeRecord;
        const saved = path.join(previousRoot, s.member);
        await cp(o.stateDir.nodeDir(s.member), saved, { recursive: true });
        const savedProcesses = [...record.processes];
        const since = Date.now() / 1000;
        const ruleFailuresBefore = await ruleFailuresBeforeStep(node.role, s, record.localAddress);
        try {
          await writeBundle(o.stateDir.nodeDir(s.member), node, o.stateDir);
          await change(o.stateDir, state, record, node, s, bins);
          const gate = await waitFor(() => gateHolds(gateMember(record), () => resolveTarget(o.topology, o.stateDir, release), s, since, { positionLater: backupRestartFollows(steps, i, nodes), adding, ...(ruleFailuresBefore ? { ruleFailuresBefore } : {}) }), { timeoutMs: gateTimeoutMs, failed: () => exitedOf(record) });
          if (!gate.ready) throw new GateError(gate.detail);
        } catch (e) {
          if (!(e instanceof GateError)) throw e;
          say(`${label}: gate failed: ${e.message}`, false);
          say(`${label}: rolling back to what it ran before`, false);
          await rm(o.stateDir.nodeDir(s.member), { recursive: true, force: true });
          await cp(saved, o.stateDir.nodeDir(s.member), { recursive: true });
          await restore(o.stateDir, state, record, savedProcesses, s);
          const back = await waitFor(() => gateHolds(gateMember(record), () => resolveTarget(o.topology, o.stateDir, from), { ...s, action: 'restart' }, since, { positionLater: true, rollback: true, adding }), { timeoutMs: gateTimeoutMs, failed: () => exitedOf(record) });
          throw new ExitError(1, rolledBackMessage(steps, i, e.message, back));
        }
      }
      done++;
      say(`${label}: gate holds`);
    }
    if (exportersGone.length > 0) {
      await serveExporters(o.stateDir, state, o.topology, unsecured.addressing, security !== undefined, gateTimeoutMs);
      for (const d of exportersGone) say(`workload: no longer serves ${d.name}`);
    }
    // Every member runs the new release now: status, doctor and the next apply judge by it.
    if (releaseChange) await o.stateDir.write({ ...state, release: release.name, versions: await checkReleaseVersions(bins, release) });
  } finally {
    await remark(o.stateDir.nodesDir);
  }
  return { steps, done };
}

class GateError extends Error {}

/**
 * Starts a member the stack did not run: its host (network namespaces), its bundle and
 * directories, and its processes, each recorded in the state as it is made, so that a
 * failure anywhere leaves nothing that `stopMember` or `down` would not find.
 */
async function startMember(dir: StateDir, state: RunState, node: NodeSpec, topologyAddress: string, bins: Record<string, string>): Promise<NodeRecord> {
  let netns: string | undefined;
  if (state.network) {
    const net = state.network as NetworkRecord;
    try {
      netns = await createHost(net, node.name, nextHostIndex(net), `${node.address.host}/${net.subnet.split('/')[1]}`);
    } finally {
      await dir.write(state);
    }
  }
  const record: NodeRecord = { name: node.name, role: node.role, set: node.set, backup: node.backup, topologyAddress, localAddress: String(node.address), ...(netns ? { netns } : {}), processes: [] };
  state.nodes.push(record);
  await dir.write(state);
  await writeBundle(dir.nodeDir(node.name), node, dir);
  await mkdir(dir.runDir(node.name), { recursive: true });
  if (node.dataDir) await mkdir(node.dataDir, { recursive: true });
  record.processes.push(...(await startMemberProcesses(dir, node, bins, netns)));
  await dir.write(state);
  return record;
}

/**
 * Stops a member and forgets it: its processes, its host, its bundle, and, for a scraper,
 * its data (throwaway, as on `down`). Everything removed is what `up` or `startMember` made.
 */
async function stopMember(dir: StateDir, state: RunState, name: string): Promise<void> {
  const at = state.nodes.findIndex((n) => n.name === name);
  const record = state.nodes[at];
  for (const p of record?.processes ?? []) await stopProcess(p);
  if (state.network) await destroyHost(state.network as NetworkRecord, name);
  if (record) state.nodes.splice(at, 1);
  await dir.write(state);
  await rm(dir.nodeDir(name), { recursive: true, force: true });
  await rm(dir.runDir(name), { recursive: true, force: true });
  if (record?.role === 'scraper') await rm(dir.dataDir(name), { recursive: true, force: true });
}

/**
 * Has the demo workload serve the exporters of `addressing` from now on (its spec
 * rewritten, then SIGHUP), waits until each new one answers, and records the demo
 * servers as the state lists them. The pushers and the webhook stay as they run: a
 * pusher whose entry changed would restart paused, and stop pushing.
 */
async function serveExporters(dir: StateDir, state: RunState, topology: Topology, addressing: LocalAddressing, secure: boolean, timeoutMs: number): Promise<void> {
  const workload = state.nodes.find((n) => n.name === DEMO_WORKLOAD)?.processes[0];
  if (!workload || !isRunning(workload)) throw new ExitError(1, `the demo workload does not run: it would serve the new exporter groups\n    fix: \`promha down\` and \`promha up\``);
  const running = await readWorkloadSpec(dir.workloadSpecFile);
  const spec = { ...running, exporters: workloadSpec(topology, addressing, dir, secure).exporters };
  await writeFile(dir.workloadSpecFile, `${JSON.stringify(spec, null, 2)}\n`);
  process.kill(workload.pid, 'SIGHUP');
  const known = new Set(state.nodes.map((n) => n.name));
  const exporters = addressing.demo.filter((x) => x.kind === 'exporter');
  for (const d of exporters) {
    const r = await waitFor(() => readiness('demo', String(d.address)), { timeoutMs });
    if (!r.ready) throw new ExitError(1, `the demo workload does not serve ${d.name} at ${d.address}: ${r.detail}; its log: ${tail(workload.log)}`);
  }
  const served = new Set(exporters.map((d) => d.name));
  for (let i = state.nodes.length - 1; i >= 0; i--) {
    const n = state.nodes[i] as NodeRecord;
    if (n.servedBy === DEMO_WORKLOAD && n.set === 'exporter' && !served.has(n.name)) state.nodes.splice(i, 1);
  }
  for (const d of exporters) if (!known.has(d.name)) state.nodes.push(demoRecord(d));
  await dir.write(state);
}

/** What a member runs now: the files of its bundle, the command lines of its processes. */
async function snapshot(dir: StateDir, record: NodeRecord, next: NodeSpec): Promise<MemberSnapshot> {
  const files = new Map<string, string>();
  for (const f of next.files) {
    const text = await readFile(path.join(dir.nodeDir(next.name), f.path), 'utf8').catch(() => undefined);
    if (text !== undefined) files.set(f.path, text);
  }
  return { name: record.name, files, processes: record.processes.map((p) => ({ name: p.name.slice(record.name.length + 1), args: p.args })) };
}

/** Writes a member's new bundle over its old one: the files its processes read, its units and command lines. */
async function writeBundle(dir: string, node: NodeSpec, stateDir: StateDir): Promise<void> {
  for (const f of hostBundle(node, stateLayout(stateDir))) {
    const file = path.join(dir, f.path);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, f.content, { mode: f.mode ?? 0o644 });
  }
}

/** The marker of the bundles directory, for what it holds now: `up` recognises it as promha's. */
async function remark(dir: string): Promise<void> {
  const files = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name === RENDER_MARKER) continue;
    const full = path.join(entry.parentPath, entry.name);
    files.push({ path: path.relative(dir, full).split(path.sep).join('/'), content: await readFile(full, 'utf8') });
  }
  const marker = markerFile(files);
  await writeFile(path.join(dir, marker.path), marker.content);
}

/**
 * Reloads or restarts the step's processes of a member from its new bundle, and starts
 * any of its processes that is not running (the one a VIP move stopped) from there too:
 * a process that has just started must not get a reload signal before it handles it.
 */
async function change(dir: StateDir, state: RunState, record: NodeRecord, node: NodeSpec, s: RolloutStep, bins: Record<string, string>): Promise<void> {
  for (const command of await bundleCommands(dir.nodeDir(node.name), node)) {
    const index = record.processes.findIndex((p) => p.name === `${record.name}/${command.name}`);
    const p = record.processes[index];
    if (!p) throw new Error(`${record.name} has no process ${command.name}`);
    const running = isRunning(p);
    if (running && !s.processes.includes(command.name)) continue;
    const signal = RELOAD_SIGNAL[command.name];
    if (running && s.action === 'reload' && signal) {
      process.kill(p.pid, signal);
      continue;
    }
    await stopProcess(p);
    record.processes[index] = restartFromRecord(p, dir.absoluteRoot, { binary: bins[command.binary] ?? p.binary, args: command.args });
  }
  await dir.write(state);
}

/**
 * Puts a member back on what it ran before a failed step: a process the step started is
 * started again with its old command line; one it only signalled reloads its old files.
 */
async function restore(dir: StateDir, state: RunState, record: NodeRecord, saved: readonly ProcessRecord[], s: RolloutStep): Promise<void> {
  for (const old of saved) {
    const index = record.processes.findIndex((p) => p.name === old.name);
    const now = record.processes[index];
    if (!now) continue;
    const name = old.name.slice(record.name.length + 1);
    const signal = RELOAD_SIGNAL[name];
    if (now.pid === old.pid && isRunning(now)) {
      if (s.action === 'reload' && s.processes.includes(name) && signal) process.kill(now.pid, signal);
      continue;
    }
    await stopProcess(now);
    record.processes[index] = restartFromRecord(old, dir.absoluteRoot);
  }
  await dir.write(state);
}

/** A member of the local stack, for its gate: at its local address, with its logs. */
const gateMember = (r: NodeRecord): GateMember => ({
  name: r.name,
  role: r.role as Role,
  set: r.set,
  address: r.localAddress,
  processes: r.processes,
  logOf: (name) => tail(r.processes.find((p) => p.name.endsWith(`/${name}`))?.log ?? ''),
});

const exitedOf = (record: NodeRecord) => {
  const dead = record.processes.find(hasExited);
  return dead ? `${dead.name} exited; last log lines:\n${tail(dead.log)}` : undefined;
};

/**
 * Moves a set's VIP off the member holding it: in network namespaces its keepalived
 * stops (its notify_stop wipes it, as on demotion); on loopback its pushgateway stops and
 * HAProxy sends to the standby. The step that follows starts it with its new config, and
 * it comes back as the standby. When the VIP does not move, it starts again as it was.
 */
async function moveVip(dir: StateDir, state: RunState, holder: string, nodes: readonly NodeSpec[], vips: ReadonlyMap<string, string>, timeoutMs: number): Promise<void> {
  const node = nodes.find((n) => n.name === holder) as NodeSpec;
  const record = state.nodes.find((n) => n.name === holder) as NodeRecord;
  const standby = nodes.find((n) => n.role === 'pushgateway' && n.set === node.set && n.name !== holder) as NodeSpec;
  const vipAddress = vips.get(node.set) ?? '';
  const name = record.processes.some((p) => p.name === `${holder}/keepalived`) ? 'keepalived' : 'pushgateway';
  const index = record.processes.findIndex((p) => p.name === `${holder}/${name}`);
  const p = record.processes[index] as ProcessRecord;
  await stopProcess(p);
  const moved = await waitFor(
    async () => {
      const now = await vipHolder(vipAddress, [node, standby].map((n) => ({ name: n.name, address: String(n.address) })));
      return { ready: now === standby.name, detail: `the VIP answers from ${now ?? 'nobody'}` };
    },
    { timeoutMs },
  );
  if (!moved.ready) {
    record.processes[index] = restartFromRecord(p, dir.absoluteRoot);
    await dir.write(state);
    throw new ExitError(1, `the VIP of ${node.set} did not move to ${standby.name}: ${moved.detail}; ${holder} was not changed`);
  }
}
