import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { countNotifications, type NotificationRecord } from '../src/demo/notifications.ts';
import { execStartOf } from '../src/render/systemd.ts';
import { FAST_RULES, fastSeed, fastTopology, promha, tempProject, until, selectedStacks, stackSkip, laneUpArgs } from './helpers.ts';
import { RELEASE_NAMES, RELEASES, type ReleaseName } from '../src/release/release.ts';

/*
 * End to end, with the real binaries and 1 s intervals that still satisfy DESIGN §3.7
 * (peer timeout 3 s, group interval 10 s): a fault reaches the receiver exactly once.
 */

interface StatusJson {
  mode: string;
  members: Array<{ name: string; role: string; state: string; localAddress: string; topologyAddress: string; holdsVip?: boolean }>;
}

async function notifications(webhookUrl: string): Promise<NotificationRecord[]> {
  const r = await fetch(webhookUrl);
  return (await r.json()) as NotificationRecord[];
}

/** Every live process that `up` started for this state directory (they carry PROMHA_STATE in their environment). */
const ourProcesses = async (stateDir: string) => {
  const mine: string[] = [];
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    const env = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    if (env.split('\0').includes(`PROMHA_STATE=${path.resolve(stateDir)}`) && !/^\d+ \(.*\) Z/.test(stat))
      mine.push(`${pid} ${(await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replace(/\0/g, ' ')}`);
  }
  return mine;
};

/** Every release on loopback; the network namespaces on Debian 12. */
const STACKS: ReadonlyArray<{ mode: 'loopback' | 'netns'; release: ReleaseName }> = [
  ...RELEASE_NAMES.map((release) => ({ mode: 'loopback' as const, release })),
  { mode: 'netns', release: 'bookworm' },
];

