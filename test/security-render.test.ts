import assert from 'node:assert/strict';
import { chmod, readdir, readFile, stat } from 'node:fs/promises';
import https from 'node:https';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { FAST_RULES, fastTopology, promha, tempProject, until } from './helpers.ts';

/*
 * Secure mode as rendered: every file passes the real validators, secrets sit in files
 * of mode 0600 and appear nowhere else, and `check` refuses insecure combinations.
 */

const PASSWORD = 'correct-horse-battery-staple';
const secure = (security: Record<string, unknown>) => fastTopology({ security });

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(path.join(e.parentPath, e.name));
  return out.sort();
}

async function validate(tool: string, args: string[]): Promise<void> {
  const r = await execa(tool, args, { reject: false });
  assert.equal(r.exitCode, 0, `${tool} ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
}

describe('render in secure mode', () => {
  let project: Awaited<ReturnType<typeof tempProject>>;
  let out: string;
  let stdout: string;
  before(async () => {
    project = await tempProject({
      'promha.yaml': secure({ tls: {}, basic_auth: { password_file: 'secrets/password' } }),
      'rules/demo.yml': FAST_RULES,
      'secrets/password': `${PASSWORD}\n`,
    });
    await chmod(path.join(project.dir, 'secrets/password'), 0o600);
    out = path.join(project.dir, 'out');
    const r = await promha(['render', '--out', out, '--config-root', out], project.dir);
    assert.equal(r.exitCode, 0, r.stderr);
    stdout = r.stdout + r.stderr;
  });
  after(() => project.cleanup());

  it('passes promtool check web-config and check config, amtool check-config and haproxy -c', async () => {
    const all = await files(out);
    const web = all.filter((f) => f.endsWith('/web.yml'));
    // 4 scrapers, 2 gateways, 2 federators, 3 Alertmanagers.
    assert.equal(web.length, 11);
    for (const f of web) await validate('promtool', ['check', 'web-config', f]);
    for (const f of all.filter((x) => x.endsWith('/prometheus.yml'))) await validate('promtool', ['check', 'config', f]);
    for (const f of all.filter((x) => x.endsWith('/alertmanager.yml'))) await validate('amtool', ['check-config', f]);
    await validate('haproxy', ['-c', '-f', path.join(out, 'pushgateway1-vip', 'haproxy.cfg')]);
  });

  it('gives the Alertmanagers gossip over mutual TLS with tls_client_config', async () => {
    const cmd = await readFile(path.join(out, 'alertmanager1-3', 'alertmanager.cmdline'), 'utf8');
    assert.match(cmd, /--cluster\.tls-config=\S+\/cluster-tls\.yml/);
    assert.match(cmd, /--web\.config\.file=/);
    const cluster = await readFile(path.join(out, 'alertmanager1-3', 'cluster-tls.yml'), 'utf8');
    assert.match(cluster, /client_auth_type: RequireAndVerifyClientCert/);
    assert.match(cluster, /tls_client_config:\n\s+ca_file:/);
  });

  it('makes the federators authenticate over TLS on every link, alerting included', async () => {
    const text = await readFile(path.join(out, 'federator1-1', 'prometheus.yml'), 'utf8');
    const jobs = text.split('- job_name:').length - 1;
    assert.ok(jobs >= 5);
    // Every scrape job and the alertmanager config.
    assert.equal(text.split('scheme: https').length - 1, jobs + 1);
    assert.equal(text.split('password_file:').length - 1, jobs + 1);
    assert.doesNotMatch(text, new RegExp(PASSWORD));
  });

  it('keeps secrets in files of mode 0600 and nowhere else', async () => {
    for (const f of await files(out)) {
      const text = await readFile(f, 'utf8');
      const mode = (await stat(f)).mode & 0o777;
      const secret = text.includes(PASSWORD) || text.includes('PRIVATE KEY') || text.includes(Buffer.from(`promha:${PASSWORD}`).toString('base64'));
      if (secret) assert.equal(mode & 0o077, 0, `${f} holds a secret with mode ${mode.toString(8)}`);
      if (f.endsWith('plan.json') || f.endsWith('.cmdline')) assert.equal(secret, false, `${f} holds a secret`);
    }
    const web = await readFile(path.join(out, 'scraper1-1', 'web.yml'), 'utf8');
    assert.match(web, /promha: \$2[aby]\$10\$/);
    assert.equal((await stat(path.join(out, 'federator1-1', 'secrets', 'basic-auth-password'))).mode & 0o777, 0o600);
    assert.doesNotMatch(stdout, new RegExp(PASSWORD));
    // The generated CA is kept beside the topology, its key private.
    assert.equal((await stat(path.join(project.dir, 'promha-ca', 'ca.key'))).mode & 0o777, 0o600);
  });

  it('issues each member a certificate naming its address (gateways the VIP too), signed by the CA', async () => {
    const crt = path.join(out, 'pushgateway1-1', 'tls', 'member.crt');
    const san = await execa('openssl', ['x509', '-in', crt, '-noout', '-ext', 'subjectAltName']);
    assert.match(san.stdout, /IP Address:127\.0\.0\.51, IP Address:127\.0\.0\.100/);
    await validate('openssl', ['verify', '-CAfile', path.join(project.dir, 'promha-ca', 'ca.crt'), crt]);
  });
});

/** Renders `topology` (password in ./pw, mode 0600) into out/, configs pointing at their own directory. */
async function renderWithPassword(topology: Record<string, unknown>) {
  const project = await tempProject({ 'promha.yaml': topology, 'rules/demo.yml': FAST_RULES, pw: `${PASSWORD}\n` });
  await chmod(path.join(project.dir, 'pw'), 0o600);
  const out = path.join(project.dir, 'out');
  const r = await promha(['render', '--out', out, '--config-root', out], project.dir);
  assert.equal(r.exitCode, 0, r.stderr);
  return { project, out };
}

describe('the keepalived scripts in secure mode, against a real Pushgateway', () => {
  it('check and wipe speak TLS with the password; a wrong password fails the check', async () => {
    const gw = (i: number) => ({ name: `pushgateway1-${i}`, address: `127.0.0.23${i}:9091` });
    const topology = fastTopology({ security: { tls: {}, basic_auth: { password_file: 'pw' } } });
    const sets = topology['pushgateways'] as Array<Record<string, unknown>>;
    topology['pushgateways'] = [{ ...sets[0], vip: { address: '127.0.0.233:9091' }, members: [gw(1), gw(2)] }];
    const { project, out } = await renderWithPassword(topology);
    const dir = path.join(out, 'pushgateway1-1');
    const gateway = execa('/usr/bin/prometheus-pushgateway', ['--web.listen-address=127.0.0.231:9091', `--web.config.file=${dir}/web.yml`, '--persistence.file=', '--web.enable-admin-api'], { reject: false });
    try {
      const ca = await readFile(path.join(dir, 'tls', 'ca.crt'), 'utf8');
      const auth = `Basic ${Buffer.from(`promha:${PASSWORD}`).toString('base64')}`;
      const call = (method: string, p: string, body?: string) =>
        new Promise<{ status: number; text: string }>((resolve, reject) => {
          const req = https.request(`https://127.0.0.231:9091${p}`, { method, ca, headers: { authorization: auth } }, (res) => {
            let text = '';
            res.on('data', (d: Buffer) => (text += d.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          });
          req.on('error', reject);
          req.end(body);
        });
      // Ready before anything is judged: the wait's outcome is asserted (a gateway that
      // never came up used to fall through to a check that fails for want of it).
      await Promise.race([
        until('the secure pushgateway to answer /-/ready with 200', async () => ((await call('GET', '/-/ready')).status === 200 ? true : undefined), 30_000),
        gateway.then((r) => assert.fail(`prometheus-pushgateway exited before it was ready: ${r.shortMessage ?? ''}\n${r.stderr}`)),
      ]);
      const check = () => execa('bash', [path.join(dir, 'check-pushgateway.sh')], { reject: false });
      assert.equal((await check()).exitCode, 0);
      assert.equal((await call('PUT', '/metrics/job/j', 'x 1\n')).status, 200);
      // The group is listed as the wipe's absence test looks for it: that test can fail.
      const groups = async () => {
        const r = await call('GET', '/api/v1/metrics');
        assert.equal(r.status, 200, r.text);
        return r.text;
      };
      assert.match(await groups(), /"job":"j"/);
      assert.equal((await execa('bash', [path.join(dir, 'wipe-pushgateway.sh')], { reject: false })).exitCode, 0);
      // The wipe removed the group: the job's metrics are gone.
      assert.doesNotMatch(await groups(), /"job":"j"/);
      const wrong = (await readFile(path.join(dir, 'check-pushgateway.sh'), 'utf8')).replace(/Basic [A-Za-z0-9+/=]+/, `Basic ${Buffer.from('promha:wrong').toString('base64')}`);
      assert.equal((await execa('bash', ['-c', wrong], { reject: false })).exitCode, 1);
      // The refusal is the password's: the gateway still answers the right one.
      assert.equal((await check()).exitCode, 0);
    } finally {
      gateway.kill('SIGTERM');
      await gateway;
      await project.cleanup();
    }
  });
});

