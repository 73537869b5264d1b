import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { ExitError, ValidationError } from '../errors.ts';
import { certificateHosts, CLIENT_IDENTITY, type CertificatePair, type SecurityMaterial } from '../plan/security.ts';
import type { ClientSecurity } from '../probe/client-security.ts';
import type { TopologySpec } from '../topology/schema.ts';
import type { Topology } from '../topology/topology.ts';
import type { PropertyPath } from '../topology/yaml-source.ts';
import { UnreadableInput } from '../topology/input-file.ts';
import { ensureCa, issueCertificate, readPemFile, type CertificateAuthority } from './certificates.ts';

/** bcrypt cost: what `htpasswd -B` uses; each request to a server pays it once per new credential. */
const BCRYPT_COST = 10;

export interface PrepareOptions {
  /**
   * Generate a CA here and certificates for the topology's addresses, whatever the
   * topology says: the local stack's addresses are in no supplied certificate.
   */
  readonly generateIn?: string;
}

/** A located problem with one of the topology's security files. */
const located = (topology: Topology, where: PropertyPath, message: string, hint: string) => new ValidationError([{ message, location: topology.locate(where), hint }]);

/** Why a security file could not be read, and the fix, from the bounded reader's refusal. */
function unreadable(topology: Topology, e: UnreadableInput): { why: string; hint: string } {
  const relative = `paths are relative to ${topology.file}`;
  if (e.code === 'ENOENT') return { why: 'does not exist', hint: relative };
  if (e.code === 'ENOTFILE') return { why: `cannot be read: ${e.message}`, hint: 'name a regular file: promha reads it whole, and a FIFO or a device would never end' };
  if (e.code === 'EFBIG') return { why: `cannot be read: ${e.message}`, hint: e.hint };
  if (e.code === 'EILSEQ') return { why: `cannot be read: ${e.message}`, hint: 'certificates, keys and the password file are text: convert a DER file to PEM (`openssl x509 -inform der`, `openssl pkey -inform der`)' };
  return { why: `cannot be read: ${e.message}`, hint: `check the path and its permissions; ${relative}` };
}

/**
 * Reads one file the topology names at `where`, bounded (see readPemFile), every
 * failure located at that key. A secret must not be readable by others.
 */
async function readInput(topology: Topology, file: string, where: PropertyPath, what: string, secret = false): Promise<string> {
  const abs = path.resolve(path.dirname(topology.file), file);
  let text: string;
  try {
    text = await readPemFile(abs);
  } catch (e) {
    if (!(e instanceof UnreadableInput)) throw e;
    const u = unreadable(topology, e);
    throw located(topology, where, `${what} "${file}" ${u.why}`, u.hint);
  }
  if (secret) {
    // After the read: only a regular file gets this far, so its mode is the one that counts.
    const mode = (await stat(abs)).mode & 0o777;
    if ((mode & 0o077) !== 0) throw located(topology, where, `${what} "${file}" is readable by others (mode ${mode.toString(8).padStart(4, '0')})`, `chmod 600 ${abs}`);
  }
  return text;
}

/**
 * The CA kept in `dir`, created on first use; a failure (a path that is no directory, a
 * CA file that is a FIFO, no permission) located at `ca_dir` when the topology names it.
 */
async function caIn(topology: Topology, dir: string, fromTopology: boolean): Promise<CertificateAuthority> {
  try {
    return await ensureCa(dir);
  } catch (e) {
    const where = ['security', 'tls', 'ca_dir'];
    const shown = fromTopology ? `ca_dir "${topology.spec.security?.tls?.ca_dir}"` : `the stack's CA directory ${dir}`;
    if (e instanceof UnreadableInput) {
      const message = `${shown}: ${e.code === 'ENOENT' ? `${e.message.split(':')[0]} vanished while it was read` : e.message}`;
      const hint = e.code === 'EFBIG' ? e.hint : `ca.crt and ca.key in ${dir} must be regular files; remove them to have a new CA generated`;
      if (fromTopology) throw located(topology, where, message, hint);
      throw new ExitError(2, `promha: ${message}\n    fix: ${hint}`);
    }
    const code = (e as NodeJS.ErrnoException | undefined)?.code;
    if (typeof code !== 'string' || !fromTopology) throw e;
    throw located(topology, where, `${shown}: cannot keep a CA there (${code})`, `name a directory promha may create and write; paths are relative to ${topology.file}`);
  }
}

async function tlsMaterial(topology: Topology, spec: TopologySpec, o: PrepareOptions): Promise<SecurityMaterial['tls']> {
  const tls = spec.security?.tls;
  if (!tls) return undefined;
  if (o.generateIn === undefined && tls.ca !== 'generate') {
    const at = ['security', 'tls', 'ca'];
    const pair: CertificatePair = {
      cert: await readInput(topology, tls.ca.cert_file, [...at, 'cert_file'], 'certificate'),
      key: await readInput(topology, tls.ca.key_file, [...at, 'key_file'], 'key', true),
    };
    const caCert = await readInput(topology, tls.ca.ca_file, [...at, 'ca_file'], 'CA certificate');
    suppliedPemProblem(topology, tls.ca, pair, caCert);
    return { caCert, certificate: () => pair };
  }
  const ca = await caIn(topology, o.generateIn ?? path.resolve(path.dirname(topology.file), tls.ca_dir), o.generateIn === undefined);
  const certs = new Map<string, CertificatePair>();
  // One after the other: openssl is quick, and two cores are shared with the servers.
  for (const [name, hosts] of certificateHosts(spec)) certs.set(name, await issueCertificate(ca, name, hosts));
  return {
    caCert: ca.cert,
    certificate(node) {
      const c = certs.get(node);
      if (!c) throw new Error(`no certificate issued for ${node}`);
      return c;
    },
  };
}

