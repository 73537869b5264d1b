import { mkdir, readFile, rm, symlink, writeFile, chmod } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { formatReport, formatFaults, faultsJson, checkReport } from '../../src/commands/check.ts';
import { campaignTargets, chaosMembers } from '../../src/chaos/campaign.ts';
import { chaosSettings } from '../../src/commands/chaos.ts';
import { layoutFor } from '../../src/commands/render.ts';
import type { TestRulesReport } from '../../src/commands/test-rules.ts';
import { expectedFailure } from '../../src/cli/expected-failure.ts';
import { main } from '../../src/cli/main.ts';
import { plain } from '../../src/cli/paint.ts';
import { DrillContext } from '../../src/drills/context.ts';
import { ExitError, ValidationError } from '../../src/errors.ts';
import { faultAnalysis } from '../../src/faults/matrix.ts';
import type { Location } from '../../src/location.ts';
import type { Layout, NodeSpec } from '../../src/plan/node-spec.ts';
import { plan } from '../../src/plan/plan.ts';
import { hostBundle } from '../../src/render/host-bundle.ts';
import { dataDirProblems } from '../../src/render/host-paths.ts';
import { kubernetesFiles } from '../../src/render/kubernetes/files.ts';
import { RELEASES, type Release, type ReleaseName } from '../../src/release/release.ts';
import { PLAN_FILE, planSummary, writeRender } from '../../src/render/write.ts';
import { StateDir } from '../../src/runtime/state.ts';
import { prepareSecurity } from '../../src/security/material.ts';
import { loadTopology } from '../../src/topology/load.ts';
import type { Topology } from '../../src/topology/topology.ts';
import { STATE_DIR, TOPOLOGY_FILE, type FuzzInput } from './input.ts';
import { scanRendered } from './scan.ts';
import type { Artifact } from './tools.ts';

export type Stage = 'check' | 'faults' | 'render-hosts' | 'render-kubernetes' | 'test-rules' | 'chaos-replay' | 'state' | 'tools' | 'worker';
export type FailureKind = 'trace' | 'exit-code' | 'unlocated' | 'injection' | 'invalid-output' | 'data-loss' | 'hang' | 'crash' | 'refused-by-tool' | 'accepted-non-utf8';

export interface Failure {
  readonly kind: FailureKind;
  readonly stage: Stage;
  /** What went wrong, with the message or the offending line. */
  readonly detail: string;
  /** Stable across inputs that fail the same way: what the shrinker keeps and the report groups by. */
  readonly signature: string;
}

export interface Outcome {
  /** The exit code `promha check` would return. */
  readonly check: number;
  /** The exit code of `promha render --target hosts`, when check passed. */
  readonly hosts?: number;
  /** The exit code of `promha render --target kubernetes`, when check passed. */
  readonly kubernetes?: number;
  /** `promha check --faults K`, when the input asks for it. */
  readonly faults?: number;
  /** `promha test rules`, when the input has test files. */
  readonly testRules?: number;
  /** `promha drill chaos --replay`, up to the campaign (which needs a stack). */
  readonly chaos?: number;
  /** The commands that read a stack's state file: the worst exit code of them. */
  readonly state?: number;
  readonly failures: readonly Failure[];
  /** Rendered files for the real tools, which the runner runs outside the worker. */
  readonly artifacts?: readonly Artifact[];
}

export interface EvaluateOptions {
  /** The release of `--release`: what check judges for, render renders and the tools are. */
  readonly release: ReleaseName;
  /** When set, render's files go to the tools, the VIP members' rendered with this --config-root. */
  readonly toolConfigRoot?: string;
  /** Told the stage about to run: a hang is reported with it. */
  readonly progress?: (stage: Stage) => void;
}

const ALLOWED_EXITS = new Set([0, 1, 2]);

/** Lines of each file of the project, by absolute path: a location must fall inside its file. */
type LineCounts = ReadonlyMap<string, number>;

