import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RELEASE_NAMES, type ReleaseName } from '../src/release/release.ts';
import { formatResult, inputFor, runCampaign, seeds } from './fuzz/campaign.ts';
import { hostileCases } from './fuzz/corpus.ts';
import { MARKER } from './fuzz/dictionary.ts';
import { Prng } from './fuzz/prng.ts';
import { Runner } from './fuzz/runner.ts';
import { configInjections, scanRendered, shellInjections, unitInjections } from './fuzz/scan.ts';
import { SURFACE_NAMES } from './fuzz/surfaces.ts';
import { ToolChecker, type Artifact } from './fuzz/tools.ts';

/*
 * Hostile or mistaken input must never lose data, inject, hang, or render what the real
 * tools refuse. The hostile corpus (test/fixtures/hostile/) holds one hand-written input
 * per known class; the fuzzer's surfaces (test/fuzz/surfaces.ts) make inputs from it and
 * the seed topologies, seeded and bounded, and runs every input in a worker the way the
 * CLI would: check, render for hosts and for Kubernetes, and the commands an input asks
 * for (check --faults, test rules, drill chaos --replay, the state readers). Each render
 * that exits 0 goes to the release's promtool and amtool and the host's keepalived,
 * HAProxy and systemd-analyze. Replay a failure with the command it prints; `npm run
 * fuzz` runs 3,000 inputs per release.
 */

const SEED = Number(process.env['PROMHA_FUZZ_SEED'] ?? 20261203);
/** A fixed number of inputs per release, so that a slow machine runs the same inputs, only later. */
const INPUTS = Number(process.env['PROMHA_FUZZ_INPUTS'] ?? 32);
/**
 * The test timeout of each release's campaign, a bound on a hang and no time budget: the
 * campaign runs every input however long they take, and the count is what is asserted,
 * never a rate. Generous: CI's 32 inputs take a few minutes on a loaded machine.
 */
const TIMEOUT_MS = Number(process.env['PROMHA_FUZZ_SECONDS'] ?? 1200) * 1000;

