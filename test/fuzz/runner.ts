import { closeSync, constants, existsSync, openSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { FuzzInput } from './input.ts';
import type { Outcome } from './oracle.ts';
import type { Request } from './worker.ts';

export const DEFAULT_TIMEOUT_MS = 5_000;
/** The worker's heap: a blowup ends the worker with ERR_WORKER_OUT_OF_MEMORY, not the test. */
export const HEAP_MB = 512;

const TSX_API = import.meta.resolve('tsx/esm/api');
const WORKER = new URL('./worker.ts', import.meta.url).href;
// Node 20 workers do not inherit `--import tsx`: the worker registers tsx itself, then loads the TypeScript.
const BOOT = `import(${JSON.stringify(TSX_API)}).then((m) => { m.register(); return import(${JSON.stringify(WORKER)}); })`;

type Reply = { id: number; outcome?: Outcome; error?: string } | { ready: true };

/**
 * Runs inputs in a worker thread with a time and memory bound. A hang or a crash ends
 * the worker; the next input gets a new one.
 */
export class Runner {
  private worker: Worker | undefined;
  private dir: string | undefined;
  private pending: { id: number; resolve: (o: Outcome) => void; timer: NodeJS.Timeout; fifos: string[] } | undefined;
  private nextId = 0;

  constructor(private readonly timeoutMs = DEFAULT_TIMEOUT_MS) {}

  private async start(): Promise<void> {
    // Memory-backed where there is one: every input writes a project, some a whole render.
    this.dir = await mkdtemp(path.join(existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'promha-fuzz-'));
    const worker = new Worker(BOOT, { eval: true, execArgv: ['--no-warnings'], workerData: { dir: this.dir }, resourceLimits: { maxOldGenerationSizeMb: HEAP_MB, stackSizeMb: 4 } });
    this.worker = worker;
    const ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (m: Reply) => {
        if ('ready' in m) return resolve();
        if (this.worker !== worker) return;
        const p = this.pending;
        if (!p || p.id !== m.id) return;
        this.settle(
          m.outcome ?? {
            check: 70,
            failures: [{ kind: 'trace', stage: 'worker', detail: m.error ?? 'no outcome', signature: `trace worker ${(m.error ?? '').split('\n')[0]?.slice(0, 100)}` }],
          },
        );
      });
      worker.on('error', (e: Error & { code?: string }) => {
        reject(e);
        if (this.worker !== worker) return;
        const oom = e.code === 'ERR_WORKER_OUT_OF_MEMORY';
        void this.retire();
        this.settle({ check: 70, failures: [{ kind: 'crash', stage: 'worker', detail: `${e.name}: ${e.message}`, signature: `crash ${oom ? 'out of memory' : `${e.name}: ${e.message.split('\n')[0]?.slice(0, 100)}`}` }] });
      });
      worker.on('exit', () => {
        if (this.worker !== worker) return;
        void this.retire();
        this.settle({ check: 70, failures: [{ kind: 'crash', stage: 'worker', detail: 'the worker exited', signature: 'crash worker exited' }] });
      });
    });
    await ready;
  }

  private settle(outcome: Outcome): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    clearTimeout(p.timer);
    p.resolve(outcome);
  }

  /** Ends the worker, unblocks any named pipe it waits on, and removes its directory. */
  private async retire(fifos: readonly string[] = []): Promise<void> {
    const worker = this.worker;
    const dir = this.dir;
    this.worker = undefined;
    this.dir = undefined;
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

  /** The outcome of one input; a hang or crash is reported as a failure of stage `worker`. */
  run(input: FuzzInput): Promise<Outcome> {
    return this.send({ input }, input.fifos ?? []);
  }

  /** Makes the worker spin or fill its heap, to prove the bounds catch it. */
  selfTest(kind: 'spin' | 'allocate'): Promise<Outcome> {
    return this.send({ selfTest: kind }, []);
  }

  private async send(request: { input: FuzzInput } | { selfTest: 'spin' | 'allocate' }, relativeFifos: readonly string[]): Promise<Outcome> {
    if (!this.worker) await this.start();
    const worker = this.worker as Worker;
    const id = this.nextId++;
    const fifos = relativeFifos.map((f) => path.join(this.dir as string, 'project', f));
    return new Promise<Outcome>((resolve) => {
      const timer = setTimeout(() => {
        void this.retire(fifos);
        this.settle({
          check: 70,
          failures: [{ kind: 'hang', stage: 'worker', detail: `no outcome within ${this.timeoutMs} ms`, signature: 'hang' }],
        });
      }, this.timeoutMs);
      this.pending = { id, resolve, timer, fifos };
      worker.postMessage({ id, ...request } satisfies Request);
    });
  }

  async close(): Promise<void> {
    await this.retire(this.pending?.fifos);
  }
}