for (const { mode, release } of selectedStacks(STACKS)) {
  describe(`promha up --network ${mode} --release ${release}`, { skip: stackSkip(mode) }, () => {
    let project: Awaited<ReturnType<typeof tempProject>>;
    let stateDir: string;
    let status: StatusJson;
    let webhookUrl: string;

    before(async () => {
      project = await tempProject({ 'promha.yaml': fastSeed(), 'rules/demo.yml': FAST_RULES });
      stateDir = path.join(project.dir, '.promha');
      const r = await promha(['up', '--network', mode, '--detach', '--release', release, '--state-dir', stateDir, ...laneUpArgs(mode)], project.dir);
      assert.equal(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, new RegExp(`ready in \\d+\\.\\d s: ${release}, prometheus ${RELEASES[release].components.prometheus.version.replace('.', '\\.')}\\.\\d+`));
      const s = await promha(['status', '--json', '--state-dir', stateDir], project.dir);
      status = JSON.parse(s.stdout) as StatusJson;
      const webhook = status.members.find((m) => m.name === 'webhook');
      assert.ok(webhook);
      webhookUrl = `http://${webhook.localAddress}/notifications`;
    });

    after(async () => {
      const r = await promha(['down', '--state-dir', stateDir], project.dir);
      assert.equal(r.exitCode, 0, r.stderr);
      assert.deepEqual(await ourProcesses(stateDir), [], 'no process may outlive `promha down`');
      // Only the netns lane makes namespaces; a loopback stack's test must not see the other lane's.
      if (mode === 'netns') {
        const ns = await execa('ip', ['netns', 'list'], { reject: false });
        assert.equal(ns.stdout.split('\n').filter((l) => l.startsWith('promha-')).length, 0, 'no namespace may outlive `promha down`');
        // Gone at once, not when the kernel frees the namespaces: the next `up` reuses the names.
        const veths = await execa('ip', ['-o', 'link', 'show', 'type', 'veth'], { reject: false });
        assert.deepEqual(veths.stdout.split('\n').filter((l) => / phv\d+@/.test(l)), [], 'no veth may outlive `promha down`');
      }
      // Federators persist across down and up; scrapers keep nothing.
      assert.ok((await readdir(path.join(stateDir, 'data', 'federator1-1'))).includes('wal'), 'federator data survives down');
      await assert.rejects(readdir(path.join(stateDir, 'data', 'scraper1-1')), 'scraper data is thrown away');
      await project.cleanup();
    });

    it("brings every member of the seed's topology up, each with a local and a topology address", () => {
      const members = status.members.filter((m) => m.role !== 'demo');
      // 8 scrapers, 4 pushgateways, 3 Alertmanagers, 2 federators; loopback adds 2 HAProxy VIPs.
      assert.equal(members.length, mode === 'loopback' ? 19 : 17);
      for (const m of members) assert.equal(m.state, 'ready', `${m.name}: ${m.state}`);
      const scraper = members.find((m) => m.name === 'scraper4-2');
      assert.equal(scraper?.topologyAddress, '198.51.100.42:9090');
      assert.match(scraper?.localAddress ?? '', mode === 'netns' ? /^10\.213\.0\.\d+:9090$/ : /^127\.0\.0\.\d+:9090$/);
      if (mode === 'netns')
        for (const set of ['pushgateway1', 'pushgateway2'])
          assert.equal(members.filter((m) => m.name.startsWith(`${set}-`) && m.holdsVip).length, 1, `exactly one gateway of ${set} holds its VIP`);
      assert.equal(members.find((m) => m.name === 'alertmanager1-3')?.role, 'alertmanager (backup)');
    });

    it('runs every member from its host bundle: the ExecStart of its units and the config files beside them', async () => {
      const state = JSON.parse(await readFile(path.join(stateDir, 'state.json'), 'utf8')) as {
        nodes: Array<{ name: string; role: string; processes: Array<{ name: string; pid: number }> }>;
      };
      let checked = 0;
      for (const n of state.nodes.filter((x) => x.role !== 'demo'))
        for (const p of n.processes) {
          const proc = p.name.slice(n.name.length + 1);
          const unit = await readFile(path.join(stateDir, 'nodes', n.name, 'systemd', `promha-${n.name}-${proc}.service`), 'utf8');
          const argv = (await readFile(`/proc/${p.pid}/cmdline`, 'utf8')).split('\0').slice(0, -1);
          assert.deepEqual(argv.slice(1), execStartOf(unit)?.slice(1), `${p.name} runs the ExecStart of its unit`);
          const config = argv.find((a) => /^--(config\.file|use-file)=/.test(a)) ?? argv[argv.indexOf('-f') + 1];
          if (proc !== 'pushgateway') assert.ok(config?.includes(path.join(stateDir, 'nodes', n.name, '')), `${p.name} reads ${config} from its bundle`);
          checked++;
        }
      // netns: 17 members, and keepalived beside each of the 4 gateways; loopback: 2 HAProxy VIPs instead.
      assert.equal(checked, 19 + (mode === 'netns' ? 2 : 0));
    });

    it('shows status, logs and refuses a second up', async () => {
      const s = await promha(['status', '--state-dir', stateDir], project.dir);
      assert.equal(s.exitCode, 0, s.stderr);
      assert.match(s.stdout, new RegExp(`MEMBER\\s+ROLE\\s+TOPOLOGY ADDRESS\\s+LOCAL ADDRESS.*VERSION \\(${release}\\)`));
      // The version each server printed at start, on its own row.
      const v = (c: 'prometheus' | 'alertmanager' | 'pushgateway') => RELEASES[release].components[c].version.replace('.', '\\.');
      assert.match(s.stdout, new RegExp(`^federator1-2 +federator .* ${v('prometheus')}\\.\\d+$`, 'm'));
      assert.match(s.stdout, new RegExp(`^alertmanager1-3 +alertmanager \\(backup\\) .* ${v('alertmanager')}\\.\\d+$`, 'm'));
      assert.match(s.stdout, new RegExp(`^pushgateway1-1\\b.* ${v('pushgateway')}\\.\\d+$`, 'm'));
      assert.match(s.stdout, /total: \d+ MiB resident \(components \d+ MiB, demo workload \d+ MiB\)/);
      // Every exporter, pusher and the webhook: one process, each still at its own address.
      const state = JSON.parse(await readFile(path.join(stateDir, 'state.json'), 'utf8')) as { nodes: Array<{ name: string; set: string; role: string; localAddress: string; servedBy?: string; processes: unknown[] }> };
      const served = state.nodes.filter((n) => n.servedBy === 'demo-workload');
      assert.deepEqual(served.map((n) => n.set).sort(), ['exporter', 'exporter', 'exporter', 'exporter', 'pusher', 'pusher', 'webhook']);
      assert.equal(new Set(served.map((n) => n.localAddress)).size, served.length);
      assert.ok(served.every((n) => n.processes.length === 0));
      assert.equal(state.nodes.filter((n) => n.role === 'demo' && n.set !== 'dashboard').flatMap((n) => n.processes).length, 1);
      for (const n of served) assert.match(s.stdout, new RegExp(`^${n.name} +demo .* ready `, 'm'));
      const logs = await promha(['logs', 'federator1-2', '--state-dir', stateDir], project.dir);
      assert.equal(logs.exitCode, 0);
      assert.match(logs.stdout, /Server is ready to receive web requests/);
      const unknown = await promha(['logs', 'scraper9-9', '--state-dir', stateDir], project.dir);
      assert.equal(unknown.exitCode, 1);
      assert.match(unknown.stderr, /no logs for "scraper9-9"; members: .*scraper1-1/);
      const again = await promha(['up', '--network', mode, '--detach', '--state-dir', stateDir, ...laneUpArgs(mode)], project.dir);
      assert.equal(again.exitCode, 2);
      assert.match(again.stderr, /already running/);
    });

    it('delivers the watchdog', async () => {
      await until('watchdog', async () => ((countNotifications(await notifications(webhookUrl), { alertname: 'PromhaWatchdog', status: 'firing' }) > 0) ? true : undefined));
    });

    it('delivers an exporter fault exactly once, without replica labels', async () => {
      const f = await promha(['fault', 'exporter', 'exporters3', 'value', '5', '--state-dir', stateDir], project.dir);
      assert.equal(f.exitCode, 0, f.stderr);
      const filter = { alertname: 'PromhaDemoValueHigh', status: 'firing' as const, labels: { group: 'exporters3' } };
      await until('the firing notification', async () => ((countNotifications(await notifications(webhookUrl), filter) > 0) ? true : undefined));
      // Longer than a group interval (10 s) plus every member's wait (2 × 3 s): a duplicate would show.
      await sleep(18_000);
      const records = await notifications(webhookUrl);
      assert.equal(countNotifications(records, filter), 1);
      for (const r of records)
        for (const a of r.payload.alerts) {
          assert.ok(!('scraper_replica' in a.labels), JSON.stringify(a.labels));
          assert.ok(!('federator_replica' in a.labels), JSON.stringify(a.labels));
        }
    });

    it('delivers an alert on a pushed metric exactly once', async () => {
      const f = await promha(['fault', 'pusher', 'pushgateway2', 'value', '1', '--state-dir', stateDir], project.dir);
      assert.equal(f.exitCode, 0, f.stderr);
      const filter = { alertname: 'PromhaDemoPushedValueHigh', status: 'firing' as const, labels: { job: 'batch-report' } };
      await until('the pushed-metric notification', async () => ((countNotifications(await notifications(webhookUrl), filter) > 0) ? true : undefined));
      await sleep(18_000);
      assert.equal(countNotifications(await notifications(webhookUrl), filter), 1);
    });
  });
}

