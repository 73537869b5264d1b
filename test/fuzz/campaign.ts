import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ReleaseName } from '../../src/release/release.ts';
import { seeds, type Seeds } from './corpus.ts';
import type { FuzzInput } from './input.ts';
import type { Failure, FailureKind, Outcome } from './oracle.ts';
import { Prng } from './prng.ts';
import { Runner } from './runner.ts';
import { shrink } from './shrink.ts';
import { generate, SURFACES, type Surface } from './surfaces.ts';
import { TOOL_NAMES, ToolChecker, type ToolStats } from './tools.ts';

export { seeds, type Seeds };

export const DEFAULT_FAILURES_DIR = path.join(os.tmpdir(), 'promha-fuzz-failures');

export interface CampaignOptions {
  readonly seed: number;
  /** Stop after this many iterations… */
  readonly iterations: number;
  /** …or when this much time has passed, whichever comes first. */
  readonly budgetMs: number;
  /** The release check judges for, render renders and whose tools judge the renders. @default bookworm */
  readonly release?: ReleaseName;
  /** Run the real tools on every render that exits 0. @default true */
  readonly tools?: boolean;
  /** The generators to draw inputs from, by weight. @default SURFACES */
  readonly surfaces?: readonly Surface[];
  readonly timeoutMs?: number;
  /** Time to minimize the first input of each failure signature. */
  readonly shrinkMs?: number;
  /** At most this many signatures get minimized (the rest are recorded as found). */
  readonly shrinkLimit?: number;
  readonly failuresDir?: string;
  readonly log?: (line: string) => void;
  /** Ends the campaign early, with the counts so far and no minimizing (SIGINT of `npm run fuzz`). */
  readonly signal?: AbortSignal;
}

/** The first input of one failure signature, minimized, and where it was written for replay. */
export interface FoundFailure {
  readonly signature: string;
  readonly iteration: number;
  readonly failure: Failure;
  readonly count: number;
  readonly input: FuzzInput;
  readonly minimized?: FuzzInput;
  readonly file: string;
}

export interface CampaignResult {
  readonly seed: number;
  readonly release: ReleaseName;
  readonly iterations: number;
  readonly elapsedMs: number;
  /** How many inputs `check` answered with each exit code. */
  readonly checkExits: Record<number, number>;
  /** How many inputs passed check and were rendered for both targets. */
  readonly rendered: number;
  /** Inputs by outcome: `check 0`, `render-hosts 2`, `test-rules 1`, `failed`, `passed`… */
  readonly outcomes: Record<string, number>;
  /** Inputs by the surface that made them, and how many of those failed. */
  readonly surfaces: Record<string, { inputs: number; failed: number }>;
  /** Failing inputs by failure kind (an input counts once per kind). */
  readonly kinds: Partial<Record<FailureKind, number>>;
  readonly failures: FoundFailure[];
  /** Iterations whose mutation threw: bugs of the fuzzer itself. */
  readonly mutationErrors: readonly string[];
  /** What the real tools judged; absent when they did not run. */
  readonly tools?: ToolStats;
}

/** The input of iteration `i` of seed `seed`: the same on every run. */
export function inputFor(seed: number, i: number, from: Seeds = seeds(), surfaces: readonly Surface[] = SURFACES): FuzzInput {
  return generate(Prng.forIteration(seed, i), from, surfaces);
}