function isLocation(l: Location | undefined, lines: LineCounts = new Map()): boolean {
  if (!l || typeof l.file !== 'string' || l.file === '' || !Number.isInteger(l.line) || l.line < 1 || !Number.isInteger(l.column) || l.column < 1) return false;
  const count = lines.get(path.resolve(l.file));
  return count === undefined || l.line <= count;
}

function lineCounts(dir: string, input: FuzzInput): LineCounts {
  const count = (text: string) => text.split(/\r\n|\r|\n/).length;
  const texts: Record<string, string> = { [TOPOLOGY_FILE]: input.topology, ...input.files };
  for (const [name, b64] of Object.entries(input.bytes ?? {})) texts[name] = Buffer.from(b64, 'base64').toString('utf8');
  return new Map(Object.entries(texts).map(([name, text]) => [path.join(dir, name), count(text)] as const));
}

/** The first frame in promha's own sources: where an unexpected error came from. */
function origin(e: Error): string {
  const frame = (e.stack ?? '').split('\n').find((l) => l.includes('/src/') && !l.includes('node_modules'));
  const m = frame ? /\/(src\/[^:)]+)/.exec(frame) : null;
  const fn = frame ? /at (?:async )?([\w.$<>]+) \(/.exec(frame)?.[1] : undefined;
  return m ? `${m[1]}${fn ? ` ${fn}` : ''}` : 'outside src/';
}

/** Messages without their numbers and quoted parts, so the same bug gets one signature. */
export const normalize = (s: string): string =>
  s
    .split('\n')[0]!
    .split(': ')[0]!
    .replace(/"[^"]*"|'[^']*'/g, '…')
    .replace(/\d+/g, 'N')
    .slice(0, 100);

/**
 * Runs one stage as src/cli/main.ts would and returns its exit code: a
 * ValidationError is 2 (and must be located), an ExitError its code (0, 1 or 2), and
 * anything else a failure (the CLI would print "unexpected error" and exit 70).
 */
async function stage(name: Stage, failures: Failure[], run: () => Promise<number>, lines: LineCounts = new Map()): Promise<number> {
  try {
    return await run();
  } catch (caught) {
    // What the CLI makes of a path that cannot be read or written: exit 2 with its errno in words.
    const e = expectedFailure(caught) ?? caught;
    if (e instanceof ValidationError) {
      if (e.problems.length === 0) failures.push({ kind: 'unlocated', stage: name, detail: 'a ValidationError without problems', signature: `unlocated ${name} empty` });
      for (const p of e.problems)
        if (!isLocation(p.location, lines) || typeof p.message !== 'string' || p.message === '')
          failures.push({ kind: 'unlocated', stage: name, detail: `${JSON.stringify(p.location)}: ${p.message}`, signature: `unlocated ${name} ${normalize(String(p.message))}` });
      return 2;
    }
    if (e instanceof ExitError) {
      if (!ALLOWED_EXITS.has(e.code))
        failures.push({ kind: 'exit-code', stage: name, detail: `exit ${e.code}: ${e.message}`, signature: `exit-code ${name} ${e.code}` });
      return e.code;
    }
    const err = e instanceof Error ? e : new Error(String(e));
    failures.push({
      kind: 'trace',
      stage: name,
      detail: `${err.name}: ${err.message.slice(0, 500)}\n${(err.stack ?? '').split('\n').slice(1, 8).join('\n')}`,
      signature: `trace ${name} ${err.name} at ${origin(err)}: ${normalize(err.message)}`,
    });
    return 70;
  }
}

function scan(stageName: Stage, files: ReadonlyArray<{ path: string; content: string }>, failures: Failure[]): void {
  for (const f of files)
    for (const p of scanRendered(f.path, f.content))
      failures.push({ kind: p.kind, stage: stageName, detail: `${p.file}: ${p.detail}`, signature: `${p.kind} ${stageName} ${path.basename(p.file).replace(/^promha-.*-([a-z]+)\.service$/, '*-$1.service')}` });
}