describe('promha up: failures on start roll back', { skip: stackSkip('loopback') }, () => {
  it('refuses a port in use, names the member, and leaves nothing behind', async () => {
    const project = await tempProject({ 'promha.yaml': fastTopology(), 'rules/demo.yml': FAST_RULES });
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(9090, '127.0.0.18', resolve));
    try {
      // Loopback addresses follow start order from .11: 4 scrapers, 2 gateways, the VIP, then federator1-1.
      const stateDir = path.join(project.dir, '.promha');
      const r = await promha(['up', '--network', 'loopback', '--detach', '--state-dir', stateDir], project.dir);
      assert.equal(r.exitCode, 2);
      assert.match(r.stderr, /127\.0\.0\.18:9090 \(federator1-1\) is not free: the port is in use/);
      assert.doesNotMatch(r.stderr, /^\s+at /m);
      assert.deepEqual(await ourProcesses(stateDir), []);
    } finally {
      blocker.close();
      await project.cleanup();
    }
  });

  it('reports a missing binary with the fix', async () => {
    const project = await tempProject({ 'promha.yaml': fastTopology(), 'rules/demo.yml': FAST_RULES });
    try {
      const r = await promha(['up', '--network', 'loopback', '--detach', '--bin', 'prometheus=/nonexistent/prometheus', '--state-dir', '.promha'], project.dir);
      assert.equal(r.exitCode, 2);
      assert.match(r.stderr, /prometheus: "\/nonexistent\/prometheus" is not an executable file/);
    } finally {
      await project.cleanup();
    }
  });

  it('refuses binaries of another release than the one asked for, before starting anything', async () => {
    const project = await tempProject({ 'promha.yaml': fastTopology(), 'rules/demo.yml': FAST_RULES });
    const stateDir = path.join(project.dir, '.promha');
    try {
      // This machine's Debian 12 binaries, named explicitly, are not sid's.
      const r = await promha(['up', '--network', 'loopback', '--detach', '--release', 'sid', '--bin', 'prometheus=/usr/bin/prometheus', '--state-dir', stateDir], project.dir);
      assert.equal(r.exitCode, 2, r.stdout + r.stderr);
      assert.match(r.stderr, /binaries of another release than sid/);
      assert.match(r.stderr, /prometheus: \/usr\/bin\/prometheus: 2\.42\.\d+ is older than sid ships \(3\.5\)/);
      assert.match(r.stderr, /fix: run `promha setup --release sid`/);
      assert.deepEqual(await ourProcesses(stateDir), []);
    } finally {
      await project.cleanup();
    }
  });

  it('stops everything already started when a member exits during start', async () => {
    const project = await tempProject({ 'promha.yaml': fastTopology(), 'rules/demo.yml': FAST_RULES });
    const stateDir = path.join(project.dir, '.promha');
    try {
      // Alertmanager starts with the scrapers, gateways, the VIP and the demo workload: all of them must be stopped.
      // It passes the release's version check, then exits at once.
      const dying = path.join(project.dir, 'dying-alertmanager');
      await writeFile(dying, '#!/bin/sh\n[ "$1" = --version ] && echo "alertmanager, version 0.25.0" && exit 0\nexit 1\n', { mode: 0o755 });
      const r = await promha(['up', '--network', 'loopback', '--detach', '--bin', `prometheus-alertmanager=${dying}`, '--state-dir', stateDir], project.dir);
      assert.equal(r.exitCode, 1, r.stdout + r.stderr);
      assert.match(r.stderr, /alertmanager1-1\/alertmanager exited during start/);
      assert.match(r.stdout, /start failed: stopping everything already started/);
      // They had started: each left its log.
      const logs = await readdir(path.join(stateDir, 'logs'));
      for (const member of ['scraper1-1.prometheus', 'scraper2-2.prometheus', 'pushgateway1-2.pushgateway', 'demo-workload.workload'])
        assert.ok(logs.includes(`${member}.log`), `${member} started: ${logs.join(', ')}`);
      assert.deepEqual(await ourProcesses(stateDir), []);
      const s = await promha(['status', '--state-dir', stateDir], project.dir);
      assert.equal(s.exitCode, 1);
      assert.match(s.stderr, /nothing is running/);
    } finally {
      await project.cleanup();
    }
  });
});

