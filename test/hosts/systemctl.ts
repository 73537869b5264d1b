// The `systemctl` of the test hosts. A network namespace cannot run systemd, so each test
// host gets this in its PATH: it runs the units install.sh put in /etc/systemd/system the
// way systemd runs promha's units (ExecStart as User=, RuntimeDirectory=, ExecStartPre=,
// ExecReload= with $MAINPID), and keeps what it started in /run/promha-units of the host.
// Only the verbs install.sh and `promha apply` use; no restart on failure.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execStartOf, parseSystemdCommand } from '../../src/render/systemd.ts';

const UNITS = '/etc/systemd/system';
const STATE = '/run/promha-units';

const argv = process.argv.slice(2);
const quiet = argv.includes('--quiet') || argv.includes('-q');
const now = argv.includes('--now');
const [verb, ...units] = argv.filter((a) => !a.startsWith('-'));

const unitFile = (u: string) => path.join(UNITS, u);
const statePath = (u: string, what: string) => path.join(STATE, `${u}.${what}`);

function pidOf(u: string): number | undefined {
  const pid = Number(readFileSync(statePath(u, 'pid'), 'utf8').trim());
  try {
    process.kill(pid, 0);
    // A zombie or a reused pid is not the unit: its command line must still be the unit's binary.
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
    return cmd === execStartOf(readFileSync(unitFile(u), 'utf8'))?.[0] ? pid : undefined;
  } catch {
    return undefined;
  }
}
const active = (u: string) => existsSync(statePath(u, 'pid')) && pidOf(u) !== undefined;

function field(text: string, key: string): string[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${key}=`))
    .map((l) => l.slice(key.length + 1));
}

function fail(code: number, message: string): never {
  if (!quiet) process.stderr.write(`systemctl: ${message}\n`);
  process.exit(code);
}

function read(u: string): string {
  if (!existsSync(unitFile(u))) fail(5, `Unit ${u} not found.`);
  return readFileSync(unitFile(u), 'utf8');
}

function start(u: string): void {
  if (active(u)) return;
  const text = read(u);
  const user = field(text, 'User')[0] ?? 'root';
  for (const dir of field(text, 'RuntimeDirectory').flatMap((d) => d.split(/\s+/)).filter(Boolean)) {
    mkdirSync(path.join('/run', dir), { recursive: true });
    spawnSync('chown', [`${user}:${user}`, path.join('/run', dir)]);
  }
  for (const pre of field(text, 'ExecStartPre')) {
    const [cmd, ...args] = parseSystemdCommand(pre);
    if (spawnSync(cmd as string, args, { stdio: 'inherit' }).status !== 0) fail(1, `${u}: ExecStartPre failed`);
  }
  const words = execStartOf(text);
  if (!words?.[0]) fail(1, `${u} has no ExecStart`);
  const log = openSync(statePath(u, 'log'), 'a');
  // setpriv execs the binary: the pid recorded is the server's own, as systemd's MAINPID.
  const child = spawn('setpriv', [`--reuid=${user}`, `--regid=${user}`, '--init-groups', '--', ...words], { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  child.unref();
  writeFileSync(statePath(u, 'pid'), `${child.pid}\n`);
}

function stop(u: string): void {
  const pid = existsSync(statePath(u, 'pid')) ? pidOf(u) : undefined;
  if (pid === undefined) return;
  process.kill(pid, 'SIGTERM');
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    try {
      process.kill(pid, 0);
    } catch {
      break;
    }
    spawnSync('sleep', ['0.1']);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* it stopped */
  }
  rmSync(statePath(u, 'pid'), { force: true });
}

function reload(u: string, orRestart: boolean): void {
  const text = read(u);
  const reloadLine = field(text, 'ExecReload')[0];
  const pid = active(u) ? pidOf(u) : undefined;
  if (pid === undefined || reloadLine === undefined) {
    if (!orRestart) fail(1, `${u} cannot reload`);
    stop(u);
    start(u);
    return;
  }
  const [cmd, ...args] = parseSystemdCommand(reloadLine).map((w) => (w === '$MAINPID' ? String(pid) : w));
  if (spawnSync(cmd as string, args, { stdio: 'inherit' }).status !== 0) fail(1, `${u}: ExecReload failed`);
}

mkdirSync(STATE, { recursive: true });
switch (verb) {
  case 'daemon-reload':
    break;
  case 'enable':
    for (const u of units) {
      read(u);
      writeFileSync(statePath(u, 'enabled'), '');
    }
    break;
  case 'disable':
    for (const u of units) {
      rmSync(statePath(u, 'enabled'), { force: true });
      if (now) stop(u);
    }
    break;
  case 'is-enabled':
    process.exit(units.every((u) => existsSync(statePath(u, 'enabled'))) ? 0 : 1);
    break;
  case 'is-active':
    process.exit(units.every(active) ? 0 : 3);
    break;
  case 'start':
    for (const u of units) start(u);
    break;
  case 'stop':
    for (const u of units) stop(u);
    break;
  case 'restart':
    for (const u of units) {
      stop(u);
      start(u);
    }
    break;
  case 'reload':
  case 'reload-or-restart':
    for (const u of units) reload(u, verb === 'reload-or-restart');
    break;
  default:
    fail(1, `unknown verb ${verb ?? '(none)'}`);
}