describe('fuzz harness', () => {
  it('makes the same inputs from the same seed, and different ones from another', () => {
    const from = seeds();
    const a = Array.from({ length: 30 }, (_, i) => JSON.stringify(inputFor(7, i, from)));
    const b = Array.from({ length: 30 }, (_, i) => JSON.stringify(inputFor(7, i, from)));
    const c = Array.from({ length: 30 }, (_, i) => JSON.stringify(inputFor(8, i, from)));
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    assert.ok(new Set(a).size > 25, 'iterations of one seed should differ');
    const surfaces = new Set(Array.from({ length: 300 }, (_, i) => inputFor(7, i, from).surface));
    assert.deepEqual([...surfaces].sort(), [...SURFACE_NAMES].sort(), 'every surface makes inputs');
    const rng = new Prng(1);
    const draws = Array.from({ length: 1000 }, () => rng.int(0, 9));
    for (let d = 0; d <= 9; d++) assert.ok(draws.filter((x) => x === d).length > 50, `digit ${d} is drawn too rarely`);
  });

  const shell: Array<[string, string, boolean]> = [
    ['a quoted newline', `put 644 'x\n${MARKER}' /etc/x`, false],
    ['a quoted substitution', `put 644 '$(${MARKER})' /etc/x`, false],
    ['a value glued to a path', `data_dir /var/lib/${MARKER}`, false],
    ['a comment', `# set ${MARKER}\nls`, false],
    ['a raw newline', `put 644 x\n${MARKER} /etc/x`, true],
    ['a substitution', `put 644 /tmp/$(${MARKER}) /etc/x`, true],
    ['a backtick', `echo \`${MARKER}\``, true],
    ['a substitution in double quotes', `echo "$(${MARKER})"`, true],
    ['a closed quote', `put 644 'x'; ${MARKER} '' /etc/x`, true],
  ];
  for (const [what, text, injected] of shell)
    it(`shell scan: ${what} is ${injected ? '' : 'not '}an injection`, () => assert.equal(shellInjections(text).length > 0, injected));

  const config: Array<[string, string, boolean]> = [
    ['a directive', `interface eth0\n${MARKER} yes`, true],
    ['an extra word', `interface eth0 ${MARKER}`, true],
    ['a quoted word', `script "/x ${MARKER}"`, false],
    ['a glued word', `interface eth0${MARKER}`, false],
    ['a comment', `# ${MARKER}`, false],
  ];
  for (const [what, text, injected] of config)
    it(`config scan: ${what} is ${injected ? '' : 'not '}an injection`, () => assert.equal(configInjections(text).length > 0, injected));

  const units: Array<[string, string, boolean]> = [
    ['an escaped specifier', 'ExecStart=/bin/x "%%n $$HOME"', false],
    ['a raw specifier', 'ExecStart=/bin/x "%n"', true],
    ['a variable of the input', `ExecStart=/bin/x \${${MARKER}}`, true],
    ['an injected directive', `ExecStart=/bin/x "a\n${MARKER}=1"`, true],
    ['a stray line', `ExecStart=/bin/x\nrm -rf /`, true],
  ];
  for (const [what, text, injected] of units)
    it(`unit scan: ${what} is ${injected ? '' : 'not '}an injection`, () => assert.equal(unitInjections(text).length > 0, injected));

  it('flags rendered YAML that does not parse or that grew a key from a value', () => {
    assert.deepEqual(scanRendered('a/prometheus.yml', `x: "${MARKER}\\n"\n`), []);
    assert.equal(scanRendered('a/prometheus.yml', `x: y\n${MARKER}: 1\n`)[0]?.kind, 'injection');
    assert.equal(scanRendered('a/prometheus.yml', 'x: [\n')[0]?.kind, 'invalid-output');
    assert.equal(scanRendered('plan.json', '{"a": 1,}')[0]?.kind, 'invalid-output');
  });

  describe('the runner', () => {
    const runner = new Runner(2_000);
    after(() => runner.close());

    it('reports an input that never finishes as a hang, then goes on with a new worker', async () => {
      const hang = await runner.selfTest('spin');
      assert.deepEqual(
        hang.failures.map((f) => f.kind),
        ['hang'],
      );
      const next = await runner.run(seeds().valid[0]!);
      assert.deepEqual(next.failures, []);
      assert.equal(next.check, 0);
    });

    it('reports an input that fills the heap as a crash, not as the end of the test process', async () => {
      const slow = new Runner(60_000);
      try {
        const oom = await slow.selfTest('allocate');
        assert.deepEqual(
          oom.failures.map((f) => f.signature),
          ['crash worker out of memory'],
        );
      } finally {
        await slow.close();
      }
    });
  });
});

describe('hostile corpus (test/fixtures/hostile): exit 1 or 2 with a located message, no trace, no hang, nothing injected', () => {
  const runner = new Runner();
  after(() => runner.close());
  const cases = hostileCases();
  before(() => assert.ok(cases.length >= 30, `only ${cases.length} hostile cases`));

  for (const c of cases)
    it(c.name, async () => {
      const outcome = await runner.run(c.input);
      assert.deepEqual(
        outcome.failures.map((f) => `${f.signature}: ${f.detail}`),
        [],
        `${c.name}: failures`,
      );
      assert.ok(outcome.check === 1 || outcome.check === 2, `${c.name}: promha check exits ${outcome.check}, but the input is wrong (1 or 2 expected)`);
    });
});

