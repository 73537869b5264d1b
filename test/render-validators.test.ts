import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { runRender } from '../src/commands/render.ts';
import { FAST_RULES, fastTopology, inProcess, releaseBinary, tempProject } from './helpers.ts';
import { RELEASE_NAMES, RELEASES, type Component } from '../src/release/release.ts';

/*
 * The real validators are the final judges of rendered files (DESIGN §2): every
 * config promha writes for a release must pass that release's promtool and amtool,
 * and the host's keepalived -t and haproxy -c.
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
  const ns = `keepalived-check-${process.pid}`; // not promha-*: the netns lane may run beside this file and counts those
  await execa('ip', ['netns', 'add', ns]);
  try {
    await execa('ip', ['-n', ns, 'link', 'add', iface, 'type', 'veth', 'peer', 'name', 'peer0']);
    for (const c of configs) await validate('ip', ['netns', 'exec', ns, 'keepalived', '-t', '-f', c]);
  } finally {
    await execa('ip', ['netns', 'delete', ns]);
  }
}

/** Flags a binary of a release knows, from its `--help` (kingpin lists booleans as `--[no-]name`). */
async function knownFlags(binary: string): Promise<Set<string>> {
  const r = await execa(binary, ['--help'], { reject: false, all: true });
  return new Set([...(r.all ?? '').matchAll(/--(?:\[no-\])?([a-z][a-z0-9.-]*)/g)].map((m) => m[1] ?? ''));
}

const COMPONENT_AT: Readonly<Record<string, Component>> = {
  '/usr/bin/prometheus': 'prometheus',
  '/usr/bin/prometheus-alertmanager': 'alertmanager',
  '/usr/bin/prometheus-pushgateway': 'pushgateway',
};

for (const release of RELEASE_NAMES)
for (const profile of ['seed', 'fast'] as const) {
  describe(`rendered ${profile} topology passes the real validators of ${release}`, () => {
    let project: Awaited<ReturnType<typeof tempProject>>;
    let out: string;
    const tool = (c: Component) => releaseBinary(release, c);
    before(async () => {
      project = await tempProject(profile === 'fast' ? { 'promha.yaml': fastTopology(), 'rules/demo.yml': FAST_RULES } : {});
      if (profile === 'seed') {
        const init = await inProcess(['init'], project.dir);
        assert.equal(init.exitCode, 0, init.stderr);
      }
      out = path.join(project.dir, 'out');
      // Configs point at their own directory so keepalived -t finds the scripts it names.
      const r = await inProcess(['render', '--out', out, '--config-root', out, '--release', release], project.dir);
      assert.equal(r.exitCode, 0, r.stderr);
    });
    after(() => project.cleanup());

    it('promtool check config: every scraper and federator', async () => {
      const configs = await filesNamed(out, /^prometheus\.yml$/);
      assert.equal(configs.length, profile === 'seed' ? 10 : 6);
      for (const c of configs) await validate(await tool('promtool'), ['check', 'config', c]);
    });

    it('promtool check rules: every rule file', async () => {
      const rules = await filesNamed(out, /\.ya?ml$/);
      const ruleFiles = rules.filter((f) => f.includes(`${path.sep}rules${path.sep}`));
      assert.equal(ruleFiles.length, profile === 'seed' ? 2 : 4);
      await validate(await tool('promtool'), ['check', 'rules', ...ruleFiles]);
    });

    it('amtool check-config: every Alertmanager, the backup included', async () => {
      const configs = await filesNamed(out, /^alertmanager\.yml$/);
      assert.equal(configs.length, 3);
      for (const c of configs) await validate(await tool('amtool'), ['check-config', c]);
    });

    it("every flag of every command line is one the release's binary knows", async () => {
      const plan = JSON.parse(await readFile(path.join(out, 'plan.json'), 'utf8')) as {
        release: { name: string };
        nodes: Array<{ name: string; processes: Array<{ binary: string; args: string[] }> }>;
      };
      assert.equal(plan.release.name, release);
      const known = new Map<Component, Set<string>>();
      let checked = 0;
      for (const node of plan.nodes)
        for (const p of node.processes) {
          const component = COMPONENT_AT[p.binary];
          if (!component) continue;
          if (!known.has(component)) known.set(component, await knownFlags(await tool(component)));
          for (const a of p.args) {
            const flag = /^--([a-z][a-z0-9.-]*)/.exec(a)?.[1];
            assert.ok(flag, `${node.name}: ${a} is not a flag`);
            assert.ok(known.get(component)?.has(flag), `${node.name}: ${release}'s ${component} has no --${flag}`);
            checked++;
          }
        }
      assert.ok(checked > 50, `${checked} flags checked`);
      // The gossip isolation and fixed positions each release can have, and only those.
      const am = plan.nodes.filter((n) => n.processes.some((p) => COMPONENT_AT[p.binary] === 'alertmanager')).flatMap((n) => n.processes.flatMap((p) => p.args));
      assert.equal(am.filter((a) => a.startsWith('--cluster.label=')).length, RELEASES[release].clusterLabel ? 3 : 0);
      assert.equal(am.filter((a) => a.startsWith('--cluster.peer-name=')).length, RELEASES[release].clusterPeerName ? 3 : 0);
    });

    // keepalived and HAProxy come from the host whatever the release: checked once.
    if (release !== 'bookworm') return;

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
