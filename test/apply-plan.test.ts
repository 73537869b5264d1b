import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { clusterLabelSplit, memberChange, planRollout, releaseMove, secureModeSwitch, setChanges, type MemberChange, type MemberSnapshot, type RolloutStep } from '../src/apply/rollout.ts';
import type { Observations } from '../src/doctor/result.ts';
import type { AlertmanagerStatus } from '../src/probe/alertmanager.ts';
import { formatRollout } from '../src/commands/apply.ts';
import { failedSince, ruleFailuresBeforeStep, ruleFailuresIn } from '../src/apply/gate.ts';
import type { NodeSpec } from '../src/plan/node-spec.ts';
import { plan } from '../src/plan/plan.ts';
import { RELEASES } from '../src/release/release.ts';
import { parseRuleFile } from '../src/rules/rule-file.ts';
import { parseTopology } from '../src/topology/load.ts';
import type { Topology } from '../src/topology/topology.ts';
import { FAST_RULES, fastTopology } from './helpers.ts';

function topology(overrides: Record<string, unknown> = {}, rules: object = FAST_RULES): Topology {
  const t = parseTopology('promha.yaml', stringify(fastTopology(overrides)));
  const text = stringify(rules);
  return { ...t, ruleFiles: [{ name: 'rules/demo.yml', entry: 0, text, parsed: parseRuleFile('rules/demo.yml', text) }] };
}

/** What a member of `nodes` runs when it was started from that plan. */
const running = (n: NodeSpec): MemberSnapshot => ({ name: n.name, files: new Map(n.files.map((f) => [f.path, f.content])), processes: n.processes.map((p) => ({ name: p.name, args: p.args })) });

/** The changes from plan `a` running to plan `b`. */
function changes(a: readonly NodeSpec[], b: readonly NodeSpec[], release?: { from: string; to: string }): MemberChange[] {
  return b.flatMap((n) => {
    const c = memberChange(running(a.find((x) => x.name === n.name) as NodeSpec), n, release);
    return c ? [c] : [];
  });
}

const base = plan(topology());
const holders = new Map([['pushgateway1', 'pushgateway1-1']]);
const rollout = (b: readonly NodeSpec[], o: { peerNames?: boolean; release?: { from: string; to: string } } = {}) =>
  planRollout(changes(base, b, o.release), { nodes: b, vipHolders: holders, peerNames: o.peerNames ?? false });
const summary = (steps: ReturnType<typeof rollout>) => steps.map((s) => `${s.action} ${s.member}${s.processes.length ? ` (${s.processes.join(', ')})` : ''}`);

describe('apply: what changed on a member', () => {
  it('nothing when the plan is the one running', () => {
    assert.deepEqual(changes(base, plan(topology())), []);
  });

  it('a rule file: the federators reload prometheus; nobody else changes', () => {
    const rules = { groups: [{ name: 'demo', rules: [{ alert: 'DemoHigh', expr: 'demo_value > 1', for: '0s' }] }] };
    const c = changes(base, plan(topology({}, rules)));
    assert.deepEqual(c.map((x) => [x.member, x.reload, x.restart, x.files]), [
      ['federator1-1', ['prometheus'], [], ['rules/demo.yml']],
      ['federator1-2', ['prometheus'], [], ['rules/demo.yml']],
    ]);
  });

  it('a flag: a restart, with the flags added and removed in the reason', () => {
    const t = topology({ federators: { ...(fastTopology()['federators'] as object), for_grace_period: '7s' } });
    const c = changes(base, plan(t)).find((x) => x.member === 'federator1-1');
    assert.deepEqual(c?.restart, ['prometheus']);
    assert.match(c?.reason ?? '', /\+--rules\.alert\.for-grace-period=7s ---rules\.alert\.for-grace-period=5s/);
  });

  it('a new release restarts every process of every member', () => {
    const b = plan(topology(), { release: RELEASES.trixie });
    const c = changes(base, b, { from: 'bookworm', to: 'trixie' });
    assert.equal(c.length, b.length);
    assert.ok(c.every((x) => x.restart.length === b.find((n) => n.name === x.member)?.processes.length && x.reload.length === 0));
  });
});

