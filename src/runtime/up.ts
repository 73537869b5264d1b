import { fileURLToPath } from 'node:url';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { check, CHECK_RULES } from '../check/check.ts';
import { isOk } from '../probe/http.ts';
import { ExitError } from '../errors.ts';
import type { BinaryName, Layout, NodeSpec } from '../plan/node-spec.ts';
import { pushRetryWindow } from '../plan/derived.ts';
import { plan } from '../plan/plan.ts';
import { writeRender } from '../render/write.ts';
import { prepareSecurity } from '../security/material.ts';
import type { SecurityMaterial } from '../plan/security.ts';
import { useClientSecurity } from '../probe/client-security.ts';
import { writeClientFiles } from './client-files.ts';
import type { Topology } from '../topology/topology.ts';
import { checkReleaseVersions, findBinaries, releaseRunning } from './binaries.ts';
import { chooseRelease } from '../release/choose.ts';
import { releaseSource } from '../release/fetch.ts';
import type { Release } from '../release/release.ts';
import { bundleCommands } from './bundle.ts';
import { demoRules } from './demo-rules.ts';
import { localAddressing, localTopology, type DemoSpec, type LocalAddressing, type NetworkMode } from './local-topology.ts';
import { assertSubnetFree, createBridge, createHost, destroyNetwork, type NetworkRecord, BRIDGE } from './netns.ts';
import { hasExited, isRunning, processesOfStack, startProcess, stopProcess, tail, type ProcessRecord } from './process.ts';
import { readlinkSync } from 'node:fs';
import { federationUp, readiness, waitFor } from './readiness.ts';
import { DEMO_WORKLOAD, StateDir, UnusableState, type NodeRecord, type RunState } from './state.ts';
import type { WorkloadSpec } from '../demo/workload.ts';
import { memberUrl } from '../probe/client-security.ts';

export interface UpOptions {
  readonly mode: NetworkMode;
  readonly stateDir: StateDir;
  /** netns address range. @default 10.213.0.0/24 */
  readonly subnet?: string;
  readonly binaries?: Partial<Record<BinaryName, string>>;
  /** Per-member readiness timeout. @default 60 s */
  readonly timeoutMs?: number;
  /** Progress lines; `ok` is false for the failure line. */
  readonly progress?: (line: string, ok: boolean) => void;
  /** The command that runs the demo processes. @default this promha */
  readonly demoCommand?: readonly string[];
  /** Loopback host:port of the dashboard, which runs as part of the stack; none when undefined. */
  readonly dashboard?: string;
  /** The release whose binaries must run; binaries of another release are refused. @default the host's release */
  readonly release?: Release;
}

export interface UpResult {
  readonly state: RunState;
  readonly addressing: LocalAddressing;
  readonly seconds: number;
}

// One level below the package root both in the sources (src/runtime/) and in the bundle (dist/cli/).
// From import.meta.url: Debian 12's Node 18 has no import.meta.dirname.
const BIN_ENTRY = fileURLToPath(new URL('../../bin/promha.js', import.meta.url));

export function stateLayout(dir: StateDir): Layout {
  return { configDir: (m) => dir.nodeDir(m), dataDir: (m) => dir.dataDir(m), runDir: (m) => dir.runDir(m) };
}

/**
 * What runs on this machine for a topology: local addresses, the local topology and
 * its planned nodes. `doctor` compares the live stack against the same plan.
 */
export function localPlan(
  topology: Topology,
  stateDir: StateDir,
  o: {
    readonly mode: NetworkMode;
    readonly release: Release;
    readonly subnet?: string | undefined;
    readonly security?: SecurityMaterial | undefined;
    /** The running stack, whose members and demo servers keep their addresses. */
    readonly running?: RunState | undefined;
  },
) {
  const addressing = localAddressing(topology.spec, o.mode, o.subnet, o.running ? keptAddresses(o.running) : undefined);
  const local = localTopology(topology, addressing, demoRules(topology.spec));
  const nodes = plan(local, {
    layout: stateLayout(stateDir),
    vip: o.mode === 'netns' ? 'keepalived' : 'haproxy',
    vipStandIns: o.mode === 'loopback',
    release: o.release,
    ...(o.security ? { security: o.security } : {}),
  });
  return { addressing, local, nodes };
}

