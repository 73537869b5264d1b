import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { ValidationError } from '../errors.ts';
import { certificateHosts, CLIENT_IDENTITY, type CertificatePair, type SecurityMaterial } from '../plan/security.ts';
import type { ClientSecurity } from '../probe/client-security.ts';
import type { TopologySpec } from '../topology/schema.ts';
import type { Topology } from '../topology/topology.ts';
import type { PropertyPath } from '../topology/yaml-source.ts';
import { ensureCa, issueCertificate } from './certificates.ts';

/** bcrypt cost: what `htpasswd -B` uses; each request to a server pays it once per new credential. */
const BCRYPT_COST = 10;

export interface PrepareOptions {
  /**
   * Generate a CA here and certificates for the topology's addresses, whatever the
   * topology says: the local stack's addresses are in no supplied certificate.
   */
  readonly generateIn?: string;
}

async function readInput(topology: Topology, file: string, where: PropertyPath, what: string, secret = false): Promise<string> {
  const abs = path.resolve(path.dirname(topology.file), file);
  try {
    const mode = (await stat(abs)).mode & 0o777;
    if (secret && (mode & 0o077) !== 0)
      throw new ValidationError([
        { message: `${what} "${file}" is readable by others (mode ${mode.toString(8).padStart(4, '0')})`, location: topology.locate(where), hint: `chmod 600 ${abs}` },
      ]);
    return await readFile(abs, 'utf8');
  } catch (e) {
    if (e instanceof ValidationError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new ValidationError([
      {
        message: `${what} "${file}" cannot be read (${code ?? String(e)})`,
        location: topology.locate(where),
        hint: `paths are relative to ${topology.file}`,
      },
    ]);
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
    return { caCert: await readInput(topology, tls.ca.ca_file, [...at, 'ca_file'], 'CA certificate'), certificate: () => pair };
  }
  const ca = await ensureCa(o.generateIn ?? path.resolve(path.dirname(topology.file), tls.ca_dir));
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
  const tls = await tlsMaterial(topology, spec, o);
  const auth = await authMaterial(topology, spec);
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
    const key = await readFile(path.join(caDir, 'ca.key'), 'utf8').catch(() => undefined);
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
