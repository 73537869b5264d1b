import { writeFile } from 'node:fs/promises';
import { ExitError } from '../errors.ts';
import { DEFAULT_TOPOLOGY_FILE } from '../topology/load.ts';
import { seedTopology } from '../topology/seed.ts';

export const SCHEMA_FILE = 'promha.schema.json';

export interface InitResult {
  readonly file: string;
}

/** Writes the seed topology; never overwrites (the `wx` flag fails atomically if the file exists). */
export async function init(file: string = DEFAULT_TOPOLOGY_FILE, schemaRef: string = SCHEMA_FILE): Promise<InitResult> {
  try {
    await writeFile(file, seedTopology(schemaRef), { flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new ExitError(1, `${file} already exists: promha init never overwrites`);
    throw new ExitError(2, `cannot write ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  return { file };
}
