import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { firstDifference } from '../src/doctor/checks/drift.ts';
import type { DoctorResult } from '../src/doctor/result.ts';
import type { RunState } from '../src/runtime/state.ts';
import { FAST_RULES, fastTopology, promha, tempProject, stackSkip } from './helpers.ts';

describe('drift comparison', { skip: stackSkip('loopback') }, () => {
  const cases: Array<[string, unknown, unknown, string | undefined]> = [
    ['defaults filled in live', { a: 1, b: 'x', extra: true }, { a: 1, b: 'x' }, undefined],
    ['durations by value', { t: '1m' }, { t: '60s' }, undefined],
    ['resolved relative paths', { f: ['/etc/promha/f1/rules/a.yml'] }, { f: ['rules/a.yml'] }, undefined],
    ['omitted zero values', {}, { honor_labels: false }, undefined],
    ['a changed value', { a: { b: 2 } }, { a: { b: 3 } }, 'a.b: live 2, planned 3'],
    ['an extra list entry', { l: [1, 2, 3] }, { l: [1, 2] }, 'l: 3 entries live, 2 planned'],
    ['a missing key', { a: 1 }, { a: 1, b: true }, 'b: live undefined, planned true'],
    ['a redacted secret (Alertmanager 0.28+ webhook URLs)', { webhook_configs: [{ url: '<secret>' }] }, { webhook_configs: [{ url: 'http://127.0.0.99:5001/' }] }, undefined],
    ['a missing secret is still missing', {}, { webhook_configs: [{ url: 'http://127.0.0.99:5001/' }] }, 'webhook_configs: no entries live, 1 planned'],
  ];
  for (const [name, live, planned, expected] of cases) it(name, () => assert.equal(firstDifference(live, planned), expected));
});

/*
 * End to end on the real binaries: a healthy stack passes every check, then each
 * breakage makes exactly the matching check fail with a message naming the cause.
 */
