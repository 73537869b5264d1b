import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** A process started by promha, as recorded in the state file. */
export interface ProcessRecord {
  readonly name: string;
  readonly pid: number;
  /** The executable, to make sure a pid still belongs to it before signalling. */
  readonly binary: string;
  readonly args: readonly string[];
  readonly log: string;
  readonly netns?: string;
}

/** Children started by this promha process: their exit is known without reading /proc. */
const children = new Map<number, ChildProcess>();

/**
 * Whether a process has exited. For children of this promha the exit event decides:
 * /proc cannot, since between fork and exec a child still shows promha's own cmdline.
 */
export function hasExited(p: Pick<ProcessRecord, 'pid' | 'binary'>): boolean {
  const child = children.get(p.pid);
  return child ? child.exitCode !== null || child.signalCode !== null : !isRunning(p);
}

/**
 * Starts a process in its own process group, detached from promha, output to `log`.
 * Inside a namespace `ip netns exec` replaces itself with the binary, so the pid is the
 * binary's own.
 */
export function startProcess(o: { name: string; binary: string; args: readonly string[]; log: string; netns?: string; stateRoot: string }): ProcessRecord {
  const fd = openSync(o.log, 'a');
  try {
    const [cmd, argv] = o.netns ? ['ip', ['netns', 'exec', o.netns, o.binary, ...o.args]] : [o.binary, [...o.args]];
    // PROMHA_STATE marks every process of a stack, so none can go unnoticed.
    const env = { ...process.env, PROMHA_STATE: o.stateRoot };
    const child = spawn(cmd as string, argv as string[], { detached: true, stdio: ['ignore', fd, fd], env });
    if (child.pid === undefined) throw new Error(`could not start ${o.binary}`);
    child.on('error', () => {});
    child.unref();
    children.set(child.pid, child);
    return { name: o.name, pid: child.pid, binary: o.binary, args: o.args, log: o.log, ...(o.netns ? { netns: o.netns } : {}) };
  } finally {
    closeSync(fd);
  }
}

/**
 * Starts a recorded process again: the same name, log and namespace, with its own
 * command line or the one given (a new bundle's, or another release's binary).
 */
export function restartFromRecord(p: ProcessRecord, stateRoot: string, command: { readonly binary?: string; readonly args?: readonly string[] } = {}): ProcessRecord {
  return startProcess({ name: p.name, binary: command.binary ?? p.binary, args: command.args ?? p.args, log: p.log, stateRoot, ...(p.netns ? { netns: p.netns } : {}) });
}

/** True while `pid` runs `binary` (guards against a recycled pid). Zombies count as gone. */
export function isRunning(p: Pick<ProcessRecord, 'pid' | 'binary'>): boolean {
  try {
    const stat = readFileSync(`/proc/${p.pid}/stat`, 'utf8');
    if (/^\d+ \(.*\) Z/.test(stat)) return false;
    const cmdline = readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0');
    const base = p.binary.split('/').pop() ?? p.binary;
    return cmdline.some((w) => w === p.binary || w.endsWith(`/${base}`) || w === base);
  } catch {
    return false;
  }
}

/** SIGTERM to the process group, SIGKILL after `graceMs`; resolves once it is gone. */
export async function stopProcess(p: Pick<ProcessRecord, 'pid' | 'binary'>, graceMs = 10_000): Promise<void> {
  if (!isRunning(p)) return;
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-p.pid, sig);
    } catch {
      try {
        process.kill(p.pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  // The children too (keepalived's VRRP and checker processes, HAProxy's workers): a
  // successor started while one still holds its pid file would refuse to run.
  const gone = () => !isRunning(p) && !groupAlive(p.pid);
  while (!gone() && Date.now() < deadline) await sleep(100);
  if (!gone()) {
    signal('SIGKILL');
    while (!gone()) await sleep(50);
  }
}

/**
 * Whether a process of the group `pgid` that promha started still runs (zombies aside).
 * Only processes that carry a PROMHA_STATE marker count: a pid reused by someone else's
 * process group is never taken for ours.
 */
export function groupAlive(pgid: number): boolean {
  return groupProcesses(pgid).some((p) => {
    if (p.state === 'Z') return false;
    try {
      return readFileSync(`/proc/${p.pid}/environ`, 'utf8').split('\0').some((v) => v.startsWith('PROMHA_STATE='));
    } catch {
      return false; // gone
    }
  });
}

/** The last lines of a log file, for error messages. */
export function tail(file: string, lines = 8): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/**
 * Processes that carry this stack's PROMHA_STATE but were never recorded (promha
 * itself died between start and record): `down` stops them too.
 */
export function processesOfStack(stateRoot: string): number[] {
  const marker = `PROMHA_STATE=${stateRoot}`;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(marker)) pids.push(Number(entry));
    } catch {
      /* gone or not ours to read */
    }
  }
  return pids;
}

/** The processes of a group, from /proc: pid, state and resident pages. */
function groupProcesses(pgid: number): Array<{ pid: string; state: string; rssPages: number }> {
  const found: Array<{ pid: string; state: string; rssPages: number }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the parenthesised name: state(3) ppid(4) pgrp(5) … rss(24).
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid) found.push({ pid: entry, state: fields[0] ?? '', rssPages: Number(fields[21]) });
    } catch {
      /* gone */
    }
  }
  return found;
}

/** Resident memory of a process group in bytes (keepalived and HAProxy fork children). */
export function groupRss(pgid: number): number {
  return groupProcesses(pgid).reduce((pages, p) => pages + p.rssPages, 0) * 4096;
}
