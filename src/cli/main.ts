import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
// Commands load their modules when they run: `promha check` does not pay for the
// runtime, the dashboard or the drills.
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { checkReport, runCheck, faultsJson, formatFaults, formatReport } from '../commands/check.ts';
import { init, SCHEMA_FILE } from '../commands/init.ts';
import { RENDER_TARGETS, type RenderTarget } from '../commands/render-targets.ts';
import type { DashboardCommandOptions } from '../commands/dashboard.ts';
import type { UpCommandOptions } from '../commands/up.ts';
import { registerDemoCommand } from '../commands/demo.ts';
import { DEFAULT_DASHBOARD_LISTEN } from '../dashboard/listen.ts';
import { SCENARIO_NAMES } from '../drills/scenario-names.ts';
import { ExitError, ValidationError } from '../errors.ts';
import { formatLocation } from '../location.ts';
import { RELEASE_NAMES, type ReleaseName } from '../release/release.ts';
import { expectedFailure } from './expected-failure.ts';
import { lines, processIo, type CliIo } from './io.ts';
import { boundRegexBacktracking } from './regex-budget.ts';

function positiveSeconds(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) === 0) throw new InvalidArgumentError('not a whole number of seconds above 0');
  return Number(text);
}

function faultCount(text: string): number {
  if (!/^[1-9]$/.test(text)) throw new InvalidArgumentError('a number of failed hosts from 1 to 9');
  return Number(text);
}

/** promha's version, from its package.json: one level above src/cli/ and dist/cli/ alike. */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

interface ApplyCommandOptions {
  readonly dryRun?: boolean;
  readonly json?: boolean;
  readonly gateTimeout?: number;
  readonly stateDir: string;
  readonly release?: ReleaseName;
  readonly hosts?: boolean;
  readonly sshConfig?: string;
  readonly sshUser?: string;
  readonly configRoot: string;
  readonly dataRoot: string;
}

