import assert from 'node:assert/strict';
import { appendFile, chmod, chown, lstat, mkdir, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { execStartOf, parseSystemdCommand, systemdQuote } from '../src/render/systemd.ts';
import { FAST_RULES, fastTopology, promha, requireTool, tempProject } from './helpers.ts';

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

  it('systemd-analyze verify: every unit', async () => {
    await requireTool('systemd-analyze', 'systemd');
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
      'etc/promha/pushgateway1-1/.promha-owned',
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

/** Every entry under `root` with its type, mode, owner and content (or link target): what "left untouched" means. */
async function treeState(root: string): Promise<string[]> {
  const out: string[] = [];
  const visit = async (dir: string) => {
    for (const name of (await readdir(dir)).sort()) {
      const full = path.join(dir, name);
      const st = await lstat(full);
      const what = st.isSymbolicLink() ? `-> ${await readlink(full)}` : st.isDirectory() ? 'dir' : `file ${JSON.stringify(await readFile(full, 'utf8'))}`;
      out.push(`${path.relative(root, full)} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${what}`);
      if (st.isDirectory()) await visit(full);
    }
  };
  await visit(root);
  return out;
}

/*
 * install.sh takes only directories promha creates. A scraper set whose storage.path is
 * /var/lib/mysql (render cannot know every package's directory) must not get MySQL's
 * data: install.sh refuses a directory that exists without the member's .promha-owned,
 * checks every directory before it changes anything, and marks those it creates.
 */
describe('install.sh owns only the directories it creates', () => {
  let project: Awaited<ReturnType<typeof tempProject>>;
  let out: string;
  const root = (name: string) => path.join(project.dir, 'roots', name);
  const install = (destdir: string, member = 'scraper1-1') => execa('bash', [path.join(out, member, 'install.sh')], { env: { DESTDIR: destdir }, reject: false });
  const asRoot = process.getuid?.() === 0;

  before(async () => {
    const topology = fastTopology();
    const scrapers = topology['scrapers'] as Array<Record<string, unknown>>;
    scrapers[0] = { ...scrapers[0], storage: { path: '/var/lib/mysql' } };
    project = await tempProject({ 'promha.yaml': topology, 'rules/demo.yml': FAST_RULES });
    out = path.join(project.dir, 'out');
    const r = await promha(['render', '--out', out], project.dir);
    assert.equal(r.exitCode, 0, r.stderr);
  });
  after(() => project.cleanup());

  /** MySQL's data directory as a package leaves it: mode 700, its own owner, files in it. */
  const mysql = async (r: string) => {
    const dir = path.join(r, 'var/lib/mysql');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'ibdata1'), 'innodb\n');
    await chmod(dir, 0o700);
    if (asRoot) await chown(dir, 65534, 65534);
  };

  const refusals: Array<readonly [string, (r: string) => Promise<void>, readonly RegExp[]]> = [
    ['a package\'s data directory (/var/lib/mysql)', mysql, [/^ {2}\/var\/lib\/mysql: it exists, and promha did not create it \(it holds no \.promha-owned\)/m, /^ {4}fix: render with another --data-root \(or the storage\.path of scraper1\).*mark it: echo scraper1-1 > \/var\/lib\/mysql\/\.promha-owned$/m]],
    [
      'a config directory that exists without the mark (an older promha, or not promha\'s)',
      async (r) => {
        await mkdir(path.join(r, 'etc/promha/scraper1-1'), { recursive: true });
        await writeFile(path.join(r, 'etc/promha/scraper1-1/prometheus.yml'), 'old\n');
      },
      [/^ {2}\/etc\/promha\/scraper1-1: it exists, and promha did not create it/m, /fix: render with another --config-root.*echo scraper1-1 > \/etc\/promha\/scraper1-1\/\.promha-owned$/m],
    ],
    [
      'a directory promha made for another member',
      async (r) => {
        await mkdir(path.join(r, 'var/lib/mysql'), { recursive: true });
        await writeFile(path.join(r, 'var/lib/mysql/.promha-owned'), 'scraper1-2\n');
      },
      [/^ {2}\/var\/lib\/mysql: it is the directory promha made for "scraper1-2" \(its \.promha-owned\), not for scraper1-1$/m],
    ],
    [
      'a directory inside one promha made for a member',
      async (r) => {
        await mkdir(path.join(r, 'var/lib'), { recursive: true });
        await writeFile(path.join(r, 'var/lib/.promha-owned'), 'federator1-1\n');
      },
      [/^ {2}\/var\/lib\/mysql: it lies inside \/var\/lib, the directory promha made for federator1-1$/m],
    ],
    ['a file where the data directory goes', async (r) => void (await mkdir(path.join(r, 'var/lib'), { recursive: true }), await writeFile(path.join(r, 'var/lib/mysql'), 'x')), [/^ {2}\/var\/lib\/mysql: it exists and is not a directory$/m]],
    ['a link to nothing where the data directory goes', async (r) => void (await mkdir(path.join(r, 'var/lib'), { recursive: true }), await symlink('/nowhere', path.join(r, 'var/lib/mysql'))), [/^ {2}\/var\/lib\/mysql: it exists and is not a directory$/m]],
    ['a file in the way above the data directory', async (r) => void (await mkdir(path.join(r, 'var'), { recursive: true }), await writeFile(path.join(r, 'var/lib'), 'x')), [/^ {2}\/var\/lib\/mysql: \/var\/lib is in the way: it is not a directory$/m]],
    [
      'both directories at once: each is named',
      async (r) => {
        await mysql(r);
        await mkdir(path.join(r, 'etc/promha/scraper1-1'), { recursive: true });
      },
      [/^ {2}\/etc\/promha\/scraper1-1: it exists/m, /^ {2}\/var\/lib\/mysql: it exists/m],
    ],
  ];
  for (const [what, prepare, messages] of refusals)
    it(`refuses ${what}: exit 1, the directory named with the fix, and nothing on the host changed`, async () => {
      const r = root(what.replace(/\W+/g, '-'));
      await prepare(r);
      const before = await treeState(r);
      const run = await install(r);
      assert.equal(run.exitCode, 1, run.stdout + run.stderr);
      assert.match(run.stderr, /^install\.sh: scraper1-1: nothing was changed: promha takes only directories it creates/);
      for (const m of messages) assert.match(run.stderr, m);
      assert.equal(run.stdout, '', 'nothing installed, nothing created');
      // Not one file, directory, mode or owner differs: no config directory, no unit, no mark.
      assert.deepEqual(await treeState(r), before);
    });

  it('creates a new directory with the mark, parents as install -D makes them (755 whatever the umask), an existing parent left as it is', async () => {
    const r = root('fresh');
    await mkdir(path.join(r, 'var'), { recursive: true });
    await chmod(path.join(r, 'var'), 0o711);
    const run = await execa('bash', ['-c', `umask 077; exec bash ${JSON.stringify(path.join(out, 'scraper1-1/install.sh'))}`], { env: { DESTDIR: r }, reject: false });
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(run.stdout, /^created \/etc\/promha\/scraper1-1\ncreated \/var\/lib\/mysql\n/);
    for (const dir of ['etc/promha/scraper1-1', 'var/lib/mysql']) {
      assert.equal(await readFile(path.join(r, dir, '.promha-owned'), 'utf8'), 'scraper1-1\n', dir);
      assert.equal((await stat(path.join(r, dir, '.promha-owned'))).mode & 0o777, 0o644, dir);
    }
    assert.equal((await stat(path.join(r, 'var/lib/mysql'))).mode & 0o777, 0o750);
    assert.equal((await stat(path.join(r, 'etc/promha/scraper1-1'))).mode & 0o777, 0o755);
    assert.equal((await stat(path.join(r, 'var/lib'))).mode & 0o777, 0o755, 'a parent it created');
    assert.equal((await stat(path.join(r, 'etc/promha'))).mode & 0o777, 0o755, 'a parent it created');
    assert.equal((await stat(path.join(r, 'var'))).mode & 0o777, 0o711, 'an existing parent is not its own');
    // Parents it created hold no mark: promha owns the member's directories, not /var/lib.
    await assert.rejects(stat(path.join(r, 'var/lib/.promha-owned')));

    const state = await treeState(r);
    const again = await install(r);
    assert.equal(again.exitCode, 0, again.stderr);
    assert.equal(again.stdout.trim(), 'scraper1-1: 0 file(s) changed');
    assert.deepEqual(await treeState(r), state);
  });

  it('an older install: refused until the operator marks its directories as the fix says, then installed with its data kept', async () => {
    const r = root('older');
    const first = await install(r);
    assert.equal(first.exitCode, 0, first.stderr);
    await writeFile(path.join(r, 'var/lib/mysql/wal'), 'tsdb\n');
    for (const dir of ['etc/promha/scraper1-1', 'var/lib/mysql']) await rm(path.join(r, dir, '.promha-owned'));
    const refused = await install(r);
    assert.equal(refused.exitCode, 1);
    const fixes = [...refused.stderr.matchAll(/mark it: (echo scraper1-1 > (\S+))$/gm)].map((m) => m[2] as string);
    assert.deepEqual(fixes, ['/etc/promha/scraper1-1/.promha-owned', '/var/lib/mysql/.promha-owned']);
    // The fix as given, under the root.
    for (const marker of fixes) await writeFile(path.join(r, marker), 'scraper1-1\n');
    const run = await install(r);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.equal(run.stdout.trim(), 'scraper1-1: 0 file(s) changed');
    assert.equal(await readFile(path.join(r, 'var/lib/mysql/wal'), 'utf8'), 'tsdb\n');
  });

  it('a data directory that is a link to a marked directory is this member\'s', async () => {
    const r = root('linked');
    const disk = path.join(r, 'mnt/disk1/tsdb');
    await mkdir(disk, { recursive: true });
    await writeFile(path.join(disk, '.promha-owned'), 'scraper1-1\n');
    await mkdir(path.join(r, 'var/lib'), { recursive: true });
    await symlink(disk, path.join(r, 'var/lib/mysql'));
    const run = await install(r);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.doesNotMatch(run.stdout, /created \/var\/lib\/mysql/);
    assert.ok((await lstat(path.join(r, 'var/lib/mysql'))).isSymbolicLink(), 'the link stays');
  });
});

describe('install.sh on a live host (no DESTDIR): a refusal comes before any package, unit or owner is touched', () => {
  // Live mode writes real paths: the roots lie in a temporary directory, and every command that
  // would change this machine is a stub that only records its call.
  it('no apt-get, dpkg-query, systemctl, install, chown or chmod runs', async () => {
    const project = await tempProject({ 'promha.yaml': fastTopology(), 'rules/demo.yml': FAST_RULES });
    try {
      const host = path.join(project.dir, 'host');
      const r = await promha(['render', '--out', path.join(project.dir, 'out'), '--config-root', `${host}/etc/promha`, '--data-root', `${host}/var/lib/promha`], project.dir);
      assert.equal(r.exitCode, 0, r.stderr);
      const foreign = path.join(host, 'var/lib/promha/scraper1-1');
      await mkdir(foreign, { recursive: true });
      await writeFile(path.join(foreign, 'theirs'), 'x\n');
      const bin = path.join(project.dir, 'bin');
      const calls = path.join(project.dir, 'calls');
      await mkdir(bin);
      for (const command of ['apt-get', 'dpkg-query', 'systemctl', 'install', 'chown', 'chmod'])
        await writeFile(path.join(bin, command), `#!/bin/sh\necho "${command} $*" >>${JSON.stringify(calls)}\n`, { mode: 0o755 });
      const before = await treeState(host);
      const run = await execa('bash', [path.join(project.dir, 'out/scraper1-1/install.sh')], { env: { PATH: `${bin}:${process.env['PATH']}`, DESTDIR: '' }, reject: false });
      assert.equal(run.exitCode, 1, run.stdout + run.stderr);
      assert.match(run.stderr, new RegExp(`^ {2}${foreign.replace(/[.+]/g, '\\$&')}: it exists, and promha did not create it`, 'm'));
      await assert.rejects(readFile(calls, 'utf8'), 'no command that changes the host ran');
      assert.deepEqual(await treeState(host), before);
    } finally {
      await project.cleanup();
    }
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
