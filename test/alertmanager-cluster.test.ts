import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { execa, type ResultPromise } from 'execa';
import { stringify } from 'yaml';
import { planAlertmanagers } from '../src/plan/alertmanager.ts';
import type { NodeSpec } from '../src/plan/node-spec.ts';
import { AlertmanagerClient, ownPeerPosition, parsePeerPosition } from '../src/probe/alertmanager.ts';
import { RELEASES, type ReleaseName } from '../src/release/release.ts';
import { parseTopology } from '../src/topology/load.ts';
import { startWebhook, type DemoServer } from '../src/demo/webhook.ts';
import { fastTopology, releaseBinary, tempProject, until } from './helpers.ts';

/*
 * The Alertmanager flags a release adds, proven on its real binaries with the command
 * lines promha plans: --cluster.label keeps two clusters apart even when one names a
 * member of the other as its peer, --cluster.peer-name keeps the backup at the last
 * position however often the active members restart, and --dispatch.start-delay keeps a
 * restarted member from sending a stale first flush.
 */

/** A cluster of three (two active members and the backup) on its own loopback addresses. */
function cluster(name: string, base: number, release: ReleaseName, dir: string, o: { webhook?: string; groupInterval?: string; peerTimeout?: string } = {}): NodeSpec[] {
  const at = (i: number) => `127.0.3.${base + i}:9093`;
  const spec = fastTopology({
    alertmanagers: {
      name,
      members: [1, 2].map((i) => ({ name: `${name}-${i}`, address: at(i) })),
      backup: { name: `${name}-3`, address: at(3) },
      ...(o.peerTimeout ? { peer_timeout: o.peerTimeout } : {}),
      route: { receiver: 'webhook', group_by: ['alertname'], group_wait: '1s', group_interval: o.groupInterval ?? '10s', repeat_interval: '1h' },
      receivers: [{ name: 'webhook', webhook_configs: [{ url: o.webhook ?? 'http://127.0.0.99:5001/' }] }],
    },
  });
  const topology = parseTopology('promha.yaml', stringify(spec));
  const layout = { configDir: (m: string) => path.join(dir, m, 'config'), dataDir: (m: string) => path.join(dir, m, 'data'), runDir: (m: string) => path.join(dir, m, 'run') };
  return planAlertmanagers(topology.spec, layout, RELEASES[release]);
}

class Members {
  private readonly running = new Map<string, ResultPromise>();

  constructor(private readonly binary: string) {}

  async start(node: NodeSpec, args: readonly string[] = node.processes[0]?.args ?? []): Promise<void> {
    await mkdir(node.configDir, { recursive: true });
    if (node.dataDir) await mkdir(node.dataDir, { recursive: true });
    for (const f of node.files) await writeFile(path.join(node.configDir, f.path), f.content);
    const child = execa(this.binary, args, { reject: false, stdio: 'ignore' });
    this.running.set(node.name, child);
    const client = new AlertmanagerClient(`http://${node.address}`);
    // Ready, or the test fails here saying so: what follows judges a running member.
    await Promise.race([
      until(`${node.name} to be ready`, async () => ((await client.ready()) ? true : undefined), 30_000),
      child.then((r) => assert.fail(`${node.name} exited before it was ready: ${r.shortMessage ?? `exit ${r.exitCode}`}`)),
    ]);
  }

  async stop(name: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.running.get(name);
    this.running.delete(name);
    child?.kill(signal);
    await child;
  }

  async stopAll(): Promise<void> {
    for (const name of [...this.running.keys()]) await this.stop(name);
  }
}

const status = (n: NodeSpec) => new AlertmanagerClient(`http://${n.address}`).status();
const peerCount = async (n: NodeSpec) => (await status(n)).cluster.peers.length;

/** Polls until `ok` holds, or the time is up; returns whether it held. */
async function eventually(ok: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await ok().catch(() => false)) return true;
    if (Date.now() > deadline) return false;
    await sleep(250);
  }
}

