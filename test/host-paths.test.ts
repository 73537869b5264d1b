import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ExitError } from '../src/errors.ts';
import { runRender } from '../src/commands/render.ts';
import { RENDER_MARKER } from '../src/render/render-marker.ts';
import { dataDirProblems, rootDirectoryProblem, systemDirectoryProblem } from '../src/render/host-paths.ts';
import type { Layout, NodeSpec } from '../src/plan/node-spec.ts';
import { hostPathProblem, interfaceNameProblem } from '../src/topology/host-names.ts';
import { FAST_RULES, fastTopology, tempProject } from './helpers.ts';

/*
 * Paths on the hosts and the VIP's interface reach install.sh, units and keepalived.conf
 * as they are: strict grammars keep them from injecting anything, and the layout rules
 * keep install.sh from chowning a shared directory or deleting data as stale config.
 */

describe('host path grammar', () => {
  for (const ok of ['/', '/var/lib/promha/federator', '/srv/prometheus/scraper1', '/data/a+b@c_d.e-f', '/x/.hidden'])
    it(`accepts ${ok}`, () => assert.equal(hostPathProblem(ok), undefined));
  for (const [bad, why] of [
    ['', /is empty/],
    ['data/scraper1', /not an absolute path/],
    ['./data', /not an absolute path/],
    ['/var/lib/promha/', /ends with "\/"/],
    ['/var//lib', /holds "\/\/"/],
    ['/var/lib/promha/../../etc', /"\." or "\.\." component/],
    ['/var/./lib', /"\." or "\.\." component/],
    ['/var/lib/pro mha', /characters other than/],
    ['/var/lib/promha\nExecStartPre=/bin/sh', /characters other than/],
    ['/var/lib/$(reboot)', /characters other than/],
    ['/var/lib/`id`', /characters other than/],
    ["/var/lib/it's", /characters other than/],
    ['/var/lib/100%', /characters other than/],
    ['/var/lib/a;b', /characters other than/],
    ['/var/lib/ünï', /characters other than/],
    [`/${'a'.repeat(200)}`, /longer than 200/],
  ] as const)
    it(`refuses ${JSON.stringify(bad)}`, () => assert.match(hostPathProblem(bad) ?? '', why));
});

describe('interface name grammar', () => {
  for (const ok of ['eth0', 'ens3', 'bond0.100', 'br-lan', 'v-1_a.b@c', 'a'.repeat(15)]) it(`accepts ${ok}`, () => assert.equal(interfaceNameProblem(ok), undefined));
  for (const bad of ['', '.', '..', 'eth0 eth1', 'eth0\n    notify_master "/tmp/x"', 'eth0:1', 'a/b', 'a'.repeat(16), 'eth0;', 'ëth0', '$IF'])
    it(`refuses ${JSON.stringify(bad)}`, () => assert.ok(interfaceNameProblem(bad)));
});

const within = (inner: string, outer: string) => outer === '/' || inner.startsWith(`${outer}/`);

/** How two host paths overlap, by definition: dataDirProblems must find exactly these. */
function overlap(a: string, b: string): 'same' | 'inside' | 'contains' | undefined {
  if (a === b) return 'same';
  if (within(a, b)) return 'inside';
  if (within(b, a)) return 'contains';
  return undefined;
}

describe('data directories', () => {
  for (const dir of [
    '/',
    '/var',
    '/var/lib',
    '/etc',
    '/usr/local',
    '/home',
    '/home/alice',
    '/srv',
    '/opt',
    '/tmp',
    '/data',
    '/var/lib/prometheus',
    '/etc/systemd/system',
    // Package state on every Debian host, and the operating system's trees.
    '/var/lib/dpkg',
    '/var/lib/apt',
    '/var/cache/apt',
    '/usr/share/doc',
    '/usr/local/prometheus',
    '/boot/tsdb',
  ])
    it(`${dir} is no data directory of its own`, () => assert.ok(systemDirectoryProblem(dir)));
  for (const dir of ['/var/lib/promha/federator1-1', '/srv/prometheus', '/data/prometheus', '/home/alice/prometheus', '/var/lib/prometheus/metrics2'])
    it(`${dir} may be a data directory`, () => assert.equal(systemDirectoryProblem(dir), undefined));

  it('overlap: the same, inside, containing, or apart', () => {
    assert.equal(overlap('/etc/promha/a', '/etc/promha/a'), 'same');
    assert.equal(overlap('/etc/promha/a/data', '/etc/promha/a'), 'inside');
    assert.equal(overlap('/etc/promha', '/etc/promha/a'), 'contains');
    assert.equal(overlap('/etc/promha/ab', '/etc/promha/a'), undefined);
    assert.equal(overlap('/var/lib/promha/a', '/etc/promha/a'), undefined);
  });

  it('dataDirProblems finds every overlap the definition finds, in node order, and no other', () => {
    // Paths that are the same, nested both ways, siblings with a common prefix, and `/`.
    const paths = ['/', '/srv', '/srv/p', '/srv/p/a', '/srv/p/a/b', '/srv/pa', '/srv/p-a', '/etc/promha/x', '/etc/promha/x/data', '/run/promha/y'];
    let seed = 7;
    const pick = () => paths[(seed = (seed * 1103515245 + 12345) % 2 ** 31) % paths.length] ?? '/';
    for (let trial = 0; trial < 200; trial++) {
      const nodes = Array.from({ length: 4 }, (_, i) => ({ name: `n${i}`, configDir: pick(), dataDir: trial % 3 === 0 && i === 0 ? undefined : pick() }));
      const run = new Map(nodes.map((n) => [n.name, pick()]));
      const layout = { runDir: (m: string) => run.get(m) ?? '/' } as unknown as Layout;
      const found = dataDirProblems(nodes as unknown as NodeSpec[], layout).map((p) => p.message);
      const expected: string[] = [];
      for (const n of nodes) {
        if (n.dataDir === undefined) continue;
        if (systemDirectoryProblem(n.dataDir)) {
          expected.push(`the data directory of ${n.name}: ${systemDirectoryProblem(n.dataDir)}; install.sh would give it to the server's user (mode 750)`);
          continue;
        }
        for (const o of nodes)
          for (const [what, dir, harm] of [
            ['config directory', o.configDir, 'install.sh would delete its TSDB or state as stale config files'],
            ['runtime directory', run.get(o.name) ?? '/', 'systemd deletes the runtime directory when the unit stops'],
          ] as const) {
            const rel = overlap(n.dataDir, dir);
            if (rel) expected.push(`the data directory of ${n.name} (${n.dataDir}) ${{ same: 'is', inside: 'lies inside', contains: 'contains' }[rel]} the ${what} of ${o.name} (${dir}): ${harm}`);
          }
      }
      assert.deepEqual(found, expected, `trial ${trial}`);
    }
  });
});

