import type { Address } from '../address.ts';

export type VipMode = 'keepalived' | 'haproxy';

export type Role = 'scraper' | 'pushgateway' | 'federator' | 'alertmanager' | 'vip';

/** The Debian 12 package binaries promha runs; never re-implemented. */
export type BinaryName = 'prometheus' | 'prometheus-alertmanager' | 'prometheus-pushgateway' | 'keepalived' | 'haproxy';

export const DEBIAN_BINARY_PATHS: Readonly<Record<BinaryName, string>> = {
  prometheus: '/usr/bin/prometheus',
  'prometheus-alertmanager': '/usr/bin/prometheus-alertmanager',
  'prometheus-pushgateway': '/usr/bin/prometheus-pushgateway',
  keepalived: '/usr/sbin/keepalived',
  haproxy: '/usr/sbin/haproxy',
};

/** The Debian 12 package of each binary. */
export const DEBIAN_PACKAGES: Readonly<Record<BinaryName, string>> = {
  prometheus: 'prometheus',
  'prometheus-alertmanager': 'prometheus-alertmanager',
  'prometheus-pushgateway': 'prometheus-pushgateway',
  keepalived: 'keepalived',
  haproxy: 'haproxy',
};

/**
 * The systemd unit each package ships and starts on install. It runs the same binary on
 * the same port with the package's default config, so a promha host disables it.
 */
export const DEBIAN_PACKAGED_UNITS: Readonly<Record<BinaryName, string>> = {
  prometheus: 'prometheus.service',
  'prometheus-alertmanager': 'prometheus-alertmanager.service',
  'prometheus-pushgateway': 'prometheus-pushgateway.service',
  keepalived: 'keepalived.service',
  haproxy: 'haproxy.service',
};

export interface ProcessSpec {
  /** Unique within the node, used for file names and logs. */
  readonly name: string;
  readonly binary: BinaryName;
  readonly args: readonly string[];
}

export interface FileSpec {
  /** Relative to the node's config directory. */
  readonly path: string;
  readonly content: string;
  /** @default 0o644 */
  readonly mode?: number;
  /** A YAML file's data: what parsing `content` gives. Never changed after planning. */
  readonly data?: unknown;
}

/** Everything one member (or VIP stand-in) needs to run, with no I/O done yet. */
export interface NodeSpec {
  readonly name: string;
  readonly role: Role;
  /** The set (or cluster) the member belongs to. */
  readonly set: string;
  /** The Alertmanager backup member. */
  readonly backup: boolean;
  /** Where it serves HTTP. */
  readonly address: Address;
  readonly processes: readonly ProcessSpec[];
  readonly files: readonly FileSpec[];
  readonly configDir: string;
  readonly dataDir?: string;
  readonly persistent: boolean;
  /** An HAProxy that stands in for the keepalived VIP where there is no root. */
  readonly standIn: boolean;
}

/** Where files and data live on a member's host. */
export interface Layout {
  configDir(member: string): string;
  /** `configured` is the topology's storage.path, if any. */
  dataDir(member: string, configured?: string): string;
  runDir(member: string): string;
}

/** The layout of a real host installed from a bundle. */
export const HOST_LAYOUT: Layout = {
  configDir: (m) => `/etc/promha/${m}`,
  dataDir: (m, configured) => configured ?? `/var/lib/promha/${m}`,
  runDir: (m) => `/run/promha/${m}`,
};
