import { parentPort, workerData } from 'node:worker_threads';
import type { ReleaseName } from '../../src/release/release.ts';
import { boundRegexBacktracking } from '../../src/cli/regex-budget.ts';
import { seedInputs } from './corpus.ts';
import type { FuzzInput } from './input.ts';
import { evaluate, type Stage } from './oracle.ts';

/*
 * Evaluates inputs one at a time for the runner in the main thread, which ends this
 * worker when an input takes too long or too much memory.
 */

// Deep recursion in the YAML library would otherwise hide the frame in promha's sources.
Error.stackTraceLimit = 100;

/** What the runner sends: an input, or a self-test of its own hang and memory bounds. */
export type Request = { id: number; input: FuzzInput; release: ReleaseName; toolConfigRoot?: string } | { id: number; selfTest: 'spin' | 'allocate' };

const { dir } = workerData as { dir: string };
const port = parentPort;
if (!port) throw new Error('run as a worker of test/fuzz/runner.ts');

function selfTest(kind: 'spin' | 'allocate'): never {
  const hold: string[][] = [];
  for (;;) if (kind === 'allocate') hold.push(Array.from({ length: 1e5 }, (_, i) => `${i}`));
}

port.on('message', (msg: Request) => {
  if ('selfTest' in msg) selfTest(msg.selfTest);
  const progress = (stage: Stage) => port.postMessage({ id: msg.id, stage });
  evaluate(msg.input, dir, { release: msg.release, progress, ...(msg.toolConfigRoot ? { toolConfigRoot: msg.toolConfigRoot } : {}) }).then(
    (outcome) => port.postMessage({ id: msg.id, outcome }),
    (e: unknown) => port.postMessage({ id: msg.id, error: e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e) }),
  );
});
// As the CLI does before any command: no input's regular expression can stall a match.
boundRegexBacktracking();
// The first evaluation compiles and warms everything: done before the clock runs.
await evaluate(seedInputs()[2] as FuzzInput, dir);
port.postMessage({ ready: true });
