import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { hostileCases, seedInputs } from './corpus.ts';
import type { FuzzInput } from './input.ts';
import { mutate } from './mutate.ts';
import type { Failure } from './oracle.ts';
import { Prng } from './prng.ts';
import { Runner } from './runner.ts';
import { shrink } from './shrink.ts';

export const DEFAULT_FAILURES_DIR = path.join(os.tmpdir(), 'promha-fuzz-failures');

export interface CampaignOptions {
  readonly seed: number;
  /** Stop after this many iterations… */
  readonly iterations: number;
  /** …or when this much time has passed, whichever comes first. */
  readonly budgetMs: number;
  readonly timeoutMs?: number;
  /** Time to minimize the first input of each failure signature. */
  readonly shrinkMs?: number;
  /** At most this many signatures get minimized (the rest are recorded as found). */
  readonly shrinkLimit?: number;
  readonly failuresDir?: string;
  readonly log?: (line: string) => void;
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
  readonly iterations: number;
  readonly elapsedMs: number;
  /** How many inputs `check` answered with each exit code. */
  readonly checkExits: Record<number, number>;
  /** How many inputs passed check and were rendered for both targets. */
  readonly rendered: number;
  readonly failures: FoundFailure[];
  /** Iterations whose mutation threw: bugs of the fuzzer itself. */
  readonly mutationErrors: readonly string[];
}

export interface Seeds {
  /** Valid topologies: what `promha init` writes and the fast test topology. */
  readonly valid: readonly FuzzInput[];
  /** The hostile corpus, minus the pipes and endless files. */
  readonly hostile: readonly FuzzInput[];
}

/** Every input the fuzzer starts from. */
export function seeds(): Seeds {
  return { valid: seedInputs(), hostile: hostileCases().filter((c) => c.fuzzSeed).map((c) => c.input) };
}

/** The input of iteration `i` of seed `seed`: the same on every run. */
export function inputFor(seed: number, i: number, from: Seeds = seeds()): FuzzInput {
  const rng = Prng.forIteration(seed, i);
  return mutate(rng, rng.pick(rng.chance(0.6) ? from.valid : from.hostile));
}

/** {@link inputFor}, or undefined when the mutation itself fails (a bug of the fuzzer, counted apart). */
function safeInputFor(seed: number, i: number, from: Seeds, errors: string[]): FuzzInput | undefined {
  try {
    return inputFor(seed, i, from);
  } catch (e) {
    errors.push(`iteration ${i}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return undefined;
  }
}

/** Writes the replay file of one failure signature; returns its path. */
async function record(dir: string, seed: number, iteration: number, failure: Failure, count: number, input: FuzzInput, original: FuzzInput): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `seed${seed}-iteration${iteration}-${failure.signature.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 60)}.json`);
  await writeFile(file, `${JSON.stringify({ seed, iteration, signature: failure.signature, failure, count, input, original }, null, 2)}\n`);
  return file;
}

export async function runCampaign(o: CampaignOptions): Promise<CampaignResult> {
  const log = o.log ?? (() => {});
  const from = seeds();
  const runner = new Runner(o.timeoutMs);
  const started = Date.now();
  const checkExits: Record<number, number> = {};
  const dir = o.failuresDir ?? DEFAULT_FAILURES_DIR;
  const mutationErrors: string[] = [];
  const found = new Map<string, { iteration: number; failure: Failure; input: FuzzInput; count: number }>();
  let rendered = 0;
  let i = 0;
  try {
    let next = safeInputFor(o.seed, 0, from, mutationErrors);
    for (; i < o.iterations && Date.now() - started < o.budgetMs; i++) {
      const input = next;
      const running = input && runner.run(input);
      // The next input is made while the worker evaluates this one.
      if (i + 1 < o.iterations) next = safeInputFor(o.seed, i + 1, from, mutationErrors);
      if (!input || !running) continue;
      const outcome = await running;
      checkExits[outcome.check] = (checkExits[outcome.check] ?? 0) + 1;
      if (outcome.hosts !== undefined) rendered++;
      for (const f of outcome.failures) {
        const known = found.get(f.signature);
        if (known) known.count++;
        else {
          found.set(f.signature, { iteration: i, failure: f, input, count: 1 });
          // Written at once, so a run that is stopped early still leaves its finds.
          log(`iteration ${i}: ${f.signature} (${await record(dir, o.seed, i, f, 1, input, input)})`);
        }
      }
    }
    const elapsedMs = Date.now() - started;
    const failures: FoundFailure[] = [];
    let shrunk = 0;
    for (const [signature, f] of found) {
      let minimized: FuzzInput | undefined;
      if (shrunk < (o.shrinkLimit ?? Infinity)) {
        shrunk++;
        minimized = (await shrink(runner, f.input, signature, o.shrinkMs ?? 20_000)).input;
      }
      const file = await record(dir, o.seed, f.iteration, f.failure, f.count, minimized ?? f.input, f.input);
      failures.push({ signature, iteration: f.iteration, failure: f.failure, count: f.count, input: f.input, ...(minimized ? { minimized } : {}), file });
    }
    return { seed: o.seed, iterations: i, elapsedMs, checkExits, rendered, failures, mutationErrors };
  } finally {
    await runner.close();
  }
}

export function formatResult(r: CampaignResult, budgetMs: number): string {
  const exits = Object.entries(r.checkExits)
    .map(([code, n]) => `exit ${code}: ${n}`)
    .join(', ');
  const lines = [
    `fuzz: seed ${r.seed}, ${r.iterations} inputs in ${(r.elapsedMs / 1000).toFixed(1)} s (budget ${(budgetMs / 1000).toFixed(0)} s); check ${exits}; rendered ${r.rendered}; ${r.failures.length} failure signature(s)${r.mutationErrors.length ? `; ${r.mutationErrors.length} mutation error(s) of the fuzzer` : ''}`,
  ];
  for (const e of r.mutationErrors.slice(0, 3)) lines.push(`fuzzer error: ${e}`);
  for (const f of r.failures) {
    lines.push(`\n${f.signature} (${f.count}×, first at iteration ${f.iteration})`, `  ${f.failure.detail.split('\n').join('\n  ')}`);
    if (f.minimized) lines.push('  minimized promha.yaml:', ...f.minimized.topology.split('\n').map((l) => `  | ${l.length > 200 ? `${l.slice(0, 200)}… (${l.length} chars)` : l}`));
    if (f.minimized && Object.keys(f.minimized.files).length) lines.push(`  with ${Object.keys(f.minimized.files).join(', ')}`);
    lines.push(`  replay: node --import tsx test/fuzz/run.ts --replay ${f.file}`);
  }
  return lines.join('\n');
}
