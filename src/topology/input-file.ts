import { constants, open } from 'node:fs/promises';

/** A topology file or a rule file; real ones are a few KiB. */
export const MAX_INPUT_BYTES = 4 * 1024 * 1024;
export const MAX_INPUT_TEXT = '4 MiB';

/** Why an input file was not read, and how to fix it. */
export class UnreadableInput extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly hint: string,
  ) {
    super(message);
    this.name = 'UnreadableInput';
  }
}

function kind(stat: { isDirectory(): boolean; isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean }): string {
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a FIFO (named pipe)';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  if (stat.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Reads a regular file of at most MAX_INPUT_BYTES as UTF-8. Opened non-blocking and
 * checked with fstat before any read, so a FIFO or a device (/dev/zero) is refused at
 * once instead of blocking or filling memory; a file that grows while read is cut off
 * one byte past the limit and refused.
 */
export async function readInputFile(file: string): Promise<string> {
  let handle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    throw new UnreadableInput(code, code === 'ENOENT' ? 'no such file' : `cannot read it: ${code}`, 'check the path and its permissions');
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new UnreadableInput('ENOTFILE', `${kind(stat)}, not a regular file`, 'name a YAML file');
    const tooLarge = () => new UnreadableInput('EFBIG', `larger than ${MAX_INPUT_TEXT}`, `promha reads input files of at most ${MAX_INPUT_TEXT}; split rule files, or remove what is not configuration`);
    if (stat.size > MAX_INPUT_BYTES) throw tooLarge();
    const chunks: Buffer[] = [];
    let length = 0;
    for (;;) {
      const chunk = Buffer.alloc(64 * 1024);
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      length += bytesRead;
      if (length > MAX_INPUT_BYTES) throw tooLarge();
    }
    return Buffer.concat(chunks, length).toString('utf8');
  } catch (e) {
    if (e instanceof UnreadableInput) throw e;
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    throw new UnreadableInput(code, `cannot read it: ${code}`, 'check the path and its permissions');
  } finally {
    await handle.close();
  }
}