/** {@link inputFor}, or undefined when the mutation itself fails (a bug of the fuzzer, counted apart). */
function safeInputFor(seed: number, i: number, from: Seeds, surfaces: readonly Surface[], errors: string[]): FuzzInput | undefined {
  try {
    return inputFor(seed, i, from, surfaces);
  } catch (e) {
    errors.push(`iteration ${i}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return undefined;
  }
}

/** Writes the replay file of one failure signature; returns its path. */
async function record(dir: string, seed: number, release: ReleaseName, iteration: number, failure: Failure, count: number, input: FuzzInput, original: FuzzInput): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `seed${seed}-${release}-iteration${iteration}-${failure.signature.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 60)}.json`);
  await writeFile(file, `${JSON.stringify({ seed, release, iteration, signature: failure.signature, failure, count, input, original }, null, 2)}\n`);
  return file;
}

/** The outcome keys of one input: each command's exit code, by stage. */
function outcomeKeys(o: Outcome): string[] {
  const keys = [`check ${o.check}`];
  const stages: Array<[string, number | undefined]> = [
    ['render-hosts', o.hosts],
    ['render-kubernetes', o.kubernetes],
    ['faults', o.faults],
    ['test-rules', o.testRules],
    ['chaos-replay', o.chaos],
    ['state', o.state],
  ];
  for (const [name, code] of stages) if (code !== undefined) keys.push(`${name} ${code}`);
  keys.push(o.failures.length ? 'failed' : 'passed');
  return keys;
}

/** Starts the release's tools, or explains why the campaign cannot judge renders with them. */
async function toolsFor(release: ReleaseName, wanted: boolean): Promise<ToolChecker | undefined> {
  if (!wanted) return undefined;
  try {
    return await ToolChecker.create(release);
  } catch (e) {
    throw new Error(`the real tools of ${release} are not here (${(e as Error).message}): run \`promha setup --release ${release}\`, or fuzz without tools`);
  }
}

export async function runCampaign(o: CampaignOptions): Promise<CampaignResult> {
  const log = o.log ?? (() => {});
  const release = o.release ?? 'bookworm';
  const surfaces = o.surfaces ?? SURFACES;
  const from = seeds();
  const tools = await toolsFor(release, o.tools ?? true);
  const runner = new Runner(o.timeoutMs, { release, ...(tools ? { tools } : {}) });
  const started = Date.now();
  const checkExits: Record<number, number> = {};
  const outcomes: Record<string, number> = {};
  const bySurface: Record<string, { inputs: number; failed: number }> = {};
  const kinds: Partial<Record<FailureKind, number>> = {};
  const dir = o.failuresDir ?? DEFAULT_FAILURES_DIR;
  const mutationErrors: string[] = [];
  const found = new Map<string, { iteration: number; failure: Failure; input: FuzzInput; count: number }>();
  let rendered = 0;
  let i = 0;
  try {
    let next = safeInputFor(o.seed, 0, from, surfaces, mutationErrors);
    for (; i < o.iterations && Date.now() - started < o.budgetMs && !o.signal?.aborted; i++) {
      const input = next;
      const running = input && runner.run(input);
      // The next input is made while the worker evaluates this one.
      if (i + 1 < o.iterations) next = safeInputFor(o.seed, i + 1, from, surfaces, mutationErrors);
      if (!input || !running) continue;
      const outcome = await running;
      if ((i + 1) % 250 === 0) log(`${release}: ${i + 1} inputs in ${((Date.now() - started) / 1000).toFixed(0)} s, ${found.size} failure signature(s)`);
      checkExits[outcome.check] = (checkExits[outcome.check] ?? 0) + 1;
      if (outcome.hosts !== undefined) rendered++;
      for (const k of outcomeKeys(outcome)) outcomes[k] = (outcomes[k] ?? 0) + 1;
      const s = (bySurface[input.surface ?? 'given'] ??= { inputs: 0, failed: 0 });
      s.inputs++;
      if (outcome.failures.length) s.failed++;
      for (const k of new Set(outcome.failures.map((f) => f.kind))) kinds[k] = (kinds[k] ?? 0) + 1;
      for (const f of outcome.failures) {
        const known = found.get(f.signature);
        if (known) known.count++;
        else {
          found.set(f.signature, { iteration: i, failure: f, input, count: 1 });
          // Written at once, so a run that is stopped early still leaves its finds.
          log(`${release} iteration ${i}: ${f.signature} (${await record(dir, o.seed, release, i, f, 1, input, input)})`);
        }
      }
    }
    const elapsedMs = Date.now() - started;
    const failures: FoundFailure[] = [];
    let shrunk = 0;
    for (const [signature, f] of found) {
      let minimized: FuzzInput | undefined;
      if (shrunk < (o.shrinkLimit ?? Infinity) && !o.signal?.aborted) {
        shrunk++;
        minimized = (await shrink(runner, f.input, signature, o.shrinkMs ?? 20_000)).input;
      }
      const file = await record(dir, o.seed, release, f.iteration, f.failure, f.count, minimized ?? f.input, f.input);
      failures.push({ signature, iteration: f.iteration, failure: f.failure, count: f.count, input: f.input, ...(minimized ? { minimized } : {}), file });
    }
    failures.sort((a, b) => b.count - a.count || a.signature.localeCompare(b.signature));
    return { seed: o.seed, release, iterations: i, elapsedMs, checkExits, rendered, outcomes, surfaces: bySurface, kinds, failures, mutationErrors, ...(tools ? { tools: tools.stats } : {}) };
  } finally {
    await runner.close();
    await tools?.close();
  }
}

