// What `apply --hosts` hands to ssh and to the hosts' bash, without a host: the ssh
// command line, the one quoted word the remote shell gets, and the step and rollback
// scripts (bash's own parser).
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { rollbackScript, stepScript } from '../src/apply/hosts.ts';
import { sshArgs } from '../src/apply/ssh.ts';
import { ExitError } from '../src/errors.ts';
import { plan } from '../src/plan/plan.ts';
import { parseTopology } from '../src/topology/load.ts';
import { FAST_RULES, fastTopology, inProcess, tempProject } from './helpers.ts';

const nodes = plan({ ...parseTopology('promha.yaml', stringify(fastTopology())), ruleFiles: [] }, { vipStandIns: false });

describe('apply over SSH: the ssh command line', () => {
  it('passes the configuration, the user and batch mode, ends the options before the host, and sends one word', () => {
    assert.deepEqual(sshArgs('10.0.1.5', 'true', { configFile: '/home/op/ssh config', user: 'deploy' }), ['-F', '/home/op/ssh config', '-l', 'deploy', '-o', 'BatchMode=yes', '--', '10.0.1.5', 'bash -c true']);
    assert.deepEqual(sshArgs('gw-1.example.org', 'true', {}), ['-o', 'BatchMode=yes', '--', 'gw-1.example.org', 'bash -c true']);
  });

  it('the remote shell runs the script exactly as written, whatever it quotes', async () => {
    const script = `printf '%s|' "it's" '$HOME' "a\\\`b" 'x\ny'; echo "$((1 + 2))"`;
    const word = sshArgs('10.0.1.5', script, {}).at(-1) as string;
    const remote = await execa('sh', ['-c', word]);
    const local = await execa('bash', ['-c', script]);
    assert.equal(remote.stdout, local.stdout);
    assert.equal(remote.stdout, "it's|$HOME|a`b|x\ny|3");
  });

  for (const [what, host, user] of [
    ['a host that ssh would read as an option', '-oProxyCommand=touch /tmp/x', undefined],
    ['a host with shell syntax', '10.0.0.1;id', undefined],
    ['a user with shell syntax', '10.0.0.1', 'root;id'],
    ['a user that is an option', '10.0.0.1', '-oProxyCommand=x'],
  ] as const)
    it(`refuses ${what} (exit 2)`, () => {
      assert.throws(
        () => sshArgs(host, 'true', user ? { user } : {}),
        (e: unknown) => e instanceof ExitError && e.code === 2,
      );
    });
});

describe('apply over SSH: the scripts a host runs', () => {
  for (const node of nodes.filter((n) => ['federator1-1', 'pushgateway1-1', 'alertmanager1-3'].includes(n.name)))
    it(`${node.name}: the step and its rollback parse, keep the config directory and units, and restart only the step's units`, async () => {
      const processes = node.processes.map((p) => p.name);
      const step = stepScript(node, { action: 'reload', processes });
      assert.match(step, new RegExp(`for p in etc/promha/${node.name} etc/systemd/system/promha-${node.name}-prometheus.service `));
      assert.match(step, /bash "\$stage\/next\/install\.sh" \| tee "\$stage\/install\.log"\nfor unit in ; do/);
      const rollback = rollbackScript(node, { member: node.name, role: node.role, action: 'restart', processes: processes.slice(0, 1), reason: '', gate: '' });
      assert.match(rollback, new RegExp(`systemctl restart "\\$unit"; done\\nsystemctl start promha-${node.name}-${processes[0]}\\.service$`));
      for (const script of [step, stepScript(node, { action: 'restart', processes }), rollback]) assert.equal((await execa('bash', ['-n', '-c', script], { reject: false })).exitCode, 0, script);
    });

  it("a restart step restarts the step's units that install.sh did not restart (new binaries, the backup's position), and no other", async () => {
    const gateway = nodes.find((n) => n.name === 'pushgateway1-1');
    assert.ok(gateway);
    const last = stepScript(gateway, { action: 'restart', processes: ['pushgateway', 'keepalived'] }).split('\n').at(-1) as string;
    const project = await tempProject({});
    try {
      // install.sh restarted keepalived (its unit changed); the pushgateway's unit did not change.
      await writeFile(path.join(project.dir, 'install.log'), 'installed /etc/systemd/system/promha-pushgateway1-1-keepalived.service\nrestarted promha-pushgateway1-1-keepalived.service\n');
      await writeFile(path.join(project.dir, 'systemctl'), `#!/bin/sh\necho "$*" >>${JSON.stringify(path.join(project.dir, 'calls'))}\n`, { mode: 0o755 });
      const r = await execa('bash', ['-c', `stage=${project.dir}\n${last}`], { env: { PATH: `${project.dir}:${process.env['PATH']}` } });
      assert.equal(await readFile(path.join(project.dir, 'calls'), 'utf8'), 'restart promha-pushgateway1-1-pushgateway.service\n');
      assert.equal(r.stdout, 'restarted promha-pushgateway1-1-pushgateway.service');
    } finally {
      await project.cleanup();
    }
  });
});

describe('apply --hosts: bad input', () => {
  for (const [what, args, message] of [
    ['a user with shell syntax', ['--ssh-user', 'root;id'], /^--ssh-user "root;id" is not a user name\n\s+fix: lower-case letters/m],
    ['a config root that is not a plain absolute path', ['--config-root', 'etc/promha'], /^--config-root .*\n\s+fix: give an absolute, normalised path/m],
  ] as const)
    it(`${what}: exit 2 with the fix, before any host is reached`, async () => {
      const project = await tempProject({ 'promha.yaml': fastTopology(), 'rules/demo.yml': FAST_RULES });
      try {
        const r = await inProcess(['apply', '--hosts', ...args], project.dir);
        assert.equal(r.exitCode, 2, r.stdout + r.stderr);
        assert.match(r.stderr, message);
        assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      } finally {
        await project.cleanup();
      }
    });
});