describe('promha up in the foreground', { skip: stackSkip('loopback') }, () => {
  it('stops everything cleanly on Ctrl-C (SIGINT)', async () => {
    const project = await tempProject({ 'promha.yaml': fastTopology(), 'rules/demo.yml': FAST_RULES });
    const stateDir = path.join(project.dir, '.promha');
    try {
      const child = execa('node', [path.resolve(import.meta.dirname, '../bin/promha.js'), 'up', '--network', 'loopback', '--state-dir', stateDir], {
        cwd: project.dir,
        reject: false,
        env: { NO_COLOR: '1' },
      });
      let output = '';
      child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
      try {
        await until('the foreground notice', async () => (output.includes('Ctrl-C stops everything') ? true : undefined), 90_000);
        // 12 member processes, the one demo workload process and the dashboard; the HAProxy master forks one worker.
        // Polled: the worker and the dashboard may come a moment after the notice.
        await until('the 15 processes of the stack, running while promha waits', async () => ((await ourProcesses(stateDir)).length === 15 ? true : undefined), 30_000).catch(
          async (e: Error) => assert.fail(`${e.message}; running:\n${(await ourProcesses(stateDir)).join('\n')}`),
        );
        assert.equal(child.exitCode, null, 'promha keeps running in the foreground');
      } finally {
        // Also on failure: Ctrl-C is the way this test stops what it started.
        child.kill('SIGINT');
      }
      const r = await child;
      assert.equal(r.exitCode, 0, r.stderr);
      assert.match(r.stdout, /stopped 14 processes/);
      assert.deepEqual(await ourProcesses(stateDir), []);
    } finally {
      await project.cleanup();
    }
  });
});