async function checkStage(file: string, lines: LineCounts, failures: Failure[], release: Release): Promise<{ code: number; topology?: Topology }> {
  let topology: Topology | undefined;
  const code = await stage(
    'check',
    failures,
    async () => {
      topology = await loadTopology(file);
      const report = await checkReport(topology, release.name);
      // What the CLI prints: both forms must be producible.
      formatReport(report);
      JSON.stringify(report);
      for (const f of report.findings)
        if (!isLocation(f.location, lines) || !f.message || !f.hint)
          failures.push({ kind: 'unlocated', stage: 'check', detail: `${f.code}: ${JSON.stringify(f.location)}: ${f.message}`, signature: `unlocated check ${f.code}` });
      return report.errors > 0 ? 1 : 0;
    },
    lines,
  );
  return topology ? { code, topology } : { code };
}

/**
 * A command line through the CLI itself (src/cli/main.ts), as a user runs it: its exit
 * code, and a failure for exit 70 (a defect: "unexpected error") or any code but 0, 1, 2.
 */
async function cli(name: Stage, args: string[], failures: Failure[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), paint: plain });
  if (code === 70) {
    const message = stderr.trim().replace(/^promha: unexpected error: /, '');
    failures.push({ kind: 'trace', stage: name, detail: `promha ${args.slice(0, 2).join(' ')}: exit 70: ${message.slice(0, 1000)}`, signature: `trace ${name} ${normalize(message)}` });
  } else if (!ALLOWED_EXITS.has(code)) failures.push({ kind: 'exit-code', stage: name, detail: `exit ${code}: ${stderr.slice(0, 1000)}`, signature: `exit-code ${name} ${code}` });
  return { code, stdout, stderr };
}

/** `promha check FILE --faults K`: the check again, and what every combination of up to K failed hosts loses. */
async function faultsStage(file: string, k: number, failures: Failure[], release: Release): Promise<number> {
  return (await cli('faults', ['check', file, '--faults', String(k), '--release', release.name, '--json'], failures)).code;
}

async function contentOf(p: string): Promise<string | undefined> {
  return readFile(p, 'utf8').catch(() => undefined);
}

/** What runRender refuses before writing: data directories that overlap config or system directories. */
function assertDataDirs(nodes: readonly NodeSpec[], layout: Layout): void {
  const problems = dataDirProblems(nodes, layout);
  if (problems.length) throw new ExitError(2, problems.map((p) => p.message).join('\n'));
}

/** The files the real tools judge: every Prometheus config and rule file, every Alertmanager config, unit, keepalived.conf and haproxy.cfg. */
function artifactsOf(nodes: readonly NodeSpec[], layout: Layout, release: Release, toolNodes: readonly NodeSpec[], toolLayout: Layout): Artifact[] {
  const out: Artifact[] = [];
  for (const n of nodes) {
    const bundle = hostBundle(n, layout, release);
    const units: Array<{ path: string; content: string }> = [];
    for (const f of bundle) {
      const label = `${n.name}/${f.path}`;
      if (f.path === 'prometheus.yml') out.push({ tool: 'promtool-config', label, files: [{ path: 'prometheus.yml', content: f.content }] });
      else if (/^rules\/[^/]+\.ya?ml$/.test(f.path)) out.push({ tool: 'promtool-rules', label, files: [{ path: path.basename(f.path), content: f.content }] });
      else if (f.path === 'alertmanager.yml') out.push({ tool: 'amtool', label, files: [{ path: 'alertmanager.yml', content: f.content }] });
      else if (/^systemd\/[^/]+\.service$/.test(f.path)) units.push({ path: path.basename(f.path), content: f.content });
    }
    // The units of a member name each other (After=): verified together.
    if (units.length) out.push({ tool: 'systemd', label: `${n.name}/systemd`, files: units });
  }
  // keepalived.conf, haproxy.cfg and web.yml name their scripts, certificates and keys by absolute
  // path: those members are rendered again with the tools' --config-root, and their files written there.
  for (const n of toolNodes) {
    const bundle = hostBundle(n, toolLayout, release);
    const at = (f: { path: string }) => path.join(n.configDir, f.path);
    const files = bundle.map((f) => ({ path: at(f), content: f.content, mode: f.mode ?? 0o644 }));
    for (const target of ['keepalived.conf', 'haproxy.cfg'] as const)
      if (bundle.some((f) => f.path === target)) out.push({ tool: target === 'keepalived.conf' ? 'keepalived' : 'haproxy', label: `${n.name}/${target}`, files, targets: [at({ path: target })] });
    if (bundle.some((f) => f.path === 'web.yml'))
      out.push({ tool: 'promtool-web', label: `${n.name}/web.yml`, files: files.filter((f) => f.path === at({ path: 'web.yml' }) || f.path.startsWith(at({ path: 'tls/' }))), targets: [at({ path: 'web.yml' })] });
  }
  return out;
}

