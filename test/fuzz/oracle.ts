import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { check } from '../../src/check/check.ts';
import { formatReport, type CheckReport } from '../../src/commands/check.ts';
import { layoutFor } from '../../src/commands/render.ts';
import { ExitError, ValidationError } from '../../src/errors.ts';
import type { Location } from '../../src/location.ts';
import { plan } from '../../src/plan/plan.ts';
import { hostBundle } from '../../src/render/host-bundle.ts';
import { kubernetesFiles } from '../../src/render/kubernetes/files.ts';
import { RELEASES } from '../../src/release/release.ts';
import { PLAN_FILE, planSummary, writeRender } from '../../src/render/write.ts';
import { loadTopology } from '../../src/topology/load.ts';
import type { Topology } from '../../src/topology/topology.ts';
import { TOPOLOGY_FILE, type FuzzInput } from './input.ts';
import { scanRendered } from './scan.ts';

export type Stage = 'check' | 'render-hosts' | 'render-kubernetes' | 'worker';
export type FailureKind = 'trace' | 'exit-code' | 'unlocated' | 'injection' | 'invalid-output' | 'data-loss' | 'hang' | 'crash';

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
  readonly failures: readonly Failure[];
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
  return new Map([[path.join(dir, TOPOLOGY_FILE), count(input.topology)], ...Object.entries(input.files).map(([name, text]) => [path.join(dir, name), count(text)] as const)]);
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
  } catch (e) {
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

async function checkStage(file: string, lines: LineCounts, failures: Failure[]): Promise<{ code: number; topology?: Topology }> {
  let topology: Topology | undefined;
  const code = await stage('check', failures, async () => {
    topology = await loadTopology(file);
    const findings = check(topology);
    const report: CheckReport = {
      file: topology.file,
      release: topology.spec.release ?? 'bookworm',
      findings,
      errors: findings.filter((f) => f.severity === 'error').length,
      warnings: findings.filter((f) => f.severity === 'warning').length,
    };
    // What the CLI prints: both forms must be producible.
    formatReport(report);
    JSON.stringify(report);
    for (const f of findings)
      if (!isLocation(f.location, lines) || !f.message || !f.hint)
        failures.push({ kind: 'unlocated', stage: 'check', detail: `${f.code}: ${JSON.stringify(f.location)}: ${f.message}`, signature: `unlocated check ${f.code}` });
    return report.errors > 0 ? 1 : 0;
  }, lines);
  return topology ? { code, topology } : { code };
}

async function contentOf(p: string): Promise<string | undefined> {
  return readFile(p, 'utf8').catch(() => undefined);
}

/**
 * `promha render --target hosts`, without the security material (whose CA generation
 * runs openssl): the bundles are scanned in memory; an input with a foreign file is
 * also written with writeRender into an --out directory holding that file, which must survive.
 */
async function hostsStage(topology: Topology, input: FuzzInput, outDir: string, failures: Failure[]): Promise<number> {
  return stage('render-hosts', failures, async () => {
    const layout = layoutFor({});
    const nodes = plan(topology, { layout });
    const files = nodes.flatMap((n) => hostBundle(n, layout).map((f) => ({ ...f, path: path.join(n.name, f.path) })));
    files.push({ path: PLAN_FILE, content: `${JSON.stringify(planSummary(nodes), null, 2)}\n` });
    scan('render-hosts', files, failures);
    const foreign = input.foreign;
    // Writing costs more than all the rest: only inputs that test the --out directory do it.
    if (!foreign) return 0;
    if (foreign.afterRender) await writeRender(outDir, nodes, layout);
    await mkdir(path.dirname(path.join(outDir, foreign.path)), { recursive: true });
    await writeFile(path.join(outDir, foreign.path), foreign.content);
    let code = 0;
    try {
      await writeRender(outDir, nodes, layout);
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

async function kubernetesStage(topology: Topology, failures: Failure[]): Promise<number> {
  return stage('render-kubernetes', failures, async () => {
    if (topology.spec.security) throw new ExitError(2, 'security is not rendered for kubernetes');
    scan('render-kubernetes', kubernetesFiles(topology, 'promha', RELEASES.bookworm).files, failures);
    return 0;
  });
}

/** Puts the project of `input` into `dir` (emptied first). */
export async function writeProject(dir: string, input: FuzzInput): Promise<string> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, TOPOLOGY_FILE);
  await writeFile(file, input.topology);
  for (const [name, content] of Object.entries(input.files)) {
    const abs = path.join(dir, name);
    if (!abs.startsWith(`${dir}${path.sep}`)) continue;
    await mkdir(path.dirname(abs), { recursive: true });
    await writeFile(abs, content);
  }
  for (const fifo of input.fifos ?? []) {
    const abs = path.join(dir, fifo);
    await mkdir(path.dirname(abs), { recursive: true });
    execFileSync('mkfifo', [abs]);
  }
  return file;
}

/** Everything the CLI would do with one project: check, then both render targets when check passes. */
export async function evaluate(input: FuzzInput, workDir: string): Promise<Outcome> {
  const failures: Failure[] = [];
  const file = await writeProject(path.join(workDir, 'project'), input);
  const outDir = path.join(workDir, 'out');
  await rm(outDir, { recursive: true, force: true });
  const checked = await checkStage(file, lineCounts(path.dirname(file), input), failures);
  if (checked.code !== 0 || !checked.topology) return { check: checked.code, failures };
  const hosts = await hostsStage(checked.topology, input, outDir, failures);
  const kubernetes = await kubernetesStage(checked.topology, failures);
  return { check: checked.code, hosts, kubernetes, failures };
}
