import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import type { DoctorResult } from '../src/doctor/result.ts';
import { attribute, healthOf } from '../src/dashboard/health.ts';
import { layoutTopology, type Diagram } from '../src/dashboard/layout.ts';
import { ACTION_HEADER, parseLoopbackListen, startDashboard, type Dashboard } from '../src/dashboard/server.ts';
import { StateDir } from '../src/runtime/state.ts';
import { parseTopology } from '../src/topology/load.ts';
import type { Topology } from '../src/topology/topology.ts';
import { fastSeed, fastTopology, promha, tempProject } from './helpers.ts';

const topology = (spec: Record<string, unknown>): Topology => ({ ...parseTopology('promha.yaml', stringify(spec)), ruleFiles: [] });
const seed = topology(fastSeed());

describe('dashboard layout', () => {
  const d = layoutTopology(seed.spec);
  const byId = new Map(d.nodes.map((n) => [n.id, n]));
  const members = [
    ...seed.spec.scrapers.flatMap((s) => s.members),
    ...seed.spec.pushgateways.flatMap((s) => s.members),
    ...seed.spec.federators.members,
    ...seed.spec.alertmanagers.members,
    seed.spec.alertmanagers.backup,
  ].map((m) => m.name);

  it("draws every member of the seed once, in the seed's columns", () => {
    assert.deepEqual(d.nodes.filter((n) => n.member).map((n) => n.id).sort(), [...members].sort());
    const column = (kind: string) => new Set(d.nodes.filter((n) => n.kind === kind).map((n) => n.x));
    const x = (kind: string) => [...column(kind)][0] as number;
    for (const kind of ['exporters', 'vip', 'scraper', 'pushgateway', 'federator', 'alertmanager', 'receiver']) assert.equal(column(kind).size, 1, kind);
    assert.equal(x('scraper'), x('pushgateway'));
    assert.ok(x('exporters') < x('vip') && x('vip') < x('scraper') && x('scraper') < x('federator') && x('federator') < x('alertmanager') && x('alertmanager') < x('receiver'));
  });

  it('never lets two boxes overlap, and fits them all in the drawing', () => {
    for (const a of d.nodes) {
      assert.ok(a.x >= 0 && a.y >= 0 && a.x + a.width <= d.width && a.y + a.height <= d.height, a.id);
      for (const b of d.nodes)
        if (a !== b) assert.ok(a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y, `${a.id} overlaps ${b.id}`);
    }
  });

  it('federators pull every scraper and pushgateway member directly, never a VIP', () => {
    for (const f of seed.spec.federators.members) {
      const pulled = d.edges.filter((e) => e.from === f.name && e.kind === 'pull').map((e) => e.to).sort();
      const direct = d.nodes.filter((n) => n.kind === 'scraper' || n.kind === 'pushgateway').map((n) => n.id).sort();
      assert.deepEqual(pulled, direct);
    }
    for (const e of d.edges) assert.ok(byId.has(e.from) && byId.has(e.to), `${e.from} → ${e.to}`);
    assert.ok(!d.edges.some((e) => e.kind === 'pull' && byId.get(e.to)?.kind === 'vip'));
  });

  it('pushers push to the VIP, which leads to both gateways of its set', () => {
    for (const s of seed.spec.pushgateways) {
      assert.ok(d.edges.some((e) => e.from === `pusher-${s.name}` && e.to === `${s.name}-vip` && e.kind === 'push'));
      assert.deepEqual(d.edges.filter((e) => e.from === `${s.name}-vip`).map((e) => e.to), s.members.map((m) => m.name));
    }
  });

  it('marks the backup: below the active members, in the gossip cluster, never notified nor notifying', () => {
    const backup = byId.get(seed.spec.alertmanagers.backup.name);
    assert.equal(backup?.backup, true);
    for (const m of seed.spec.alertmanagers.members) assert.ok((byId.get(m.name)?.y ?? Infinity) < (backup?.y ?? 0));
    assert.ok(!d.edges.some((e) => e.kind === 'notify' && (e.to === backup?.id || e.from === backup?.id)));
    assert.ok(d.edges.some((e) => e.kind === 'gossip' && e.to === backup?.id));
    assert.equal(d.edges.filter((e) => e.kind === 'notify' && e.to === 'webhook').length, 2);
  });
});