function program(io: CliIo): Command {
  const out = lines(io);
  const cli = new Command('promha')
    .description('High-availability Prometheus topologies: declare, check, render and run them')
    .version(packageVersion(), '-V, --version', "print promha's version")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) });

  cli
    .command('init')
    .argument('[file]', 'topology file to write', 'promha.yaml')
    .description("write the seed's topology as a commented starter file (never overwrites)")
    .action(async (file: string) => {
      await init(file);
      out(`wrote ${file}: the seed topology (4 scraper sets, 2 pushgateway sets, 1 federator set, 2 + 1 Alertmanagers)`);
      out(`next: promha check ${file} && promha render ${file} --out out/`);
    });

  const releaseOption = (byDefault = "the topology's `release`, else this machine's, else bookworm") =>
    new Option('--release <release>', `the Debian release of the components (default: ${byDefault})`).choices(RELEASE_NAMES);

  cli
    .command('check')
    .argument('[file]', 'topology file', 'promha.yaml')
    .option('--json', 'print findings as JSON')
    .option('--faults [k]', 'also print what every combination of up to k failed hosts loses (default 2); exit 1 if one host alone loses anything', faultCount)
    .addOption(releaseOption())
    .description('verify the topology against the seed rules and the dedup design; exit 1 on errors')
    .action(async (file: string, o: { json?: boolean; release?: ReleaseName; faults?: number | true }) => {
      if (o.faults === undefined) {
        const report = await runCheck(file, o.release);
        out(o.json ? JSON.stringify(report, null, 2) : formatReport(report, io.paint));
        if (report.errors > 0) throw new ExitError(1);
        return;
      }
      const k = o.faults === true ? 2 : o.faults;
      const { faultAnalysis } = await import('../faults/matrix.ts');
      const { loadTopology } = await import('../topology/load.ts');
      const topology = await loadTopology(file);
      const report = await checkReport(topology, o.release);
      const faults = faultAnalysis(topology.spec, k);
      out(o.json ? JSON.stringify({ ...report, faults: faultsJson(faults) }, null, 2) : `${formatReport(report, io.paint)}\n\n${formatFaults(faults, io.paint)}`);
      // Something lost with every host up is lost with any one host down too.
      if (report.errors > 0 || faults.singlePointsOfFailure.length > 0 || faults.lostWithoutFailure.length > 0) throw new ExitError(1);
    });


  cli
    .command('render')
    .argument('[file]', 'topology file', 'promha.yaml')
    .requiredOption('--out <dir>', 'directory to write, one subdirectory per member')
    .option('--config-root <dir>', 'where the configs will live on the hosts', '/etc/promha')
    .option('--data-root <dir>', 'where data will live on the hosts', '/var/lib/promha')
    .addOption(new Option('--target <target>', 'one bundle per host, or Kubernetes manifests').choices(RENDER_TARGETS).default('hosts'))
    .option('--namespace <ns>', 'the Kubernetes namespace (--target kubernetes)', 'promha')
    .addOption(releaseOption())
    .description('write one bundle per host (configs, systemd units, packages, install.sh), or Kubernetes manifests')
    .action(async (file: string, o: { out: string; configRoot: string; dataRoot: string; target: RenderTarget; namespace: string; release?: ReleaseName }) => {
      const { runRender } = await import('../commands/render.ts');
      const r = await runRender(file, o);
      out(o.target === 'kubernetes' ? `rendered ${r.nodes} Kubernetes objects (${r.written.length} files) into ${o.out}, namespace ${o.namespace}` : `rendered ${r.nodes} host bundles (${r.written.length} files) into ${o.out}`);
    });

  const stateOption = ['--state-dir <dir>', 'where the running stack keeps configs, data and logs', '.promha'] as const;
  cli
    .command('setup')
    .addOption(releaseOption())
    .option('--from <dir>', "use the binaries in this directory (an upstream release's files) as the release's, instead of Debian's packages")
    .description("install the real components: this machine's release with apt; another release's binaries from Debian's archive (or --from a directory) into promha's cache")
    .action(async (o: { release?: ReleaseName; from?: string }) => (await import('../commands/setup.ts')).runSetup(out, o.release, o.from));

  cli
    .command('up')
    .argument('[file]', 'topology file', 'promha.yaml')
    .option('--network <mode>', 'netns (each member its own host; default as root) or loopback (127.0.0.x, no root)')
    .option('--subnet <cidr>', 'netns address range', '10.213.0.0/24')
    .option('--detach', 'return once everything is ready')
    .option('--bin <name=path...>', 'binary paths, e.g. prometheus=/opt/prometheus/prometheus')
    .option('--timeout <seconds>', 'readiness timeout per member', '90')
    .option('--dashboard <host:port>', 'loopback address of the live dashboard', DEFAULT_DASHBOARD_LISTEN)
    .option('--no-dashboard', 'run without the dashboard')
    .addOption(releaseOption())
    .option(...stateOption)
    .description('start every member of the topology locally, with the real binaries, plus a demo workload')
    .action(async (file: string, o: UpCommandOptions & { network?: string }) => {
      if (o.network && o.network !== 'netns' && o.network !== 'loopback') throw new ExitError(2, `--network ${o.network}: use netns or loopback`);
      await (await import('../commands/up.ts')).runUp(file, o, io);
    });

  cli
    .command('down')
    .option(...stateOption)
    .description('stop everything `up` started; remove namespaces and links')
    .action(async (o: { stateDir: string }) => out(await (await import('../commands/status.ts')).runDown(o.stateDir)));

  cli
    .command('status')
    .option('--json', 'print as JSON')
    .option(...stateOption)
    .description('every member: role, addresses, state')
    .action(async (o: { stateDir: string; json?: boolean }) => {
      const { collectStatus, formatStatus } = await import('../commands/status.ts');
      const { StateDir } = await import('../runtime/state.ts');
      const s = await collectStatus(new StateDir(o.stateDir));
      out(o.json ? JSON.stringify(s, null, 2) : formatStatus(s, io.paint));
      if (s.members.some((m) => m.state !== 'ready')) throw new ExitError(1);
    });

  cli
    .command('logs')
    .argument('<member>', 'member name, e.g. scraper1-1')
    .option('-n, --lines <n>', 'only the last N lines')
    .option(...stateOption)
    .description("print a member's logs")
    .action(async (member: string, o: { stateDir: string; lines?: string }) => out(await (await import('../commands/logs.ts')).runLogs(o.stateDir, member, o.lines ? Number(o.lines) : undefined)));

  cli
    .command('fault')
    .argument('<kind>', 'exporter or pusher')
    .argument('<target>', 'exporter group or pushgateway set')
    .argument('<action>', 'down, slow [SECONDS], ok, value N')
    .argument('[arg]')
    .option(...stateOption)
    .description('inject a demo fault: `fault exporter exporters1 value 3`, `fault exporter exporters1 down`, `fault pusher pushgateway1 value 1`')
    .action(async (kind: string, target: string, action: string, arg: string | undefined, o: { stateDir: string }) =>
      out(await (await import('../commands/fault.ts')).runFault(o.stateDir, kind, target, action, arg)),
    );

  cli
    .command('doctor')
    .argument('[file]', 'topology file', 'promha.yaml')
    .option('--json', 'print the results as JSON')
    .option(...stateOption)
    .addOption(releaseOption("the local stack's, else the topology's `release`, else this machine's, else bookworm"))
    .description('verify the running system against the topology and the design; exit 1 if a check fails')
    .action(async (file: string, o: { json?: boolean; stateDir: string; release?: ReleaseName }) => {
      const { formatDoctor, runDoctor } = await import('../commands/doctor.ts');
      const report = await runDoctor(file, o.stateDir, o.release);
      out(o.json ? JSON.stringify(report, null, 2) : formatDoctor(report, io.paint));
      if (report.fail > 0) throw new ExitError(1);
    });

  cli
    .command('apply')
    .argument('[file]', 'topology file', 'promha.yaml')
    .option('--dry-run', 'print the rollout plan and change nothing')
    .option('--json', 'print the plan (and what was done) as JSON')
    .option('--gate-timeout <seconds>', 'how long each step may take to pass its checks (default: max(60, 4 × the federate interval))', positiveSeconds)
    .option(...stateOption)
    .option('--hosts', "change the deployment at the topology's addresses over SSH (each member's bundle and install.sh), not the local stack")
    .option('--ssh-config <file>', "--hosts: the ssh client configuration (ssh -F); default: ssh's own")
    .option('--ssh-user <user>', '--hosts: the remote user; default: what the ssh configuration says')
    .option('--config-root <dir>', '--hosts: where the configs live on the hosts, as rendered', '/etc/promha')
    .option('--data-root <dir>', '--hosts: where data lives on the hosts, as rendered', '/var/lib/promha')
    .addOption(releaseOption("the topology's `release`, else the running stack's; another one upgrades member by member (--hosts: once the hosts have its packages)"))
    .description('change the running stack (or, with --hosts, the deployment) to what the topology renders now, one member at a time, each step gated by its doctor checks; a failed gate rolls that member back (exit 1)')
    .action(async (file: string, o: ApplyCommandOptions) => {
      const { applyLocal } = await import('../apply/local.ts');
      const { applyHosts } = await import('../apply/hosts.ts');
      const { formatRollout } = await import('../commands/apply.ts');
      const { loadTopology } = await import('../topology/load.ts');
      const { StateDir } = await import('../runtime/state.ts');
      const topology = await loadTopology(file);
      const progress = (line: string, ok = true) => {
        if (!o.json) out(ok ? line : io.paint.red(line));
      };
      const common = {
        topology,
        ...(o.release ? { release: o.release } : {}),
        dryRun: o.dryRun ?? false,
        ...(o.gateTimeout ? { gateTimeoutMs: o.gateTimeout * 1000 } : {}),
        progress,
      };
      const r = o.hosts
        ? await applyHosts({
            ...common,
            ssh: { ...(o.sshConfig ? { configFile: o.sshConfig } : {}), ...(o.sshUser ? { user: o.sshUser } : {}) },
            configRoot: o.configRoot,
            dataRoot: o.dataRoot,
          })
        : await applyLocal({ ...common, stateDir: new StateDir(o.stateDir) });
      if (o.json) out(JSON.stringify({ dryRun: o.dryRun ?? false, steps: r.steps, done: r.done }, null, 2));
      else if (o.dryRun || r.steps.length === 0) out(formatRollout(r.steps, io.paint));
      else out(io.paint.green(`applied: ${r.done} step(s), every gate held`));
    });

  cli
    .command('dashboard')
    .argument('[file]', 'topology file', 'promha.yaml')
    .option('--listen <host:port>', 'loopback address to serve on', DEFAULT_DASHBOARD_LISTEN)
    .option(...stateOption)
    .description('serve the live topology dashboard: the running local stack, or the deployment at the topology addresses')
    .action(async (file: string, o: DashboardCommandOptions) => (await import('../commands/dashboard.ts')).runDashboard(file, o, io));

  cli
    .command('drill')
    .argument('[scenarios...]', `scenarios to run (default: all): ${SCENARIO_NAMES.join(', ')}; or \`chaos\` for a random campaign`)
    .option('-f, --file <file>', 'topology file', 'promha.yaml')
    .option('--json', 'print the outcomes as JSON')
    .option('--report <file>', 'also write a Markdown report')
    .option(...stateOption)
    .addOption(releaseOption("the running stack's; another release is refused"))
    .option('--duration <duration>', 'chaos: how long the campaign runs (default 10m)')
    .option('--seed <n>', 'chaos: the seed of the fault schedule and the alert load (default: random, printed)')
    .option('--faults <list>', 'chaos: the faults to inject, comma-separated (default: all that apply)')
    .option('--max-concurrent <k>', 'chaos: faults at once, at most (default 2)')
    .option('--replay <file>', "chaos: run a recorded campaign's schedule again (its JSON report)")
    .option('--shrink', 'chaos: after a violation, drop faults while it still occurs')
    .description('failover drills on the running stack: inject a fault, drive a test alert, measure; exit 1 if an expectation fails. `drill chaos`: random faults under a steady alert load, the HA promises checked throughout')
    .action(async (names: string[], o: { file: string; json?: boolean; report?: string; stateDir: string; release?: ReleaseName } & import('../commands/chaos.ts').ChaosCommandOptions) => {
      if (names[0] === 'chaos') {
        if (names.length > 1) throw new ExitError(2, `drill chaos takes no scenario names, got ${names.slice(1).join(' ')}`);
        const { runChaos, saveCampaign } = await import('../commands/chaos.ts');
        const { formatCampaign } = await import('../chaos/report.ts');
        const { loadTopology } = await import('../topology/load.ts');
        const { StateDir } = await import('../runtime/state.ts');
        const stateDir = new StateDir(o.stateDir);
        const report = await runChaos(await loadTopology(o.file), stateDir, o, (line) => {
          if (!o.json) out(line);
        });
        const saved = await saveCampaign(stateDir, report, o.report);
        out(o.json ? JSON.stringify(report, null, 2) : `\n${formatCampaign(report).replace('<this report as JSON>', saved)}`);
        if (report.violations.length > 0) throw new ExitError(1);
        return;
      }
      const { runDrills, selectScenarios } = await import('../drills/run.ts');
      const { formatDrills, markdownReport } = await import('../drills/report.ts');
      const { loadTopology } = await import('../topology/load.ts');
      const { StateDir } = await import('../runtime/state.ts');
      const scenarios = selectScenarios(names);
      // Under --json, stdout is the JSON alone: progress goes to stderr.
      const progress = (line: string) => (o.json ? io.stderr(`${line}\n`) : out(line));
      const outcomes = await runDrills(await loadTopology(o.file), new StateDir(o.stateDir), scenarios, progress, o.release);
      out(o.json ? JSON.stringify(outcomes, null, 2) : `\n${formatDrills(outcomes)}`);
      if (o.report) await writeFile(o.report, markdownReport(outcomes));
      if (outcomes.some((x) => !x.ok)) throw new ExitError(1);
    });

  cli
    .command('stop')
    .argument('<member>', 'member name')
    .option(...stateOption)
    .description('stop one member of the running stack (its processes); `start` brings it back')
    .action(async (member: string, o: { stateDir: string }) => {
      const { stopMember } = await import('../runtime/members.ts');
      const { StateDir } = await import('../runtime/state.ts');
      out(`${member}: stopped ${await stopMember(new StateDir(o.stateDir), member)} process(es)`);
    });

  cli
    .command('start')
    .argument('<member>', 'member name')
    .option(...stateOption)
    .description('start a stopped member again, with its exact command line')
    .action(async (member: string, o: { stateDir: string }) => {
      const { startMember } = await import('../runtime/members.ts');
      const { StateDir } = await import('../runtime/state.ts');
      out(`${member}: started ${await startMember(new StateDir(o.stateDir), member)} process(es)`);
    });

  registerDemoCommand(cli, io);

  cli
    .command('test')
    .description('test what the operator wrote against the HA design')
    .command('rules')
    .argument('<files...>', 'promtool rule test files (the standard `promtool test rules` format)')
    .option('-f, --file <file>', 'topology file (which series are pushed, the failover gap)', 'promha.yaml')
    .option('--json', 'print the results as JSON')
    .addOption(releaseOption())
    .description("run rule tests with the release's promtool as written and as the federators see the input: merged scraper copies, a scraper member lost, a gateway failover's push gap; exit 1 when a test fails, an outcome changes or a condition cannot be run")
    .action(async (files: string[], o: { file: string; json?: boolean; release?: ReleaseName }) => {
      const { formatTestRules, runTestRules, testRulesExit } = await import('../commands/test-rules.ts');
      const report = await runTestRules(files, o.file, o.release);
      out(o.json ? JSON.stringify(report, null, 2) : formatTestRules(report, io.paint));
      testRulesExit(report);
    });

  cli
    .command('schema')
    .option('--out <file>', `write to a file (e.g. ${SCHEMA_FILE}) instead of stdout`)
    .description('print the draft-7 JSON Schema of the topology file')
    .action(async (o: { out?: string }) => {
      const { topologyJsonSchema } = await import('../topology/schema.ts');
      const text = `${JSON.stringify(topologyJsonSchema(), null, 2)}\n`;
      if (o.out !== undefined) await (await import('../render/write.ts')).writeOutputFile(o.out, text);
      else io.stdout(text);
    });
  return cli;
}