/** What the demo workload process serves for a stack: every exporter, pusher and the webhook. */
export function workloadSpec(topology: Topology, addressing: LocalAddressing, stateDir: StateDir, secure: boolean): WorkloadSpec {
  const ofKind = (kind: DemoSpec['kind']) => addressing.demo.filter((d) => d.kind === kind);
  const webhook = ofKind('webhook')[0];
  return {
    exporters: ofKind('exporter').map((d) => ({ listen: String(d.address), group: d.target ?? d.name })),
    pushers: ofKind('pusher').map((d) => ({
      listen: String(d.address),
      pushUrl: d.pushUrl ?? '',
      job: d.job ?? d.name,
      intervalMs: topology.spec.intervals.push.ms,
      retryForMs: pushRetryWindow(topology.spec).ms,
      ...(secure ? { clientDir: stateDir.clientDir } : {}),
    })),
    ...(webhook ? { webhook: { listen: String(webhook.address), file: stateDir.notificationsFile } } : {}),
  };
}

/** Each member runs from its host bundle: the config files there and the ExecStart of its units. */
export async function startMemberProcesses(dir: StateDir, n: NodeSpec, bins: Readonly<Record<string, string>>, netns?: string): Promise<ProcessRecord[]> {
  return (await bundleCommands(dir.nodeDir(n.name), n)).map((p) =>
    startProcess({ name: `${n.name}/${p.name}`, binary: bins[p.binary] ?? p.binary, args: p.args, log: dir.logFile(n.name, p.name), stateRoot: dir.absoluteRoot, ...(netns ? { netns } : {}) }),
  );
}

/** The state's record of a demo server, which the workload process serves. */
export function demoRecord(d: DemoSpec): NodeRecord {
  return { name: d.name, role: 'demo', set: d.kind, backup: false, topologyAddress: '', localAddress: String(d.address), servedBy: DEMO_WORKLOAD, processes: [] };
}

/**
 * The local address of every member, VIP and demo server of a running stack, by name;
 * undefined for a stack of an older promha, which recorded no VIP addresses.
 */
export function keptAddresses(state: RunState): Map<string, string> | undefined {
  if (!state.addresses) return undefined;
  return new Map([...Object.entries(state.addresses), ...state.nodes.filter((n) => n.localAddress !== '').map((n) => [n.name, n.localAddress] as const)]);
}

/** Fails with a clear message when any address this stack binds is taken. */
async function assertFree(address: string, owner: string): Promise<void> {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i);
  const port = Number(address.slice(i + 1));
  await new Promise<void>((resolve, reject) => {
    const s = net.createServer();
    s.once('error', (e: NodeJS.ErrnoException) =>
      reject(new ExitError(2, `${address} (${owner}) is not free: ${e.code === 'EADDRINUSE' ? 'the port is in use' : e.code}\n    fix: stop what uses it (\`ss -ltnp 'sport = :${port}'\`), or \`promha down\` an earlier stack`)),
    );
    s.listen({ host, port, exclusive: true }, () => s.close(() => resolve()));
  });
}

/** The addresses a node binds on the machine's own network stack (loopback mode). */
function boundAddresses(n: NodeSpec): string[] {
  const out = [String(n.address)];
  for (const p of n.processes) for (const a of p.args) if (a.startsWith('--cluster.listen-address=')) out.push(a.slice(25));
  return out;
}

/**
 * Starts the whole topology on this machine: every member as a real process with the
 * configuration `render` produces for local addresses, the VIP, and the demo workload.
 * Any failure stops everything already started and removes what was created.
 */
