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
    /** Where in the file, when the problem has a place (a byte that is no UTF-8). */
    readonly position?: { readonly line: number; readonly column: number },
  ) {
    super(message);
    this.name = 'UnreadableInput';
  }
}

/**
 * The offset of the first byte where `bytes` stops being UTF-8 (the start of the
 * ill-formed sequence), or -1. Well-formed as in Unicode's table 3-7, which both
 * TextDecoder and Go's utf8 follow: no overlong forms, no surrogates, nothing past U+10FFFF.
 */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i] as number;
    if (b < 0x80) {
      i++;
      continue;
    }
    // The continuation bytes a lead byte needs, and the range of the first of them.
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0;
      if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      if (b === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || c < (k === 1 ? lo : 0x80) || c > (k === 1 ? hi : 0xbf)) return i;
    }
    i += need + 1;
  }
  return -1;
}

/** Line and column (1-based, in characters as editors count them) of byte `offset` of UTF-8 text that is valid before it. */
function bytePosition(bytes: Buffer, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++)
    if (bytes[i] === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  return { line, column: bytes.subarray(lineStart, offset).toString('utf8').length + 1 };
}

/** Refuses what is no UTF-8 instead of turning it into U+FFFD; keeps a byte order mark, as reading did before. */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * `bytes` as text, or UnreadableInput at the first byte that is no UTF-8. Prometheus,
 * Alertmanager and their YAML reader refuse such a file ("invalid trailing UTF-8
 * octet"), and a replacement character in its place would reach the rendered files.
 */
export function decodeUtf8(bytes: Buffer): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    const position = bytePosition(bytes, Math.max(0, at));
    const byte = (bytes[at] ?? 0).toString(16).toUpperCase().padStart(2, '0');
    throw new UnreadableInput(
      'EILSEQ',
      `not UTF-8: byte 0x${byte} at line ${position.line}, column ${position.column} (byte offset ${at})`,
      'save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`); Prometheus and Alertmanager read nothing else',
      position,
    );
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
 * Reads a regular file of at most MAX_INPUT_BYTES of UTF-8 (see decodeUtf8). Opened non-blocking and
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
    return decodeUtf8(Buffer.concat(chunks, length));
  } catch (e) {
    if (e instanceof UnreadableInput) throw e;
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    throw new UnreadableInput(code, `cannot read it: ${code}`, 'check the path and its permissions');
  } finally {
    await handle.close();
  }
}