const sorted = (r: Record<string, number>) =>
  Object.entries(r)
    .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
    .map(([k, n]) => `${k}: ${n}`)
    .join(', ');

/** A text line of a file of the input: long lines cut, so that a 60,000-character nesting stays one line. */
const shown = (l: string) => (l.length > 200 ? `${l.slice(0, 200)}… (${l.length} chars)` : l);

/** The minimized input as a reader needs it: the topology, the other files, and what else it asks of the CLI. */
function describeInput(input: FuzzInput, maxLines = 60): string[] {
  const out: string[] = [];
  const text = (name: string, content: string) => {
    const lines = content.split('\n');
    out.push(`  ${name}:`, ...lines.slice(0, maxLines).map((l) => `  | ${shown(l)}`));
    if (lines.length > maxLines) out.push(`  | … (${lines.length - maxLines} more lines)`);
  };
  if (!input.bytes?.['promha.yaml']) text('promha.yaml', input.topology);
  for (const [name, content] of Object.entries(input.files)) if (!input.bytes?.[name]) text(name, content);
  for (const [name, b64] of Object.entries(input.bytes ?? {})) text(`${name} (bytes, as latin1)`, Buffer.from(b64, 'base64').toString('latin1'));
  if (input.fifos?.length) out.push(`  named pipes: ${input.fifos.join(', ')}`);
  if (input.symlinks && Object.keys(input.symlinks).length) out.push(`  links: ${Object.entries(input.symlinks).map(([a, b]) => `${a} -> ${b}`).join(', ')}`);
  if (input.commands && Object.keys(input.commands).length) out.push(`  commands: ${JSON.stringify(input.commands)}`);
  return out;
}

export function formatResult(r: CampaignResult, budgetMs: number): string {
  const lines = [
    `fuzz: seed ${r.seed}, ${r.release}, ${r.iterations} inputs in ${(r.elapsedMs / 1000).toFixed(1)} s (budget ${Number.isFinite(budgetMs) ? `${(budgetMs / 1000).toFixed(0)} s` : 'none'}); check ${sorted(r.checkExits as Record<string, number>).replace(/(\d+):/g, 'exit $1:')}; rendered ${r.rendered}; ${r.failures.length} failure signature(s)${r.mutationErrors.length ? `; ${r.mutationErrors.length} mutation error(s) of the fuzzer` : ''}`,
    `  outcomes: ${sorted(r.outcomes)}`,
    `  surfaces: ${Object.entries(r.surfaces)
      .map(([s, n]) => `${s} ${n.inputs} (${n.failed} failed)`)
      .join(', ')}`,
    `  failing inputs by kind: ${sorted(r.kinds as Record<string, number>) || 'none'}`,
  ];
  if (r.tools) {
    const t = r.tools;
    lines.push(
      `  tools: ${t.runs} runs; ${TOOL_NAMES.map((n) => `${n} ${t.checked[n]} checked (${t.cached[n]} cached, ${t.refused[n]} refused${t.skipped[n] ? `, ${t.skipped[n]} skipped` : ''})`).join('; ')}`,
    );
  }
  for (const e of r.mutationErrors.slice(0, 3)) lines.push(`fuzzer error: ${e}`);
  for (const f of r.failures) {
    lines.push(`\n${f.signature} (${f.count}×, first at iteration ${f.iteration})`, `  ${f.failure.detail.split('\n').slice(0, 12).map(shown).join('\n  ')}`);
    if (f.minimized) lines.push('  minimized input:', ...describeInput(f.minimized));
    lines.push(`  replay: node --import tsx test/fuzz/run.ts --replay ${f.file}`);
  }
  return lines.join('\n');
}