/**
 * `promha render --target hosts`, as runRender does it after its check: the data
 * directories refused, the security material read or generated, the bundles scanned
 * in memory. An input with a foreign file is also written with writeRender into an
 * --out directory holding that file, which must survive.
 */
async function hostsStage(topology: Topology, input: FuzzInput, outDir: string, failures: Failure[], o: EvaluateOptions, artifacts: Artifact[]): Promise<number> {
  const release = RELEASES[o.release];
  return stage('render-hosts', failures, async () => {
    const layout = layoutFor({});
    assertDataDirs(plan(topology, { layout, release }), layout);
    const security = await prepareSecurity(topology);
    const nodes = plan(topology, { layout, release, ...(security ? { security } : {}) });
    const files = nodes.flatMap((n) => hostBundle(n, layout, release).map((f) => ({ ...f, path: path.join(n.name, f.path) })));
    files.push({ path: PLAN_FILE, content: `${JSON.stringify(planSummary(nodes, release), null, 2)}\n` });
    scan('render-hosts', files, failures);
    if (o.toolConfigRoot !== undefined) {
      const toolLayout = layoutFor({ configRoot: o.toolConfigRoot });
      // Those with a keepalived.conf or haproxy.cfg, and in secure mode all of them (web.yml).
      const named = (all: readonly NodeSpec[]) => (security ? [...all] : all.filter((n) => n.role === 'pushgateway' || n.role === 'vip'));
      const toolNodes = named(nodes).length ? named(plan(topology, { layout: toolLayout, release, ...(security ? { security } : {}) })) : [];
      artifacts.push(...artifactsOf(nodes, layout, release, toolNodes, toolLayout));
    }
    const foreign = input.foreign;
    // Writing costs more than all the rest: only inputs that test the --out directory do it.
    if (!foreign) return 0;
    if (foreign.afterRender) await writeRender(outDir, nodes, layout, release);
    await mkdir(path.dirname(path.join(outDir, foreign.path)), { recursive: true });
    await writeFile(path.join(outDir, foreign.path), foreign.content);
    let code = 0;
    try {
      await writeRender(outDir, nodes, layout, release);
    } catch (e) {
      if (!(e instanceof ExitError)) throw e;
      code = e.code;
    }
    if ((await contentOf(path.join(outDir, foreign.path))) !== foreign.content)
      failures.push({
        kind: 'data-loss',
        stage: 'render-hosts',
        detail: `render --out removed or changed ${foreign.path}, which it did not write${foreign.afterRender ? ' (put into an earlier render)' : ''}`,
        signature: `data-loss render-hosts ${foreign.path}${foreign.afterRender ? ' after render' : ''}`,
      });
    if (code !== 0) throw new ExitError(code);
    return 0;
  });
}

async function kubernetesStage(topology: Topology, failures: Failure[], release: Release): Promise<number> {
  return stage('render-kubernetes', failures, async () => {
    if (topology.spec.security) throw new ExitError(2, 'security is not rendered for kubernetes');
    scan('render-kubernetes', kubernetesFiles(topology, 'promha', release).files, failures);
    return 0;
  });
}

/** promtool's words for a test whose expectations failed, as opposed to a file it could not load. */
const ASSERTION = /\bexp:|\bgot:|exp_samples|exp_alerts/;

/**
 * `promha test rules FILE…`. A condition's variant is promha's rewrite of a group that
 * passed as written: when promtool cannot even load it (rather than its expectations
 * failing), promha wrote a test file promtool refuses.
 */
