import { closeSync, constants, existsSync, openSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { EventLoopUtilization } from 'node:perf_hooks';
import type { ReleaseName } from '../../src/release/release.ts';
import type { FuzzInput } from './input.ts';
import type { Outcome, Stage } from './oracle.ts';
import type { ToolChecker } from './tools.ts';
import type { Request } from './worker.ts';

/** Generous: `check` runs two tools, and a deep expression takes seconds on a loaded machine. */
export const DEFAULT_TIMEOUT_MS = 10_000;
/**
 * `promha test rules` runs promtool three or four times per test group, seconds each on a
 * deep expression (promha allows a run 120 s): its inputs get this many timeouts.
 */
const TEST_RULES_TIMEOUTS = 6;
/** The worker's heap: a blowup ends the worker with ERR_WORKER_OUT_OF_MEMORY, not the test. */
export const HEAP_MB = 512;

const TSX_API = import.meta.resolve('tsx/esm/api');
const WORKER = new URL('./worker.ts', import.meta.url).href;
// Node 20 workers do not inherit `--import tsx`: the worker registers tsx itself, then loads the TypeScript.
const BOOT = `import(${JSON.stringify(TSX_API)}).then((m) => { m.register(); return import(${JSON.stringify(WORKER)}); })`;

type Reply = { id: number; outcome?: Outcome; error?: string } | { id: number; stage: Stage } | { ready: true };

export interface RunnerOptions {
  /** The release of `--release`: what check judges for and render renders. @default bookworm */
  readonly release?: ReleaseName;
  /** The real tools that judge every render that exits 0; none when absent. */
  readonly tools?: ToolChecker;
}

/** A worker thread that has loaded the oracle, and its directory. */
interface Booted {
  readonly worker: Worker;
  readonly dir: string;
  dead: boolean;
}

/**
 * Runs inputs in a worker thread with a time and memory bound. A hang or a crash ends
 * the worker; the next input gets a new one, booted in the background once the first
 * worker had to go (booting costs seconds: the oracle loads all of promha). The real
 * tools run here, outside the worker's bound: the checker bounds their time.
 */
export class Runner {
  private worker: Worker | undefined;
  private dir: string | undefined;
  private spare: Promise<Booted> | undefined;
  private keepSpare = false;
  private pending: { id: number; resolve: (o: Outcome) => void; timer: NodeJS.Timeout; fifos: string[]; stage: Stage; elu: EventLoopUtilization } | undefined;
  private nextId = 0;
  readonly release: ReleaseName;
  readonly tools: ToolChecker | undefined;

  constructor(
    private readonly timeoutMs = DEFAULT_TIMEOUT_MS,
    o: RunnerOptions = {},
  ) {
    this.release = o.release ?? 'bookworm';
    this.tools = o.tools;
  }

  private async boot(): Promise<Booted> {
    // Memory-backed where there is one: every input writes a project, some a whole render.
    const dir = await mkdtemp(path.join(existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'promha-fuzz-'));
    const worker = new Worker(BOOT, { eval: true, execArgv: ['--no-warnings'], workerData: { dir }, resourceLimits: { maxOldGenerationSizeMb: HEAP_MB, stackSizeMb: 4 } });
    const booted: Booted = { worker, dir, dead: false };
    const ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (m: Reply) => {
        if ('ready' in m) return resolve();
        if (this.worker !== worker) return;
        const p = this.pending;
        if (!p || p.id !== m.id) return;
        if ('stage' in m) return void (p.stage = m.stage);
        this.settle(
          m.outcome ?? {
            check: 70,
            failures: [{ kind: 'trace', stage: 'worker', detail: m.error ?? 'no outcome', signature: `trace worker ${(m.error ?? '').split('\n')[0]?.slice(0, 100)}` }],
          },
        );
      });
      worker.on('error', (e: Error & { code?: string }) => {
        booted.dead = true;
        reject(e);
        if (this.worker !== worker) return;
        const oom = e.code === 'ERR_WORKER_OUT_OF_MEMORY';
        const stage = this.pending?.stage ?? 'worker';
        void this.retire();
        this.settle({ check: 70, failures: [{ kind: 'crash', stage, detail: `${e.name}: ${e.message}`, signature: `crash ${stage} ${oom ? 'out of memory' : `${e.name}: ${e.message.split('\n')[0]?.slice(0, 100)}`}` }] });
      });
      worker.on('exit', () => {
        booted.dead = true;
        reject(new Error('the worker exited while booting'));
        if (this.worker !== worker) return;
        const stage = this.pending?.stage ?? 'worker';
        void this.retire();
        this.settle({ check: 70, failures: [{ kind: 'crash', stage, detail: 'the worker exited', signature: `crash ${stage} worker exited` }] });
      });
    });
    await ready;
    return booted;
  }

  private async start(): Promise<void> {
    const next = this.spare;
    this.spare = undefined;
    let booted = next ? await next.catch(() => undefined) : undefined;
    if (!booted || booted.dead) booted = await this.boot();
    this.worker = booted.worker;
    this.dir = booted.dir;
    if (this.keepSpare) this.prepareSpare();
  }

  private prepareSpare(): void {
    this.spare = this.boot();
    this.spare.catch(() => undefined);
  }

  private settle(outcome: Outcome): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    clearTimeout(p.timer);
    p.resolve(outcome);
  }

  /** Ends the worker, unblocks any named pipe it waits on, and removes its directory. */
  private async retire(fifos: readonly string[] = [], final = false): Promise<void> {
    const worker = this.worker;
    const dir = this.dir;
    this.worker = undefined;
    this.dir = undefined;
    // From now on a worker waits in the background for the next one that has to go.
    if (!final && !this.keepSpare) {
      this.keepSpare = true;
      this.prepareSpare();
    }
    // A read blocked on a pipe holds a libuv thread of this process until a writer comes and goes.
    for (const f of fifos)
      try {
        closeSync(openSync(f, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // No reader any more.
      }
    if (worker) await worker.terminate();
    if (dir) await rm(dir, { recursive: true, force: true });
  }

  /**
   * The outcome of one input; a hang or crash is reported as a failure of stage
   * `worker`, a rendered file a real tool refuses as one of stage `tools`.
   */
  async run(input: FuzzInput): Promise<Outcome> {
    // Large topologies (a hundred sets) render megabytes, which the oracle parses again: more time, by size.
    const size = Math.min(4, 1 + input.topology.length / 10_000);
    const timeoutMs = Math.round(this.timeoutMs * size * (input.commands?.testRules?.length ? TEST_RULES_TIMEOUTS : 1));
    const toolConfigRoot = this.tools?.configRoot;
    const outcome = await this.send({ input, release: this.release, ...(toolConfigRoot ? { toolConfigRoot } : {}) }, input.fifos ?? [], timeoutMs);
    const { artifacts, ...rest } = outcome;
    if (!artifacts?.length || !this.tools) return rest;
    return { ...rest, failures: [...rest.failures, ...(await this.tools.verify(artifacts))] };
  }

  /** Makes the worker spin or fill its heap, to prove the bounds catch it. */
  selfTest(kind: 'spin' | 'allocate'): Promise<Outcome> {
    return this.send({ selfTest: kind }, [], this.timeoutMs);
  }

  private async send(request: { input: FuzzInput; release: ReleaseName; toolConfigRoot?: string } | { selfTest: 'spin' | 'allocate' }, relativeFifos: readonly string[], timeoutMs: number): Promise<Outcome> {
    if (!this.worker) await this.start();
    const worker = this.worker as Worker;
    const id = this.nextId++;
    const fifos = relativeFifos.map((f) => path.join(this.dir as string, 'project', f));
    return new Promise<Outcome>((resolve) => {
      const timer = setTimeout(() => {
        // Busy: the worker computed all along (a blowup); waiting: it waited on a read or a process.
        const stage = this.pending?.stage ?? 'worker';
        const busy = worker.performance.eventLoopUtilization(this.pending?.elu).utilization > 0.5;
        void this.retire(fifos);
        this.settle({
          check: 70,
          failures: [{ kind: 'hang', stage, detail: `no outcome within ${timeoutMs} ms; the worker was ${busy ? 'busy' : 'waiting'} in stage ${stage}`, signature: `hang ${stage} ${busy ? 'busy' : 'waiting'}` }],
        });
      }, timeoutMs);
      this.pending = { id, resolve, timer, fifos, stage: 'worker', elu: worker.performance.eventLoopUtilization() };
      worker.postMessage({ id, ...request } satisfies Request);
    });
  }

  async close(): Promise<void> {
    const spare = this.spare;
    this.spare = undefined;
    await this.retire(this.pending?.fifos, true);
    const booted = await spare?.catch(() => undefined);
    if (booted) {
      await booted.worker.terminate();
      await rm(booted.dir, { recursive: true, force: true });
    }
  }
}