describe('render refuses roots and layouts that would lose data', () => {
  let project: Awaited<ReturnType<typeof tempProject>>;
  let file: string;
  before(async () => {
    project = await tempProject({ 'promha.yaml': fastTopology(), 'rules/demo.yml': FAST_RULES });
    file = path.join(project.dir, 'promha.yaml');
  });
  after(() => project.cleanup());

  const refuses = async (o: { configRoot?: string; dataRoot?: string }, message: RegExp) => {
    const out = path.join(project.dir, 'out');
    await assert.rejects(runRender(file, { out, ...o }), (e: unknown) => e instanceof ExitError && e.code === 2 && message.test(e.message));
    await assert.rejects(readdir(out), 'nothing written');
  };

  for (const [flag, key] of [
    ['--config-root', 'configRoot'],
    ['--data-root', 'dataRoot'],
  ] as const) {
    it(`${flag} relative`, () => refuses({ [key]: 'etc/promha' }, new RegExp(`^${flag} "etc/promha" is not an absolute path\\n\\s+fix: `)));
    it(`${flag} with a command substitution`, () => refuses({ [key]: '/etc/$(reboot)' }, new RegExp(`^${flag} "/etc/\\$\\(reboot\\)" holds characters other than`)));
    it(`${flag} with a space (a track script keepalived would split)`, () => refuses({ [key]: '/etc/pro mha' }, /holds characters other than/));
    it(`${flag} escaping DESTDIR`, () => refuses({ [key]: '/srv/../etc' }, /"\." or "\.\." component/));
  }

  // Each member's directory is <root>/<member>: under a shared directory a member's name picks another program's.
  for (const [flag, key] of [
    ['--config-root', 'configRoot'],
    ['--data-root', 'dataRoot'],
  ] as const)
    for (const root of ['/', '/var/lib', '/etc', '/usr/share', '/var/cache', '/var/log', '/var/lib/prometheus', '/usr/local/lib', '/home'])
      it(`${flag} ${root}: a system directory that others share`, () =>
        refuses({ [key]: root }, new RegExp(`^${flag} ${root.replace(/\//g, '\\/')} is a system directory that others share: each member's directory would be .*<member>.*\\n\\s+fix: give promha a directory of its own, e.g. ${flag} \\/`)));

  it('roots of the site\'s own (/srv, /mnt, /data) and below the shared ones are fine', () => {
    for (const root of ['/srv', '/mnt', '/data', '/var/lib/promha', '/etc/promha', '/srv/prometheus']) assert.equal(rootDirectoryProblem(root), undefined, root);
  });

  it('--data-root equal to --config-root', () =>
    refuses({ configRoot: '/srv/promha', dataRoot: '/srv/promha' }, /the data directory of scraper1-1 \(\/srv\/promha\/scraper1-1\) is the config directory of scraper1-1 .*\(from --data-root\)/));

  it('--config-root inside a data directory', () => refuses({ configRoot: '/var/lib/promha/federator1-1/etc' }, /the data directory of federator1-1 \(\/var\/lib\/promha\/federator1-1\) contains the config directory of/));

  it('a storage.path against --config-root: named as coming from storage.path', async () => {
    const p = await tempProject({
      'promha.yaml': fastTopology({
        federators: { ...(fastTopology()['federators'] as object), storage: { path: '/srv/promha/federator1-1' } },
      }),
      'rules/demo.yml': FAST_RULES,
    });
    try {
      await assert.rejects(
        runRender(path.join(p.dir, 'promha.yaml'), { out: path.join(p.dir, 'out'), configRoot: '/srv/promha' }),
        (e: unknown) => e instanceof ExitError && e.code === 2 && /is the config directory of federator1-1 \(\/srv\/promha\/federator1-1\).*\(from storage\.path\)/.test(e.message),
      );
    } finally {
      await p.cleanup();
    }
  });

  it('renders with separate, strict roots: each member\'s config under the one, its data under the other, nothing elsewhere', async () => {
    const out = path.join(project.dir, 'ok');
    const configRoot = '/srv/promha+cfg@x/etc';
    const dataRoot = '/srv/promha_data-1.0';
    const r = await runRender(file, { out, configRoot, dataRoot });

    // The fast topology's members, and the files each kind of member gets.
    const common = ['install.sh', 'packages.txt'];
    const prometheus = (m: string) => [...common, 'prometheus.yml', 'prometheus.cmdline', `systemd/promha-${m}-prometheus.service`];
    const files: Record<string, string[]> = {};
    for (const m of ['scraper1-1', 'scraper1-2', 'scraper2-1', 'scraper2-2']) files[m] = prometheus(m);
    for (const m of ['federator1-1', 'federator1-2']) files[m] = [...prometheus(m), 'rules/demo.yml', 'rules/promha-meta.rules.yml'];
    for (const m of ['alertmanager1-1', 'alertmanager1-2', 'alertmanager1-3'])
      files[m] = [...common, 'alertmanager.yml', 'alertmanager.cmdline', `systemd/promha-${m}-alertmanager.service`];
    for (const m of ['pushgateway1-1', 'pushgateway1-2'])
      files[m] = [
        ...common,
        'keepalived.conf',
        'check-pushgateway.sh',
        'wipe-pushgateway.sh',
        'pushgateway.cmdline',
        'keepalived.cmdline',
        `systemd/promha-${m}-pushgateway.service`,
        `systemd/promha-${m}-keepalived.service`,
      ];
    files['pushgateway1-vip'] = [...common, 'haproxy.cfg', 'haproxy.cmdline', 'systemd/promha-pushgateway1-vip-haproxy.service'];
    const expected = ['plan.json', ...Object.entries(files).flatMap(([m, names]) => names.map((n) => `${m}/${n}`))].sort();
    assert.equal(r.nodes, Object.keys(files).length);
    assert.deepEqual(r.written.map((w) => path.relative(out, w)).sort(), expected, 'what render says it wrote');
    const onDisk = (await readdir(out, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => path.relative(out, path.join(e.parentPath, e.name)));
    // And the marker that lets a later render replace this directory.
    assert.deepEqual(onDisk.sort(), [RENDER_MARKER, ...expected].sort(), 'what is in --out');

    // The command lines: each member's config file under --config-root, its data under --data-root.
    const args = async (m: string, cmdline: string) => (await readFile(path.join(out, m, cmdline), 'utf8')).trim().split(' ');
    for (const m of ['scraper1-1', 'scraper1-2', 'scraper2-1', 'scraper2-2', 'federator1-1', 'federator1-2']) {
      const a = await args(m, 'prometheus.cmdline');
      assert.ok(a.includes(`--config.file=${configRoot}/${m}/prometheus.yml`), `${m}: ${a.join(' ')}`);
      assert.ok(a.includes(`--storage.tsdb.path=${dataRoot}/${m}`), `${m}: ${a.join(' ')}`);
    }
    for (const m of ['alertmanager1-1', 'alertmanager1-2', 'alertmanager1-3']) {
      const a = await args(m, 'alertmanager.cmdline');
      assert.ok(a.includes(`--config.file=${configRoot}/${m}/alertmanager.yml`), `${m}: ${a.join(' ')}`);
      assert.ok(a.includes(`--storage.path=${dataRoot}/${m}`), `${m}: ${a.join(' ')}`);
    }
    for (const m of ['pushgateway1-1', 'pushgateway1-2']) assert.ok((await args(m, 'keepalived.cmdline')).includes(`--use-file=${configRoot}/${m}/keepalived.conf`), m);
    assert.deepEqual((await args('pushgateway1-vip', 'haproxy.cmdline')).slice(-2), ['-f', `${configRoot}/pushgateway1-vip/haproxy.cfg`]);

    // No file of a member names a path under the roots but its own directories, and none
    // falls back to the default roots.
    for (const [m, names] of Object.entries(files))
      for (const n of names) {
        const text = await readFile(path.join(out, m, n), 'utf8');
        for (const [found] of text.matchAll(/\/srv\/promha[^\s"',;:)]*/g))
          assert.ok(found.startsWith(`${configRoot}/${m}`) || found.startsWith(`${dataRoot}/${m}`), `${m}/${n} names ${found}`);
        assert.doesNotMatch(text, /\/etc\/promha\/|\/var\/lib\/promha\//, `${m}/${n}: a default root`);
      }
  });
});