describe('--cluster.label (Alertmanager 0.26+): two clusters never merge gossip', () => {
  const release = 'trixie';
  let members: Members;
  let project: Awaited<ReturnType<typeof tempProject>>;
  after(async () => {
    await members?.stopAll();
    await project?.cleanup();
  });

  it('a member of another cluster named as a peer stays out with the label, and joins without it', async () => {
    project = await tempProject({});
    members = new Members(await releaseBinary(release, 'alertmanager'));
    const a = cluster('alertmanager1', 0, release, path.join(project.dir, 'a'));
    const b = cluster('alertmanager2', 3, release, path.join(project.dir, 'b'));
    const [a1] = a;
    const [b1] = b;
    assert.ok(a1 && b1);
    const labels = (nodes: NodeSpec[]) => nodes.flatMap((n) => n.processes[0]?.args.filter((x) => x.startsWith('--cluster.label=')) ?? []);
    assert.deepEqual(labels(a), Array(3).fill('--cluster.label=promha-alertmanager1'));
    assert.deepEqual(labels(b), Array(3).fill('--cluster.label=promha-alertmanager2'));
    // The mistake a label guards against: B's first member names a member of A as its peer.
    const astray = [...(b1.processes[0]?.args ?? []), `--cluster.peer=${a1.address.host}:9094`];

    for (const n of a) await members.start(n);
    for (const n of b) await members.start(n, n === b1 ? astray : undefined);
    const counts = () => Promise.all([...a, ...b].map(peerCount));
    assert.ok(await eventually(async () => (await counts()).every((c) => c === 3), 15_000), 'each cluster forms with its three members');
    // Gossip would spread a stray member within seconds: watched for 5 s, failing as soon as one shows, it never does.
    assert.equal(await eventually(async () => (await counts()).some((c) => c !== 3), 5_000), false, 'a member of the other cluster joined');
    assert.deepEqual(await counts(), [3, 3, 3, 3, 3, 3]);

    // Control: the same mistake without labels merges the clusters.
    await members.stopAll();
    const unlabelled = (n: NodeSpec, extra: string[] = []) => [...(n.processes[0]?.args ?? []).filter((x) => !x.startsWith('--cluster.label=')), ...extra];
    for (const n of a) await members.start(n, unlabelled(n));
    for (const n of b) await members.start(n, unlabelled(n, n === b1 ? [`--cluster.peer=${a1.address.host}:9094`] : []));
    assert.ok(await eventually(async () => (await peerCount(a1)) === 6, 20_000), 'without labels the six members merge into one cluster');
  });
});

describe('--cluster.peer-name (Alertmanager 0.30+): the backup stays last', () => {
  const cases: Array<[ReleaseName, boolean]> = [
    ['sid', true],
    // Control: without peer names, positions follow start order, so restarted active members move behind the backup.
    ['trixie', false],
  ];
  let members: Members | undefined;
  let project: Awaited<ReturnType<typeof tempProject>> | undefined;
  after(async () => {
    await members?.stopAll();
    await project?.cleanup();
  });

  for (const [release, holds] of cases)
    it(`${release}: the backup's position ${holds ? 'survives' : 'does not survive'} restarts of both active members`, async () => {
      project = await tempProject({});
      members = new Members(await releaseBinary(release, 'alertmanager'));
      const nodes = cluster('alertmanager1', 10, release, project.dir);
      const [m1, m2, backup] = nodes;
      assert.ok(m1 && m2 && backup?.backup);
      const names = nodes.map((n) => n.processes[0]?.args.find((x) => x.startsWith('--cluster.peer-name='))?.slice('--cluster.peer-name='.length));
      assert.deepEqual(names, holds ? ['1-alertmanager1-1', '2-alertmanager1-2', '3-alertmanager1-3'] : [undefined, undefined, undefined]);

      const backupPosition = async () => {
        const s = await status(backup);
        return s.cluster.peers.length === 3 ? ownPeerPosition(s) : -1;
      };
      // With peer names the backup may start first, the worst order for positions that follow start order; without, it starts last as promha starts it.
      for (const n of holds ? [backup, m1, m2] : [m1, m2, backup]) await members.start(n);
      const first = await eventually(async () => (await backupPosition()) === 2, 15_000);
      assert.ok(first, `backup position ${await backupPosition()} after the first start`);
      for (const n of [m1, m2]) {
        await members.stop(n.name);
        await members.start(n);
      }
      // Settled: the backup sees the three members under the names they now have (the
      // restarted ones' new or kept names), and no other.
      const own = async () => (await Promise.all(nodes.map(status))).map((s) => s.cluster.name ?? '').sort();
      const seen = async () => (await status(backup)).cluster.peers.map((p) => p.name).sort();
      const settled = await eventually(async () => JSON.stringify(await seen()) === JSON.stringify(await own()), 30_000);
      assert.ok(settled, `the backup sees ${(await seen()).join(', ')}; the members are ${(await own()).join(', ')}`);
      const position = await backupPosition();
      assert.equal(position, holds ? 2 : 0, `backup position ${position} after restarts`);
      const reported = parsePeerPosition(await new AlertmanagerClient(`http://${backup.address}`).metrics());
      if (holds) assert.equal(reported, 2, 'the backup itself reports the last position');
      await members.stopAll();
      await project.cleanup();
      project = undefined;
    });
});