describe('promha doctor on a live stack', { skip: stackSkip('loopback') }, () => {
  let project: Awaited<ReturnType<typeof tempProject>>;
  let stateDir: string;
  const run = (...args: string[]) => promha([...args, '--state-dir', stateDir], project.dir);
  const doctor = async () => {
    const r = await run('doctor', '--json');
    const report = JSON.parse(r.stdout) as { results: DoctorResult[]; fail: number; warn: number };
    return { exitCode: r.exitCode, ...report, failing: report.results.filter((x) => x.verdict !== 'pass') };
  };
  /** Polls doctor until `ok` holds (state converges over a few scrape intervals). */
  const doctorUntil = async (ok: (d: Awaited<ReturnType<typeof doctor>>) => boolean, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    let d = await doctor();
    while (!ok(d) && Date.now() < deadline) {
      await sleep(1000);
      d = await doctor();
    }
    return d;
  };
  const pidOf = async (member: string) => {
    const state = JSON.parse(await readFile(path.join(stateDir, 'state.json'), 'utf8')) as RunState;
    return state.nodes.find((n) => n.name === member)?.processes[0]?.pid ?? 0;
  };

  before(async () => {
    project = await tempProject({ 'promha.yaml': fastTopology(), 'rules/demo.yml': FAST_RULES });
    stateDir = path.join(project.dir, '.promha');
    const r = await run('up', '--network', 'loopback', '--detach');
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
  });
  after(async () => {
    await run('down');
    await project.cleanup();
  });

  it('passes every check on a healthy stack', async () => {
    const d = await doctorUntil((x) => x.fail === 0 && x.warn === 0);
    assert.deepEqual(d.failing, []);
    assert.equal(d.exitCode, 0);
    const codes = new Set(d.results.map((x) => x.code));
    for (const code of ['DR101', 'DR102', 'DR201', 'DR301', 'DR302', 'DR401', 'DR501', 'DR502', 'DR503', 'DR504', 'DR601', 'DR602', 'DR603', 'DR701', 'DR702', 'DR703', 'DR801'])
      assert.ok(codes.has(code), `${code} ran`);
  });

  it('names the version every member runs, and fails member-versions for a release the stack does not run', async () => {
    const healthy = await doctor();
    const versions = healthy.results.filter((x) => x.code === 'DR102');
    // 6 Prometheus servers, 2 gateways, 3 Alertmanagers of the fast topology.
    assert.equal(versions.length, 11);
    for (const v of versions) assert.match(v.message, /: (prometheus 2\.42|pushgateway 1\.5|alertmanager 0\.25)\.\d+(\+\w+)? \(bookworm\)$/);
    const r = await run('doctor', '--json', '--release', 'sid');
    assert.equal(r.exitCode, 1);
    const wrong = (JSON.parse(r.stdout) as { results: DoctorResult[] }).results.filter((x) => x.code === 'DR102');
    assert.equal(wrong.filter((x) => x.verdict === 'fail').length, 11);
    assert.ok(wrong.some((x) => /^scraper1-1: runs prometheus 2\.42\.\d+(\+\w+)?, but sid \(the Prometheus 3 line \(Debian unstable\)\) is 3\.5\.x/.test(x.message)), wrong[0]?.message);
  });

  it('fails members-ready and federation-direct when a scraper member stops', async () => {
    assert.equal((await run('stop', 'scraper1-1')).exitCode, 0);
    const d = await doctorUntil((x) => x.failing.some((f) => f.code === 'DR301'));
    assert.equal(d.exitCode, 1);
    assert.ok(d.failing.some((f) => f.code === 'DR101' && f.member === 'scraper1-1' && /scraper1-1 \(127\.0\.0\.11:9090\) is unreachable/.test(f.message)));
    assert.ok(d.failing.some((f) => f.code === 'DR301' && /target scraper1-1 \(127\.0\.0\.11:9090\) is down/.test(f.message)));
    assert.deepEqual([...new Set(d.failing.map((f) => f.code))].sort(), ['DR101', 'DR301']);
    assert.equal((await run('start', 'scraper1-1')).exitCode, 0);
    assert.equal((await doctorUntil((x) => x.fail === 0)).fail, 0);
  });

  it('fails standby-clean when a standby gateway holds stale data', async () => {
    // Push straight to the standby: the VIP serves pushgateway1-1.
    const r = await fetch('http://127.0.0.16:9091/metrics/job/batch', { method: 'PUT', body: 'promha_demo_pushed_value 7\n' });
    assert.equal(r.status, 200);
    // Polled: the check reads both gateways, and one read may meet other checks still
    // settling; DR602 must appear among the failures, whatever else one read shows.
    const d = await doctorUntil((x) => x.failing.some((f) => f.code === 'DR602'));
    const stale = d.failing.find((f) => f.code === 'DR602');
    assert.ok(stale, `no DR602 within 30 s: ${JSON.stringify(d.failing)}`);
    assert.equal(stale.verdict, 'fail');
    assert.equal(d.exitCode, 1);
    assert.match(stale.message, /standby pushgateway1-2 holds 1 push group\(s\) that differ from the active pushgateway1-1: \{job="batch"\}/);
    await fetch('http://127.0.0.16:9091/api/v1/admin/wipe', { method: 'PUT' });
    assert.equal((await doctorUntil((x) => x.fail === 0)).fail, 0);
  });

  it('fails federation-direct and drift when a federator scrapes the VIP', async () => {
    const file = path.join(stateDir, 'nodes', 'federator1-1', 'prometheus.yml');
    const original = await readFile(file, 'utf8');
    const pointed = original.replace('      - targets:\n          - 127.0.0.16:9091\n', '      - targets:\n          - 127.0.0.16:9091\n      - targets:\n          - 127.0.0.17:9091\n');
    assert.notEqual(pointed, original);
    await writeFile(file, pointed);
    process.kill(await pidOf('federator1-1'), 'SIGHUP');
    const d = await doctorUntil((x) => x.failing.some((f) => f.code === 'DR301'));
    assert.ok(d.failing.some((f) => f.code === 'DR301' && f.member === 'federator1-1' && /scrapes the VIP 127\.0\.0\.17:9091/.test(f.message)), JSON.stringify(d.failing));
    assert.ok(d.failing.some((f) => f.code === 'DR801' && f.member === 'federator1-1'));
    await writeFile(file, original);
    process.kill(await pidOf('federator1-1'), 'SIGHUP');
    assert.equal((await doctorUntil((x) => x.fail === 0)).fail, 0);
  });

  it('warns with the added delay when the backup Alertmanager takes position 0', async () => {
    await Promise.all(['alertmanager1-1', 'alertmanager1-2', 'alertmanager1-3'].map((m) => run('stop', m)));
    assert.equal((await run('start', 'alertmanager1-3')).exitCode, 0);
    // Peer names are ULIDs: whoever starts first sorts first.
    await sleep(1500);
    assert.equal((await run('start', 'alertmanager1-1')).exitCode, 0);
    assert.equal((await run('start', 'alertmanager1-2')).exitCode, 0);
    const d = await doctorUntil((x) => x.failing.some((f) => f.code === 'DR504') && !x.failing.some((f) => f.code === 'DR501' || f.code === 'DR101'), 60_000);
    const warning = d.failing.find((f) => f.code === 'DR504');
    assert.equal(warning?.verdict, 'warn');
    assert.match(warning?.message ?? '', /the backup alertmanager1-3 holds position 0, not 2: every notification waits 3\.5 s more/);
  });
});
