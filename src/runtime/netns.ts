import { execa } from 'execa';
import { ExitError } from '../errors.ts';
import { subnetsOverlap } from './local-topology.ts';

/*
 * Each member is its own host: a network namespace with one veth whose peer sits on a
 * bridge. The machine's own namespace joins the bridge too, so the CLI and a browser
 * reach every member. No default route is added anywhere: nothing can leave the subnet.
 */

export interface NetworkRecord {
  readonly bridge: string;
  readonly subnet: string;
  readonly namespaces: string[];
  /** The bridge-side veths, deleted with their namespaces (absent in states written before). */
  readonly links?: string[];
}

export const BRIDGE = 'promha0';
export const namespaceOf = (member: string) => `promha-${member}`;

/**
 * One `ip` command of the network set-up. A refusal (a link or namespace left by another
 * stack, say) becomes a located exit-1 message, which `up` answers with its rollback.
 */
async function ip(...args: string[]): Promise<void> {
  const r = await execa('ip', args, { reject: false });
  if (r.exitCode !== 0)
    throw new ExitError(
      1,
      `\`ip ${args.join(' ')}\` failed: ${(r.stderr || r.stdout || `exit ${r.exitCode}`).trim()}\n    fix: \`ip link\` and \`ip netns list\` show what is in the way (another stack? \`promha down\` it)`,
    );
}

/** Refuses a subnet that overlaps a route this machine already has (the default route aside). */
export async function assertSubnetFree(subnet: string): Promise<void> {
  const { stdout } = await execa('ip', ['-4', 'route', 'show', 'table', 'all']);
  for (const line of stdout.split('\n')) {
    const dest = line.trim().split(/\s+/)[0] ?? '';
    if (!/^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(dest) || dest.endsWith('/0')) continue;
    if (dest.startsWith('127.') || line.includes(` dev ${BRIDGE} `)) continue;
    if (subnetsOverlap(subnet, dest))
      throw new ExitError(2, `the subnet ${subnet} overlaps the existing route "${line.trim()}"\n    fix: choose another range with --subnet (e.g. 10.214.0.0/24)`);
  }
}

export async function bridgeExists(): Promise<boolean> {
  return (await execa('ip', ['link', 'show', BRIDGE], { reject: false })).exitCode === 0;
}

/** Creates the bridge with the machine's own address on it. `record` is updated before each step so a failure can be undone. */
export async function createBridge(record: NetworkRecord, gatewayCidr: string): Promise<void> {
  if (await bridgeExists()) throw new ExitError(2, `a bridge named ${BRIDGE} already exists: run \`promha down\` first, or remove it`);
  await ip('link', 'add', BRIDGE, 'type', 'bridge');
  await ip('addr', 'add', gatewayCidr, 'dev', BRIDGE);
  await ip('link', 'set', BRIDGE, 'up');
}

/** One host: a namespace named after the member, with eth0 on the bridge. */
export async function createHost(record: NetworkRecord, member: string, index: number, cidr: string): Promise<string> {
  const ns = namespaceOf(member);
  const hostSide = `phv${index}`;
  await ip('netns', 'add', ns);
  // Recorded only once created: a namespace someone else made is never ours to delete.
  record.namespaces.push(ns);
  await ip('link', 'add', hostSide, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
  record.links?.push(hostSide);
  await ip('link', 'set', hostSide, 'master', BRIDGE, 'up');
  await ip('-n', ns, 'addr', 'add', cidr, 'dev', 'eth0');
  await ip('-n', ns, 'link', 'set', 'eth0', 'up');
  await ip('-n', ns, 'link', 'set', 'lo', 'up');
  return ns;
}

/**
 * The index of the next host's bridge-side veth (`phvN`): one past the highest in use. A
 * state written before links were recorded had one per namespace, numbered in order.
 */
export function nextHostIndex(record: NetworkRecord): number {
  if (!record.links) return record.namespaces.length;
  return Math.max(-1, ...record.links.map((l) => Number(/^phv(\d+)$/.exec(l)?.[1] ?? -1))) + 1;
}

/**
 * Removes one host that `createHost` made for `member` (killing anything left inside) and
 * forgets it in `record`; a namespace the record does not hold is not ours and stays.
 */
export async function destroyHost(record: NetworkRecord, member: string): Promise<void> {
  const ns = namespaceOf(member);
  const at = record.namespaces.indexOf(ns);
  if (at < 0) return;
  const link = (await execa('ip', ['-n', ns, '-o', 'link', 'show', 'dev', 'eth0'], { reject: false })).stdout;
  // eth0's peer index names the bridge-side veth: `eth0@if17` is the 17th link here.
  const peer = /eth0@if(\d+)/.exec(link)?.[1];
  if (peer) {
    const ours = (await execa('ip', ['-o', 'link', 'show'], { reject: false })).stdout.split('\n').find((l) => l.startsWith(`${peer}: `));
    const name = ours ? /^\d+: ([^@:]+)/.exec(ours)?.[1] : undefined;
    if (name && record.links?.includes(name)) {
      await execa('ip', ['link', 'delete', name], { reject: false });
      record.links.splice(record.links.indexOf(name), 1);
    }
  }
  for (const pid of await pidsIn(ns))
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  await execa('ip', ['netns', 'delete', ns], { reject: false });
  record.namespaces.splice(at, 1);
}

/** Every pid still running inside a namespace (so nothing outlives it). */
export async function pidsIn(ns: string): Promise<number[]> {
  const r = await execa('ip', ['netns', 'pids', ns], { reject: false });
  return r.exitCode === 0 ? r.stdout.split('\n').filter(Boolean).map(Number) : [];
}

/** Removes namespaces (killing anything left inside), their veths and the bridge. Safe to call twice. */
export async function destroyNetwork(record: NetworkRecord): Promise<void> {
  // Deleting one end of a veth deletes both at once; a namespace's end alone would go only
  // when the kernel frees the namespace, seconds to minutes later, and until then the next
  // `up` finds the bridge-side name taken ("File exists").
  for (const link of record.links ?? []) await execa('ip', ['link', 'delete', link], { reject: false });
  for (const ns of record.namespaces) {
    for (const pid of await pidsIn(ns))
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    await execa('ip', ['netns', 'delete', ns], { reject: false });
  }
  if (await bridgeExists()) await execa('ip', ['link', 'delete', BRIDGE], { reject: false });
}

/** Whether a namespace's eth0 holds `address` (keepalived's VIP). */
export async function holdsAddress(ns: string, address: string): Promise<boolean> {
  const r = await execa('ip', ['-n', ns, '-4', '-o', 'addr', 'show', 'dev', 'eth0'], { reject: false });
  return r.exitCode === 0 && r.stdout.includes(` ${address}/`);
}
