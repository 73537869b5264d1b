import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { ExitError } from '../errors.ts';
import type { CertificatePair } from '../plan/security.ts';
import { readInputFile, UnreadableInput } from '../topology/input-file.ts';

/*
 * A small CA with the openssl CLI (node:crypto cannot issue X.509 certificates).
 * EC P-256 keys: fast to generate, accepted by Go's crypto/tls, HAProxy and Node.
 */

const CA_DAYS = 3650;
const CERT_DAYS = 825;

export interface CertificateAuthority {
  readonly cert: string;
  readonly key: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const r = await execa('openssl', args, { cwd, reject: false });
  if (r.failed)
    throw new ExitError(
      2,
      `openssl ${args[0]} failed: ${String(r.stderr || r.message || '').split('\n')[0]}${'code' in r && r.code === 'ENOENT' ? '\n    fix: install openssl (apt-get install openssl)' : ''}`,
    );
}

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

/** The CA kept in `dir` (ca.crt, ca.key with mode 0600), created on first use. */
export async function ensureCa(dir: string, commonName = 'promha CA'): Promise<CertificateAuthority> {
  const certFile = path.join(dir, 'ca.crt');
  const keyFile = path.join(dir, 'ca.key');
  if (!(await exists(certFile)) || !(await exists(keyFile))) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await openssl(
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', String(CA_DAYS), '-subj', `/CN=${commonName}`,
        '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
      dir,
    );
    await chmod(keyFile, 0o600);
  }
  // Named in the error: the caller knows the directory, not which of the two files failed.
  const read = (file: string) =>
    readPemFile(file).catch((e: unknown) => {
      throw e instanceof UnreadableInput ? new UnreadableInput(e.code, `${path.basename(file)}: ${e.message}`, e.hint) : e;
    });
  return { cert: await read(certFile), key: await read(keyFile) };
}

/** A certificate, a key or a password file: a few KiB; a bundle of certificates stays far below. */
export const MAX_PEM_BYTES = 1024 * 1024;
export const MAX_PEM_TEXT = '1 MiB';

/**
 * Reads a PEM file (or a password file) through the bounded reader: a FIFO or a device
 * (`/dev/zero`) is refused before any read, a file past MAX_PEM_BYTES after at most the
 * reader's own bound. Throws UnreadableInput, which the caller locates.
 */
export async function readPemFile(file: string): Promise<string> {
  const text = await readInputFile(file).catch((e: unknown) => {
    if (e instanceof UnreadableInput && e.code === 'EFBIG') throw pemTooLarge();
    throw e;
  });
  if (Buffer.byteLength(text) > MAX_PEM_BYTES) throw pemTooLarge();
  return text;
}

const pemTooLarge = () => new UnreadableInput('EFBIG', `larger than ${MAX_PEM_TEXT}`, `a certificate, a key or a password file is a few KiB: name the file itself, not a bundle or an archive`);

const IPV4 = /^\d+\.\d+\.\d+\.\d+$/;

/** The subjectAltName entries of `hosts`: IP for IP literals, DNS for names. */
export function subjectAltName(hosts: readonly string[]): string {
  return [...new Set(hosts)].map((h) => (IPV4.test(h) || h.startsWith('[') ? `IP:${h.replace(/^\[(.*)\]$/, '$1')}` : `DNS:${h}`)).join(',');
}

/**
 * A certificate for `name`, signed by `ca`, valid as server (for `hosts`) and as
 * client: members use one certificate for both sides of mutual TLS.
 */
export async function issueCertificate(ca: CertificateAuthority, name: string, hosts: readonly string[]): Promise<CertificatePair> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'promha-cert-'));
  try {
    await writeFile(path.join(dir, 'ca.crt'), ca.cert);
    await writeFile(path.join(dir, 'ca.key'), ca.key, { mode: 0o600 });
    const ext = [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth,clientAuth',
      ...(hosts.length ? [`subjectAltName=${subjectAltName(hosts)}`] : []),
    ];
    await writeFile(path.join(dir, 'ext.cnf'), `${ext.join('\n')}\n`);
    await openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'member.key', '-out', 'member.csr', '-subj', `/CN=${name}`], dir);
    await openssl(['x509', '-req', '-in', 'member.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'member.crt', '-days', String(CERT_DAYS), '-extfile', 'ext.cnf'], dir);
    return { cert: await readFile(path.join(dir, 'member.crt'), 'utf8'), key: await readFile(path.join(dir, 'member.key'), 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
