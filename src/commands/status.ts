import { readFile } from 'node:fs/promises';
import { ExitError } from '../errors.ts';
import { holdsAddress } from '../runtime/netns.ts';
import { groupRss, isRunning } from '../runtime/process.ts';
import { readiness } from '../runtime/readiness.ts';
import { processesOf, StateDir, type RunState } from '../runtime/state.ts';
import { down } from '../runtime/up.ts';
import { plain, type Paint } from '../cli/paint.ts';
import type { BinaryName } from '../plan/node-spec.ts';

export interface MemberStatus {
  readonly name: string;
  readonly role: string;
  readonly set: string;
  readonly backup: boolean;
  readonly topologyAddress: string;
  readonly localAddress: string;
  readonly netns?: string;
  readonly state: 'ready' | 'not ready' | 'stopped';
  readonly detail: string;
  /** keepalived mode: whether this gateway holds its set's VIP. */
  readonly holdsVip?: boolean;
  /** Resident memory of all its processes, bytes. */
  readonly rssBytes: number;
  /** The version its server printed for `--version` when the stack started. */
  readonly version?: string;
}

/** The binary whose version a member reports: its server's. */
const SERVER_BINARY: Readonly<Record<string, BinaryName>> = {
  scraper: 'prometheus',
  federator: 'prometheus',
  alertmanager: 'prometheus-alertmanager',
  pushgateway: 'prometheus-pushgateway',
};

export async function collectStatus(dir: StateDir): Promise<{ mode: string; release?: string; members: MemberStatus[] }> {
  const state = await dir.read();
  if (!state) throw new ExitError(1, `nothing is running from ${dir.root} (\`promha up\` starts the topology)`);
  const members = await Promise.all(
    state.nodes.map(async (n): Promise<MemberStatus> => {
      // A demo server runs in the workload's process, whose memory its own row shows.
      const processes = processesOf(state, n);
      const running = processes.length > 0 && processes.every(isRunning);
      const served = state.nodes.filter((x) => x.servedBy === n.name).length;
      const r = !running
        ? { ready: false, detail: 'process not running' }
        : n.localAddress
          ? await readiness(n.role, n.localAddress)
          : { ready: true, detail: `runs ${served} demo server(s)` };
      let holdsVip: boolean | undefined;
      const binary = SERVER_BINARY[n.role];
      const version = binary && state.versions?.[binary];
      if (n.role === 'pushgateway' && n.netns && state.network) {
        const vip = await vipOf(dir, state, n.set);
        if (vip) holdsVip = await holdsAddress(n.netns, vip);
      }
      return {
        name: n.name,
        role: n.backup ? 'alertmanager (backup)' : n.role,
        set: n.set,
        backup: n.backup,
        topologyAddress: n.topologyAddress,
        localAddress: n.localAddress,
        ...(n.netns ? { netns: n.netns } : {}),
        state: running ? (r.ready ? 'ready' : 'not ready') : 'stopped',
        detail: r.detail,
        ...(holdsVip !== undefined ? { holdsVip } : {}),
        rssBytes: running ? n.processes.reduce((sum, p) => sum + groupRss(p.pid), 0) : 0,
        ...(version ? { version } : {}),
      };
    }),
  );
  return { mode: state.mode, ...(state.release ? { release: state.release } : {}), members };
}

/** The local VIP of a set in netns mode, from the rendered keepalived.conf of its first member. */
async function vipOf(dir: StateDir, state: RunState, set: string): Promise<string | undefined> {
  const member = state.nodes.find((n) => n.role === 'pushgateway' && n.set === set);
  if (!member) return undefined;
  const conf = await readFile(`${dir.nodeDir(member.name)}/keepalived.conf`, 'utf8').catch(() => '');
  return /virtual_ipaddress \{\s+(\S+)\/32/.exec(conf)?.[1];
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

export function formatStatus(s: { mode: string; release?: string; members: MemberStatus[] }, pc: Paint = plain): string {
  const rows = s.members.map((m) => [
    m.name + (m.holdsVip ? ' [VIP]' : ''),
    m.role,
    m.topologyAddress || '-',
    m.localAddress || '-',
    m.state === 'ready' ? pc.green(m.state) : m.state === 'stopped' ? pc.red(m.state) : pc.yellow(m.state),
    mib(m.rssBytes),
    m.version ?? '-',
  ]);
  const head = ['MEMBER', 'ROLE', 'TOPOLOGY ADDRESS', `LOCAL ADDRESS (${s.mode})`, 'STATE', 'MEMORY', `VERSION (${s.release ?? 'bookworm'})`];
  // eslint-disable-next-line no-control-regex
  const width = (t: string) => t.replace(/\x1b\[[0-9;]*m/g, '').length;
  const widths = head.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (r: string[]) => r.map((c, i) => c + ' '.repeat((widths[i] ?? 0) - width(c))).join('  ').trimEnd();
  const total = s.members.reduce((sum, m) => sum + m.rssBytes, 0);
  const demo = s.members.filter((m) => m.role === 'demo').reduce((sum, m) => sum + m.rssBytes, 0);
  return [pc.bold(line(head)), ...rows.map(line), `total: ${mib(total)} resident (components ${mib(total - demo)}, demo workload ${mib(demo)})`].join('\n');
}

export async function runDown(stateDir: string): Promise<string> {
  const r = await down(new StateDir(stateDir));
  const done = r.stopped === 0 ? 'nothing was running' : `stopped ${r.stopped} processes; namespaces and links removed`;
  return r.discarded ? `${done}; removed the unusable state file (${r.discarded})` : done;
}
