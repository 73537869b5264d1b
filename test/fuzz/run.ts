import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { formatResult, inputFor, runCampaign } from './campaign.ts';
import type { FuzzInput } from './input.ts';
import { Runner } from './runner.ts';

/*
 * The fuzzer from the command line:
 *   node --import tsx test/fuzz/run.ts --seed 7 --iterations 100000 --budget 600
 *   node --import tsx test/fuzz/run.ts --replay /tmp/promha-fuzz-failures/….json
 *   node --import tsx test/fuzz/run.ts --replay promha.yaml        (a topology alone)
 *   node --import tsx test/fuzz/run.ts --seed 7 --iteration 1234   (one generated input)
 * Exit 0 when nothing failed, 1 otherwise.
 */
const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    iterations: { type: 'string', default: '1000000' },
    budget: { type: 'string', default: '60' },
    timeout: { type: 'string', default: '5' },
    shrink: { type: 'string', default: '20' },
    replay: { type: 'string' },
    iteration: { type: 'string' },
    print: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});

async function replay(input: FuzzInput): Promise<number> {
  if (values.print) process.stdout.write(`${JSON.stringify(input, null, 2)}\n`);
  const runner = new Runner(Number(values.timeout) * 1000);
  try {
    const outcome = await runner.run(input);
    process.stdout.write(`${JSON.stringify(outcome, null, 2)}\n`);
    return outcome.failures.length ? 1 : 0;
  } finally {
    await runner.close();
  }
}

async function main(): Promise<number> {
  if (values.replay) {
    const text = await readFile(values.replay, 'utf8');
    const input: FuzzInput = values.replay.endsWith('.json') ? (JSON.parse(text) as { input: FuzzInput }).input : { topology: text, files: {} };
    return replay(input);
  }
  if (values.iteration !== undefined) return replay(inputFor(Number(values.seed), Number(values.iteration)));
  const budgetMs = Number(values.budget) * 1000;
  const result = await runCampaign({
    seed: Number(values.seed),
    iterations: Number(values.iterations),
    budgetMs,
    timeoutMs: Number(values.timeout) * 1000,
    shrinkMs: Number(values.shrink) * 1000,
    ...(values.out ? { failuresDir: values.out } : {}),
    log: (l) => process.stderr.write(`${l}\n`),
  });
  process.stdout.write(`${formatResult(result, budgetMs)}\n`);
  return result.failures.length || result.mutationErrors.length ? 1 : 0;
}

process.exitCode = await main();