describe('render with required client certificates', () => {
  it('requires them on every server and at the VIP; the real validators accept it', async () => {
    const project = await tempProject({ 'promha.yaml': secure({ tls: { client_certs: 'required' } }), 'rules/demo.yml': FAST_RULES });
    try {
      const out = path.join(project.dir, 'out');
      const r = await promha(['render', '--out', out, '--config-root', out], project.dir);
      assert.equal(r.exitCode, 0, r.stderr);
      const web = (await files(out)).filter((f) => f.endsWith('/web.yml'));
      assert.equal(web.length, 11);
      for (const f of web) {
        const text = await readFile(f, 'utf8');
        assert.match(text, /client_auth_type: RequireAndVerifyClientCert/);
        assert.doesNotMatch(text, /basic_auth_users/);
        await validate('promtool', ['check', 'web-config', f]);
      }
      const haproxy = path.join(out, 'pushgateway1-vip', 'haproxy.cfg');
      assert.match(await readFile(haproxy, 'utf8'), /bind \S+ ssl crt \S+ ca-file \S+ verify required/);
      await validate('haproxy', ['-c', '-f', haproxy]);
    } finally {
      await project.cleanup();
    }
  });
});

describe('doctor on a real secure deployment (no local stack)', () => {
  it('reaches a member over TLS with the topology\'s CA and password', async () => {
    // Addresses of their own, away from any local stack's 127.0.0.x.
    const topology = JSON.parse(JSON.stringify(secure({ tls: {}, basic_auth: { password_file: 'pw' } })).replaceAll('127.0.0.', '127.0.2.')) as Record<string, unknown>;
    const { project, out } = await renderWithPassword(topology);
    const dir = path.join(out, 'scraper1-1');
    const server = execa(
      '/usr/bin/prometheus',
      [`--config.file=${dir}/prometheus.yml`, `--web.config.file=${dir}/web.yml`, '--web.listen-address=127.0.2.11:9090', `--storage.tsdb.path=${project.dir}/data`],
      { reject: false },
    );
    try {
      let results: Array<{ code: string; member?: string; verdict: string; message: string }> = [];
      const deadline = Date.now() + 20_000;
      do {
        const d = await promha(['doctor', '--json'], project.dir);
        assert.doesNotMatch(d.stdout + d.stderr, new RegExp(PASSWORD));
        results = (JSON.parse(d.stdout) as { results: typeof results }).results;
      } while (!results.some((x) => x.code === 'DR101' && x.member === 'scraper1-1' && x.verdict === 'pass') && Date.now() < deadline);
      const ready = results.find((x) => x.code === 'DR101' && x.member === 'scraper1-1');
      assert.equal(ready?.verdict, 'pass', JSON.stringify(ready));
      // Nothing else runs: the other members are unreachable, so doctor has something to fail.
      assert.equal(results.find((x) => x.code === 'DR101' && x.member === 'scraper1-2')?.verdict, 'fail');
    } finally {
      server.kill('SIGTERM');
      await server;
      await project.cleanup();
    }
  });
});

