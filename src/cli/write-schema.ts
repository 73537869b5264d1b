import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ExitError } from '../errors.ts';

/** `schema --out FILE`: a failed write names the file, the reason and the fix. */
export async function writeSchema(file: string, text: string): Promise<void> {
  try {
    await writeFile(file, text);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    const fix =
      code === 'ENOENT' || code === 'ENOTDIR'
        ? `create ${path.dirname(file)}/ first, or choose another --out`
        : code === 'EISDIR'
          ? `${file} is a directory: name a file, e.g. ${path.join(file, 'promha.schema.json')}`
          : 'choose a writable path for --out';
    throw new ExitError(2, `promha schema: cannot write ${file}: ${code}\n    fix: ${fix}`);
  }
}