describe('the real tools judge rendered files', () => {
  const good: Record<string, Artifact> = {
    config: { tool: 'promtool-config', label: 'good/prometheus.yml', files: [{ path: 'prometheus.yml', content: 'global:\n  scrape_interval: 30s\nrule_files: [/nonexistent/rules/*.yml]\n' }] },
    rules: { tool: 'promtool-rules', label: 'good/rules/a.yml', files: [{ path: 'a.yml', content: 'groups:\n  - name: a\n    rules:\n      - record: a:up\n        expr: sum(up)\n' }] },
    amtool: { tool: 'amtool', label: 'good/alertmanager.yml', files: [{ path: 'alertmanager.yml', content: 'route:\n  receiver: x\nreceivers:\n  - name: x\n    webhook_configs:\n      - url: http://127.0.0.1:5001/\n' }] },
    unit: { tool: 'systemd', label: 'good/systemd', files: [{ path: 'promha-good.service', content: '[Unit]\nDescription=x\n[Service]\nExecStart=/bin/true\n' }] },
    web: { tool: 'promtool-web', label: 'good/web.yml', files: [{ path: 'web.yml', content: 'basic_auth_users:\n  promha: $2b$10$gneu1/lpWFUiuiYKJUP..utD.EytqVCPK/GQ8Xrzp6g2IKI.Utb7G\n' }] },
  };
  const bad: Record<string, Artifact> = {
    config: { tool: 'promtool-config', label: 'bad/prometheus.yml', files: [{ path: 'prometheus.yml', content: 'global:\n  scrape_interval: 5x\n' }] },
    rules: { tool: 'promtool-rules', label: 'bad/rules/a.yml', files: [{ path: 'a.yml', content: 'groups:\n  - name: a\n    rules:\n      - record: a:up\n        expr: sum(up\n' }] },
    amtool: { tool: 'amtool', label: 'bad/alertmanager.yml', files: [{ path: 'alertmanager.yml', content: 'route:\n  receiver: x\nreceivers:\n  - name: x\n    webhook_configs:\n      - url: 127.0.0.1:5001/\n' }] },
    unit: { tool: 'systemd', label: 'bad/systemd', files: [{ path: 'promha-bad.service', content: '[Unit]\nDescription=x\n[Service]\nExecStart=/bin/true\nBogusKey=1\n' }] },
    web: { tool: 'promtool-web', label: 'bad/web.yml', files: [{ path: 'web.yml', content: 'tls_server_config:\n  cert_file: missing.crt\n  key_file: missing.key\n' }] },
  };

  for (const release of RELEASE_NAMES)
    it(`${release}: promtool check config --syntax-only, check rules, check web-config and amtool check-config accept the good files and refuse the bad ones, once each`, async () => {
      const tools = await ToolChecker.create(release);
      try {
        assert.deepEqual(await tools.verify(Object.values(good)), [], 'the good files');
        const failures = await tools.verify(Object.values(bad));
        assert.deepEqual(failures.map((f) => f.kind), Array(failures.length).fill('refused-by-tool'));
        assert.deepEqual(failures.map((f) => f.signature.split(' ')[1]).sort(), ['amtool', 'promtool-config', 'promtool-rules', 'promtool-web', ...(tools.host.systemd ? ['systemd'] : [])].sort());
        assert.match(failures.find((f) => f.signature.includes('promtool-config'))?.detail ?? '', /5x/, 'the tool says why');
        assert.match(failures.find((f) => f.signature.includes('amtool'))?.detail ?? '', /URL|scheme/);
        // Verdicts are cached by content: the same files again start no process.
        const runs = tools.stats.runs;
        assert.equal((await tools.verify([...Object.values(good), ...Object.values(bad)])).length, failures.length);
        assert.equal(tools.stats.runs, runs);
      } finally {
        await tools.close();
      }
    });

  it('every kind of file a valid render writes goes to its tool and passes: configs, rules, web configs, units, keepalived.conf, haproxy.cfg', async () => {
    const tools = await ToolChecker.create('bookworm');
    const runner = new Runner(60_000, { release: 'bookworm', tools });
    try {
      // The fast topology with a pushgateway set, then the same in secure mode (web.yml, certificates).
      for (const input of [seeds().valid[3]!, seeds().valid[4]!]) {
        const outcome = await runner.run(input);
        assert.deepEqual(outcome.failures.map((f) => `${f.signature}: ${f.detail}`), []);
        assert.equal(outcome.hosts, 0);
      }
      const judged = Object.entries(tools.stats.checked).filter(([tool, n]) => n > 0 || tools.stats.skipped[tool as keyof typeof tools.stats.skipped] > 0).map(([tool]) => tool);
      assert.deepEqual(judged.sort(), ['amtool', 'haproxy', 'keepalived', 'promtool-config', 'promtool-rules', 'promtool-web', 'systemd']);
    } finally {
      await runner.close();
      await tools.close();
    }
  });

  it('keepalived -t and haproxy -c refuse a broken rendered file (the host tools)', async () => {
    const tools = await ToolChecker.create('bookworm');
    try {
      // A missing tool fails: the fuzzer would otherwise judge no keepalived.conf or haproxy.cfg at all.
      assert.ok(tools.host.keepalived && tools.host.haproxy, 'keepalived -t needs root and ip netns, and keepalived and haproxy installed: run `bash scripts/install-deps.sh` as root');
      const conf = (state: string) => `vrrp_instance x {\n    state ${state}\n    interface eth0\n    virtual_router_id 51\n    priority 100\n    virtual_ipaddress {\n        192.0.2.1/32 dev eth0\n    }\n}\n`;
      const at = (name: string) => `${tools.configRoot}/${name}`;
      const keepalived = (name: string, state: string): Artifact => ({ tool: 'keepalived', label: `${name}/keepalived.conf`, files: [{ path: at(`${name}/keepalived.conf`), content: conf(state) }] });
      const haproxy = (name: string, mode: string): Artifact => ({ tool: 'haproxy', label: `${name}/haproxy.cfg`, files: [{ path: at(`${name}/haproxy.cfg`), content: `defaults\n    mode ${mode}\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\nfrontend f\n    bind 127.0.0.1:1\n` }] });
      assert.deepEqual(await tools.verify([keepalived('good', 'BACKUP'), haproxy('good', 'http')]), []);
      const failures = await tools.verify([keepalived('bad', 'BACKUP\n    virtual_router_id 300'), haproxy('bad', 'nonsense')]);
      assert.deepEqual(failures.map((f) => f.signature.split(' ')[1]).sort(), ['haproxy', 'keepalived']);
    } finally {
      await tools.close();
    }
  });
});

