import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BinaryName, Role } from '../plan/node-spec.ts';
import type { ReleaseName } from '../release/release.ts';
import { useClientSecurity } from '../probe/client-security.ts';
import { readClientFiles } from './client-files.ts';
import type { NetworkMode } from './local-topology.ts';
import type { NetworkRecord } from './netns.ts';
import type { ProcessRecord } from './process.ts';

export const DEFAULT_STATE_DIR = '.promha';

export interface NodeRecord {
  readonly name: string;
  readonly role: Role | 'demo';
  readonly set: string;
  readonly backup: boolean;
  /** Address in the topology file (the real deployment). */
  readonly topologyAddress: string;
  /** Address on this machine. */
  readonly localAddress: string;
  readonly netns?: string;
  readonly processes: ProcessRecord[];
  /** A demo server has no process of its own: the node named here (the workload) runs it. */
  readonly servedBy?: string;
}

/** The node of the one process that runs every demo server of a stack. */
export const DEMO_WORKLOAD = 'demo-workload';

/** The processes a node's service depends on: its own, or for a demo server the workload's. */
export function processesOf(state: Pick<RunState, 'nodes'>, node: NodeRecord): readonly ProcessRecord[] {
  return node.servedBy ? (state.nodes.find((n) => n.name === node.servedBy)?.processes ?? []) : node.processes;
}

/** What is running, written before and after every step so `down` can always undo it. */
export interface RunState {
  readonly version: 1;
  readonly topologyFile: string;
  readonly mode: NetworkMode;
  /** The release the stack runs, and the version each binary printed at start. Absent in stacks of older promha. */
  readonly release?: ReleaseName;
  readonly versions?: Partial<Record<BinaryName, string>>;
  readonly startedAt: string;
  readyAt?: string;
  readonly network?: NetworkRecord;
  readonly nodes: NodeRecord[];
  /** Where the demo receiver lists the notifications it got. */
  readonly webhookUrl?: string;
  /** The dashboard that runs as part of the stack. */
  readonly dashboardUrl?: string;
  /** Secure mode: the members speak TLS and/or want basic auth; the client identity is in `client/`. */
  readonly security?: { readonly tls: boolean; readonly auth: boolean };
  /**
   * The local address `up` gave every member and VIP, by name: what runs keeps it when
   * `apply` adds a set (a VIP of network namespaces has no record of its own). Absent in
   * stacks of older promha, whose addresses are planned afresh.
   */
  readonly addresses?: Readonly<Record<string, string>>;
}

/** Where one stack keeps its files: configs, data, logs and the state file. */
export class StateDir {
  constructor(readonly root: string = DEFAULT_STATE_DIR) {}
  get absoluteRoot() {
    return path.resolve(this.root);
  }
  get stateFile() {
    return path.join(this.root, 'state.json');
  }
  get nodesDir() {
    return path.join(this.root, 'nodes');
  }
  nodeDir(node: string) {
    return path.resolve(this.nodesDir, node);
  }
  /** Federator and Alertmanager data persist across down and up; scrapers' is thrown away. */
  dataDir(member: string) {
    return path.resolve(this.root, 'data', member);
  }
  runDir(node: string) {
    return path.resolve(this.root, 'run', node);
  }
  logFile(node: string, process: string) {
    return path.resolve(this.root, 'logs', `${node}.${process}.log`);
  }
  /** The client identity of a secure stack (CA, certificate, credentials). */
  get clientDir() {
    return path.resolve(this.root, 'client');
  }
  /** The CA `up` generates for the local addresses in secure mode. */
  get caDir() {
    return path.resolve(this.root, 'ca');
  }
  /** What the demo workload process serves (written by `up`). */
  get workloadSpecFile() {
    return path.resolve(this.root, 'demo-workload.json');
  }
  get notificationsFile() {
    return path.resolve(this.root, 'notifications.jsonl');
  }

  /**
   * The state of the stack, if one runs. For a secure stack this also makes every
   * client of this process use the stack's CA and credentials.
   */
  async read(): Promise<RunState | undefined> {
    let state: RunState;
    try {
      state = JSON.parse(await readFile(this.stateFile, 'utf8')) as RunState;
    } catch {
      return undefined;
    }
    if (state.security) useClientSecurity(await readClientFiles(this.clientDir));
    return state;
  }
  /** Writes one after the other: members start in parallel, and each records itself. */
  write(state: RunState): Promise<void> {
    const text = `${JSON.stringify(state, null, 2)}\n`;
    const next = this.writing.then(async () => {
      await mkdir(this.root, { recursive: true });
      const tmp = `${this.stateFile}.tmp`;
      await writeFile(tmp, text);
      await rename(tmp, this.stateFile);
    });
    this.writing = next.catch(() => undefined);
    return next;
  }
  private writing: Promise<void> = Promise.resolve();
  async clear(): Promise<void> {
    await rm(this.stateFile, { force: true });
  }
}
