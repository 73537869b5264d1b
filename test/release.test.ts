import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { checkReleaseVersions, findBinaries } from '../src/runtime/binaries.ts';
import { chooseRelease } from '../src/release/choose.ts';
import { hostCodename } from '../src/release/choose.ts';
import { binaryVersion, fetchRelease, readFetchedRelease, type FetchedRelease } from '../src/release/fetch.ts';
import { runSetup } from '../src/commands/setup.ts';
import { parseVersionOutput, RELEASE_NAMES, RELEASES, releaseOfVersion, releasePackages, versionMatches } from '../src/release/release.ts';

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

describe('fetching a release from Debian\'s archive (real apt-get and dpkg-deb)', () => {
  for (const name of ['trixie', 'sid'] as const) {
    it(`${name}: downloads, extracts and checks every binary, without touching the host's apt state`, { timeout: 300_000 }, async () => {
      const cacheRoot = await mkdtemp(path.join(os.tmpdir(), 'promha-cache-'));
      const hostStatus = await readFile('/var/lib/dpkg/status', 'utf8');
      try {
        let fetched: FetchedRelease;
        if (name === 'sid') {
          // Through `promha setup --release sid`, as a user runs it: the cache comes from PROMHA_CACHE.
          const printed: string[] = [];
          process.env['PROMHA_CACHE'] = cacheRoot;
          try {
            await runSetup((line) => printed.push(line), 'sid');
          } finally {
            delete process.env['PROMHA_CACHE'];
          }
          const read = await readFetchedRelease(name, path.join(cacheRoot, 'releases'));
          assert.ok(read, 'setup leaves a manifest in the cache');
          fetched = read;
          assert.match(printed.join('\n'), new RegExp(`sid binaries in ${fetched.root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}; \`promha up --release sid\` runs them`));
        } else fetched = await fetchRelease(RELEASES[name], { cacheRoot });
        for (const [component, info] of Object.entries(RELEASES[name].components)) {
          const bin = fetched.binaries[component as keyof typeof fetched.binaries];
          assert.ok(bin.path.startsWith(cacheRoot), `${component} lives in the cache`);
          const version = await binaryVersion(bin.path);
          assert.equal(version, bin.version);
          assert.ok(versionMatches(version ?? '', info.version), `${component} ${version} is of ${info.version}`);
        }
        assert.deepEqual(await readFetchedRelease(name, name === 'sid' ? path.join(cacheRoot, 'releases') : cacheRoot), fetched);
        // up's choice: the fetched binaries pass the release's version check, the host's Debian 12 ones do not.
        const needed = ['prometheus', 'prometheus-alertmanager', 'prometheus-pushgateway'] as const;
        const bins = findBinaries(needed, {}, {}, fetched);
        assert.equal(bins.prometheus, fetched.binaries.prometheus.path);
        assert.deepEqual(await checkReleaseVersions(bins, RELEASES[name]), {
          prometheus: fetched.binaries.prometheus.version,
          'prometheus-alertmanager': fetched.binaries.alertmanager.version,
          'prometheus-pushgateway': fetched.binaries.pushgateway.version,
        });
        await assert.rejects(checkReleaseVersions(findBinaries(needed, {}, {}), RELEASES[name]), (e: Error) => {
          assert.match(e.message, new RegExp(`prometheus: /usr/bin/prometheus is 2\\.42\\.\\d+, ${name} needs ${RELEASES[name].components.prometheus.version.replace('.', '\\.')}\\.x`));
          assert.match(e.message, new RegExp(`fix: run \`promha setup --release ${name}\``));
          return true;
        });
        assert.equal(await readFile('/var/lib/dpkg/status', 'utf8'), hostStatus, 'the host package database is unchanged');
      } finally {
        await rm(cacheRoot, { recursive: true, force: true });
      }
    });
  }
});