describe('dashboard health', () => {
  const d: Diagram = layoutTopology(topology(fastTopology()).spec);
  const result = (r: Partial<DoctorResult> & Pick<DoctorResult, 'verdict'>): DoctorResult => ({ code: 'DR000', check: 'x', message: 'm', ...r });

  it('attributes a result to the member it concerns, a set result to its VIP or its members', () => {
    assert.deepEqual(attribute(d, { member: 'federator1-1', concerns: 'scraper1-2' }), ['scraper1-2']);
    assert.deepEqual(attribute(d, { member: 'federator1-1' }), ['federator1-1']);
    assert.deepEqual(attribute(d, { member: 'pushgateway1' }), ['pushgateway1-vip']);
    assert.deepEqual(attribute(d, { member: 'scraper2' }), ['scraper2-1', 'scraper2-2']);
    assert.deepEqual(attribute(d, {}), []);
  });

  it('colours a stopped member down whatever doctor says, else by its worst verdict', () => {
    const { nodes, general } = healthOf(
      d,
      [
        result({ verdict: 'pass', member: 'scraper1-1' }),
        result({ verdict: 'pass', member: 'scraper1-2' }),
        result({ verdict: 'warn', member: 'alertmanager1-3' }),
        result({ verdict: 'pass', member: 'alertmanager1-3' }),
        result({ verdict: 'fail', member: 'federator1-1', concerns: 'scraper2-1', message: 'target scraper2-1 is down' }),
        result({ verdict: 'pass', member: 'federator1-1' }),
        result({ verdict: 'fail', message: 'silences differ' }),
      ],
      new Map([
        ['scraper1-1', false],
        ['scraper1-2', true],
        ['pushgateway1-1', true],
      ]),
    );
    assert.equal(nodes['scraper1-1']?.health, 'down');
    assert.equal(nodes['scraper1-1']?.running, false);
    assert.equal(nodes['scraper1-2']?.health, 'ok');
    assert.equal(nodes['scraper2-1']?.health, 'fail');
    assert.equal(nodes['federator1-1']?.health, 'ok', 'the federator only observed the fault');
    assert.equal(nodes['alertmanager1-3']?.health, 'warn');
    assert.equal(nodes['alertmanager1-3']?.results[0]?.verdict, 'warn', 'worst first');
    assert.equal(nodes['pushgateway1-1']?.health, 'ok', 'running, no result yet');
    assert.equal(nodes['federator1-2']?.health, 'unknown');
    assert.deepEqual(general.map((g) => g.message), ['silences differ']);
  });
});

describe('dashboard server (no stack)', () => {
  let project: Awaited<ReturnType<typeof tempProject>>;
  let dashboard: Dashboard;
  before(async () => {
    project = await tempProject({ 'promha.yaml': fastTopology() });
    dashboard = await startDashboard({ listen: '127.0.0.1:0', stateDir: new StateDir(path.join(project.dir, '.promha')), topology: topology(fastTopology()) });
  });
  after(async () => {
    await dashboard.close();
    await project.cleanup();
  });

  it('listens on loopback only', async () => {
    assert.match(dashboard.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.deepEqual(parseLoopbackListen('[::1]:9797'), { host: '::1', port: 9797 });
    assert.throws(() => parseLoopbackListen('0.0.0.0:9797'), /loopback only/);
    assert.throws(() => parseLoopbackListen('192.0.2.1:9797'), /loopback only/);
    assert.throws(() => parseLoopbackListen('9797'), /not host:port/);
    const r = await promha(['dashboard', '--listen', '0.0.0.0:9797'], project.dir);
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /loopback only/);
  });

  it('serves its own assets, which load nothing from elsewhere', async () => {
    const page = await fetch(dashboard.url);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'; script-src 'self'/);
    const html = await page.text();
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string);
    assert.deepEqual(refs.sort(), ['/assets/dashboard.css', '/assets/dashboard.js']);
    for (const ref of refs) {
      const r = await fetch(new URL(ref, dashboard.url));
      assert.equal(r.status, 200, ref);
      // The SVG namespace is a name, not a request.
      assert.doesNotMatch((await r.text()).replaceAll('http://www.w3.org/2000/svg', ''), /https?:\/\//, ref);
    }
    const diagram = (await (await fetch(new URL('/api/topology', dashboard.url))).json()) as Diagram;
    assert.ok(diagram.nodes.some((n) => n.id === 'alertmanager1-3' && n.backup));
  });

  it('refuses other host names, actions without its header, and actions with no local stack', async () => {
    // fetch() sets Host itself: a raw request stands for a page on a rebound name.
    const rebound = await new Promise<number | undefined>((resolve, reject) =>
      http.get(new URL('/api/state', dashboard.url), { headers: { host: 'attacker.example:9797' } }, (res) => resolve(res.resume().statusCode)).on('error', reject),
    );
    assert.equal(rebound, 403);
    const stop = new URL('/api/members/scraper1-1/stop', dashboard.url);
    assert.equal((await fetch(stop, { method: 'POST' })).status, 403);
    assert.equal((await fetch(stop, { method: 'POST', headers: { [ACTION_HEADER]: '1', origin: 'http://attacker.example' } })).status, 403);
    const r = await fetch(stop, { method: 'POST', headers: { [ACTION_HEADER]: '1' } });
    assert.equal(r.status, 409);
    assert.match(((await r.json()) as { error: string }).error, /no local stack/);
  });

});
