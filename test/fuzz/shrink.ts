import { TOPOLOGY_FILE, type FuzzInput } from './input.ts';
import type { Runner } from './runner.ts';

/**
 * Makes a failing input smaller while it still fails with the same signature: drops
 * the foreign file, whole files (text or bytes), pipes and links, then chunks of lines
 * (halves down to single lines) of every file. Bounded by a deadline, since a hang
 * costs a full timeout per try.
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
  const without = <T>(record: Readonly<Record<string, T>> | undefined, key: string): Record<string, T> => {
    const copy = { ...record };
    delete copy[key];
    return copy;
  };

  if (best.foreign) {
    const { foreign: _, ...rest } = best;
    await fails(rest);
  }
  for (const name of Object.keys(best.files)) await fails({ ...best, files: without(best.files, name) });
  for (const name of Object.keys(best.bytes ?? {})) await fails({ ...best, bytes: without(best.bytes, name) });
  for (const name of Object.keys(best.symlinks ?? {})) await fails({ ...best, symlinks: without(best.symlinks, name) });
  for (const fifo of best.fifos ?? []) await fails({ ...best, fifos: (best.fifos ?? []).filter((f) => f !== fifo) });

  // Text files by lines, then files given as bytes by lines of bytes.
  const texts = (): Array<[string | undefined, string]> => [[undefined, best.topology], ...Object.entries(best.files)];
  const withText = (name: string | undefined, text: string): FuzzInput => (name === undefined ? { ...best, topology: text } : { ...best, files: { ...best.files, [name]: text } });
  for (const [name] of texts()) {
    if (best.bytes?.[name ?? TOPOLOGY_FILE] !== undefined) continue;
    const current = () => (name === undefined ? best.topology : (best.files[name] as string));
    await shrinkLines(() => current().split('\n'), (lines) => fails(withText(name, lines.join('\n'))), deadline);
  }
  for (const name of Object.keys(best.bytes ?? {})) {
    const lines = () => splitBytes(Buffer.from(best.bytes?.[name] ?? '', 'base64'));
    await shrinkLines(lines, (ls) => fails({ ...best, bytes: { ...best.bytes, [name]: Buffer.concat(ls.flatMap((l, i) => (i ? [Buffer.from('\n'), l] : [l]))).toString('base64') } }), deadline);
  }
  return { input: best, tries };
}

function splitBytes(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = b.indexOf(0x0a); i >= 0; i = b.indexOf(0x0a, start)) {
    out.push(b.subarray(start, i));
    start = i + 1;
  }
  out.push(b.subarray(start));
  return out;
}

/** Removes chunks of lines, halving the chunk down to one line, while `fails` says the input still fails. */
async function shrinkLines<T>(current: () => T[], fails: (lines: T[]) => Promise<boolean>, deadline: number): Promise<void> {
  for (let chunk = Math.max(1, Math.floor(current().length / 2)); chunk >= 1 && Date.now() < deadline; chunk = Math.floor(chunk / 2)) {
    for (let start = 0; start < current().length && Date.now() < deadline; ) {
      const lines = current();
      if (!(await fails([...lines.slice(0, start), ...lines.slice(start + chunk)]))) start += chunk;
    }
  }
}
