import type { TopologySpec } from '../topology/schema.ts';
import type { FileSpec } from './node-spec.ts';
import { yamlFile } from './yaml-file.ts';

/*
 * Secure mode (topology `security`), as files and config fragments. Pure: the
 * certificates and the password arrive as SecurityMaterial, prepared once by
 * security/material.ts. Secrets live only in files of mode 0600 that configs name by
 * path (password_file, key_file), never inline, so neither plan.json nor a command
 * line ever holds one.
 */

export const SECRET_MODE = 0o600;
export const WEB_CONFIG = 'web.yml';
export const CLUSTER_TLS_CONFIG = 'cluster-tls.yml';
export const CA_FILE = 'tls/ca.crt';
export const CERT_FILE = 'tls/member.crt';
export const KEY_FILE = 'tls/member.key';
export const PASSWORD_FILE = 'secrets/basic-auth-password';
/** HAProxy wants certificate and key in one file. */
export const HAPROXY_PEM = 'tls/member.pem';

export interface CertificatePair {
  readonly cert: string;
  readonly key: string;
}

/** What secure mode needs beyond the topology: certificates and the password, read or generated once. */
export interface SecurityMaterial {
  readonly tls?: {
    readonly caCert: string;
    /** The certificate of each node (member or VIP stand-in) by name. */
    certificate(node: string): CertificatePair;
  };
  readonly auth?: {
    readonly username: string;
    readonly password: string;
    /** bcrypt hash of the password, for web.yml. */
    readonly passwordHash: string;
  };
}

export const tlsOn = (spec: TopologySpec): boolean => spec.security?.tls !== undefined;
export const authOn = (spec: TopologySpec): boolean => spec.security?.basic_auth !== undefined;

/** `https` when TLS is on: for external URLs and for clients. */
export const scheme = (spec: TopologySpec): 'http' | 'https' => (tlsOn(spec) ? 'https' : 'http');

/** `--web.config.file` for a server, when secure mode is on. */
export function webConfigArgs(spec: TopologySpec, configDir: string): string[] {
  return tlsOn(spec) || authOn(spec) ? [`--web.config.file=${configDir}/${WEB_CONFIG}`] : [];
}

/**
 * How a Prometheus reaches a protected endpoint: a scrape config's or an
 * alertmanager config's `scheme`, `tls_config` and `basic_auth`. Its own member
 * certificate doubles as its client certificate.
 */
export function clientHttpConfig(spec: TopologySpec, configDir: string): Record<string, unknown> {
  const tls = spec.security?.tls;
  const auth = spec.security?.basic_auth;
  return {
    ...(tls
      ? {
          scheme: 'https',
          tls_config: {
            ca_file: `${configDir}/${CA_FILE}`,
            cert_file: `${configDir}/${CERT_FILE}`,
            key_file: `${configDir}/${KEY_FILE}`,
            ...(tls.insecure_skip_verify ? { insecure_skip_verify: true } : {}),
          },
        }
      : {}),
    ...(auth ? { basic_auth: { username: auth.username, password_file: `${configDir}/${PASSWORD_FILE}` } } : {}),
  };
}

/** The exporter-toolkit web config of Prometheus, Alertmanager and Pushgateway. */
function webConfig(spec: TopologySpec, configDir: string, m: SecurityMaterial): FileSpec {
  const tls = spec.security?.tls;
  return {
    ...yamlFile(WEB_CONFIG, {
      ...(tls
        ? {
            tls_server_config: {
              cert_file: `${configDir}/${CERT_FILE}`,
              key_file: `${configDir}/${KEY_FILE}`,
              client_ca_file: `${configDir}/${CA_FILE}`,
              // Optional: a certificate is verified when shown, so one from another CA is refused.
              client_auth_type: tls.client_certs === 'required' ? 'RequireAndVerifyClientCert' : 'VerifyClientCertIfGiven',
            },
          }
        : {}),
      ...(m.auth ? { basic_auth_users: { [m.auth.username]: m.auth.passwordHash } } : {}),
    }),
    mode: SECRET_MODE,
  };
}

/**
 * Alertmanager `--cluster.tls-config`: gossip over mutual TLS, so a member without a
 * certificate of the CA cannot join. 0.25 panics without `tls_client_config` (DESIGN §2).
 */
