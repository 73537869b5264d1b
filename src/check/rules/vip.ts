import type { CheckRule } from '../finding.ts';

export const vipAddress: CheckRule = {
  code: 'PH901',
  name: 'vip-address',
  description: 'Each VIP is an IPv4 address (keepalived moves addresses, not names) with its own VRRP router id.',
  *run({ topology }) {
    const { spec } = topology;
    const ids = new Map<number, string>();
    for (const [i, set] of spec.pushgateways.entries()) {
      if (set.vip.address.isIpv6)
        yield {
          severity: 'error',
          message: `the VIP of ${set.name} is the IPv6 address ${set.vip.address.host}: promha supports IPv4 VIPs only`,
          location: topology.locate(['pushgateways', i, 'vip', 'address']),
          hint: 'use an IPv4 VIP; the keepalived.conf, the HAProxy stand-in and the certificates promha writes for a VIP are IPv4-only',
        };
      else if (!set.vip.address.isIp)
        yield {
          severity: 'error',
          message: `the VIP of ${set.name} is "${set.vip.address.host}", not an IP address`,
          location: topology.locate(['pushgateways', i, 'vip', 'address']),
          hint: 'use the IP keepalived should move, e.g. 10.0.0.100:9091',
        };
      if (set.vip.interface === 'lo')
        yield {
          severity: 'error',
          message: `the VIP of ${set.name} is on the loopback interface: keepalived cannot run VRRP on lo`,
          location: topology.locate(['pushgateways', i, 'vip', 'interface']),
          hint: "use the members' network interface (e.g. eth0)",
        };
      const id = set.vip.virtual_router_id ?? 51 + i;
      const other = ids.get(id);
      if (other)
        yield {
          severity: 'error',
          message: `${set.name} and ${other} share VRRP virtual_router_id ${id}: their VIPs would fight`,
          location: topology.locate(['pushgateways', i, 'vip', set.vip.virtual_router_id ? 'virtual_router_id' : 'address']),
          hint: 'give each set its own virtual_router_id (1-255)',
        };
      ids.set(id, set.name);
      const ports = new Set(set.members.map((m) => m.address.port));
      if (!ports.has(set.vip.address.port))
        yield {
          severity: 'warning',
          message: `the VIP of ${set.name} listens on port ${set.vip.address.port}, but its members on ${[...ports].join(', ')}: keepalived moves the address only, so pushes to the VIP reach no gateway`,
          location: topology.locate(['pushgateways', i, 'vip', 'address']),
          hint: 'use the members\' port for the VIP',
        };
    }
  },
};