describe('check refuses insecure combinations', () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['basic auth without TLS', { basic_auth: { password_file: 'pw' } }, /PH1001 .*basic_auth without tls/],
    ['insecure_skip_verify', { tls: { insecure_skip_verify: true }, basic_auth: { password_file: 'pw' } }, /PH1001 .*insecure_skip_verify/],
    ['TLS with nobody authenticated', { tls: {} }, /PH1002 .*\/api\/v1\/read/],
    ['an inline password', { tls: {}, basic_auth: { password: 'hunter2hunter2' } }, /PH1002 .*inline password/],
  ];
  for (const [what, security, expected] of cases)
    it(what, async () => {
      const project = await tempProject({ 'promha.yaml': secure(security), 'rules/demo.yml': FAST_RULES, pw: 'long-enough-password\n' });
      try {
        const r = await promha(['check'], project.dir);
        assert.equal(r.exitCode, 1, r.stdout + r.stderr);
        assert.match(r.stdout + r.stderr, expected);
        assert.doesNotMatch(r.stdout + r.stderr, /hunter2hunter2/);
      } finally {
        await project.cleanup();
      }
    });

  it('accepts TLS with required client certificates and no password', async () => {
    const project = await tempProject({ 'promha.yaml': secure({ tls: { client_certs: 'required' } }), 'rules/demo.yml': FAST_RULES });
    try {
      const r = await promha(['check'], project.dir);
      assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    } finally {
      await project.cleanup();
    }
  });

  it('refuses to render with a password file readable by others, located', async () => {
    const project = await tempProject({ 'promha.yaml': secure({ tls: {}, basic_auth: { password_file: 'pw' } }), 'rules/demo.yml': FAST_RULES, pw: 'long-enough-password\n' });
    try {
      await chmod(path.join(project.dir, 'pw'), 0o644);
      const r = await promha(['render', '--out', 'out'], project.dir);
      assert.equal(r.exitCode, 2, r.stdout + r.stderr);
      assert.match(r.stderr, /promha\.yaml:\d+:\d+: error password file "pw" is readable by others \(mode 0644\)/);
      assert.doesNotMatch(r.stderr, /^\s+at /m);
    } finally {
      await project.cleanup();
    }
  });
});
