import { ExitError } from '../errors.ts';
import { chooseRelease } from '../release/choose.ts';
import type { ReleaseName } from '../release/release.ts';
import type { BinaryName } from '../plan/node-spec.ts';
import type { NetworkMode } from '../runtime/local-topology.ts';
import { isRunning } from '../runtime/process.ts';
import { StateDir } from '../runtime/state.ts';
import { down, up } from '../runtime/up.ts';
import { loadTopology } from '../topology/load.ts';
import { DEFAULT_DASHBOARD_LISTEN, parseLoopbackListen } from '../dashboard/server.ts';
import { formatStatus, collectStatus } from './status.ts';
import { memberUrl } from '../probe/client-security.ts';
import { lines, type CliIo } from '../cli/io.ts';

export interface UpCommandOptions {
  readonly network?: NetworkMode;
  readonly subnet?: string;
  readonly stateDir: string;
  readonly detach?: boolean;
  readonly bin?: string[];
  readonly timeout?: string;
  /** Loopback host:port of the dashboard; false with --no-dashboard. */
  readonly dashboard?: string | false;
  /** --release: the release whose binaries must run. */
  readonly release?: ReleaseName;
}

/** `--bin prometheus=/opt/prometheus` pairs. */
export function parseBins(pairs: readonly string[] = []): Partial<Record<BinaryName, string>> {
  const out: Partial<Record<BinaryName, string>> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    const name = p.slice(0, i) as BinaryName;
    if (i < 1 || !['prometheus', 'prometheus-alertmanager', 'prometheus-pushgateway', 'keepalived', 'haproxy'].includes(name))
      throw new ExitError(2, `--bin ${p}: use NAME=PATH with NAME one of prometheus, prometheus-alertmanager, prometheus-pushgateway, keepalived, haproxy`);
    out[name] = p.slice(i + 1);
  }
  return out;
}

export async function runUp(file: string, o: UpCommandOptions, io: CliIo): Promise<void> {
  const print = lines(io);
  const pc = io.paint;
  const topology = await loadTopology(file);
  const mode: NetworkMode = o.network ?? (process.getuid?.() === 0 ? 'netns' : 'loopback');
  const stateDir = new StateDir(o.stateDir);
  const dashboard = o.dashboard === false ? undefined : o.dashboard ?? DEFAULT_DASHBOARD_LISTEN;
  if (dashboard) parseLoopbackListen(dashboard);
  const release = await chooseRelease(o.release, topology.spec.release);
  print(pc.dim(`starting ${topology.file} in ${mode} mode with ${release.name} (${release.title}) binaries (state in ${stateDir.root})`));
  const result = await up(topology, {
    mode,
    stateDir,
    ...(o.subnet ? { subnet: o.subnet } : {}),
    binaries: parseBins(o.bin),
    release,
    timeoutMs: o.timeout ? Number(o.timeout) * 1000 : 90_000,
    ...(dashboard ? { dashboard } : {}),
    progress: (line, ok) => print(`  ${ok ? pc.green('✔') : pc.red('✘')} ${line}`),
  });
  const versions = Object.entries(result.state.versions ?? {}).map(([b, v]) => `${b} ${v}`);
  print(`\nready in ${result.seconds.toFixed(1)} s: ${release.name}, ${versions.join(', ')}\n`);
  print(formatStatus(await collectStatus(stateDir), pc));
  const ui = (role: string) => result.state.nodes.filter((n) => n.role === role).map((n) => `${memberUrl(n.localAddress)}/`);
  print(`\nopen: federators ${ui('federator').join(' ')}`);
  print(`      alertmanagers ${ui('alertmanager').join(' ')}`);
  print(`      notifications ${result.state.webhookUrl}`);
  if (result.state.dashboardUrl) print(`      dashboard ${result.state.dashboardUrl}`);
  if (o.detach) {
    print(pc.dim('\ndetached: `promha status`, `promha logs MEMBER`, `promha down`'));
    return;
  }
  print(pc.dim('\nrunning in the foreground: Ctrl-C stops everything'));
  await new Promise<void>((resolve) => {
    // Signal listeners alone do not keep Node running; the watch does, and it reports
    // a member that dies while the stack runs.
    const reported = new Set<number>();
    const watch = setInterval(() => {
      for (const n of result.state.nodes)
        for (const p of n.processes)
          if (!reported.has(p.pid) && !isRunning(p)) {
            reported.add(p.pid);
            print(pc.red(`${p.name} exited (\`promha logs ${n.name}\`)`));
          }
    }, 2000);
    const stop = () => {
      clearInterval(watch);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  print('\nstopping…');
  const r = await down(stateDir);
  print(`stopped ${r.stopped} processes`);
}