export async function up(topology: Topology, o: UpOptions): Promise<UpResult> {
  const t0 = Date.now();
  const say = (line: string, ok = true) => o.progress?.(line, ok);
  const timeoutMs = o.timeoutMs ?? 60_000;
  const chosen = o.release ?? (await chooseRelease(undefined, topology.spec.release));
  const errorsFor = (r: Release) => {
    const errors = check(topology, CHECK_RULES, r).filter((f) => f.severity === 'error');
    if (errors.length) throw new ExitError(1, `the topology has ${errors.length} error(s) for ${r.name}: run \`promha check --release ${r.name}\``);
  };
  errorsFor(chosen);
  const previous = await o.stateDir.read();
  if (previous && previous.nodes.some((n) => n.processes.some(isRunning)))
    throw new ExitError(2, `a stack is already running from ${o.stateDir.root}: \`promha down\` first`);
  if (o.mode === 'netns' && process.getuid?.() !== 0) throw new ExitError(2, 'netns mode needs root\n    fix: run as root, or use --network loopback');

  // The binaries decide the release's capabilities: found first, then planned for what they are.
  // The host's own release runs from its Debian packages; another one from `promha setup --release`'s cache.
  const { fetched } = await releaseSource(chosen.name);
  const bins = findBinaries(
    localPlan(topology, o.stateDir, { mode: o.mode, subnet: o.subnet, release: chosen }).nodes.flatMap((n) => n.processes.map((p) => p.binary)),
    o.binaries,
    process.env,
    fetched,
  );
  const versions = await checkReleaseVersions(bins, chosen);
  const release = releaseRunning(chosen, versions);
  if (release !== chosen) errorsFor(release);

  // Secure mode: a CA of its own and certificates for the local addresses, which no supplied certificate names.
  const unsecured = localPlan(topology, o.stateDir, { mode: o.mode, subnet: o.subnet, release });
  const security = await prepareSecurity(unsecured.local, { generateIn: o.stateDir.caDir });
  const { addressing, local, nodes } = security ? localPlan(topology, o.stateDir, { mode: o.mode, subnet: o.subnet, release, security }) : unsecured;
  if (o.mode === 'loopback') {
    for (const n of nodes) for (const a of boundAddresses(n)) await assertFree(a, n.name);
    for (const d of addressing.demo) await assertFree(String(d.address), d.name);
  } else await assertSubnetFree(o.subnet ?? '10.213.0.0/24');
  if (o.dashboard) await assertFree(o.dashboard, 'dashboard');

  const state: RunState = {
    version: 1,
    topologyFile: topology.file,
    mode: o.mode,
    release: release.name,
    versions,
    startedAt: new Date().toISOString(),
    ...(o.mode === 'netns' ? { network: { bridge: BRIDGE, subnet: o.subnet ?? '10.213.0.0/24', namespaces: [], links: [] } } : {}),
    nodes: [],
    addresses: Object.fromEntries([...addressing.members].map(([name, m]) => [name, String(m.local)])),
    webhookUrl: `http://${addressing.demo.find((d) => d.kind === 'webhook')?.address}/notifications`,
    ...(o.dashboard ? { dashboardUrl: `http://${o.dashboard}/` } : {}),
    ...(security ? { security: { tls: security.tls !== undefined, auth: security.auth !== undefined } } : {}),
  };
  const started: ProcessRecord[] = [];
  // Ctrl-C or a SIGTERM during start rolls back like any other failure.
  let interrupted: string | undefined;
  const interrupt = (signal: NodeJS.Signals) => {
    interrupted = `interrupted by ${signal}`;
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  const exited = () => {
    if (interrupted) return interrupted;
    const dead = started.find(hasExited);
    return dead ? `${dead.name} exited during start; last log lines:\n${tail(dead.log)}` : undefined;
  };
  const step = () => {
    if (interrupted) throw new ExitError(130, `${interrupted}: nothing left running`);
  };
  const running: Array<Promise<unknown>> = [];
  /** A task awaited later: its failure is handled from the start (no unhandled rejection), and the rollback waits for it. */
  const inFlight = <T>(task: Promise<T>): Promise<T> => {
    task.catch(() => undefined);
    running.push(task);
    return task;
  };

  try {
    if (security) useClientSecurity(await writeClientFiles(o.stateDir.clientDir, security));
    await o.stateDir.write(state);
    await writeRender(o.stateDir.nodesDir, nodes, stateLayout(o.stateDir));
    for (const n of nodes) {
      await mkdir(o.stateDir.runDir(n.name), { recursive: true });
      // Scrapers keep nothing across runs; federators and Alertmanagers keep their data.
      if (n.dataDir && n.role === 'scraper') await rm(n.dataDir, { recursive: true, force: true });
      if (n.dataDir) await mkdir(n.dataDir, { recursive: true });
    }
    await mkdir(path.join(o.stateDir.root, 'logs'), { recursive: true });

    const netnsOf = new Map<string, string>();
    if (state.network) {
      const net = state.network as NetworkRecord;
      say(`network: bridge ${BRIDGE} ${addressing.gateway}/${addressing.prefixLength}`);
      await createBridge(net, `${addressing.gateway}/${addressing.prefixLength}`);
      let index = 0;
      for (const n of nodes) {
        step();
        const ns = await createHost(net, n.name, index++, `${n.address.host}/${addressing.prefixLength}`);
        netnsOf.set(n.name, ns);
        await o.stateDir.write(state);
      }
    }

    const record = (r: Omit<NodeRecord, 'processes'>, procs: ProcessRecord[]) => {
      started.push(...procs);
      state.nodes.push({ ...r, processes: procs });
      return o.stateDir.write(state);
    };
    const demoCmd = o.demoCommand ?? [process.execPath, BIN_ENTRY];
    /**
     * The demo workload: one process serving every exporter, pusher and the webhook, each
     * at its own address. Pushers serve at once and push only once started.
     */
    const startWorkloadProcess = async () => {
      step();
      const spec = workloadSpec(topology, addressing, o.stateDir, security !== undefined);
      await writeFile(o.stateDir.workloadSpecFile, `${JSON.stringify(spec, null, 2)}\n`);
      const args = ['demo', 'workload', '--spec', o.stateDir.workloadSpecFile];
      const p = startProcess({ name: DEMO_WORKLOAD, binary: demoCmd[0] as string, args: [...demoCmd.slice(1), ...args], log: o.stateDir.logFile(DEMO_WORKLOAD, 'workload'), stateRoot: o.stateDir.absoluteRoot });
      await record({ name: DEMO_WORKLOAD, role: 'demo', set: 'workload', backup: false, topologyAddress: '', localAddress: '' }, [p]);
      for (const d of addressing.demo) await record(demoRecord(d), []);
      await settled(
        addressing.demo.map(async (d) => {
          const r = await waitFor(() => readiness('demo', String(d.address)), { timeoutMs, failed: exited });
          if (!r.ready) throw new ExitError(1, `${d.name} did not become ready: ${r.detail}`);
          if (d.kind !== 'pusher') say(`ready  ${d.name.padEnd(24)} ${d.address}`);
        }),
      );
    };
    const startPushing = async (d: DemoSpec) => {
      step();
      const r = await fetch(`http://${d.address}/-/start`, { method: 'POST', signal: AbortSignal.timeout(5000) }).catch((e: unknown) => e as Error);
      if (r instanceof Error || !r.ok) throw new ExitError(1, `${d.name} did not start pushing: ${r instanceof Error ? r.message : `HTTP ${r.status}`}`);
      say(`ready  ${d.name.padEnd(24)} ${d.address} (pushing to ${d.pushUrl ?? ''})`);
    };
    const startDashboardProcess = async (listen: string) => {
      step();
      const args = ['dashboard', path.resolve(topology.file), '--listen', listen, '--state-dir', o.stateDir.absoluteRoot];
      const p = startProcess({ name: 'dashboard', binary: demoCmd[0] as string, args: [...demoCmd.slice(1), ...args], log: o.stateDir.logFile('dashboard', 'dashboard'), stateRoot: o.stateDir.absoluteRoot });
      await record({ name: 'dashboard', role: 'demo', set: 'dashboard', backup: false, topologyAddress: '', localAddress: listen }, [p]);
      const r = await waitFor(() => readiness('demo', listen), { timeoutMs, failed: exited });
      if (!r.ready) throw new ExitError(1, `the dashboard did not become ready: ${r.detail}`);
      say(`ready  ${'dashboard'.padEnd(24)} http://${listen}/`);
    };
    const startNode = async (n: NodeSpec) => {
      step();
      const procs = await startMemberProcesses(o.stateDir, n, bins, netnsOf.get(n.name));
      const topo = addressing.members.get(n.name)?.topology;
      await record(
        { name: n.name, role: n.role, set: n.set, backup: n.backup, topologyAddress: String(topo ?? ''), localAddress: String(n.address), ...(netnsOf.has(n.name) ? { netns: netnsOf.get(n.name) as string } : {}) },
        procs,
      );
    };
    const awaitNode = async (n: NodeSpec) => {
      const r = await waitFor(() => readiness(n.role, String(n.address)), { timeoutMs, failed: exited });
      if (!r.ready) throw new ExitError(1, `${n.name} did not become ready: ${r.detail}`);
      say(`ready  ${n.name.padEnd(24)} ${n.address}${n.backup ? ' (backup)' : ''}`);
    };

    // Whatever order does not matter starts at once; readiness is awaited together, so
    // the start takes about as long as its slowest part (the Alertmanager gossip settling).
    const demos = inFlight(settled([
      startWorkloadProcess(),
      // The dashboard comes early, so that the rest of the start can be watched on it.
      ...(o.dashboard ? [startDashboardProcess(o.dashboard)] : []),
    ]));
    const members = nodes.filter((n) => n.role === 'scraper' || n.role === 'pushgateway' || n.role === 'vip');
    const ams = nodes.filter((n) => n.role === 'alertmanager');
    const actives = ams.filter((n) => !n.backup);
    const backups = ams.filter((n) => n.backup);
    const federators = nodes.filter((n) => n.role === 'federator');
    for (const n of [...members, ...actives]) await startNode(n);
    // With peer names the positions are fixed whatever the start order. Without, start
    // order decides them, and the backup must hold the last one (DESIGN §2): it starts
    // once the active members run.
    if (release.clusterPeerName) for (const n of backups) await startNode(n);
    await settled(
      actives.map(async (n) => {
        const r = await waitFor(async () => ({ ready: await isOk(`${memberUrl(String(n.address))}/-/healthy`), detail: 'not healthy' }), { timeoutMs, failed: exited });
        if (!r.ready) throw new ExitError(1, `${n.name} did not become healthy: ${r.detail}`);
      }),
    );
    if (!release.clusterPeerName) for (const n of backups) await startNode(n);
    // Federators once the Alertmanagers listen: their first alerts (the watchdog among
    // them) are taken at once instead of waiting for the next resend.
    for (const n of federators) await startNode(n);
    const gatewaysThenPushers = async () => {
      await settled(members.map(awaitNode));
      if (o.mode === 'netns')
        await settled(
          local.spec.pushgateways.map(async (s) => {
            const vip = String(s.vip.address);
            const r = await waitFor(() => readiness('vip', vip), { timeoutMs, failed: exited });
            if (!r.ready) throw new ExitError(1, `the VIP of ${s.name} (${vip}) did not come up: ${r.detail}`);
            say(`ready  ${`${s.name} VIP`.padEnd(24)} ${vip} (keepalived)`);
          }),
        );
      await demos;
      await settled(addressing.demo.filter((x) => x.kind === 'pusher').map(startPushing));
    };
    await settled([demos, inFlight(gatewaysThenPushers()), ...ams.map(awaitNode), ...federators.map(awaitNode)]);
    await settled(
      federators.map(async (n) => {
        const r = await waitFor(() => federationUp(String(n.address)), { timeoutMs, failed: exited });
        if (!r.ready) throw new ExitError(1, `${n.name}: federation targets not up: ${r.detail}`);
        say(`ready  ${`${n.name} targets`.padEnd(24)} ${r.detail}`);
      }),
    );
    state.readyAt = new Date().toISOString();
    await o.stateDir.write(state);
    return { state, addressing, seconds: (Date.now() - t0) / 1000 };
  } catch (e) {
    say('start failed: stopping everything already started', false);
    // Tasks still starting would record their processes after the rollback: let them end first.
    await Promise.allSettled(running);
    await down(o.stateDir, state);
    if (interrupted && !(e instanceof ExitError && e.code === 130)) throw new ExitError(130, `${interrupted}: nothing left running`);
    throw e;
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
}

/**
 * Waits for every task, then throws the first failure: a rollback must not begin while
 * another task may still start a process.
 */
async function settled(tasks: ReadonlyArray<Promise<unknown>>): Promise<void> {
  const results = await Promise.allSettled(tasks);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

const readlinkSafe = (pid: number) => {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return '';
  }
};

/** Stops every process (demo last-in first-out), removes namespaces and the bridge, clears the state. */
export async function down(dir: StateDir, known?: RunState): Promise<{ stopped: number; discarded?: string }> {
  let state: RunState | undefined;
  try {
    state = known ?? (await dir.read());
  } catch (e) {
    if (!(e instanceof UnusableState)) throw e;
    // A damaged state is what `down` is the fix for: stop every process that carries this
    // stack's marker, remove the namespaces the record still names, drop the record.
    let stopped = 0;
    for (const pid of processesOfStack(dir.absoluteRoot)) {
      await stopProcess({ pid, binary: readlinkSafe(pid) });
      stopped++;
    }
    if (e.network) await destroyNetwork(e.network);
    await dir.clear();
    return { stopped, discarded: e.why };
  }
  if (!state) return { stopped: 0 };
  const procs = state.nodes.flatMap((n) => n.processes).reverse();
  let stopped = 0;
  await Promise.all(
    procs.map(async (p) => {
      if (isRunning(p)) stopped++;
      await stopProcess(p);
    }),
  );
  for (const pid of processesOfStack(dir.absoluteRoot)) await stopProcess({ pid, binary: readlinkSafe(pid) });
  if (state.network) await destroyNetwork(state.network);
  // Scrapers' data is throwaway; federators' and Alertmanagers' survive for the next `up`.
  for (const n of state.nodes.filter((x) => x.role === 'scraper')) await rm(dir.dataDir(n.name), { recursive: true, force: true });
  await dir.clear();
  return { stopped };
}
