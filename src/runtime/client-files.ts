import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CLIENT_IDENTITY, type SecurityMaterial } from '../plan/security.ts';
import type { ClientSecurity } from '../probe/client-security.ts';
import { readInputFile } from '../topology/input-file.ts';

/*
 * The client identity of a running stack in secure mode, kept in one directory of the
 * state dir (mode 0700; keys and password 0600) so that later commands (status,
 * doctor, drill) and the demo pushers reach the members as `up` did.
 */

const FILES = { ca: 'ca.crt', cert: 'client.crt', key: 'client.key', username: 'username', password: 'password' } as const;

export async function writeClientFiles(dir: string, m: SecurityMaterial): Promise<ClientSecurity> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const sec: ClientSecurity = {
    ...(m.tls ? { ca: m.tls.caCert, cert: m.tls.certificate(CLIENT_IDENTITY).cert, key: m.tls.certificate(CLIENT_IDENTITY).key } : {}),
    ...(m.auth ? { username: m.auth.username, password: m.auth.password } : {}),
  };
  for (const [k, file] of Object.entries(FILES)) {
    const value = sec[k as keyof ClientSecurity];
    if (value !== undefined) await writeFile(path.join(dir, file), value, { mode: 0o600 });
  }
  return sec;
}

export async function readClientFiles(dir: string): Promise<ClientSecurity> {
  const out: Record<string, string> = {};
  for (const [k, file] of Object.entries(FILES)) {
    // Bounded and non-blocking: a FIFO or a device here is skipped, not waited on.
    const value = await readInputFile(path.join(dir, file)).catch(() => undefined);
    if (value !== undefined) out[k] = value;
  }
  return out as ClientSecurity;
}
