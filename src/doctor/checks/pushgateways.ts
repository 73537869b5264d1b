import type { DoctorCheck } from '../result.ts';

const key = (labels: Readonly<Record<string, string>>) =>
  Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');

export const vipHolder: DoctorCheck = {
  code: 'DR601',
  name: 'vip-holder',
  description: 'Exactly one member of each pushgateway set holds (serves) its VIP.',
  *run(t, o) {
    for (const [set, address] of t.vips) {
      const v = o.vip.get(set);
      if (!v) continue;
      if (v.holders && v.holders.length !== 1)
        yield { verdict: 'fail', member: set, message: `${v.holders.length} members of ${set} hold the VIP ${address}${v.holders.length ? `: ${v.holders.join(', ')}` : ''}` };
      else if (!v.servedBy) yield { verdict: 'fail', member: set, message: `the VIP ${address} of ${set} reaches no member: ${v.error ?? 'no answer'}` };
      else yield { verdict: 'pass', member: set, message: `${v.servedBy} holds the VIP ${address} of ${set}` };
    }
  },
};

export const standbyClean: DoctorCheck = {
  code: 'DR602',
  name: 'standby-clean',
  description: 'No push group sits on a standby gateway with a push time other than the active one (a demoted gateway is wiped).',
  *run(t, o) {
    for (const set of t.topology.spec.pushgateways) {
      const active = o.vip.get(set.name)?.servedBy;
      if (!active) continue;
      const activeGroups = new Map((o.pushgateway.get(active)?.groups ?? []).map((g) => [key(g.labels), g.lastPush?.getTime()]));
      for (const m of set.members.filter((x) => x.name !== active)) {
        const groups = o.pushgateway.get(m.name)?.groups;
        if (!groups) continue;
        const stale = groups.filter((g) => activeGroups.get(key(g.labels)) !== g.lastPush?.getTime());
        if (stale.length)
          yield {
            verdict: 'fail',
            member: m.name,
            message: `standby ${m.name} holds ${stale.length} push group(s) that differ from the active ${active}: ${stale
              .map((g) => `{${key(g.labels)}} pushed ${g.lastPush?.toISOString() ?? 'never'}`)
              .join('; ')}: the federators merge both copies and the series alternate; wipe it (PUT /api/v1/admin/wipe)`,
          };
        else yield { verdict: 'pass', member: m.name, message: `standby ${m.name} holds no diverging group (${groups.length} group(s))` };
      }
    }
  },
};

export const pushFreshness: DoctorCheck = {
  code: 'DR603',
  name: 'push-freshness',
  description: 'Push groups on the active gateway are fresher than the staleness limit (lookback_delta).',
  *run(t, o) {
    const lookback = t.topology.spec.lookback_delta;
    const push = t.topology.spec.intervals.push;
    for (const set of t.topology.spec.pushgateways) {
      const active = o.vip.get(set.name)?.servedBy;
      const groups = active ? o.pushgateway.get(active)?.groups : undefined;
      if (!active || !groups) continue;
      if (groups.length === 0) {
        yield { verdict: 'warn', member: active, message: `${active} (active for ${set.name}) holds no push group` };
        continue;
      }
      for (const g of groups) {
        const age = g.lastPush ? (o.now.getTime() - g.lastPush.getTime()) / 1000 : Infinity;
        const text = `{${key(g.labels)}} on ${active} last pushed ${Number.isFinite(age) ? `${age.toFixed(1)} s ago` : 'never'}`;
        if (age >= lookback.seconds) yield { verdict: 'fail', member: active, message: `${text}: older than the ${lookback} staleness limit` };
        else if (age > push.seconds * 3) yield { verdict: 'warn', member: active, message: `${text}: more than 3 push intervals (${push})` };
        else yield { verdict: 'pass', member: active, message: text };
      }
    }
  },
};
