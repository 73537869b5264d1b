import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ExitError } from '../errors.ts';
import { StateDir } from '../runtime/state.ts';

/** The log of every process of a member (pushgateway and keepalived, say). */
export async function runLogs(stateDir: string, member: string, lines?: number): Promise<string> {
  const dir = new StateDir(stateDir);
  const logs = path.resolve(dir.root, 'logs');
  const files = (await readdir(logs).catch(() => [] as string[])).filter((f) => f.startsWith(`${member}.`)).sort();
  if (files.length === 0) {
    const known = [...new Set((await readdir(logs).catch(() => [] as string[])).map((f) => f.split('.')[0]))];
    throw new ExitError(1, `no logs for "${member}"${known.length ? `; members: ${known.join(', ')}` : ' (nothing has run from here)'}`);
  }
  const parts: string[] = [];
  for (const f of files) {
    let text = await readFile(path.join(logs, f), 'utf8');
    if (lines) text = text.trimEnd().split('\n').slice(-lines).join('\n');
    parts.push(files.length > 1 ? `==> ${f} <==\n${text.trimEnd()}` : text.trimEnd());
  }
  return parts.join('\n\n');
}
