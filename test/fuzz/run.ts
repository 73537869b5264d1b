import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { isReleaseName, RELEASE_NAMES, type ReleaseName } from '../../src/release/release.ts';
import { formatResult, inputFor, runCampaign, type CampaignResult } from './campaign.ts';
import type { FuzzInput } from './input.ts';
import { Runner } from './runner.ts';
import { SURFACES } from './surfaces.ts';
import { ToolChecker } from './tools.ts';

/*
 * The fuzzer from the command line (`npm run fuzz -- …`). By default 3,000 inputs for each
 * release, every render judged by that release's real tools, no time budget:
 *   node --import tsx test/fuzz/run.ts                                  (3,000 × bookworm, trixie, sid)
 *   node --import tsx test/fuzz/run.ts --release sid --iterations 500 --seed 7
 *   node --import tsx test/fuzz/run.ts --surfaces receivers,tls --budget 600
 *   node --import tsx test/fuzz/run.ts --replay /tmp/promha-fuzz-failures/….json
 *   node --import tsx test/fuzz/run.ts --replay promha.yaml        (a topology alone)
 *   node --import tsx test/fuzz/run.ts --seed 7 --iteration 1234   (one generated input)
 * Exit 0 when nothing failed, 1 otherwise. --json FILE also writes the results as JSON.
 */
const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    iterations: { type: 'string', default: '3000' },
    budget: { type: 'string' },
    release: { type: 'string', multiple: true },
    surfaces: { type: 'string' },
    'no-tools': { type: 'boolean', default: false },
    timeout: { type: 'string', default: '10' },
    shrink: { type: 'string', default: '20' },
    'shrink-limit': { type: 'string' },
    replay: { type: 'string' },
    iteration: { type: 'string' },
    print: { type: 'boolean', default: false },
    out: { type: 'string' },
    json: { type: 'string' },
  },
});

const releases = (values.release ?? [...RELEASE_NAMES]).flatMap((r) => r.split(','));
for (const r of releases) if (!isReleaseName(r)) throw new Error(`--release wants ${RELEASE_NAMES.join(', ')}, got "${r}"`);

async function replay(input: FuzzInput, release: ReleaseName): Promise<number> {
  if (values.print) process.stdout.write(`${JSON.stringify(input, null, 2)}\n`);
  const tools = values['no-tools'] ? undefined : await ToolChecker.create(release);
  const runner = new Runner(Number(values.timeout) * 1000, { release, ...(tools ? { tools } : {}) });
  try {
    const outcome = await runner.run(input);
    process.stdout.write(`${JSON.stringify(outcome, null, 2)}\n`);
    return outcome.failures.length ? 1 : 0;
  } finally {
    await runner.close();
    await tools?.close();
  }
}

async function main(): Promise<number> {
  if (values.replay) {
    const text = await readFile(values.replay, 'utf8');
    const recorded = values.replay.endsWith('.json') ? (JSON.parse(text) as { input: FuzzInput; release?: ReleaseName }) : undefined;
    const release = (values.release ? releases[0] : recorded?.release) ?? 'bookworm';
    return replay(recorded ? recorded.input : { topology: text, files: {} }, release as ReleaseName);
  }
  if (values.iteration !== undefined) return replay(inputFor(Number(values.seed), Number(values.iteration)), (releases[0] ?? 'bookworm') as ReleaseName);
  const wanted = values.surfaces?.split(',').map((s) => s.trim());
  const surfaces = wanted ? SURFACES.filter((s) => wanted.includes(s.name)) : SURFACES;
  if (wanted && surfaces.length !== wanted.length) throw new Error(`--surfaces wants some of ${SURFACES.map((s) => s.name).join(', ')}`);
  const budgetMs = values.budget === undefined ? Infinity : Number(values.budget) * 1000;
  const results: CampaignResult[] = [];
  // The first SIGINT or SIGTERM ends the campaign with its counts so far; a second one ends the process.
  const stop = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.on(sig, () => {
      if (stop.signal.aborted) process.exit(130);
      process.stderr.write(`${sig}: stopping after this input; again to stop at once\n`);
      stop.abort();
    });
  for (const release of releases as ReleaseName[]) {
    if (stop.signal.aborted) break;
    process.stderr.write(`== ${release}\n`);
    const result = await runCampaign({
      seed: Number(values.seed),
      iterations: Number(values.iterations),
      budgetMs,
      release,
      surfaces,
      tools: !values['no-tools'],
      timeoutMs: Number(values.timeout) * 1000,
      shrinkMs: Number(values.shrink) * 1000,
      ...(values['shrink-limit'] ? { shrinkLimit: Number(values['shrink-limit']) } : {}),
      ...(values.out ? { failuresDir: values.out } : {}),
      log: (l) => process.stderr.write(`${l}\n`),
      signal: stop.signal,
    });
    results.push(result);
    process.stdout.write(`${formatResult(result, budgetMs)}\n\n`);
  }
  if (values.json) {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(values.json, `${JSON.stringify(results.map(({ failures, ...r }) => ({ ...r, failures: failures.map((f) => ({ signature: f.signature, count: f.count, kind: f.failure.kind, stage: f.failure.stage, detail: f.failure.detail, file: f.file, minimized: f.minimized ?? f.input })) })), null, 2)}\n`);
  }
  return results.some((r) => r.failures.length || r.mutationErrors.length) ? 1 : 0;
}

process.exitCode = await main();
