import { DEBIAN_BINARY_PATHS, type ProcessSpec } from '../plan/node-spec.ts';

/** Quotes a word for a POSIX shell only when it needs it. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export function commandLine(p: ProcessSpec): string {
  return [DEBIAN_BINARY_PATHS[p.binary], ...p.args].map(shellQuote).join(' ');
}
