import { Address } from '../address.ts';
import type { PushgatewaySetSpec, TopologySpec } from '../topology/schema.ts';
import type { Topology } from '../topology/topology.ts';

export type NetworkMode = 'loopback' | 'netns';

/** A demo process that `up` runs beside the members. */
export interface DemoSpec {
  readonly name: string;
  readonly kind: 'exporter' | 'pusher' | 'webhook';
  readonly address: Address;
  /** exporter: its group; pusher: its pushgateway set. */
  readonly target?: string;
  /** pusher: the job it pushes as. */
  readonly job?: string;
  /** pusher: the VIP URL. */
  readonly pushUrl?: string;
}

/** Where each member of the topology runs on this machine. */
export interface LocalAddressing {
  readonly mode: NetworkMode;
  /** Topology address → local address, for every member and VIP. */
  readonly members: ReadonlyMap<string, { readonly topology: Address; readonly local: Address }>;
  readonly demo: readonly DemoSpec[];
  /** The netns subnet prefix length, when mode is netns. */
  readonly prefixLength?: number;
  /** The address the machine's own namespace has on the bridge (netns). */
  readonly gateway?: string;
}

export const DEMO_RULES_FILE = 'promha-demo.rules.yml';

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}
function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** Parses `a.b.c.d/len` into its network and size. */
export function parseSubnet(cidr: string): { network: number; prefix: number; size: number } {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(cidr);
  if (!m) throw new RangeError(`"${cidr}" is not an IPv4 subnet such as 10.213.0.0/24`);
  const prefix = Number(m[2]);
  if (prefix < 16 || prefix > 28) throw new RangeError(`subnet /${prefix}: use a prefix from /16 to /28`);
  const size = 2 ** (32 - prefix);
  const network = ipv4ToInt(m[1] as string) - (ipv4ToInt(m[1] as string) % size);
  return { network, prefix, size };
}

/** Whether two IPv4 prefixes (`a.b.c.d/len`, or a bare address for /32) share an address. */
export function subnetsOverlap(a: string, b: string): boolean {
  const range = (cidr: string) => {
    const [ip, len] = cidr.split('/');
    const size = 2 ** (32 - Number(len ?? 32));
    const start = ipv4ToInt(ip as string) - (ipv4ToInt(ip as string) % size);
    return [start, start + size] as const;
  };
  const [x0, x1] = range(a);
  const [y0, y1] = range(b);
  return x0 < y1 && y0 < x1;
}

/** Every member name in start order, with its topology address. */
function members(spec: TopologySpec): Array<{ name: string; address: Address }> {
  return [
    ...spec.scrapers.flatMap((s) => s.members),
    ...spec.pushgateways.flatMap((s) => s.members),
    ...spec.pushgateways.map((s) => ({ name: `${s.name}-vip`, address: s.vip.address })),
    ...spec.federators.members,
    ...spec.alertmanagers.members,
    spec.alertmanagers.backup,
  ];
}

/** The job a set's demo pusher pushes as: the set's first declared job, else one named after the set. */
export function demoPushJob(set: PushgatewaySetSpec): string {
  return set.jobs[0]?.name ?? `promha-demo-${set.name}`;
}

/**
 * Gives every member, VIP and demo process its own local IP with the member's own
 * port: 127.0.0.x in loopback mode, an address of the bridge subnet in netns mode
 * (where the first address belongs to the machine's own namespace).
 *
 * `kept`: the local address of everything already running (name → host:port), which
 * keeps it: a member or exporter group added to a running stack takes an address no one
 * holds, instead of shifting every address after it. Ports follow the topology.
 */