/**
 * Supplied PEM files parse as what they are, and the key is the certificate's: a damaged
 * one passed check and render, and then HAProxy ("unable to load certificate") and
 * Prometheus' web config ("failed to find any PEM data") refused it on the host.
 */
function suppliedPemProblem(topology: Topology, files: { cert_file: string; key_file: string; ca_file: string }, pair: CertificatePair, caCert: string): void {
  const at = ['security', 'tls', 'ca'];
  const refuse = (key: string, message: string, hint: string): never => {
    throw new ValidationError([{ message, location: topology.locate([...at, key]), hint }]);
  };
  const certOf = (text: string, key: 'cert_file' | 'ca_file', file: string): X509Certificate => {
    try {
      return new X509Certificate(text);
    } catch (e) {
      return refuse(key, `"${file}" is not a PEM certificate (${(e as Error).message})`, 'name the PEM file itself (-----BEGIN CERTIFICATE-----); `openssl x509 -in FILE -noout` must read it');
    }
  };
  const cert = certOf(pair.cert, 'cert_file', files.cert_file);
  certOf(caCert, 'ca_file', files.ca_file);
  let key: KeyObject;
  try {
    key = createPrivateKey(pair.key);
  } catch (e) {
    return refuse('key_file', `"${files.key_file}" is not a PEM private key (${(e as Error).message})`, 'name the unencrypted PEM key of cert_file; `openssl pkey -in FILE -noout` must read it');
  }
  if (!cert.checkPrivateKey(key)) refuse('key_file', `"${files.key_file}" is not the key of "${files.cert_file}"`, 'name the private key the certificate was issued for');
}

/** The first line of the password file, which must be private and at least 8 characters long. */
async function readPassword(topology: Topology, file: string): Promise<string> {
  const where = ['security', 'basic_auth', 'password_file'];
  const password = (await readInput(topology, file, where, 'password file', true)).split('\n')[0]?.trim() ?? '';
  if (password.length < 8)
    throw new ValidationError([{ message: `the password in "${file}" is shorter than 8 characters`, location: topology.locate(where), hint: 'use a long random password, e.g. `openssl rand -base64 24 > FILE`' }]);
  return password;
}

async function authMaterial(topology: Topology, spec: TopologySpec): Promise<SecurityMaterial['auth']> {
  const auth = spec.security?.basic_auth;
  if (!auth) return undefined;
  if (auth.password_file === undefined)
    throw new ValidationError([{ message: 'basic_auth needs a password_file', location: topology.locate(['security', 'basic_auth']), hint: 'write the password into a file of mode 0600 and name it in password_file' }]);
  const password = await readPassword(topology, auth.password_file);
  return { username: auth.username, password, passwordHash: bcrypt.hashSync(password, BCRYPT_COST) };
}

/**
 * Reads or generates what secure mode needs for `topology` (whose addresses the
 * certificates name). Nothing of it is ever printed; it goes only into files of mode 0600.
 */
export async function prepareSecurity(topology: Topology, o: PrepareOptions = {}): Promise<SecurityMaterial | undefined> {
  const spec = topology.spec;
  if (!spec.security) return undefined;
  // The password first: a mistake there is found before a CA and every certificate are generated.
  const auth = await authMaterial(topology, spec);
  const tls = await tlsMaterial(topology, spec, o);
  return { ...(tls ? { tls } : {}), ...(auth ? { auth } : {}) };
}

/**
 * How promha itself reaches a real secure deployment (doctor without a local stack):
 * the CA, a client certificate (issued from a generated CA when its key is at hand, or
 * the supplied one) and the password.
 */
export async function deploymentClientSecurity(topology: Topology): Promise<ClientSecurity | undefined> {
  const sec = topology.spec.security;
  if (!sec) return undefined;
  const dir = path.dirname(topology.file);
  let tls: ClientSecurity = {};
  if (sec.tls?.ca === 'generate') {
    const caDir = path.resolve(dir, sec.tls.ca_dir);
    const ca = await readInput(topology, path.join(caDir, 'ca.crt'), ['security', 'tls', 'ca_dir'], 'CA certificate');
    // The key is optional: a client certificate is issued only when it is at hand (absent,
    // or kept from this user). One that is a FIFO, a device or no PEM is a mistake to report.
    const keyFile = path.join(caDir, 'ca.key');
    const key = await readPemFile(keyFile).catch((e: unknown) => {
      if (e instanceof UnreadableInput && ['ENOENT', 'EACCES', 'EPERM'].includes(e.code)) return undefined;
      if (e instanceof UnreadableInput) throw located(topology, ['security', 'tls', 'ca_dir'], `CA key "${keyFile}" ${unreadable(topology, e).why}`, unreadable(topology, e).hint);
      throw e;
    });
    tls = key ? { ca, ...(await issueCertificate({ cert: ca, key }, CLIENT_IDENTITY, [])) } : { ca };
  } else if (sec.tls) {
    const at = ['security', 'tls', 'ca'];
    tls = {
      ca: await readInput(topology, sec.tls.ca.ca_file, [...at, 'ca_file'], 'CA certificate'),
      cert: await readInput(topology, sec.tls.ca.cert_file, [...at, 'cert_file'], 'certificate'),
      key: await readInput(topology, sec.tls.ca.key_file, [...at, 'key_file'], 'key', true),
    };
  }
  const auth = sec.basic_auth?.password_file ? { username: sec.basic_auth.username, password: await readPassword(topology, sec.basic_auth.password_file) } : {};
  return { ...tls, ...auth };
}