describe('apply: the rollout order', () => {
  it('rules: validated by promtool first, then one federator after the other', () => {
    const rules = { groups: [{ name: 'demo', rules: [{ alert: 'DemoHigh', expr: 'demo_value > 1', for: '0s' }] }] };
    assert.deepEqual(summary(rollout(plan(topology({}, rules)))), ['validate federator1', 'reload federator1-1 (prometheus)', 'reload federator1-2 (prometheus)']);
  });

  it('Alertmanager flags: the active members one at a time, then the backup, which restarts to keep the last position', () => {
    const am = fastTopology()['alertmanagers'] as Record<string, unknown>;
    const b = plan(topology({ alertmanagers: { ...am, peer_timeout: '2s' } }));
    const steps = rollout(b);
    assert.deepEqual(summary(steps).filter((s) => s.includes('alertmanager')), [
      'restart alertmanager1-1 (alertmanager)',
      'restart alertmanager1-2 (alertmanager)',
      'restart alertmanager1-3 (alertmanager)',
    ]);
    // With peer names the backup's position does not depend on start order, but its own flags changed too.
    assert.equal(rollout(b, { peerNames: true }).filter((s) => s.member === 'alertmanager1-3').length, 1);
  });

  it('an Alertmanager config change reloads; an active restart alone still restarts the backup, unless peer names fix positions', () => {
    const am = fastTopology()['alertmanagers'] as Record<string, unknown>;
    const config = plan(topology({ alertmanagers: { ...am, route: { ...(am['route'] as object), repeat_interval: '2h' } } }));
    assert.deepEqual(summary(rollout(config)), ['reload alertmanager1-1 (alertmanager)', 'reload alertmanager1-2 (alertmanager)', 'reload alertmanager1-3 (alertmanager)']);

    const restarted = [memberChange(running(base.find((n) => n.name === 'alertmanager1-1') as NodeSpec), { ...(base.find((n) => n.name === 'alertmanager1-1') as NodeSpec), processes: [{ name: 'alertmanager', binary: 'prometheus-alertmanager', args: ['--x'] }] })].filter((x) => x !== undefined);
    assert.deepEqual(summary(planRollout(restarted, { nodes: base, vipHolders: holders, peerNames: false })), ['restart alertmanager1-1 (alertmanager)', 'restart alertmanager1-3 (alertmanager)']);
    assert.deepEqual(summary(planRollout(restarted, { nodes: base, vipHolders: holders, peerNames: true })), ['restart alertmanager1-1 (alertmanager)']);
  });

  it('an Alertmanager restarted onto a start delay (sid) gates the next member on its end', () => {
    const sid = plan(topology(), { release: RELEASES.sid });
    const gates = rollout(sid, { peerNames: true, release: { from: 'bookworm', to: 'sid' } })
      .filter((s) => s.role === 'alertmanager')
      .map((s) => `${s.member}: ${s.gate}`);
    assert.deepEqual(gates, [
      'alertmanager1-1: ready; the cluster whole with the backup last; its start delay (20s) over',
      'alertmanager1-2: ready; the cluster whole with the backup last; its start delay (20s) over',
      'alertmanager1-3: ready; the cluster whole with the backup last; its start delay (20s) over',
    ]);
    // Without one (trixie), the gate is the cluster alone.
    const trixie = plan(topology(), { release: RELEASES.trixie });
    assert.ok(rollout(trixie, { release: { from: 'bookworm', to: 'trixie' } }).filter((s) => s.role === 'alertmanager').every((s) => s.gate === 'ready; the cluster whole with the backup last'));
  });

  it('a pushgateway set: the standby first, then the VIP moves off the holder, then the holder', () => {
    const b = plan(topology(), { release: RELEASES.trixie });
    const steps = summary(rollout(b, { release: { from: 'bookworm', to: 'trixie' } }));
    const gateways = steps.filter((s) => s.includes('pushgateway1-'));
    assert.deepEqual(gateways, ['restart pushgateway1-2 (pushgateway, keepalived)', 'move-vip pushgateway1-1', 'restart pushgateway1-1 (pushgateway, keepalived)', 'restart pushgateway1-vip (haproxy)']);
    // The whole upgrade: scrapers, gateways, VIP, Alertmanagers (backup last), federators; never two members of a set at once.
    assert.deepEqual(
      rollout(b, { release: { from: 'bookworm', to: 'trixie' } }).filter((s) => s.action !== 'move-vip').map((s) => s.member),
      ['scraper1-1', 'scraper1-2', 'scraper2-1', 'scraper2-2', 'pushgateway1-2', 'pushgateway1-1', 'pushgateway1-vip', 'alertmanager1-1', 'alertmanager1-2', 'alertmanager1-3', 'federator1-1', 'federator1-2'],
    );
  });

  it('prints a table of steps with reasons and gates', () => {
    const rules = { groups: [{ name: 'demo', rules: [{ alert: 'DemoHigh', expr: 'demo_value > 1', for: '0s' }] }] };
    const text = formatRollout(rollout(plan(topology({}, rules))));
    const lines = text.split('\n');
    assert.match(lines[0] ?? '', /^STEP +MEMBER +ACTION +REASON +GATE$/);
    assert.match(lines[1] ?? '', /^1 +federator1 +validate +rules\/demo\.yml changed +→ the release's promtool accepts every rule file$/);
    assert.match(lines[2] ?? '', /^2 +federator1-1 +reload +prometheus: rules\/demo\.yml changed +→ ready; its config loaded; every federation target up$/);
    assert.equal(formatRollout([]), 'every member runs what the topology renders: nothing to apply');
  });
});

/** The fast topology with a third scraper set and its exporter group. */
function withScraper3(): Topology {
  const f = fastTopology();
  return topology({
    exporters: [...(f['exporters'] as object[]), { name: 'demo3', targets: ['127.0.0.103:9100'] }],
    scrapers: [...(f['scrapers'] as object[]), { name: 'scraper3', exporters: ['demo3'], members: [1, 2].map((i) => ({ name: `scraper3-${i}`, address: `127.0.0.${30 + i}:9090` })) }],
  });
}
const runningOf = (nodes: readonly NodeSpec[]) => nodes.map((n) => ({ name: n.name, role: n.role, set: n.set }));

describe('apply: scraper sets that come and go', () => {
  it('a new scraper set: started whole before anything else changes, and the federators reload after it', () => {
    const b = plan(withScraper3());
    const sets = setChanges(b, [...runningOf(base), { name: 'demo-workload', role: 'demo', set: 'workload' }]);
    assert.deepEqual(sets, { addedSets: [{ set: 'scraper3', members: ['scraper3-1', 'scraper3-2'] }], removedSets: [] });
    const steps = planRollout(changes(base, b.filter((n) => n.set !== 'scraper3')), { nodes: b, vipHolders: holders, peerNames: false, ...sets });
    assert.deepEqual(summary(steps), ['start scraper3 (prometheus)', 'reload federator1-1 (prometheus)', 'reload federator1-2 (prometheus)']);
    assert.deepEqual(steps[0]?.members, ['scraper3-1', 'scraper3-2']);
  });

  it('a scraper set gone: the federators forget it first, then it stops', () => {
    const a = plan(withScraper3());
    const sets = setChanges(base, runningOf(a));
    assert.deepEqual(sets, { addedSets: [], removedSets: [{ set: 'scraper3', members: ['scraper3-1', 'scraper3-2'] }] });
    const steps = planRollout(
      base.flatMap((n) => memberChange(running(a.find((x) => x.name === n.name) as NodeSpec), n) ?? []),
      { nodes: base, vipHolders: holders, peerNames: false, ...sets },
    );
    assert.deepEqual(summary(steps), ['reload federator1-1 (prometheus)', 'reload federator1-2 (prometheus)', 'stop scraper3 (prometheus)']);
  });

  it('anything else that comes or goes is refused, naming it', () => {
    const t = fastTopology();
    const am = t['alertmanagers'] as { members: Array<{ name: string }> };
    const renamed = plan(topology({ alertmanagers: { ...am, members: am.members.map((m, i) => (i === 0 ? { ...m, name: 'alertmanager9-9' } : m)) } }));
    const r = setChanges(renamed, runningOf(base));
    assert.match(r.refused ?? '', /new: alertmanager9-9; gone: alertmanager1-1/);
    assert.match(r.refused ?? '', /fix: `promha down` and `promha up`/);
    // One member of a running scraper set renamed: the set is neither new nor gone.
    const s1 = (t['scrapers'] as Array<{ name: string; members: Array<{ name: string }> }>)[0];
    const half = plan(topology({ scrapers: [{ ...s1, members: s1?.members.map((m, i) => (i === 1 ? { ...m, name: 'scraper1-9' } : m)) }, (t['scrapers'] as object[])[1]] }));
    assert.match(setChanges(half, runningOf(base)).refused ?? '', /new: scraper1-9; gone: scraper1-2/);
  });
});

describe('apply: an Alertmanager cluster label change splits the cluster', () => {
  const am = fastTopology()['alertmanagers'] as Record<string, unknown>;
  const on = (release: keyof typeof RELEASES, label?: string | false) =>
    plan(topology(label === undefined ? {} : { alertmanagers: { ...am, cluster_label: label } }), { release: RELEASES[release] });
  const split = (a: readonly NodeSpec[], b: readonly NodeSpec[]) => clusterLabelSplit(a.map(running), b);
  const cases: Array<[string, readonly NodeSpec[], readonly NodeSpec[], RegExp | undefined]> = [
    ['bookworm → trixie adds the label', on('bookworm'), on('trixie'), /runs with no --cluster\.label and would restart one member at a time onto --cluster\.label=promha-alertmanager1[\s\S]*fix: [^\n]*cluster_label: false/],
    ['bookworm → trixie with cluster_label: false keeps none', on('bookworm'), on('trixie', false), undefined],
    ['trixie → sid keeps the label', on('trixie'), on('sid'), undefined],
    ['a new label on a labelled cluster', on('sid'), on('sid', 'other'), /runs with --cluster\.label=promha-alertmanager1 [\s\S]*onto --cluster\.label=other[\s\S]*cluster_label: promha-alertmanager1/],
    ['removing the label', on('trixie'), on('trixie', false), /onto no --cluster\.label/],
  ];
  for (const [name, a, b, expected] of cases)
    it(name, () => {
      const s = split(a, b);
      if (expected) assert.match(s ?? '', expected);
      else assert.equal(s, undefined);
    });
});

describe('apply: secure mode cannot change one member at a time', () => {
  const plain = { tls: false, auth: false };
  const cases: Array<[string, { tls: boolean; auth: boolean }, { tls: boolean; auth: boolean }, RegExp | undefined]> = [
    ['plain stays plain', plain, plain, undefined],
    ['TLS and auth stay on', { tls: true, auth: true }, { tls: true, auth: true }, undefined],
    ['TLS turned on', plain, { tls: true, auth: false }, /runs plain HTTP and the topology asks for TLS: [^\n]*cut off[^\n]*Nothing was changed\.\n\s+fix: `promha down` and `promha up`/],
    ['auth turned on', plain, { tls: false, auth: true }, /asks for basic auth:/],
    ['both turned off', { tls: true, auth: true }, plain, /runs TLS and basic auth and the topology asks for plain HTTP/],
  ];
  for (const [name, running, next, expected] of cases)
    it(name, () => {
      const s = secureModeSwitch(running, next);
      if (expected) assert.match(s ?? '', expected);
      else assert.equal(s, undefined);
    });
});

describe('a release upgrade on hosts: which members still run the old release', () => {
  const nodes = plan(topology(), { vipStandIns: false });
  const node = (name: string) => nodes.find((n) => n.name === name) as NodeSpec;
  /** What doctor observed: each member's server and the version it reports. */
  const observed = (versions: Readonly<Record<string, string>>): Observations => ({
    now: new Date(0),
    prometheus: new Map(Object.entries(versions).filter(([m]) => /^(scraper|federator)/.test(m)).map(([m, version]) => [m, { ready: true, version }])),
    alertmanager: new Map(Object.entries(versions).filter(([m]) => m.startsWith('alertmanager')).map(([m, version]) => [m, { status: { versionInfo: { version } } as unknown as AlertmanagerStatus }])),
    pushgateway: new Map(Object.entries(versions).filter(([m]) => m.startsWith('pushgateway')).map(([m, version]) => [m, { ready: true, version }])),
    vip: new Map(),
  });
  const table: ReadonlyArray<readonly [string, string, 'trixie' | 'sid', string | undefined]> = [
    ['scraper1-1', '2.42.0', 'trixie', 'bookworm → trixie'],
    ['federator1-2', '2.53.3', 'sid', 'trixie → sid'],
    ['alertmanager1-3', '0.25.0', 'sid', 'bookworm → sid'],
    ['scraper1-1', '2.53.3', 'trixie', undefined],
    // Pushgateway 1.11 is trixie's and sid's: a gateway has nothing to restart for.
    ['pushgateway1-1', '1.11.0', 'sid', undefined],
    ['pushgateway1-2', '1.5.1', 'sid', 'bookworm → sid'],
    // A version no release ships is named as it is.
    ['federator1-1', '2.45.0', 'trixie', '2.45.0 → trixie'],
  ];
  for (const [member, version, release, want] of table)
    it(`${member} on ${version}, to ${release}: ${want ?? 'nothing'}`, () => {
      const move = releaseMove(node(member), observed({ [member]: version }), RELEASES[release]);
      assert.equal(move && `${move.from} → ${move.to}`, want);
    });

  it('says nothing about a member it could not read (the health check before the rollout does)', () => {
    assert.equal(releaseMove(node('scraper2-1'), observed({}), RELEASES.trixie), undefined);
  });

  it('a move restarts every process of the member, named in the reason', () => {
    const gateway = node('pushgateway1-1');
    const c = memberChange(running(gateway), gateway, releaseMove(gateway, observed({ 'pushgateway1-1': '1.5.1' }), RELEASES.trixie));
    assert.deepEqual(c?.restart, ['pushgateway', 'keepalived']);
    assert.match(c?.reason ?? '', /^pushgateway: release bookworm → trixie; keepalived: release bookworm → trixie$/);
  });
});

describe('rule evaluation failures between a gate and the step before it', () => {
  // Recorded from Prometheus 2.42's /metrics, a group whose rule fails on the live series.
  const metrics = (n: number) =>
    [
      '# HELP prometheus_rule_evaluation_failures_total The total number of rule evaluation failures.',
      '# TYPE prometheus_rule_evaluation_failures_total counter',
      `prometheus_rule_evaluation_failures_total{rule_group="/etc/promha/federator1-1/rules/demo.yml;demo"} ${n}`,
      'prometheus_rule_evaluation_failures_total{rule_group="/etc/promha/federator1-1/rules/promha-demo.yml;promha-demo"} 0',
      '# HELP prometheus_rule_evaluations_total The total number of rule evaluations.',
      '# TYPE prometheus_rule_evaluations_total counter',
      'prometheus_rule_evaluations_total{rule_group="/etc/promha/federator1-1/rules/demo.yml;demo"} 40',
    ].join('\n') + '\n';

  it('reads the counter per group, and not the evaluations counter', () => {
    assert.deepEqual(
      [...ruleFailuresIn(metrics(3))],
      [
        ['/etc/promha/federator1-1/rules/demo.yml;demo', 3],
        ['/etc/promha/federator1-1/rules/promha-demo.yml;promha-demo', 0],
      ],
    );
  });

  const demo = '/etc/promha/federator1-1/rules/demo.yml;demo';
  const cases: ReadonlyArray<{ name: string; before: Array<[string, number]>; now: Array<[string, number]>; failed: string[] }> = [
    { name: 'no failure since', before: [[demo, 2]], now: [[demo, 2]], failed: [] },
    { name: 'one failure since', before: [[demo, 2]], now: [[demo, 3]], failed: [`${demo} (1)`] },
    { name: 'a group the change adds', before: [], now: [[demo, 4]], failed: [`${demo} (4)`] },
    { name: 'restarted: the counter began again', before: [[demo, 7]], now: [[demo, 2]], failed: [`${demo} (2)`] },
    { name: 'restarted without a failure', before: [[demo, 7]], now: [[demo, 0]], failed: [] },
    { name: 'a group the change removes', before: [[demo, 7]], now: [], failed: [] },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(failedSince(new Map(c.before), new Map(c.now)), c.failed));

  // No address is asked in either case: nothing listens on it.
  const step = (action: RolloutStep['action']): RolloutStep => ({ member: 'federator1-1', role: 'federator', action, reason: 'x', gate: 'y', processes: ['prometheus'] });
  it('a federator restarted: compared with nothing, its counter begins again', async () => assert.deepEqual(await ruleFailuresBeforeStep('federator', step('restart'), '127.0.0.1:1'), new Map()));
  it('not a federator: not judged', async () => assert.equal(await ruleFailuresBeforeStep('scraper', step('reload'), '127.0.0.1:1'), undefined));
});