/**
 * The releases the CI campaign covers, with their share of the inputs: bookworm (the
 * default release) most, trixie and sid a quarter each, each from a seed of its own so
 * that together they run different inputs. PROMHA_FUZZ_RELEASES narrows it.
 */
const CAMPAIGNS: ReadonlyArray<{ release: ReleaseName; inputs: number; seed: number }> = (process.env['PROMHA_FUZZ_RELEASES']?.split(',') ?? [...RELEASE_NAMES])
  .filter((r): r is ReleaseName => (RELEASE_NAMES as readonly string[]).includes(r))
  .map((release) => ({ release, inputs: release === 'bookworm' ? INPUTS : Math.ceil(INPUTS / 4), seed: SEED + RELEASE_NAMES.indexOf(release) }));

describe('fuzzer', () => {
  for (const { release, inputs, seed } of CAMPAIGNS)
    it(`${release}: ${inputs} inputs from seed ${seed} fail nothing, and every render is accepted by the real tools`, { timeout: TIMEOUT_MS }, async (t) => {
      // No budget: every input runs. The test's signal ends the campaign (and its workers) should the timeout fire.
      const result = await runCampaign({ seed, release, iterations: inputs, budgetMs: Infinity, signal: t.signal, shrinkMs: 15_000, shrinkLimit: 8 });
      const report = formatResult(result, Infinity);
      for (const line of report.split('\n').slice(0, 5)) t.diagnostic(line);
      assert.equal(result.iterations, inputs, `${result.iterations} of ${inputs} inputs ran`);
      assert.deepEqual(result.mutationErrors, [], 'the fuzzer itself failed to mutate');
      assert.ok(result.rendered > 0, 'no input was rendered: the tools judged nothing');
      assert.equal(result.failures.length, 0, report);
    });
});
