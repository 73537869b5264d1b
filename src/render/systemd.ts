import { filesRead } from './files-read.ts';
import { haproxyQuote } from './haproxy-quote.ts';
import { hostPathProblem } from '../topology/host-names.ts';
import { DEBIAN_BINARY_PATHS, type BinaryName, type Layout, type NodeSpec, type ProcessSpec } from '../plan/node-spec.ts';

/** The user each Debian package runs its binary as: the servers as `prometheus`, VRRP as root. */
export const SERVICE_USER: Readonly<Record<BinaryName, string>> = {
  prometheus: 'prometheus',
  'prometheus-alertmanager': 'prometheus',
  'prometheus-pushgateway': 'prometheus',
  // VRRP needs raw sockets and changes addresses; its scripts run as root too (script_user).
  keepalived: 'root',
  haproxy: 'haproxy',
};

/**
 * How each binary reloads its configuration without a restart. The pushgateway has
 * none: Go's default for SIGHUP is to exit, and a restarted gateway is empty.
 */
const RELOAD_SIGNAL: Readonly<Partial<Record<BinaryName, string>>> = {
  prometheus: 'HUP',
  'prometheus-alertmanager': 'HUP',
  keepalived: 'HUP',
  // haproxy -W: the master reloads its workers on SIGUSR2.
  haproxy: 'USR2',
};

export const canReload = (p: ProcessSpec): boolean => RELOAD_SIGNAL[p.binary] !== undefined;

export interface UnitFile {
  /** e.g. promha-scraper1-1-prometheus.service */
  readonly name: string;
  readonly process: ProcessSpec;
  readonly user: string;
  readonly content: string;
}

export const unitName = (node: NodeSpec, p: ProcessSpec): string => `promha-${node.name}-${p.name}.service`;

/** How systemd spells a character inside a double-quoted word (C escapes, specifiers, variables). */
function systemdChar(c: string): string {
  const code = c.codePointAt(0) as number;
  if (code === 0) throw new RangeError('a systemd command line cannot hold a NUL character');
  if (c === '\\' || c === '"') return `\\${c}`;
  if (c === '%' || c === '$') return c + c;
  if (c === '\n') return '\\n';
  if (c === '\t') return '\\t';
  if (c === '\r') return '\\r';
  if (code < 0x20 || code === 0x7f) return `\\x${code.toString(16).padStart(2, '0')}`;
  return c;
}

/**
 * Quotes a word for a systemd command line (ExecStart=): `%` is a specifier and `$` a
 * variable there, and a newline would end the line, so the word goes in double quotes
 * with C escapes. Words of the plain grammar stay as they are.
 */
export function systemdQuote(word: string): string {
  if (/^[A-Za-z0-9_@+=:,./-]+$/.test(word)) return word;
  return `"${[...word].map(systemdChar).join('')}"`;
}

const UNESCAPED: Readonly<Record<string, string>> = { n: '\n', t: '\t', r: '\r' };

/** Splits a command line written by {@link systemdQuote} back into its words, as systemd does. */
export function parseSystemdCommand(line: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (/\s/.test(line[i] as string)) {
      i++;
      continue;
    }
    let word = '';
    const quoted = line[i] === '"';
    if (quoted) i++;
    for (; i < line.length; i++) {
      const c = line[i] as string;
      if (quoted && c === '"') {
        i++;
        break;
      }
      if (!quoted && /\s/.test(c)) break;
      const next = line[i + 1];
      if (c === '\\' && next === 'x' && /^[0-9a-fA-F]{2}$/.test(line.slice(i + 2, i + 4))) {
        word += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
        i += 3;
      } else if (c === '\\' && next !== undefined) {
        word += UNESCAPED[next] ?? next;
        i++;
      } else if ((c === '%' || c === '$') && next === c) {
        word += c;
        i++;
      } else word += c;
    }
    words.push(word);
  }
  return words;
}

export function execStart(p: ProcessSpec): string {
  return [DEBIAN_BINARY_PATHS[p.binary], ...p.args].map(systemdQuote).join(' ');
}

/** The `ExecStart=` command line of a unit file, as words. */
export function execStartOf(unit: string): string[] | undefined {
  const line = unit.split('\n').find((l) => l.startsWith('ExecStart='));
  return line === undefined ? undefined : parseSystemdCommand(line.slice('ExecStart='.length));
}

/** The runtime directory a process needs, when its flags or its files name it. */
function runtimeDirectory(node: NodeSpec, p: ProcessSpec, runDir: string): string[] {
  // haproxy.cfg names it quoted: the quoted form, without its closing quote, starts every quoted path below it.
  const quoted = haproxyQuote(runDir).replace(/'$/, '');
  const used = p.args.some((a) => a.includes(runDir)) || filesRead(node, p).some((f) => f.content.includes(runDir) || f.content.includes(quoted));
  if (!used) return [];
  // systemd creates /run/… for the unit's user and removes it on stop; elsewhere the unit makes it.
  // RuntimeDirectory= is a space-separated list with specifiers and no quoting: plain paths only.
  const plain = runDir.startsWith('/run/') && hostPathProblem(runDir) === undefined;
  return plain ? [`RuntimeDirectory=${runDir.slice(5)}`] : [`ExecStartPre=/usr/bin/mkdir -p ${systemdQuote(runDir)}`];
}

/** One systemd unit per process of a node, running the Debian package's binary with the planned flags. */
export function systemdUnits(node: NodeSpec, layout: Layout): UnitFile[] {
  return node.processes.map((p, i) => {
    const user = SERVICE_USER[p.binary];
    const signal = RELOAD_SIGNAL[p.binary];
    // keepalived tracks the gateway beside it; starting after it avoids a first failing check.
    const after = i > 0 ? [unitName(node, node.processes[0] as ProcessSpec)] : [];
    const lines = [
      '# Generated by promha from the topology file: edit the topology, not this file.',
      '[Unit]',
      `Description=promha ${node.role} ${node.name} (${node.set}): ${p.name}`,
      `After=network-online.target${after.map((a) => ` ${a}`).join('')}`,
      'Wants=network-online.target',
      // Keep restarting: a member that gives up leaves its set with one member.
      'StartLimitIntervalSec=0',
      '',
      '[Service]',
      'Type=simple',
      `User=${user}`,
      `Group=${user}`,
      ...runtimeDirectory(node, p, layout.runDir(node.name)),
      `ExecStart=${execStart(p)}`,
      ...(signal ? [`ExecReload=/bin/kill -${signal} $MAINPID`] : []),
      'Restart=on-failure',
      'RestartSec=5s',
      ...(p.binary === 'prometheus' ? ['LimitNOFILE=65536', 'TimeoutStopSec=5min'] : []),
      ...(user === 'root' ? [] : ['NoNewPrivileges=true']),
      '',
      '[Install]',
      'WantedBy=multi-user.target',
      '',
    ];
    return { name: unitName(node, p), process: p, user, content: lines.join('\n') };
  });
}