function clusterTlsConfig(spec: TopologySpec, configDir: string): FileSpec {
  const tls = spec.security?.tls;
  return yamlFile(CLUSTER_TLS_CONFIG, {
    tls_server_config: {
      cert_file: `${configDir}/${CERT_FILE}`,
      key_file: `${configDir}/${KEY_FILE}`,
      client_ca_file: `${configDir}/${CA_FILE}`,
      client_auth_type: 'RequireAndVerifyClientCert',
    },
    tls_client_config: {
      ca_file: `${configDir}/${CA_FILE}`,
      cert_file: `${configDir}/${CERT_FILE}`,
      key_file: `${configDir}/${KEY_FILE}`,
      ...(tls?.insecure_skip_verify ? { insecure_skip_verify: true } : {}),
    },
  });
}

export function clusterTlsArgs(spec: TopologySpec, configDir: string): string[] {
  return tlsOn(spec) ? [`--cluster.tls-config=${configDir}/${CLUSTER_TLS_CONFIG}`] : [];
}

export interface SecurityFilesOptions {
  /** The node serves HTTP through exporter-toolkit (web.yml). */
  readonly server: boolean;
  /** The node authenticates to others (needs the password file). */
  readonly client: boolean;
  /** Alertmanager: gossip TLS config. */
  readonly gossip?: boolean;
  /** HAProxy: certificate and key in one PEM. */
  readonly haproxy?: boolean;
}

/** The certificates, keys, password file and web/cluster configs of one node. Empty without material (e.g. in `check`). */
export function securityFiles(spec: TopologySpec, node: string, configDir: string, m: SecurityMaterial | undefined, o: SecurityFilesOptions): FileSpec[] {
  if (!m) return [];
  const files: FileSpec[] = [];
  if (m.tls && tlsOn(spec)) {
    const pair = m.tls.certificate(node);
    files.push({ path: CA_FILE, content: m.tls.caCert });
    files.push({ path: CERT_FILE, content: pair.cert });
    files.push({ path: KEY_FILE, content: pair.key, mode: SECRET_MODE });
    if (o.haproxy) files.push({ path: HAPROXY_PEM, content: `${pair.cert.trimEnd()}\n${pair.key.trimEnd()}\n`, mode: SECRET_MODE });
    if (o.gossip) files.push(clusterTlsConfig(spec, configDir));
  }
  if (o.client && m.auth && authOn(spec)) files.push({ path: PASSWORD_FILE, content: `${m.auth.password}\n`, mode: SECRET_MODE });
  if (o.server && (tlsOn(spec) || authOn(spec))) files.push(webConfig(spec, configDir, m));
  return files;
}

/** The Authorization header value, for HAProxy health checks and the keepalived scripts. */
export function basicAuthHeader(m: SecurityMaterial | undefined): string | undefined {
  return m?.auth ? `Basic ${Buffer.from(`${m.auth.username}:${m.auth.password}`).toString('base64')}` : undefined;
}

/** The client identity promha itself (probes, doctor, demo pushers) uses in secure mode. */
export const CLIENT_IDENTITY = 'promha-client';

/**
 * The hosts each node's certificate must name: its own, the VIP for gateways (pushes
 * arrive on it when keepalived puts it on the gateway's host), the gossip address for
 * Alertmanagers.
 */
export function certificateHosts(spec: TopologySpec): Map<string, string[]> {
  const hosts = new Map<string, string[]>();
  for (const s of spec.scrapers) for (const m of s.members) hosts.set(m.name, [m.address.host]);
  for (const s of spec.pushgateways) {
    for (const m of s.members) hosts.set(m.name, [m.address.host, s.vip.address.host]);
    hosts.set(`${s.name}-vip`, [s.vip.address.host]);
  }
  for (const m of spec.federators.members) hosts.set(m.name, [m.address.host]);
  const am = spec.alertmanagers;
  for (const m of [...am.members, am.backup]) hosts.set(m.name, [m.address.host, ...(m.cluster_address ? [m.cluster_address.host] : [])]);
  hosts.set(CLIENT_IDENTITY, []);
  return hosts;
}