describe('promha up --network netns: address range', { skip: stackSkip('netns') }, () => {
  it('refuses a subnet that overlaps an existing route', async () => {
    // The route to collide with is the test's own, so the premise holds on any machine: in a
    // table no rule consults, it changes no routing here, yet promha reads every table.
    const route = ['198.18.213.0/24', 'dev', 'lo', 'table', '17213'];
    const made = await execa('ip', ['route', 'replace', ...route], { reject: false });
    assert.equal(made.exitCode, 0, `ip route replace ${route.join(' ')}: ${made.stderr}`);
    const project = await tempProject({ 'promha.yaml': fastTopology(), 'rules/demo.yml': FAST_RULES });
    try {
      // Half of the route's range: an overlap, not only the same subnet.
      const r = await promha(['up', '--network', 'netns', '--detach', '--subnet', '198.18.213.128/25', '--state-dir', '.promha', ...laneUpArgs('netns')], project.dir);
      assert.equal(r.exitCode, 2, r.stdout + r.stderr);
      assert.match(r.stderr, /the subnet 198\.18\.213\.128\/25 overlaps the existing route "198\.18\.213\.0\/24 dev lo table 17213/);
      const ns = await execa('ip', ['netns', 'list']);
      assert.ok(!ns.stdout.includes('promha-'));
    } finally {
      await execa('ip', ['route', 'delete', ...route], { reject: false });
      await project.cleanup();
    }
  });
});

describe('promha up --network netns: what is in the way', { skip: stackSkip('netns') }, () => {
  it("refuses a namespace someone else left with the member's name, rolls back, and leaves that namespace alone", async () => {
    const project = await tempProject({ 'promha.yaml': fastTopology(), 'rules/demo.yml': FAST_RULES });
    const theirs = 'promha-scraper1-2';
    await execa('ip', ['netns', 'add', theirs]);
    try {
      const r = await promha(['up', '--network', 'netns', '--detach', '--state-dir', '.promha', ...laneUpArgs('netns')], project.dir);
      assert.equal(r.exitCode, 1, r.stdout + r.stderr);
      assert.match(r.stderr, /`ip netns add promha-scraper1-2` failed: .*File exists\n\s+fix: `ip link` and `ip netns list` show what is in the way/);
      assert.doesNotMatch(r.stderr, /unexpected error/);
      const left = (await execa('ip', ['netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0]).filter((n) => n?.startsWith('promha-'));
      assert.deepEqual(left, [theirs], 'the rollback removed what promha made, and only that');
      assert.equal((await execa('ip', ['link', 'show', 'promha0'], { reject: false })).exitCode, 1, 'the bridge is gone');
    } finally {
      await execa('ip', ['netns', 'delete', theirs], { reject: false });
      await project.cleanup();
    }
  });
});

describe('promha setup', { skip: stackSkip('loopback') }, () => {
  it('finds every Debian package of the real components installed', async () => {
    const r = await promha(['setup'], process.cwd());
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /every package is installed/);
  });
});
