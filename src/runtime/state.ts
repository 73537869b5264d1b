import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as z from 'zod';
import { Address } from '../address.ts';
import { ExitError } from '../errors.ts';
import type { BinaryName, Role } from '../plan/node-spec.ts';
import { RELEASE_NAMES, type ReleaseName } from '../release/release.ts';
import { useClientSecurity } from '../probe/client-security.ts';
import { readInputFile, UnreadableInput } from '../topology/input-file.ts';
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

/*
 * The state file is input like any other: a crash, a full disk, a hand edit or another
 * tool can leave anything there, and what it names is acted on (pids signalled, data
 * directories deleted, namespaces removed). So it is read through the bounded reader (a
 * FIFO or a device never blocks) and checked against this schema before use: a pid of 0
 * or 1 would signal promha's own process group or every process, a node name with "/"
 * or ".." would point `down`'s deletion of scraper data outside the state directory.
 */

/** Member, demo server and process names as `up` records them: DNS-label-like, never a path. */
const recordName = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'not a name `up` records (lowercase letters, digits and "-")').max(80);
/** `<member>/<process>` (`scraper1-1/prometheus`), or a demo server's own name (`dashboard`); no segment is `.` or `..`. */
const processName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}(\/[A-Za-z0-9][A-Za-z0-9_.-]{0,63})?$/, 'not a process name `up` records');
// No control characters: these strings end up in messages and tables.
// eslint-disable-next-line no-control-regex
const plainText = z.string().max(4096).regex(/^[^\u0000-\u001f\u007f]*$/, 'holds control characters');
/** `namespaceOf(member)`: a namespace promha created, so `down` never deletes another's. */
const namespace = z.string().regex(/^promha-[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'not a namespace promha creates (promha-<member>)').max(90);
/** Linux pids are 2..4194304 (PID_MAX_LIMIT) for anything promha starts: 0 and 1 would signal its own group or init's. */
const pid = z.number().int().min(2, 'not the pid of a process promha started').max(4_194_304, 'beyond the largest Linux pid');

const processRecordSchema = z.looseObject({
  name: processName,
  pid,
  binary: plainText.min(1),
  args: z.array(z.string()),
  log: plainText.min(1),
  netns: namespace.optional(),
});

const networkRecordSchema = z.looseObject({
  bridge: z.string().regex(/^[A-Za-z0-9_.@-]{1,15}$/, 'not an interface name'),
  subnet: plainText,
  namespaces: z.array(namespace),
  links: z.array(z.string().regex(/^phv\d{1,6}$/, 'not a link promha creates (phv<N>)')).optional(),
});

/** `host:port` as `up` records it, or empty (the demo workload has none): drills and status parse it. */
const addressText = plainText.refine((v) => {
  if (v === '') return true;
  try {
    Address.parse(v);
    return true;
  } catch {
    return false;
  }
}, 'not an address `up` records (host:port)');

const nodeRecordSchema = z.looseObject({
  name: recordName,
  role: z.enum(['scraper', 'pushgateway', 'federator', 'alertmanager', 'vip', 'demo']),
  set: plainText,
  backup: z.boolean(),
  topologyAddress: addressText,
  localAddress: addressText,
  netns: namespace.optional(),
  processes: z.array(processRecordSchema),
  servedBy: recordName.optional(),
});

/**
 * Loose objects: keys a newer promha adds are kept (and written back), not dropped; what
 * this version reads is checked. `version` is the file format, unchanged since the first.
 */
const runStateSchema = z.looseObject({
  version: z.literal(1),
  topologyFile: plainText,
  mode: z.enum(['loopback', 'netns']),
  release: z.enum(RELEASE_NAMES).optional(),
  versions: z.partialRecord(z.enum(['prometheus', 'prometheus-alertmanager', 'prometheus-pushgateway', 'keepalived', 'haproxy']), plainText).optional(),
  startedAt: plainText,
  readyAt: plainText.optional(),
  network: networkRecordSchema.optional(),
  nodes: z.array(nodeRecordSchema),
  webhookUrl: plainText.optional(),
  dashboardUrl: plainText.optional(),
  security: z.looseObject({ tls: z.boolean(), auth: z.boolean() }).optional(),
  addresses: z.record(z.string(), plainText).optional(),
});

// The schema must describe RunState: a field added to one and not the other fails to compile.
type Parsed = z.output<typeof runStateSchema>;
const parsedIsRunState = (s: Parsed): RunState => s;
void parsedIsRunState;

/**
 * A state file promha cannot use: unreadable, not JSON, or not what `up` writes. Exit 2
 * with the file and the way out. `network` is what could still be read of the network
 * record, so that `down` removes the namespaces even of a damaged state.
 */
export class UnusableState extends ExitError {
  constructor(
    readonly file: string,
    readonly why: string,
    readonly network?: NetworkRecord,
  ) {
    super(
      2,
      `promha: ${file}: ${why}\n    fix: if a stack still runs from ${path.dirname(file)}, \`${downCommand(file)}\` stops it and removes the file, then \`promha up\`; if nothing runs, remove ${file}`,
    );
    this.name = 'UnusableState';
  }
}

const downCommand = (file: string) => (path.dirname(file) === DEFAULT_STATE_DIR ? 'promha down' : `promha down --state-dir ${path.dirname(file)}`);

/** Where a zod issue points in the state file, as `nodes[0].processes[1].pid`. */
function issuePath(p: ReadonlyArray<PropertyKey>): string {
  return p.map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`)).join('').replace(/^\./, '') || '(the whole file)';
}

/** The state in `text`, checked; throws UnusableState naming at most three problems. */
export function parseState(file: string, text: string): RunState {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    // V8 quotes a piece of the text: keep the message on one line.
    throw new UnusableState(file, `not JSON (${(e as Error).message.replace(/\s+/g, ' ')}): a write cut short, or not a file promha wrote`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data))
    throw new UnusableState(file, `holds ${data === null ? 'null' : Array.isArray(data) ? 'a list' : `a ${typeof data}`}, not the JSON object \`up\` writes`);
  const r = runStateSchema.safeParse(data);
  if (r.success) return r.data;
  const shown = r.error.issues.slice(0, 3).map((i) => `${issuePath(i.path)}: ${i.message}`);
  const more = r.error.issues.length - shown.length;
  const network = networkRecordSchema.safeParse((data as Record<string, unknown>)['network']);
  throw new UnusableState(file, `not a state promha wrote: ${shown.join('; ')}${more > 0 ? ` (and ${more} more)` : ''}`, network.success ? network.data : undefined);
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
    let text: string;
    try {
      text = await readInputFile(this.stateFile);
    } catch (e) {
      if (!(e instanceof UnreadableInput)) throw e;
      // No file is no stack; anything else that cannot be read is a state gone wrong.
      if (e.code === 'ENOENT') return undefined;
      throw new UnusableState(this.stateFile, e.message);
    }
    const state = parseState(this.stateFile, text);
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
