import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { formatResult, inputFor, runCampaign, seeds } from './fuzz/campaign.ts';
import { hostileCases } from './fuzz/corpus.ts';
import { MARKER } from './fuzz/dictionary.ts';
import { Prng } from './fuzz/prng.ts';
import { Runner } from './fuzz/runner.ts';
import { configInjections, scanRendered, shellInjections, unitInjections } from './fuzz/scan.ts';

/*
 * Hostile or mistaken input must never lose data, inject, or hang. The hostile corpus
 * (test/fixtures/hostile/) holds one hand-written input per known class; the fuzzer
 * mutates it and the seed topologies, seeded and bounded, and runs every input in a
 * worker the way the CLI would: check, then render for hosts and for Kubernetes.
 * Replay a failure with the command it prints; run longer with `npm run fuzz`.
 */

const SEED = Number(process.env['PROMHA_FUZZ_SEED'] ?? 20261203);
const BUDGET_MS = Number(process.env['PROMHA_FUZZ_SECONDS'] ?? 60) * 1000;

describe('fuzz harness', () => {
  it('makes the same inputs from the same seed, and different ones from another', () => {
    const from = seeds();
    const a = Array.from({ length: 30 }, (_, i) => JSON.stringify(inputFor(7, i, from)));
    const b = Array.from({ length: 30 }, (_, i) => JSON.stringify(inputFor(7, i, from)));
    const c = Array.from({ length: 30 }, (_, i) => JSON.stringify(inputFor(8, i, from)));
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    assert.ok(new Set(a).size > 25, 'iterations of one seed should differ');
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
          ['crash out of memory'],
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

describe('fuzzer', () => {
  it(`finds no failure in ${BUDGET_MS / 1000} s from seed ${SEED}`, { timeout: BUDGET_MS + 600_000 }, async (t) => {
    const result = await runCampaign({ seed: SEED, iterations: Number.MAX_SAFE_INTEGER, budgetMs: BUDGET_MS, shrinkMs: 15_000, shrinkLimit: 8 });
    const report = formatResult(result, BUDGET_MS);
    t.diagnostic(report.split('\n')[0] as string);
    assert.ok(result.iterations >= 100, `only ${result.iterations} inputs in the budget`);
    assert.deepEqual(result.mutationErrors, [], 'the fuzzer itself failed to mutate');
    assert.equal(result.failures.length, 0, report);
  });
});
