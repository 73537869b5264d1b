import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { runRender } from '../src/commands/render.ts';
import { FAST_RULES, fastTopology, promha, tempProject } from './helpers.ts';

/*
 * The real validators are the final judges of rendered files (DESIGN §2): every
 * config promha writes must pass promtool, amtool, keepalived -t and haproxy -c of
 * the Debian 12 packages.
 */

async function filesNamed(dir: string, name: RegExp): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true }))
    if (entry.isFile() && name.test(entry.name)) out.push(path.join(entry.parentPath, entry.name));
  return out.sort();
}

async function validate(tool: string, args: string[]): Promise<void> {
  const r = await execa(tool, args, { reject: false });
  assert.equal(r.exitCode, 0, `${tool} ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
}

/**
 * keepalived -t checks that the interface exists: test in a network namespace of our
 * own that has it, so the host's interface names do not matter.
 */
async function keepalivedCheck(configs: readonly string[], iface = 'eth0'): Promise<void> {
  const ns = `promha-test-${process.pid}`;
  await execa('ip', ['netns', 'add', ns]);
  try {
    await execa('ip', ['-n', ns, 'link', 'add', iface, 'type', 'veth', 'peer', 'name', 'peer0']);
    for (const c of configs) await validate('ip', ['netns', 'exec', ns, 'keepalived', '-t', '-f', c]);
  } finally {
    await execa('ip', ['netns', 'delete', ns]);
  }
}

for (const profile of ['seed', 'fast'] as const) {
  describe(`rendered ${profile} topology passes the real validators`, () => {
    let project: Awaited<ReturnType<typeof tempProject>>;
    let out: string;
    before(async () => {
      project = await tempProject(profile === 'fast' ? { 'promha.yaml': fastTopology(), 'rules/demo.yml': FAST_RULES } : {});
      if (profile === 'seed') {
        const init = await promha(['init'], project.dir);
        assert.equal(init.exitCode, 0, init.stderr);
      }
      out = path.join(project.dir, 'out');
      // Configs point at their own directory so keepalived -t finds the scripts it names.
      const r = await promha(['render', '--out', out, '--config-root', out], project.dir);
      assert.equal(r.exitCode, 0, r.stderr);
    });
    after(() => project.cleanup());

    it('promtool check config: every scraper and federator', async () => {
      const configs = await filesNamed(out, /^prometheus\.yml$/);
      assert.equal(configs.length, profile === 'seed' ? 10 : 6);
      for (const c of configs) await validate('promtool', ['check', 'config', c]);
    });

    it('promtool check rules: every rule file', async () => {
      const rules = await filesNamed(out, /\.ya?ml$/);
      const ruleFiles = rules.filter((f) => f.includes(`${path.sep}rules${path.sep}`));
      assert.equal(ruleFiles.length, profile === 'seed' ? 2 : 4);
      await validate('promtool', ['check', 'rules', ...ruleFiles]);
    });

    it('amtool check-config: every Alertmanager, the backup included', async () => {
      const configs = await filesNamed(out, /^alertmanager\.yml$/);
      assert.equal(configs.length, 3);
      for (const c of configs) await validate('amtool', ['check-config', c]);
    });

    it('keepalived -t: every pushgateway member', async () => {
      const configs = await filesNamed(out, /^keepalived\.conf$/);
      assert.equal(configs.length, profile === 'seed' ? 4 : 2);
      await keepalivedCheck(configs);
    });

    it('haproxy -c: every VIP stand-in', async () => {
      const configs = await filesNamed(out, /^haproxy\.cfg$/);
      assert.equal(configs.length, profile === 'seed' ? 2 : 1);
      for (const c of configs) await validate('haproxy', ['-c', '-f', c]);
    });

    it('writes the exact command line of every process', async () => {
      const plan = JSON.parse(await readFile(path.join(out, 'plan.json'), 'utf8')) as {
        nodes: Array<{ name: string; processes: Array<{ name: string; binary: string; args: string[] }> }>;
      };
      for (const node of plan.nodes)
        for (const p of node.processes) {
          const line = (await readFile(path.join(out, node.name, `${p.name}.cmdline`), 'utf8')).trim();
          assert.ok(line.startsWith(`${p.binary} `), line);
          for (const a of p.args) assert.ok(line.includes(a.includes('=') && a.endsWith('=') ? a : a.split('=')[0] ?? a), `${a} missing in ${line}`);
        }
    });
  });
}

describe('the strict grammars reach keepalived intact', () => {
  // Every character the interface and path grammars allow, in one render: keepalived -t
  // finds the interface and the scripts (enable_script_security) under those names.
  it('keepalived -t: interface v-1_a.b@c, config root with "+@._-"', async () => {
    const topology = fastTopology();
    const sets = topology['pushgateways'] as Array<{ vip: Record<string, unknown> }>;
    for (const set of sets) set.vip = { ...set.vip, interface: 'v-1_a.b@c' };
    const project = await tempProject({ 'promha.yaml': topology, 'rules/demo.yml': FAST_RULES });
    try {
      const out = path.join(project.dir, 'c+f@g_1.2-x');
      await runRender(path.join(project.dir, 'promha.yaml'), { out, configRoot: out });
      const configs = await filesNamed(out, /^keepalived\.conf$/);
      assert.equal(configs.length, 2);
      for (const c of configs) {
        const conf = await readFile(c, 'utf8');
        assert.match(conf, /^ {4}interface v-1_a\.b@c$/m);
        assert.match(conf, / dev v-1_a\.b@c$/m);
        assert.match(conf, /^ {4}script "[^"]*\/c\+f@g_1\.2-x\/pushgateway1-\d\/check-pushgateway\.sh"$/m);
      }
      await keepalivedCheck(configs, 'v-1_a.b@c');
    } finally {
      await project.cleanup();
    }
  });
});