describe('a restarted member sends no stale first flush: --dispatch.start-delay (0.30+), else --cluster.settle-timeout', () => {
  // An alert resolved when a member restarts fires again soon after. Alertmanager flushes
  // the first alert of each group at once and sends that snapshot only after its gossip
  // settled (10 s by default) and its position's wait: the resolution, by then stale.
  // On bookworm the restarted member (no peer names) sits behind the backup and waits
  // 2 s after a 2 s settling: an alert that fires again within those 4 s races with any
  // first flush, so there it fires again after 6 s. A bookworm control is no test: its
  // stale flush may also miss its own deadline (max(group_interval, 10 s) + the wait).
  const FLAGS = /^--(dispatch\.start-delay|cluster\.settle-timeout)=/;
  const cases: Array<[title: string, release: ReleaseName, planned: boolean, refireAfterMs: number]> = [
    ['sid, with the start delay promha plans: the restarted member stays quiet', 'sid', true, 2_000],
    ['control, sid without it: the restarted member notifies resolved an alert that fires again', 'sid', false, 2_000],
    ['bookworm, with the settle timeout promha plans: the restarted member flushed before the alert fired again', 'bookworm', true, 6_000],
  ];
  for (const [title, release, planned, refireAfterMs] of cases)
    it(title, async () => {
      const project = await tempProject({});
      const webhook = await startWebhook({ listen: '127.0.3.29:5001', file: path.join(project.dir, 'notifications.jsonl') });
      const members = new Members(await releaseBinary(release, 'alertmanager'));
      let fed = true;
      let feeding: Promise<void> = Promise.resolve();
      try {
        const nodes = cluster('alertmanager1', 20, release, project.dir, { webhook: `${webhook.url}/`, groupInterval: '3s', peerTimeout: '1s' });
        const [m1, m2] = nodes;
        assert.ok(m1 && m2);
        const args = (n: NodeSpec) => (n.processes[0]?.args ?? []).filter((a) => planned || !FLAGS.test(a));
        assert.deepEqual(m2.processes[0]?.args.filter((a) => FLAGS.test(a)), [release === 'sid' ? '--dispatch.start-delay=20s' : '--cluster.settle-timeout=2s']);
        for (const n of nodes) await members.start(n, args(n));

        // A federator's part: the alert's current state sent to every member each second,
        // firing with a validity of 8 s, or resolved with its end.
        const alert = { startsAt: new Date(), endsAt: undefined as Date | undefined };
        feeding = (async () => {
          while (fed) {
            const body = [{ labels: { alertname: 'StartDelayProbe' }, startsAt: alert.startsAt, endsAt: alert.endsAt ?? new Date(Date.now() + 8_000) }];
            await Promise.all(nodes.map((n) => new AlertmanagerClient(`http://${n.address}`).postAlerts(body).catch(() => undefined)));
            await sleep(1_000);
          }
        })();
        const sender = (url: string) => url.replace(/\/$/, '');
        const notified = async (since: number) =>
          ((await (await fetch(`${webhook.url}/notifications`)).json()) as Array<{ receivedAt: string; payload: { status: string; externalURL: string } }>)
            .filter((r) => Date.parse(r.receivedAt) >= since)
            .map((r) => `${r.payload.status} from ${sender(r.payload.externalURL)}`);
        // Fired and resolved, each notified by the cluster (the first one after the cold start's delay).
        const t0 = Date.now();
        assert.ok(await eventually(async () => (await notified(t0)).some((n) => n.startsWith('firing')), 60_000), 'the first firing notification');
        alert.endsAt = new Date();
        const t1 = Date.now();
        assert.ok(await eventually(async () => (await notified(t1)).some((n) => n.startsWith('resolved')), 30_000), 'the resolved notification');

        // m2 is lost and comes back while the alert is resolved; soon after it fires again.
        await members.stop(m2.name, 'SIGKILL');
        await members.start(m2, args(m2));
        await sleep(refireAfterMs);
        alert.startsAt = new Date();
        alert.endsAt = undefined;
        const t2 = Date.now();
        // A stale first flush comes, if at all, before the restarted member's gossip settling
        // (10 s), its wait and the start delay are past: by then, 28 s after the alert fires again.
        const window = t2 + 28_000;
        const from = (n: NodeSpec) => `http://${n.address}`;
        const seen = () => notified(t2);
        // The alert firing again is notified, by m1: the restart did not move it from the first position.
        assert.ok(await eventually(async () => (await seen()).includes(`firing from ${from(m1)}`), window - Date.now()), `the firing notification from m1: ${(await seen()).join('; ')}`);
        if (planned) {
          // Quiet: nothing from the restarted member and nothing resolved, watched for the whole window.
          const stale = (n: string) => n.startsWith('resolved') || n.endsWith(` from ${from(m2)}`);
          assert.equal(await eventually(async () => (await seen()).some(stale), window - Date.now()), false, `the restarted member spoke: ${(await seen()).join('; ')}`);
        } else {
          const flushed = await eventually(async () => (await seen()).includes(`resolved from ${from(m2)}`), window - Date.now());
          assert.ok(flushed, `the restarted member's stale first flush: ${(await seen()).join('; ')}`);
        }
      } finally {
        fed = false;
        await feeding;
        await members.stopAll();
        await webhook.close();
        await project.cleanup();
      }
    });
});