export function localAddressing(spec: TopologySpec, mode: NetworkMode, subnet = '10.213.0.0/24', kept: ReadonlyMap<string, string> = new Map()): LocalAddressing {
  const keptHost = (name: string) => {
    const a = kept.get(name);
    return a ? a.slice(0, a.lastIndexOf(':')) : undefined;
  };
  const taken = new Set([...kept.values()].map((a) => a.slice(0, a.lastIndexOf(':'))));
  let next: () => string;
  let gateway: string | undefined;
  let prefixLength: number | undefined;
  if (mode === 'loopback') {
    let host = 10;
    next = () => {
      do host += 1;
      while (taken.has(`127.0.0.${host}`));
      if (host > 254) throw new RangeError('the topology has more members than 127.0.0.11-254 can hold');
      return `127.0.0.${host}`;
    };
  } else {
    const { network, prefix, size } = parseSubnet(subnet);
    gateway = intToIpv4(network + 1);
    prefixLength = prefix;
    let host = 1;
    next = () => {
      do host += 1;
      while (taken.has(intToIpv4(network + host)));
      if (host >= size - 1) throw new RangeError(`the topology has more members than ${subnet} can hold`);
      return intToIpv4(network + host);
    };
  }
  const map = new Map<string, { topology: Address; local: Address }>();
  for (const m of members(spec)) map.set(m.name, { topology: m.address, local: Address.parse(`${keptHost(m.name) ?? next()}:${m.address.port}`) });
  const demo: DemoSpec[] = [];
  // Demo processes run in the machine's own namespace: in netns mode on the bridge
  // address, each on a port of its own from `base` on.
  const keptPorts = new Set([...kept.values()].filter((a) => gateway !== undefined && a.startsWith(`${gateway}:`)).map((a) => Number(a.slice(a.lastIndexOf(':') + 1))));
  const demoAddress = (name: string, base: number) => {
    const known = kept.get(name);
    if (known) return Address.parse(known);
    if (mode !== 'netns') return Address.parse(`${next()}:${base}`);
    let port = base;
    while (keptPorts.has(port)) port++;
    keptPorts.add(port);
    return Address.parse(`${gateway}:${port}`);
  };
  for (const g of spec.exporters) demo.push({ name: `exporter-${g.name}`, kind: 'exporter', address: demoAddress(`exporter-${g.name}`, 9100), target: g.name });
  for (const s of spec.pushgateways) {
    const vip = map.get(`${s.name}-vip`)?.local;
    demo.push({
      name: `pusher-${s.name}`,
      kind: 'pusher',
      address: demoAddress(`pusher-${s.name}`, 9300),
      target: s.name,
      job: demoPushJob(s),
      pushUrl: `${spec.security?.tls ? 'https' : 'http'}://${vip}`,
    });
  }
  demo.push({ name: 'webhook', kind: 'webhook', address: demoAddress('webhook', 5001) });
  return { mode, members: map, demo, ...(gateway ? { gateway } : {}), ...(prefixLength ? { prefixLength } : {}) };
}

const local = (a: LocalAddressing, name: string): Address => {
  const m = a.members.get(name);
  if (!m) throw new Error(`no local address for ${name}`);
  return m.local;
};

/**
 * The topology as it runs here: local addresses, one demo exporter per group, every
 * receiver sent to the local webhook, extra federator scrape configs dropped, and the
 * demo rules added. Nothing is sent to the real deployment's addresses.
 */
export function localTopology(topology: Topology, a: LocalAddressing, demoRules: { name: string; text: string; parsed: Topology['ruleFiles'][number]['parsed'] }): Topology {
  const spec = topology.spec;
  const webhook = a.demo.find((d) => d.kind === 'webhook')?.address;
  const member = <T extends { name: string; address: Address }>(m: T): T => ({ ...m, address: local(a, m.name) });
  const am = <T extends { name: string; address: Address; cluster_address?: Address | undefined }>(m: T): T => {
    const { cluster_address: cluster, ...rest } = m;
    return { ...rest, address: local(a, m.name), ...(cluster ? { cluster_address: local(a, m.name).withPort(cluster.port) } : {}) } as T;
  };
  const localSpec: TopologySpec = {
    ...spec,
    exporters: spec.exporters.map((g) => {
      const exporter = a.demo.find((d) => d.kind === 'exporter' && d.target === g.name);
      return { name: g.name, targets: exporter ? [exporter.address] : [] };
    }),
    scrapers: spec.scrapers.map((s) => ({ ...s, members: s.members.map(member) })),
    pushgateways: spec.pushgateways.map((s) => ({
      ...s,
      vip: { ...s.vip, address: local(a, `${s.name}-vip`), interface: 'eth0' },
      members: s.members.map(member),
    })),
    federators: { ...spec.federators, members: spec.federators.members.map(member), scrape_configs: [] },
    alertmanagers: {
      ...spec.alertmanagers,
      members: spec.alertmanagers.members.map(am),
      backup: am(spec.alertmanagers.backup),
      receivers: spec.alertmanagers.receivers.map((r) => ({
        name: r['name'],
        webhook_configs: [{ url: `http://${webhook}/${String(r['name'])}`, send_resolved: true }],
      })),
    },
  };
  return {
    ...topology,
    spec: localSpec,
    ruleFiles: [...topology.ruleFiles, { name: demoRules.name, entry: -1, text: demoRules.text, parsed: demoRules.parsed }],
  };
}