async function testRulesStage(project: string, topologyFile: string, tests: readonly string[], failures: Failure[], release: Release, accepted: () => void): Promise<number> {
  const r = await cli('test-rules', ['test', 'rules', ...tests.map((t) => path.resolve(project, t)), '--file', topologyFile, '--release', release.name, '--json'], failures);
  if (r.code !== 0 && r.code !== 1) return r.code;
  let report: TestRulesReport;
  try {
    report = JSON.parse(r.stdout) as TestRulesReport;
  } catch (e) {
    failures.push({ kind: 'invalid-output', stage: 'test-rules', detail: `test rules --json printed no JSON: ${(e as Error).message}`, signature: 'invalid-output test-rules --json' });
    return r.code;
  }
  accepted();
  for (const f of report.files)
    for (const g of f.groups)
      for (const c of g.conditions)
        if (c.outcome === 'changed' && !ASSERTION.test(c.detail ?? ''))
          failures.push({
            kind: 'refused-by-tool',
            stage: 'test-rules',
            detail: `promtool (${release.name}) cannot load promha's ${c.condition.kind} variant of ${g.group}, which passes as written:\n${(c.detail ?? '').slice(0, 2000)}`,
            signature: `refused-by-tool test-rules ${c.condition.kind} ${normalize((c.detail ?? '').split('\n').find((l) => l.trim() !== '' && !/^\s*FAILED/.test(l)) ?? '')}`,
          });
  return r.code;
}

/**
 * `promha drill chaos --replay FILE` up to where the campaign would start, against the
 * stack `up` would run for the topology (its members, in loopback mode).
 */
async function chaosStage(project: string, replay: string, topology: Topology, release: Release, failures: Failure[]): Promise<number> {
  return stage('chaos-replay', failures, async () => {
    const members = chaosMembers(plan(topology, { release }));
    await chaosSettings({ replay: path.resolve(project, replay) }, campaignTargets(topology.spec, 'loopback', members));
    return 0;
  });
}

/** A member no generated state has: the commands stop before they would signal or reach one. */
const NO_MEMBER = 'zz-fuzz-none';

/**
 * The commands that read a stack's state file without touching what runs: `fault`
 * (for a member that is not there), `stop` (likewise) and the start of every drill.
 */
async function stateStage(project: string, topology: Topology | undefined, failures: Failure[]): Promise<number> {
  const root = path.join(project, STATE_DIR);
  const codes = [
    (await cli('state', ['fault', 'exporter', NO_MEMBER, 'down', '--state-dir', root], failures)).code,
    (await cli('state', ['stop', NO_MEMBER, '--state-dir', root], failures)).code,
    ...(topology ? [await stage('state', failures, async () => (await DrillContext.open(topology, new StateDir(root)), 0))] : []),
  ];
  return Math.max(...codes);
}

/** Whether the bytes are UTF-8: Go's YAML (promtool, Prometheus, Alertmanager) refuses a file that is not. */
function isUtf8(b64: string): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(b64, 'base64'));
    return true;
  } catch {
    return false;
  }
}

