import type { FuzzInput } from './input.ts';
import type { Runner } from './runner.ts';

/**
 * Makes a failing input smaller while it still fails with the same signature: drops
 * the foreign file, whole rule files, then chunks of lines (halves down to single
 * lines) of every file. Bounded by a deadline, since a hang costs a full timeout per try.
 */
export async function shrink(runner: Runner, input: FuzzInput, signature: string, budgetMs: number): Promise<{ input: FuzzInput; tries: number }> {
  const deadline = Date.now() + budgetMs;
  let best = input;
  let tries = 0;
  const fails = async (candidate: FuzzInput): Promise<boolean> => {
    if (Date.now() > deadline) return false;
    tries++;
    const outcome = await runner.run(candidate);
    if (!outcome.failures.some((f) => f.signature === signature)) return false;
    best = candidate;
    return true;
  };

  if (best.foreign) {
    const { foreign: _, ...rest } = best;
    await fails(rest);
  }
  for (const name of Object.keys(best.files)) {
    const files = { ...best.files };
    delete files[name];
    await fails({ ...best, files });
  }

  const texts = (): Array<[string | undefined, string]> => [[undefined, best.topology], ...Object.entries(best.files)];
  const withText = (name: string | undefined, text: string): FuzzInput => (name === undefined ? { ...best, topology: text } : { ...best, files: { ...best.files, [name]: text } });
  for (const [name] of texts()) {
    const current = () => (name === undefined ? best.topology : (best.files[name] as string));
    for (let chunk = Math.max(1, Math.floor(current().split('\n').length / 2)); chunk >= 1 && Date.now() < deadline; chunk = Math.floor(chunk / 2)) {
      for (let start = 0; start < current().split('\n').length && Date.now() < deadline; ) {
        const lines = current().split('\n');
        const candidate = [...lines.slice(0, start), ...lines.slice(start + chunk)].join('\n');
        if (!(await fails(withText(name, candidate)))) start += chunk;
      }
    }
  }
  return { input: best, tries };
}
