import assert from 'node:assert/strict';
import { appendFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { execStartOf, parseSystemdCommand, systemdQuote } from '../src/render/systemd.ts';
import { promha, tempProject } from './helpers.ts';

/*
 * `promha render --target hosts` writes one bundle per host: configs, systemd units,
 * packages and an idempotent install script. The units pass systemd-analyze verify and
 * the script really installs the bundle (into a DESTDIR root).
 */

interface PlanNode {
  name: string;
  role: string;
  backup: boolean;
  dataDir: string | null;
  processes: Array<{ name: string; binary: string; args: string[] }>;
}

const hasSystemdAnalyze = (await execa('systemd-analyze', ['--version'], { reject: false })).exitCode === 0;

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(path.relative(dir, path.join(e.parentPath, e.name)));
  return out.sort();
}

describe('host bundles of the seed topology', () => {
  let project: Awaited<ReturnType<typeof tempProject>>;
  let out: string;
  let nodes: PlanNode[];
  const install = (member: string, destdir: string) => execa('bash', [path.join(out, member, 'install.sh')], { env: { DESTDIR: destdir }, reject: false });

  before(async () => {
    project = await tempProject({});
    assert.equal((await promha(['init'], project.dir)).exitCode, 0);
    out = path.join(project.dir, 'out');
    const r = await promha(['render', '--target', 'hosts', '--out', out], project.dir);
    assert.equal(r.exitCode, 0, r.stderr);
    nodes = (JSON.parse(await readFile(path.join(out, 'plan.json'), 'utf8')) as { nodes: PlanNode[] }).nodes;
  });
  after(() => project.cleanup());

  it('has a unit per process whose ExecStart is the planned command line, with the package user and a restart policy', async () => {
    let units = 0;
    for (const n of nodes)
      for (const p of n.processes) {
        const unit = await readFile(path.join(out, n.name, 'systemd', `promha-${n.name}-${p.name}.service`), 'utf8');
        units++;
        assert.deepEqual(execStartOf(unit), [p.binary, ...p.args]);
        assert.match(unit, /^Restart=on-failure$/m);
        assert.match(unit, /^WantedBy=multi-user\.target$/m);
        const user = /^User=(.*)$/m.exec(unit)?.[1];
        const expected = { prometheus: 'prometheus', keepalived: 'root', haproxy: 'haproxy' }[p.name === 'alertmanager' || p.name === 'pushgateway' ? 'prometheus' : p.name];
        assert.equal(user, expected, `${n.name}/${p.name}`);
        // A pushgateway has no reload: SIGHUP would end it and a restarted gateway is empty.
        assert.equal(/^ExecReload=/m.test(unit), p.name !== 'pushgateway', `${n.name}/${p.name}`);
      }
    assert.equal(units, 8 + 4 * 2 + 2 + 2 + 3);
  });

  it('keeps the VIP pid files in a runtime directory and starts keepalived after its gateway', async () => {
    const unit = await readFile(path.join(out, 'pushgateway1-1/systemd/promha-pushgateway1-1-keepalived.service'), 'utf8');
    assert.match(unit, /^RuntimeDirectory=promha\/pushgateway1-1$/m);
    assert.match(unit, /^After=network-online\.target promha-pushgateway1-1-pushgateway\.service$/m);
    const conf = await readFile(path.join(out, 'pushgateway1-1/keepalived.conf'), 'utf8');
    assert.match(conf, /track_script \{\s+chk_pushgateway\s+\}/);
    assert.match(conf, /notify_backup "\/etc\/promha\/pushgateway1-1\/wipe-pushgateway\.sh"/);
    assert.match(conf, /notify_fault "\/etc\/promha\/pushgateway1-1\/wipe-pushgateway\.sh"/);
  });

  it('systemd-analyze verify: every unit', { skip: !hasSystemdAnalyze && 'systemd-analyze is not installed' }, async () => {
    for (const n of nodes) {
      const dir = path.join(out, n.name, 'systemd');
      const units = (await readdir(dir)).map((u) => path.join(dir, u));
      const r = await execa('systemd-analyze', ['verify', ...units], { reject: false });
      assert.equal(r.exitCode, 0, `${n.name}: ${r.stderr}`);
      assert.equal(r.stderr.trim(), '', `${n.name}: ${r.stderr}`);
    }
  });

  it('lists the Debian packages each host needs', async () => {
    const packages = async (m: string) => (await readFile(path.join(out, m, 'packages.txt'), 'utf8')).trim().split('\n');
    assert.deepEqual(await packages('scraper1-1'), ['prometheus']);
    assert.deepEqual(await packages('federator1-2'), ['prometheus']);
    assert.deepEqual(await packages('pushgateway2-1'), ['prometheus-pushgateway', 'keepalived']);
    assert.deepEqual(await packages('alertmanager1-3'), ['prometheus-alertmanager']);
  });

  it('install.sh is valid bash', async () => {
    for (const n of nodes) {
      const r = await execa('bash', ['-n', path.join(out, n.name, 'install.sh')], { reject: false });
      assert.equal(r.exitCode, 0, `${n.name}: ${r.stderr}`);
    }
  });

  it('install.sh puts the bundle in place, then changes nothing on a second run', async () => {
    const root = path.join(project.dir, 'root-pg');
    const first = await install('pushgateway1-1', root);
    assert.equal(first.exitCode, 0, first.stderr);
    assert.deepEqual(await filesUnder(root), [
      'etc/promha/pushgateway1-1/.promha-installed',
      'etc/promha/pushgateway1-1/check-pushgateway.sh',
      'etc/promha/pushgateway1-1/keepalived.conf',
      'etc/promha/pushgateway1-1/wipe-pushgateway.sh',
      'etc/systemd/system/promha-pushgateway1-1-keepalived.service',
      'etc/systemd/system/promha-pushgateway1-1-pushgateway.service',
    ]);
    for (const f of ['keepalived.conf', 'wipe-pushgateway.sh'])
      assert.equal(await readFile(path.join(root, 'etc/promha/pushgateway1-1', f), 'utf8'), await readFile(path.join(out, 'pushgateway1-1', f), 'utf8'));
    assert.equal((await stat(path.join(root, 'etc/promha/pushgateway1-1/wipe-pushgateway.sh'))).mode & 0o777, 0o755);
    assert.match(first.stdout, /^would restart promha-pushgateway1-1-pushgateway\.service$/m);
    assert.match(first.stdout, /^would restart promha-pushgateway1-1-keepalived\.service$/m);
    assert.match(first.stdout, /^pushgateway1-1: 5 file\(s\) changed$/m);

    const manifest = path.join(root, 'etc/promha/pushgateway1-1/.promha-installed');
    assert.deepEqual((await readFile(manifest, 'utf8')).split('\0'), [
      '/etc/promha/pushgateway1-1/keepalived.conf',
      '/etc/promha/pushgateway1-1/check-pushgateway.sh',
      '/etc/promha/pushgateway1-1/wipe-pushgateway.sh',
      '',
    ]);
    const before = (await stat(manifest)).mtimeMs;

    const second = await install('pushgateway1-1', root);
    assert.equal(second.exitCode, 0, second.stderr);
    assert.equal(second.stdout.trim(), 'pushgateway1-1: 0 file(s) changed');
    assert.equal((await stat(manifest)).mtimeMs, before);
  });

  it('install.sh reloads only the unit whose configuration changed, and never the pushgateway', async () => {
    const root = path.join(project.dir, 'root-pg2');
    assert.equal((await install('pushgateway1-2', root)).exitCode, 0);
    const conf = path.join(out, 'pushgateway1-2/keepalived.conf');
    await writeFile(conf, `${await readFile(conf, 'utf8')}# changed\n`);
    const r = await install('pushgateway1-2', root);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout.trim(), ['installed /etc/promha/pushgateway1-2/keepalived.conf', 'would reload promha-pushgateway1-2-keepalived.service', 'pushgateway1-2: 1 file(s) changed'].join('\n'));
  });

  it('install.sh restarts a unit whose unit file changed, and removes files an earlier run installed that the bundle no longer has', async () => {
    const root = path.join(project.dir, 'root-fed');
    assert.equal((await install('federator1-1', root)).exitCode, 0);
    const configDir = path.join(root, 'etc/promha/federator1-1');
    // An earlier bundle had a rule file this one lacks: it is in the manifest of that run.
    const stale = path.join(configDir, 'rules/removed.yml');
    await writeFile(stale, 'groups: []\n');
    await appendFile(path.join(configDir, '.promha-installed'), '/etc/promha/federator1-1/rules/removed.yml\0');
    const unit = path.join(out, 'federator1-1/systemd/promha-federator1-1-prometheus.service');
    await writeFile(unit, (await readFile(unit, 'utf8')).replace('RestartSec=5s', 'RestartSec=7s'));
    const r = await install('federator1-1', root);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /^removed \/etc\/promha\/federator1-1\/rules\/removed\.yml$/m);
    assert.match(r.stdout, /^would restart promha-federator1-1-prometheus\.service$/m);
    // Restarted already: no reload on top.
    assert.doesNotMatch(r.stdout, /would reload/);
    await assert.rejects(stat(stale));
    assert.doesNotMatch(await readFile(path.join(configDir, '.promha-installed'), 'utf8'), /removed\.yml/);
    // The federator's storage is created.
    assert.ok((await stat(path.join(root, 'var/lib/promha/federator'))).isDirectory());
  });

  it('install.sh never removes a file it did not install: a TSDB or Alertmanager state in the config directory stays', async () => {
    const root = path.join(project.dir, 'root-am');
    assert.equal((await install('alertmanager1-1', root)).exitCode, 0);
    const configDir = path.join(root, 'etc/promha/alertmanager1-1');
    const theirs = ['nflog', 'silences', 'wal/00000001', 'chunks_head/000001', 'notes.txt'];
    for (const f of theirs) {
      await mkdir(path.dirname(path.join(configDir, f)), { recursive: true });
      await writeFile(path.join(configDir, f), 'data\n');
    }
    // A manifest edited to name a file outside the config directory removes nothing there either.
    await appendFile(path.join(configDir, '.promha-installed'), '/etc/passwd\0');
    await mkdir(path.join(root, 'etc'), { recursive: true });
    await writeFile(path.join(root, 'etc/passwd'), 'root:x:0:0::/root:/bin/bash\n');
    const r = await install('alertmanager1-1', root);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /removed/);
    for (const f of theirs) assert.equal(await readFile(path.join(configDir, f), 'utf8'), 'data\n', f);
    assert.ok((await stat(path.join(root, 'etc/passwd'))).isFile());
  });

  it('install.sh of a bundle without a manifest on the host (an older install) removes nothing', async () => {
    const root = path.join(project.dir, 'root-old');
    assert.equal((await install('scraper1-1', root)).exitCode, 0);
    const configDir = path.join(root, 'etc/promha/scraper1-1');
    await rm(path.join(configDir, '.promha-installed'));
    await writeFile(path.join(configDir, 'old.yml'), 'x\n');
    const r = await install('scraper1-1', root);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(await readFile(path.join(configDir, 'old.yml'), 'utf8'), 'x\n');
    assert.ok((await stat(path.join(configDir, '.promha-installed'))).isFile());
  });
});

describe('systemd command lines', () => {
  it('round-trip words with quotes, specifiers and variables', () => {
    const words = ['/usr/bin/x', '--a=b c', '--match={__name__=~".+"}', '--p=100%', '--v=$HOME', 'back\\slash', '--persistence.file='];
    assert.deepEqual(parseSystemdCommand(words.map(systemdQuote).join(' ')), words);
    assert.equal(systemdQuote('--p=100%'), '"--p=100%%"');
    assert.equal(systemdQuote('--v=$HOME'), '"--v=$$HOME"');
  });
});