/** What a failure prints under `--json`: always one JSON document on stdout. */
function jsonError(code: number, message: string): string {
  return `${JSON.stringify({ error: { exitCode: code, message } }, null, 2)}\n`;
}

/**
 * Runs one promha command line and returns its exit code. The one place where typed
 * errors become messages and exit codes: 0 ok, 1 the check or the system failed,
 * 2 unusable input or command line, 70 a defect. Prints only through `io`.
 */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  boundRegexBacktracking();
  const json = argv.includes('--json');
  try {
    await program(io).parseAsync(argv, { from: 'user' });
    return 0;
  } catch (caught) {
    const e = expectedFailure(caught) ?? caught;
    if (e instanceof ValidationError) {
      if (json) io.stdout(`${JSON.stringify({ problems: e.problems }, null, 2)}\n`);
      else
        for (const p of e.problems)
          io.stderr(`${formatLocation(p.location)}: ${io.paint.red('error')} ${p.message}${p.hint ? `\n    ${io.paint.cyan('fix:')} ${p.hint}` : ''}\n`);
      return 2;
    }
    if (e instanceof ExitError) {
      // A code without a message follows output the command already printed (check --json).
      if (e.message) {
        io.stderr(`${e.message}\n`);
        if (json) io.stdout(jsonError(e.code, e.message));
      }
      return e.code;
    }
    if (e instanceof CommanderError) {
      const code = e.exitCode === 0 ? 0 : 2;
      if (code !== 0 && json) io.stdout(jsonError(code, e.message));
      return code;
    }
    const message = `promha: unexpected error: ${e instanceof Error ? e.message : String(e)}`;
    io.stderr(`${message}\n`);
    if (json) io.stdout(jsonError(70, message));
    return 70;
  }
}
