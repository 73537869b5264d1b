import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { execa } from 'execa';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { CheckReport } from '../src/commands/check.ts';
import { atLeast } from '../src/release/version.ts';
import { capabilitiesOf, versionNotes } from '../src/release/capabilities.ts';
import { checkReleaseVersions, findBinaries, releaseRunning } from '../src/runtime/binaries.ts';
import { seedTopology } from '../src/topology/seed.ts';
import { inProcess, tempProject } from './helpers.ts';
import { chooseRelease } from '../src/release/choose.ts';
import { hostCodename } from '../src/release/host.ts';
import { binaryVersion, fetchedVersions, readFetchedRelease, recordRelease, releaseCacheRoot } from '../src/release/fetch.ts';
import { runSetup } from '../src/commands/setup.ts';
import { parseVersionOutput, RELEASE_NAMES, RELEASES, releaseOfVersion, releasePackages, versionMatches, versionProblem, type Component } from '../src/release/release.ts';

describe('release table', () => {
  it('reads the version of every Prometheus-project binary from its --version text', () => {
    const table: [string, string | undefined][] = [
      ['prometheus, version 2.42.0+ds (branch: debian/sid, revision: 2.42.0+ds-5+deb12u1)', '2.42.0'],
      ['prometheus, version 3.5.3+ds1 (branch: debian/sid, revision: 3.5.3+ds1-6)\n  build user: x', '3.5.3'],
      ['alertmanager, version 0.25.0 (branch: debian/sid, revision: 0.25.0-1+b4)', '0.25.0'],
      ['pushgateway, version 1.11.2 (branch: debian/sid)', '1.11.2'],
      ['Keepalived v2.2.7 (01/16,2022)', undefined],
      ['', undefined],
    ];
    for (const [text, want] of table) assert.equal(parseVersionOutput(text), want, text);
  });

  it('matches versions by major.minor line, never by prefix alone', () => {
    assert.ok(versionMatches('3.5.3', '3.5'));
    assert.ok(versionMatches('2.42.0', '2.42'));
    assert.ok(!versionMatches('3.50.1', '3.5'));
    assert.ok(!versionMatches('2.53.3', '2.42'));
  });

  it('names the release a running server is of, the first that ships its line (Pushgateway 1.11 is trixie’s and sid’s)', () => {
    const table = [
      ['prometheus', '2.42.0', 'bookworm'],
      ['prometheus', '2.53.3', 'trixie'],
      ['prometheus', '3.5.3', 'sid'],
      ['alertmanager', '0.25.0', 'bookworm'],
      ['alertmanager', '0.33.1', 'sid'],
      ['pushgateway', '1.5.1', 'bookworm'],
      ['pushgateway', '1.11.2', 'trixie'],
      ['prometheus', '2.45.0', undefined],
      ['alertmanager', '0.2.0', undefined],
    ] as const;
    for (const [component, version, want] of table) assert.equal(releaseOfVersion(component, version)?.name, want, `${component} ${version}`);
  });

  it('names each package once, and puts promtool in its own package after Debian 12', () => {
    assert.deepEqual(releasePackages(RELEASES.bookworm), ['prometheus', 'prometheus-alertmanager', 'prometheus-pushgateway']);
    for (const r of ['trixie', 'sid'] as const) assert.deepEqual(releasePackages(RELEASES[r]), ['prometheus', 'promtool', 'prometheus-alertmanager', 'prometheus-pushgateway']);
    assert.deepEqual(Object.keys(RELEASES), [...RELEASE_NAMES]);
  });

  it('reads the codename of the machine', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'promha-release-'));
    try {
      await writeFile(path.join(dir, 'os-release'), 'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nVERSION_CODENAME=trixie\nID=debian\n');
      assert.equal(await hostCodename(path.join(dir, 'os-release')), 'trixie');
      assert.equal(await hostCodename(path.join(dir, 'missing')), undefined);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('choosing a release and its binaries', () => {
  it('takes the flag, then the topology, then the machine, then Debian 12', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'promha-release-'));
    try {
      const trixie = path.join(dir, 'trixie');
      await writeFile(trixie, 'VERSION_CODENAME=trixie\n');
      const ubuntu = path.join(dir, 'ubuntu');
      await writeFile(ubuntu, 'VERSION_CODENAME=noble\n');
      assert.equal((await chooseRelease('sid', 'bookworm', trixie)).name, 'sid');
      assert.equal((await chooseRelease(undefined, 'bookworm', trixie)).name, 'bookworm');
      assert.equal((await chooseRelease(undefined, undefined, trixie)).name, 'trixie');
      assert.equal((await chooseRelease(undefined, undefined, ubuntu)).name, 'bookworm');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("accepts this machine's Debian 12 binaries for bookworm, with the versions they print", async () => {
    const versions = await checkReleaseVersions(findBinaries(['prometheus', 'prometheus-alertmanager', 'prometheus-pushgateway'], {}, {}), RELEASES.bookworm);
    assert.match(versions.prometheus ?? '', /^2\.42\.\d+$/);
    assert.match(versions['prometheus-alertmanager'] ?? '', /^0\.25\.\d+$/);
    assert.match(versions['prometheus-pushgateway'] ?? '', /^1\.5\.\d+$/);
  });
});

describe("a release fetched from Debian's archive by install-deps (`promha setup --release`: real apt-get and dpkg-deb)", () => {
  for (const name of ['trixie', 'sid'] as const)
    it(`${name}: every binary extracted into the cache and recorded with the version it prints; up takes them and refuses the host's Debian 12 ones`, async () => {
      // No download here: the fetch ran in the install step, which also checks the host's dpkg status is unchanged.
      const fetched = await readFetchedRelease(name);
      assert.ok(fetched, `no ${name} release in promha's cache: run \`bash scripts/install-deps.sh\``);
      for (const component of Object.keys(RELEASES[name].components) as Component[]) {
        const bin: { path: string; version: string } = fetched.binaries[component];
        assert.ok(bin.path.startsWith(releaseCacheRoot()), `${component} lives in the cache`);
        const version = await binaryVersion(bin.path);
        assert.equal(version, bin.version);
        assert.equal(versionProblem(RELEASES[name], component, version ?? ''), undefined, `${component} ${version} can be ${name}'s`);
      }
      const chosen = await chooseRelease(name);
      assert.deepEqual(chosen.versions, fetchedVersions(fetched), 'the release is judged by the versions fetched');
      const needed = ['prometheus', 'prometheus-alertmanager', 'prometheus-pushgateway'] as const;
      const bins = findBinaries(needed, {}, {}, fetched);
      assert.equal(bins.prometheus, fetched.binaries.prometheus.path);
      assert.deepEqual(await checkReleaseVersions(bins, chosen), {
        prometheus: fetched.binaries.prometheus.version,
        'prometheus-alertmanager': fetched.binaries.alertmanager.version,
        'prometheus-pushgateway': fetched.binaries.pushgateway.version,
      });
      await assert.rejects(checkReleaseVersions(findBinaries(needed, {}, {}), chosen), (e: Error) => {
        assert.match(e.message, new RegExp(`prometheus: /usr/bin/prometheus: 2\\.42\\.\\d+ is older than ${name} ships \\(${RELEASES[name].components.prometheus.version.replace('.', '\\.')}\\)`));
        assert.match(e.message, new RegExp(`fix: run \`promha setup --release ${name}\``));
        return true;
      });
    });
});

describe('versions by capability: a newer upstream build needs no table edit', () => {
  it('judges each capability by the version that introduced it', () => {
    const table: Array<[versions: Parameters<typeof capabilitiesOf>[0], want: Partial<Record<string, boolean | string>>]> = [
      [{ prometheus: '2.42.0', alertmanager: '0.25.0', pushgateway: '1.5.1' }, { clusterLabel: false, clusterPeerName: false, redactsSecrets: false, trackTimestampsStaleness: false, promql: '2.42' }],
      [{ prometheus: '2.48.0', alertmanager: '0.26.0', pushgateway: '1.5.1' }, { clusterLabel: true, redactsSecrets: false, trackTimestampsStaleness: true, promql: '2.42' }],
      [{ prometheus: '2.53.3', alertmanager: '0.28.1', pushgateway: '1.11.0' }, { clusterLabel: true, clusterPeerName: false, redactsSecrets: true, promql: '2.53' }],
      [{ prometheus: '3.14.0', alertmanager: '0.34.0', pushgateway: '1.12.0' }, { clusterPeerName: true, dispatchStartDelay: true, promql: '3.5' }],
    ];
    for (const [versions, want] of table) {
      const c = capabilitiesOf(versions);
      for (const [k, v] of Object.entries(want)) assert.equal(k === 'promql' ? c.promql.version : c[k as keyof typeof c], v, `${JSON.stringify(versions)} ${k}`);
    }
  });

  it("the table's releases are what their versions say", () => {
    for (const name of RELEASE_NAMES) {
      const { name: _n, title: _t, components: _c, versions, images: _i, ...flags } = RELEASES[name];
      assert.deepEqual(flags, capabilitiesOf(versions), name);
    }
  });

  it('compares versions by number, never as text', () => {
    assert.ok(atLeast('3.14.0', '3.5'));
    assert.ok(atLeast('0.34.0', '0.30'));
    assert.ok(!atLeast('0.9.0', '0.30'));
    assert.ok(!atLeast('2.9.1', '2.42'));
    assert.equal(versionProblem(RELEASES.sid, 'prometheus', '3.14.0'), undefined);
    assert.equal(versionProblem(RELEASES.sid, 'prometheus', '3.4.9'), '3.4.9 is older than sid ships (3.5)');
    assert.equal(versionProblem(RELEASES.bookworm, 'alertmanager', '0.24.0'), '0.24.0 is older than bookworm ships (0.25)');
  });

  it('notes what it assumed of a version newer than it measured, and the known HA defects of a version', () => {
    assert.deepEqual(versionNotes({ prometheus: '3.14.0', alertmanager: '0.34.0', pushgateway: '1.11.2' }), [
      'prometheus 3.14.0 is newer than any promha has measured (3.5): its capabilities are taken from its version, and it is assumed to behave as 3.5 otherwise',
      'alertmanager 0.34.0 is newer than any promha has measured (0.33): its capabilities are taken from its version, and it is assumed to behave as 0.33 otherwise',
    ]);
    const notes = versionNotes(RELEASES.sid.versions);
    assert.equal(notes.length, 1);
    assert.match(notes[0] ?? '', /^prometheus 3\.5: one send queue serves every Alertmanager.*fixed in 3\.10 \(https:\/\/github\.com\/prometheus\/prometheus\/issues\/7676\)$/);
  });

  it("a fake 3.14.0 / 0.34.0 (wrappers around sid's binaries) through `setup --from`, check and the real tools, without a table edit", { timeout: 120_000 }, async () => {
    const sid = await readFetchedRelease('sid');
    assert.ok(sid, "no sid release in promha's cache: run `bash scripts/install-deps.sh`");
    const dir = await mkdtemp(path.join(os.tmpdir(), 'promha-newer-'));
    const cache = path.join(dir, 'cache');
    const bin = path.join(dir, 'bin');
    await mkdir(bin);
    const wrap = async (name: string, real: string, says: string) =>
      writeFile(path.join(bin, name), `#!/bin/sh\nif [ "$1" = --version ]; then echo '${says}'; exit 0; fi\nexec '${real}' "$@"\n`, { mode: 0o755 });
    await wrap('prometheus', sid.binaries.prometheus.path, 'prometheus, version 3.14.0 (branch: HEAD, revision: x)');
    await wrap('promtool', sid.binaries.promtool.path, 'promtool, version 3.14.0 (branch: HEAD, revision: x)');
    await wrap('alertmanager', sid.binaries.alertmanager.path, 'alertmanager, version 0.34.0 (branch: HEAD, revision: x)');
    await wrap('amtool', sid.binaries.amtool.path, 'amtool, version 0.34.0 (branch: HEAD, revision: x)');
    await wrap('pushgateway', sid.binaries.pushgateway.path, 'pushgateway, version 1.11.2 (branch: HEAD, revision: x)');
    const project = await tempProject({ 'promha.yaml': seedTopology('promha.schema.json') });
    const previous = process.env['PROMHA_CACHE'];
    process.env['PROMHA_CACHE'] = cache;
    try {
      const printed: string[] = [];
      await runSetup((line) => printed.push(line), 'sid', bin);
      assert.match(printed.join('\n'), /note: prometheus 3\.14\.0 is newer than any promha has measured \(3\.5\)/);
      assert.doesNotMatch(printed.join('\n'), /send queue/, '3.14 has the send-queue fix');
      const chosen = await chooseRelease('sid');
      assert.deepEqual(chosen.versions, { prometheus: '3.14.0', alertmanager: '0.34.0', pushgateway: '1.11.2' });
      assert.equal(chosen.components.prometheus.version, '3.14');
      assert.equal(chosen.images.prometheus, 'v3.14.0');
      assert.equal(chosen.clusterPeerName, true);
      // check runs the wrapped amtool and promtool on what render writes (PH1101): no finding, the assumption noted.
      const r = await inProcess(['check', '--release', 'sid', '--json'], project.dir);
      assert.equal(r.exitCode, 0, r.stdout + r.stderr);
      const report = JSON.parse(r.stdout) as CheckReport;
      assert.deepEqual(report.findings, []);
      assert.deepEqual(report.versions, chosen.versions);
      assert.equal(report.notes.length, 2);
      // up's version gate takes them, and the release it plans for is theirs.
      const bins = findBinaries(['prometheus', 'prometheus-alertmanager', 'prometheus-pushgateway'], {}, {}, (await readFetchedRelease('sid')) ?? undefined);
      const versions = await checkReleaseVersions(bins, chosen);
      assert.deepEqual(versions, { prometheus: '3.14.0', 'prometheus-alertmanager': '0.34.0', 'prometheus-pushgateway': '1.11.2' });
      assert.deepEqual(releaseRunning(RELEASES.sid, versions).versions, chosen.versions);
    } finally {
      if (previous === undefined) delete process.env['PROMHA_CACHE'];
      else process.env['PROMHA_CACHE'] = previous;
      await project.cleanup();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('setup --from refuses a directory whose binaries cannot be the release, naming each, and records nothing', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'promha-older-'));
    try {
      await writeFile(path.join(dir, 'prometheus'), "#!/bin/sh\necho 'prometheus, version 2.42.0 (branch: x)'\n", { mode: 0o755 });
      await assert.rejects(recordRelease(RELEASES.sid, dir, { cacheRoot: path.join(dir, 'cache') }), (e: Error) => {
        assert.match(e.message, /cannot be sid's/);
        assert.match(e.message, /prometheus: .*: 2\.42\.0 is older than sid ships \(3\.5\)/);
        assert.match(e.message, /amtool: no executable amtool in /);
        return true;
      });
      assert.equal(await readFetchedRelease('sid', path.join(dir, 'cache')), undefined);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("install.sh's version gate on a host: the rendered version or a newer minor of its major", () => {
  it('takes 3.5 and 3.14 for a bundle rendered for 3.5, refuses 3.4, 2.42, 4.0 and a binary that prints no version', { timeout: 120_000 }, async () => {
    const project = await tempProject({ 'promha.yaml': seedTopology('promha.schema.json') });
    try {
      const r = await inProcess(['render', '--target', 'hosts', '--out', 'out', '--release', 'sid'], project.dir);
      assert.equal(r.exitCode, 0, r.stderr);
      const script = await readFile(path.join(project.dir, 'out', 'scraper1-1', 'install.sh'), 'utf8');
      const fn = /^need_version\(\) \{\n[\s\S]*?\n\}$/m.exec(script)?.[0];
      assert.ok(fn, 'install.sh defines need_version');
      assert.match(script, new RegExp(`need_version /usr/bin/prometheus ${RELEASES.sid.components.prometheus.version.replace('.', '\\.')}$`, 'm'));
      const gate = async (prints: string) => {
        const fake = path.join(project.dir, 'prometheus');
        await writeFile(fake, `#!/bin/sh\necho '${prints}'\n`, { mode: 0o755 });
        return execa('bash', ['-c', `${fn}\nneed_version "$1" 3.5`, 'bash', fake], { reject: false, timeout: 30_000 });
      };
      for (const ok of ['prometheus, version 3.5.3+ds1 (branch: x)', 'prometheus, version 3.14.0 (branch: HEAD)']) assert.equal((await gate(ok)).exitCode, 0, ok);
      for (const refused of ['prometheus, version 3.4.2 (branch: x)', 'prometheus, version 2.42.0+ds (branch: x)', 'prometheus, version 4.0.0 (branch: x)', 'no version here']) {
        const g = await gate(refused);
        assert.equal(g.exitCode, 1, refused);
        assert.match(g.stderr, /this bundle is for sid .*, which runs .*prometheus 3\.5 or a newer 3\.x; this host has/);
      }
    } finally {
      await project.cleanup();
    }
  });
});

describe('a broken release manifest', () => {
  it('is exit 2 naming the file and the fix, and `setup --from` writes it anew', async () => {
    const sid = await readFetchedRelease('sid');
    assert.ok(sid, "no sid release in promha's cache: run `bash scripts/install-deps.sh`");
    const dir = await mkdtemp(path.join(os.tmpdir(), 'promha-manifest-'));
    const previous = process.env['PROMHA_CACHE'];
    process.env['PROMHA_CACHE'] = dir;
    try {
      await mkdir(path.join(dir, 'releases', 'sid'), { recursive: true });
      await writeFile(path.join(dir, 'releases', 'sid', 'release.json'), '{"binaries": 5}');
      await assert.rejects(chooseRelease('sid'), (e: Error & { code?: number }) => {
        assert.equal(e.code, 2);
        assert.match(e.message, /releases\/sid\/release\.json is not a release manifest promha wrote\n {4}fix: `promha setup --release sid` writes it anew/);
        return true;
      });
      await runSetup(() => undefined, 'sid', path.dirname(sid.binaries.prometheus.path));
      assert.deepEqual((await chooseRelease('sid')).versions, fetchedVersions(sid));
    } finally {
      if (previous === undefined) delete process.env['PROMHA_CACHE'];
      else process.env['PROMHA_CACHE'] = previous;
      await rm(dir, { recursive: true, force: true });
    }
  });
});
