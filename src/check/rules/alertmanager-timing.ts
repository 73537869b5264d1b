import { Duration } from '../../duration.ts';
import { AUTO_PEER_TIMEOUT_INTERVALS, peerTimeout } from '../../plan/derived.ts';
import type { PropertyPath } from '../../topology/yaml-source.ts';
import type { CheckRule } from '../finding.ts';

export const DEFAULT_GROUP_INTERVAL = Duration.minutes(5);

export interface RouteNode {
  readonly path: PropertyPath;
  readonly groupInterval: Duration;
  /** True when this route sets group_interval itself. */
  readonly own: boolean;
}

/** Every route with its effective group_interval (children inherit it). */
export function routes(route: Record<string, unknown>, path: PropertyPath, inherited: Duration, out: RouteNode[]): void {
  const raw = route['group_interval'];
  const own = typeof raw === 'string' ? Duration.tryParse(raw) : undefined;
  const gi = own ?? inherited;
  out.push({ path, groupInterval: gi, own: own !== undefined });
  const children = route['routes'];
  if (Array.isArray(children))
    children.forEach((c, i) => {
      if (c && typeof c === 'object') routes(c as Record<string, unknown>, [...path, 'routes', i], gi, out);
    });
}

export const alertmanagerTiming: CheckRule = {
  code: 'PH502',
  name: 'alertmanager-timing',
  description: 'Alertmanager timings allow exactly-once delivery: (members - 1) × peer_timeout < group_interval, peer_timeout ≥ 2 × evaluate and off the evaluation beat.',
  *run({ topology }) {
    const { spec } = topology;
    const am = spec.alertmanagers;
    const members = am.members.length + 1;
    const timeout = peerTimeout(spec);
    const timeoutLocation = topology.locate(['alertmanagers', 'peer_timeout']);
    const wait = timeout.times(members - 1);
    const all: RouteNode[] = [];
    routes(am.route, ['alertmanagers', 'route'], DEFAULT_GROUP_INTERVAL, all);
    for (const r of all)
      if (wait.compare(r.groupInterval) >= 0)
        yield {
          severity: 'error',
          message: `the last of ${members} Alertmanagers waits (${members} - 1) × peer_timeout ${timeout} = ${wait} before notifying, not less than group_interval ${r.groupInterval}: it would send duplicates`,
          location: topology.locate(r.own ? [...r.path, 'group_interval'] : r.path),
          hint: `raise group_interval above ${wait}, or lower peer_timeout below ${Duration.milliseconds(r.groupInterval.ms / (members - 1))}`,
        };
    const minimum = spec.intervals.evaluate.times(2);
    if (timeout.lt(minimum))
      yield {
        severity: 'error',
        message: `peer_timeout ${timeout} is less than 2 × the evaluation interval (${minimum}): the two federators' alerts arrive too far apart and duplicates slip through (measured: 4 of 20 episodes at 1 × evaluate)`,
        location: timeoutLocation,
        hint: `use \`auto\` (3.5 × evaluate = ${spec.intervals.evaluate.times(AUTO_PEER_TIMEOUT_INTERVALS)})`,
      };
    const evaluate = spec.intervals.evaluate;
    // Between active members only: the backup, last, never notifies.
    const onBeat = [...Array(am.members.length - 1).keys()].map((k) => k + 1).find((k) => (timeout.ms * k) % evaluate.ms === 0);
    if (onBeat !== undefined && !timeout.lt(minimum))
      yield {
        severity: 'warning',
        message: `peer_timeout ${timeout}${onBeat > 1 ? ` × ${onBeat}` : ''} is a whole number of evaluation intervals (${evaluate}): alerts reach the members on the federators' beat, so their groups flush whole intervals apart, and a member can check the notification log at the very moment its peer sends, before the gossip brings the entry; both then notify, at every group_interval (measured)`,
        location: timeoutLocation,
        hint: `use \`auto\` (3.5 × evaluate = ${evaluate.times(AUTO_PEER_TIMEOUT_INTERVALS)}), or another value half an interval off the beat`,
      };
    for (const [path, m] of [
      ...am.members.map((m, j) => [['alertmanagers', 'members', j], m] as const),
      [['alertmanagers', 'backup'], am.backup] as const,
    ]) {
      const cluster = m.cluster_address ?? m.address;
      if (!cluster.isIp)
        yield {
          severity: 'warning',
          message: `${m.name}'s gossip address ${cluster.host} is not an IP: Alertmanager then guesses the address to advertise`,
          location: topology.locate([...path, m.cluster_address ? 'cluster_address' : 'address']),
          hint: 'set `cluster_address: <ip>:9094` so --cluster.advertise-address is explicit',
        };
    }
  },
};