/** Puts the project of `input` into `dir` (emptied first). */
export async function writeProject(dir: string, input: FuzzInput): Promise<string> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, TOPOLOGY_FILE);
  const inside = (name: string) => {
    const abs = path.join(dir, name);
    return abs.startsWith(`${dir}${path.sep}`) ? abs : undefined;
  };
  const put = async (name: string, content: string | Buffer) => {
    const abs = inside(name);
    if (!abs) return;
    await mkdir(path.dirname(abs), { recursive: true });
    await writeFile(abs, content).catch((e: NodeJS.ErrnoException) => {
      // A file where the input also has a directory of that name: the first one wins.
      if (e.code !== 'EISDIR' && e.code !== 'ENOTDIR') throw e;
    });
  };
  await writeFile(file, input.topology);
  for (const [name, content] of Object.entries(input.files)) await put(name, content);
  for (const [name, b64] of Object.entries(input.bytes ?? {})) name === TOPOLOGY_FILE ? await writeFile(file, Buffer.from(b64, 'base64')) : await put(name, Buffer.from(b64, 'base64'));
  for (const [name, mode] of Object.entries(input.modes ?? {})) {
    const abs = inside(name);
    if (abs) await chmod(abs, mode).catch(() => undefined);
  }
  for (const fifo of input.fifos ?? []) {
    const abs = inside(fifo);
    if (!abs) continue;
    await mkdir(path.dirname(abs), { recursive: true });
    await rm(abs, { recursive: true, force: true });
    execFileSync('mkfifo', [abs]);
  }
  for (const [name, target] of Object.entries(input.symlinks ?? {})) {
    const abs = inside(name);
    // Devices only: an input never links to a file of this machine.
    if (!abs || !target.startsWith('/dev/')) continue;
    await mkdir(path.dirname(abs), { recursive: true });
    await rm(abs, { recursive: true, force: true });
    await symlink(target, abs);
  }
  return file;
}

/** Everything the CLI would do with one project: check, both render targets when check passes, and the commands the input asks for. */
export async function evaluate(input: FuzzInput, workDir: string, o: EvaluateOptions = { release: 'bookworm' }): Promise<Outcome> {
  const failures: Failure[] = [];
  const artifacts: Artifact[] = [];
  const release = RELEASES[o.release];
  const project = path.join(workDir, 'project');
  const file = await writeProject(project, input);
  const outDir = path.join(workDir, 'out');
  await rm(outDir, { recursive: true, force: true });
  const lines = lineCounts(project, input);
  const progress = o.progress ?? (() => {});
  progress('check');
  const checked = await checkStage(file, lines, failures, release);
  const commands = input.commands ?? {};
  const outcome: { -readonly [K in keyof Outcome]: Outcome[K] } = { check: checked.code, failures };

  // A file that is not UTF-8, read and accepted: promha went on with U+FFFD where the real tools stop.
  const notUtf8 = Object.entries(input.bytes ?? {})
    .filter(([, b64]) => !isUtf8(b64))
    .map(([name]) => name);
  if (checked.code === 0 && checked.topology) {
    const read = new Set([TOPOLOGY_FILE, ...checked.topology.ruleFiles.map((r) => path.relative(project, path.resolve(project, r.name)))]);
    for (const name of notUtf8.filter((n) => read.has(n)))
      failures.push({
        kind: 'accepted-non-utf8',
        stage: 'check',
        detail: `${name} is not UTF-8, yet check passed (promtool and Prometheus refuse such a file)`,
        signature: `accepted-non-utf8 check ${name === TOPOLOGY_FILE ? 'topology' : 'rule file'}`,
      });
  }

  if (checked.code === 0 && checked.topology) {
    progress('render-hosts');
    outcome.hosts = await hostsStage(checked.topology, input, outDir, failures, o, artifacts);
    progress('render-kubernetes');
    outcome.kubernetes = await kubernetesStage(checked.topology, failures, release);
  }
  if (commands.faults !== undefined) {
    progress('faults');
    outcome.faults = await faultsStage(file, commands.faults, failures, release);
  }
  if (commands.testRules?.length) {
    const tests = commands.testRules;
    progress('test-rules');
    outcome.testRules = await testRulesStage(project, file, tests, failures, release, () => {
      for (const name of notUtf8.filter((n) => tests.includes(n)))
        failures.push({ kind: 'accepted-non-utf8', stage: 'test-rules', detail: `${name} is not UTF-8, yet test rules ran it (promtool refuses such a file)`, signature: 'accepted-non-utf8 test-rules test file' });
    });
  }
  if (commands.chaosReplay !== undefined && checked.topology) {
    progress('chaos-replay');
    outcome.chaos = await chaosStage(project, commands.chaosReplay, checked.topology, release, failures);
  }
  if (commands.state) {
    progress('state');
    outcome.state = await stateStage(project, checked.code === 0 ? checked.topology : undefined, failures);
  }
  if (artifacts.length && outcome.hosts === 0) outcome.artifacts = artifacts;
  return outcome;
}
