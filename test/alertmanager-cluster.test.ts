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
import { fastTopology, releaseBinary, tempProject } from './helpers.ts';

/*
 * The Alertmanager flags a release adds, proven on its real binaries with the command
 * lines promha plans: --cluster.label keeps two clusters apart even when one names a
 * member of the other as its peer, and --cluster.peer-name keeps the backup at the last
 * position however often the active members restart.
 */

/** A cluster of three (two active members and the backup) on its own loopback addresses. */
function cluster(name: string, base: number, release: ReleaseName, dir: string): NodeSpec[] {
  const at = (i: number) => `127.0.3.${base + i}:9093`;
  const spec = fastTopology({
    alertmanagers: {
      name,
      members: [1, 2].map((i) => ({ name: `${name}-${i}`, address: at(i) })),
      backup: { name: `${name}-3`, address: at(3) },
      route: { receiver: 'webhook', group_by: ['alertname'], group_wait: '1s', group_interval: '10s', repeat_interval: '1h' },
      receivers: [{ name: 'webhook', webhook_configs: [{ url: 'http://127.0.0.99:5001/' }] }],
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
    for (let i = 0; i < 100 && !(await client.ready()); i++) await sleep(100);
  }

  async stop(name: string): Promise<void> {
    const child = this.running.get(name);
    this.running.delete(name);
    child?.kill('SIGTERM');
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
    assert.ok(await eventually(async () => (await Promise.all([...a, ...b].map(peerCount))).every((c) => c === 3), 15_000), 'each cluster forms with its three members');
    // Gossip has had time to spread a stray member: it never does.
    await sleep(5_000);
    assert.deepEqual(await Promise.all([...a, ...b].map(peerCount)), [3, 3, 3, 3, 3, 3]);

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
      await eventually(async () => (await backupPosition()) !== -1, 15_000);
      // Settled: the gossip has seen both restarted members under their (new or kept) names.
      await sleep(2_000);
      const position = await backupPosition();
      assert.equal(position, holds ? 2 : 0, `backup position ${position} after restarts`);
      const reported = parsePeerPosition(await new AlertmanagerClient(`http://${backup.address}`).metrics());
      if (holds) assert.equal(reported, 2, 'the backup itself reports the last position');
      await members.stopAll();
      await project.cleanup();
      project = undefined;
    });
});
