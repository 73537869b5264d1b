import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { execa } from 'execa';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { expectedFailure } from '../src/cli/expected-failure.ts';
import { plain } from '../src/cli/paint.ts';
import { formatTestRules, printable, testRulesExit, type TestRulesReport } from '../src/commands/test-rules.ts';
import { ExitError } from '../src/errors.ts';
import { MAX_NESTING } from '../src/promql/shape.ts';
import { firstInvalidUtf8 } from '../src/topology/input-file.ts';
import { Duration } from '../src/duration.ts';
import { ProbeError } from '../src/probe/http.ts';
import { metricPatternProblem } from '../src/topology/metric-pattern.ts';
import { FAST_RULES, fastTopology, inProcess, tempProject } from './helpers.ts';

/*
 * Hostile or mistaken input: every case ends in exit 1 or 2 with a located (or at least
 * named) message, in bounded time and memory, and never as "unexpected error" (exit 70).
 * In-process, except where the bound itself is the claim: those run the CLI as a child,
 * which a timeout can kill even inside a synchronous parse or regex match (a test timeout
 * in this process could not fire then), and whose own peak memory can be read.
 */

const TIMEOUT = { timeout: 10_000 };
/** Generous: the child is killed at CHILD_KILL_MS, far past what these inputs need, and reported. */
const CHILD_KILL_MS = 60_000;
const CHILD_TIMEOUT = { timeout: 2 * CHILD_KILL_MS };

const ROOT = path.resolve(import.meta.dirname, '..');
/** Written to fd 3 as the child exits: its peak resident set (getrusage ru_maxrss, KiB on Linux). */
const PEAK_RSS_HOOK = `data:text/javascript,${encodeURIComponent('import { writeSync } from "node:fs"; process.on("exit", () => writeSync(3, String(process.resourceUsage().maxRSS)));')}`;

/**
 * Runs `promha ARGS` as a user would (bin/promha.js in its own node), killed with
 * SIGKILL past CHILD_KILL_MS; returns its exit code and output, whether it was killed,
 * and its peak memory.
 */
async function child(args: string[], cwd: string): Promise<{ exitCode: number; stdout: string; stderr: string; timedOut: boolean; peakKiB: number }> {
  const r = await execa(process.execPath, ['--import', PEAK_RSS_HOOK, path.join(ROOT, 'bin/promha.js'), ...args], {
    cwd,
    reject: false,
    env: { NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    timeout: CHILD_KILL_MS,
    killSignal: 'SIGKILL',
  });
  return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr, timedOut: r.timedOut, peakKiB: Number(r.stdio[3]) };
}

function assertClean(r: { exitCode: number; stdout: string; stderr: string }, what: string): void {
  const output = `${r.stdout}\n${r.stderr}`;
  assert.doesNotMatch(output, /unexpected error/i, `${what}:\n${output}`);
  assert.doesNotMatch(output, /^\s+at /m, `${what}: stack trace:\n${output}`);
}

/** The topology text, with `extra` appended (a key at the top level, so line numbers stay meaningful). */
const topologyText = (t: Record<string, unknown> = fastTopology()) => stringify(t);
const lineOf = (text: string, needle: string) => text.slice(0, text.indexOf(needle)).split('\n').length;

/** `promha check` on a project of the topology text and FAST_RULES: in-process, or as a `child`. */
async function checkText(text: string, extraFiles: Record<string, string | object> = {}, args: string[] = [], how: 'in-process' | 'child' = 'in-process') {
  const p = await tempProject({ 'promha.yaml': text, 'rules/demo.yml': FAST_RULES, ...extraFiles });
  try {
    const command = ['check', 'promha.yaml', ...args];
    return how === 'child' ? await child(command, p.dir) : { ...(await inProcess(command, p.dir)), timedOut: false };
  } finally {
    await p.cleanup();
  }
}

/** A child that was not killed at CHILD_KILL_MS: the bounded-time claim. */
function assertFinished(r: { timedOut: boolean; stderr: string }, what: string): void {
  assert.equal(r.timedOut, false, `${what}: still running after ${CHILD_KILL_MS / 1000} s, killed:\n${r.stderr}`);
}

function bomb(): string {
  let s = 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n';
  for (let i = 1; i < 10; i++) s += `a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]\n`;
  return s;
}
const nested = (levels: number) => `${'['.repeat(levels)}x${']'.repeat(levels)}`;

describe('hostile YAML and values: exit 2, located, in bounded time', () => {
  const base = topologyText();
  const cases: Array<{ name: string; text: string; message: string; line: (text: string) => number }> = [
    { name: 'alias bomb', text: `${base}${bomb()}`, message: 'aliases expand the file to more than 100000 values', line: (t) => lineOf(t, '*a0') },
    { name: 'recursive alias', text: base.replace('alertmanagers:\n', 'alertmanagers:\n  global: &g\n    self: *g\n'), message: 'alias *g refers to a value that contains it', line: (t) => lineOf(t, '*g') },
    { name: 'unresolved alias', text: `defaults_used:\n  <<: *defaults\n${base}`, message: 'alias *defaults names no anchor before it', line: () => 2 },
    { name: 'nesting over the limit', text: `${base}deep: ${nested(100)}\n`, message: 'values nest more than 64 levels deep', line: (t) => lineOf(t, 'deep:') },
    { name: 'nesting that overflows the parser', text: `${base}deep: ${nested(5000)}\n`, message: 'values nest more than 64 levels deep', line: (t) => lineOf(t, 'deep:') },
    {
      name: '400-digit duration',
      text: topologyText(fastTopology({ lookback_delta: `${'9'.repeat(400)}s` })),
      message: 'lookback_delta: out of range: Prometheus and Alertmanager take durations of at most 106751d',
      line: (t) => lineOf(t, 'lookback_delta'),
    },
    {
      name: 'nested-quantifier metric pattern',
      text: topologyText(
        fastTopology({
          pushgateways: [{ ...(fastTopology()['pushgateways'] as object[])[0], jobs: [{ name: 'batch', metrics: ['([a-z_]+)+_total'] }] }],
        }),
      ),
      message: 'metrics[0]: nested quantifiers',
      line: (t) => lineOf(t, '([a-z_]+)+_total'),
    },
    {
      name: '60,000-character match[]',
      text: topologyText(fastTopology({ federators: { ...(fastTopology()['federators'] as object), match: [`{__name__=~"${'a'.repeat(60_000)}"}`] } })),
      message: 'federators.match[0]: a match[] selector is at most 4096 characters',
      line: (t) => lineOf(t, '{__name__=~"aaa'),
    },
  ];
  for (const c of cases)
    it(c.name, CHILD_TIMEOUT, async () => {
      // As a child: an expansion or a parse that never ended would be killed, and named.
      const r = await checkText(c.text, {}, [], 'child');
      assertFinished(r, c.name);
      assertClean(r, c.name);
      assert.equal(r.exitCode, 2, `${c.name}: exit ${r.exitCode}:\n${r.stderr}${r.stdout}`);
      const located = r.stderr.split('\n').find((l) => l.includes(c.message));
      assert.ok(located, `${c.name}: no "${c.message}" in:\n${r.stderr}`);
      assert.match(located, new RegExp(`^promha\\.yaml:${c.line(c.text)}:\\d+: error `), `${c.name}: wrong place: ${located}`);
      // The same verdict in-process, where the child showed it ends.
      const json = await checkText(c.text, {}, ['--json']);
      assert.equal(json.exitCode, 2);
      const problems = (JSON.parse(json.stdout) as { problems: Array<{ message: string }> }).problems;
      assert.ok(problems.some((p) => p.message.includes(c.message)), `${c.name} --json:\n${json.stdout}`);
    });

  it('a label regex that backtracks exponentially still returns (linear-engine fallback)', CHILD_TIMEOUT, async () => {
    // Matched against a 64-character job name, (a|aa)+b backtracks about 2^44 times on the
    // backtracking engine: it ends only through the fallback. The match is one synchronous
    // call, hence a child that can be killed.
    const job = 'a'.repeat(64);
    const t = fastTopology({ pushgateways: [{ ...(fastTopology()['pushgateways'] as object[])[0], jobs: [{ name: job, metrics: [] }] }] });
    const rules = { groups: [{ name: 'x', rules: [{ alert: 'Slow', expr: 'up{job=~"(a|aa)+b"} > 0' }] }] };
    const r = await checkText(topologyText(t), { 'rules/demo.yml': rules }, [], 'child');
    assertFinished(r, 'label regex');
    assertClean(r, 'label regex');
    assert.ok(r.exitCode === 0 || r.exitCode === 1, `exit ${r.exitCode}:\n${r.stderr}`);
  });
});

describe('input files that are no regular file, or too large: exit 2 at once', () => {
  it('a FIFO is refused without blocking', TIMEOUT, async () => {
    const p = await tempProject({});
    try {
      await promisify(execFile)('mkfifo', [path.join(p.dir, 'promha.yaml')]);
      const r = await inProcess(['check', 'promha.yaml'], p.dir);
      assertClean(r, 'fifo');
      assert.equal(r.exitCode, 2);
      assert.match(r.stderr, /^promha\.yaml:1:1: error cannot read "promha\.yaml": a FIFO \(named pipe\), not a regular file/m);
    } finally {
      await p.cleanup();
    }
  });

  for (const [name, file, message] of [
    ['/dev/zero', '/dev/zero', 'a device, not a regular file'],
    ['a directory', '.', 'a directory, not a regular file'],
  ] as const)
    it(name, CHILD_TIMEOUT, async () => {
      const p = await tempProject({});
      try {
        // As a child, whose own peak memory is read: /dev/zero read into memory would end
        // in a kill or in gigabytes, where the whole CLI needs about a hundred MiB.
        const r = await child(['check', file], p.dir);
        assertFinished(r, name);
        assertClean(r, name);
        assert.equal(r.exitCode, 2);
        assert.ok(r.stderr.includes(message), r.stderr);
        assert.ok(r.peakKiB > 0, `no peak memory reported: ${r.peakKiB}`);
        assert.ok(r.peakKiB < 512 * 1024, `peak ${Math.round(r.peakKiB / 1024)} MiB: read into memory`);
      } finally {
        await p.cleanup();
      }
    });

  it('a topology file over 4 MiB', TIMEOUT, async () => {
    const r = await checkText(`${topologyText()}# ${'x'.repeat(4 * 1024 * 1024)}\n`);
    assertClean(r, 'oversize');
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /^promha\.yaml:1:1: error cannot read "promha\.yaml": larger than 4 MiB\n\s+fix: promha reads input files of at most 4 MiB/m);
  });

  it('a rule file over 4 MiB, located at its rule_files entry', TIMEOUT, async () => {
    const text = topologyText();
    const r = await checkText(text, { 'rules/demo.yml': `# ${'x'.repeat(4 * 1024 * 1024)}\n` });
    assertClean(r, 'oversize rule file');
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, new RegExp(`^promha\\.yaml:${lineOf(text, 'rules/*.yml')}:\\d+: error rule file "rules/demo.yml" cannot be read: larger than 4 MiB`, 'm'));
  });

  it('a rule file that is a FIFO', TIMEOUT, async () => {
    const p = await tempProject({ 'promha.yaml': topologyText() });
    try {
      await mkdir(path.join(p.dir, 'rules'));
      await promisify(execFile)('mkfifo', [path.join(p.dir, 'rules', 'demo.yml')]);
      const r = await inProcess(['check', 'promha.yaml'], p.dir);
      assertClean(r, 'fifo rule file');
      assert.equal(r.exitCode, 2);
      assert.ok(r.stderr.includes('rule file "rules/demo.yml" cannot be read: a FIFO'), r.stderr);
    } finally {
      await p.cleanup();
    }
  });
});

describe('bytes that are no UTF-8: exit 2 at the first of them, never a U+FFFD passed on', () => {
  const utf8 = (text: string) => Buffer.from(text, 'utf8');
  const cases: Array<[name: string, bytes: Buffer, offset: number]> = [
    ['ASCII', utf8('up == 0'), -1],
    ['é, €, 😀 and a byte order mark', utf8('\uFEFFé € 😀'), -1],
    ['Latin-1 é', Buffer.from([0x61, 0xe9, 0x22]), 1],
    ['a lone continuation byte', Buffer.from([0x61, 0x80]), 1],
    ['an overlong /', Buffer.from([0xc0, 0xaf]), 0],
    ['an encoded surrogate', Buffer.from([0x61, 0x62, 0xed, 0xa0, 0x80]), 2],
    ['past U+10FFFF', Buffer.from([0xf4, 0x90, 0x80, 0x80]), 0],
    ['cut off at the end', Buffer.from([0x61, 0xf0, 0x9f, 0x98]), 1],
  ];
  for (const [name, bytes, offset] of cases)
    it(`${name}: ${offset < 0 ? 'UTF-8' : `not from byte ${offset}`}`, () => {
      assert.equal(firstInvalidUtf8(bytes), offset);
      // The same verdict as the decoder that reads input files.
      let decodes = true;
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      } catch {
        decodes = false;
      }
      assert.equal(decodes, offset < 0);
    });

  it('a job name in Latin-1 in the topology, located at the byte', TIMEOUT, async () => {
    const text = topologyText(fastTopology({ pushgateways: [{ ...(fastTopology()['pushgateways'] as object[])[0], jobs: [{ name: 'caf\u00e9', metrics: [] }] }] }));
    const line = lineOf(text, 'café');
    const column = (text.split('\n')[line - 1] ?? '').indexOf('é') + 1;
    const p = await tempProject({ 'rules/demo.yml': FAST_RULES });
    try {
      const bytes = Buffer.from(text.replace('café', 'caf\u00ff'), 'latin1');
      await writeFile(path.join(p.dir, 'promha.yaml'), bytes);
      for (const args of [[], ['--json']]) {
        const r = await inProcess(['check', 'promha.yaml', ...args], p.dir);
        assertClean(r, 'latin-1 topology');
        assert.equal(r.exitCode, 2);
        const message = `cannot read "promha.yaml": not UTF-8: byte 0xFF at line ${line}, column ${column}`;
        if (args.length) assert.ok((JSON.parse(r.stdout) as { problems: Array<{ message: string; location: { line: number; column: number } }> }).problems.some((q) => q.message.startsWith(message) && q.location.line === line && q.location.column === column), r.stdout);
        else assert.match(r.stderr, new RegExp(`^promha\\.yaml:${line}:${column}: error ${message.replace(/[.()]/g, '\\$&')}`, 'm'));
      }
    } finally {
      await p.cleanup();
    }
  });

  it('a rule file in Latin-1, located in the rule file, not rewritten by render', TIMEOUT, async () => {
    const p = await tempProject({ 'promha.yaml': topologyText() });
    try {
      await mkdir(path.join(p.dir, 'rules'));
      await writeFile(path.join(p.dir, 'rules', 'demo.yml'), Buffer.from('groups:\n  - name: g\n    rules:\n      - record: x\n        expr: up{job="caf\u00e9"}\n', 'latin1'));
      for (const command of [['check', 'promha.yaml'], ['render', 'promha.yaml', '--out', 'out']]) {
        const r = await inProcess(command, p.dir);
        assertClean(r, command.join(' '));
        assert.equal(r.exitCode, 2, `${command.join(' ')}: ${r.stderr}${r.stdout}`);
        assert.match(r.stderr, /^rules\/demo\.yml:5:26: error rule file "rules\/demo\.yml" cannot be read: not UTF-8: byte 0xE9 at line 5, column 26 \(byte offset \d+\)\n\s+fix: save the file as UTF-8/m);
      }
    } finally {
      await p.cleanup();
    }
  });
});

describe('rule expressions: what promtool accepts at any length, nesting to a bound, U+FFFD refused', () => {
  const ruleFile = (expr: string) => ({ groups: [{ name: 'g', rules: [{ record: 'x', expr }] }] });
  const chain = Array(3000).fill('up').join(' + ');
  const deep = `${'('.repeat(5000)}up${')'.repeat(5000)}`;
  const cases: Array<[name: string, expr: string, exit: number, message?: string, column?: (line: string) => number]> = [
    ['3,000 terms (exit 70 before)', chain, 0],
    ['600 terms (PH801 "unexpected" before)', Array(600).fill('up').join(' + '), 0],
    [
      '5,000 parentheses: located where the bound is crossed',
      deep,
      1,
      `PH801 rule-files: recording rule x: the expression nests more than ${MAX_NESTING} levels deep`,
      (line) => line.indexOf('(') + MAX_NESTING + 1,
    ],
    ['U+FFFD in a matcher', 'up{job="\uFFFD"}', 1, 'PH801 rule-files: recording rule x: invalid UTF-8 rune', (line) => line.indexOf('\uFFFD') + 1],
  ];
  for (const [name, expr, exit, message, column] of cases)
    it(name, TIMEOUT, async () => {
      const r = await checkText(topologyText(), { 'rules/demo.yml': ruleFile(expr) });
      assertClean(r, name);
      assert.equal(r.exitCode, exit, `${r.stderr}${r.stdout}`.slice(0, 2000));
      assert.doesNotMatch(r.stdout, /PH801/.test(message ?? '') ? /unexpected "/ : /PH801/);
      if (message === undefined || column === undefined) return;
      const text = stringify(ruleFile(expr));
      const line = lineOf(text, 'expr:');
      const located = r.stdout.split('\n').find((l) => l.includes(message));
      assert.ok(located, r.stdout.slice(0, 2000));
      assert.ok(located.startsWith(`rules/demo.yml:${line}:${column(text.split('\n')[line - 1] ?? '')}: error ${message}`), located.slice(0, 300));
    });
});

describe('rules that read each other', () => {
  it('a chain of 5,000 recording rules, each reading the one before (exit 70 before): the alert at its end reads what the first reads', TIMEOUT, async () => {
    const rules = [{ record: 'r0', expr: 'pushed_value' }, ...Array.from({ length: 4999 }, (_, i) => ({ record: `r${i + 1}`, expr: `r${i} + 1` })), { alert: 'A', expr: 'r4999 > 0' }];
    const r = await checkText(topologyText(), { 'rules/demo.yml': { groups: [{ name: 'g', rules }] } });
    assertClean(r, 'record chain');
    assert.ok(r.exitCode === 0 || r.exitCode === 1, `exit ${r.exitCode}: ${r.stderr}`);
    // What the alert reads is followed through the chain, and the chain is named by its ends, not 5,000 names.
    assert.match(r.stdout, /PH601 pushed-keep-firing: alert A reads pushed metrics \(pushgateway1\) through recording rule r4999 → r4998 → r4997 → … → r1 → r0 \(5000 recording rules\) with no keep_firing_for/);
  });
});

describe('test rules: what would make promtool wait or fill memory is refused before it runs (exit 2, located)', () => {
  const group = (over: Record<string, unknown> = {}) => ({
    interval: '1m',
    input_series: [{ series: 'demo_value{job="demo1"}', values: '0x10' }],
    alert_rule_test: [{ eval_time: '5m', alertname: 'DemoHigh', exp_alerts: [] }],
    ...over,
  });
  const testFile = (over: Record<string, unknown> = {}, groupOver: Record<string, unknown> = {}) => stringify({ rule_files: ['../rules/demo.yml'], tests: [group(groupOver)], ...over });
  const cases: Array<[name: string, text: string | Buffer, message: string, where: string]> = [
    ['a rule file that is a device', testFile({ rule_files: ['../rules/demo.yml', '/dev/zero'] }), 'rule file "/dev/zero" cannot be read: a device, not a regular file', '/dev/zero'],
    ['a rule file that is a FIFO', testFile({ rule_files: ['fifo.yml'] }), 'rule file "tests/fifo.yml" cannot be read: a FIFO (named pipe), not a regular file', 'fifo.yml'],
    ['a pattern that matches no file (promtool would test no rule)', testFile({ rule_files: ['../rules/none*.yml'] }), 'rule_files: "../rules/none*.yml" matches no file', 'none*'],
    ['a missing rule file', testFile({ rule_files: ['missing.yml'] }), 'rule file "tests/missing.yml" cannot be read: no such file', 'missing.yml'],
    ['a pattern that is no pattern', testFile({ rule_files: ['../rules/[.yml'] }), 'rule_files: "../rules/[.yml" is not a valid pattern (syntax error in pattern)', '[.yml'],
    [
      'a series of 10^21 samples',
      testFile({}, { input_series: [{ series: 'up', values: '1x999999999999999999999' }] }),
      'values expand to about 1,000,000,000,000,000,000,000 samples; promha runs series of at most 1,000,000 (promtool would fill memory)',
      '1x999',
    ],
    ['a native histogram repeated 10^12 times', testFile({}, { input_series: [{ series: 'h', values: '{{count:1}}x999999999999' }] }), 'values expand to 1,000,000,000,000 samples', '{{count'],
    [
      '11 series of 10^6 samples',
      testFile({}, { input_series: Array.from({ length: 11 }, (_, i) => ({ series: `up{i="${i}"}`, values: '1x999999' })) }),
      'the input series hold 11,000,000 samples in all; promha runs test groups of at most 10,000,000',
      'i="0"',
    ],
    [
      'an eval_time 10^6 evaluation steps away',
      testFile({ evaluation_interval: '1s' }, { alert_rule_test: [{ eval_time: '300h', alertname: 'DemoHigh', exp_alerts: [] }] }),
      'eval_time 300h is 1,080,000 evaluation_interval steps of 1s; promha runs at most 100,000',
      '300h',
    ],
    ['a test file in Latin-1', Buffer.from(`${testFile()}# caf\u00e9\n`, 'latin1'), 'test file "tests/t_test.yml": not UTF-8: byte 0xE9', '# caf'],
  ];
  for (const [name, text, message, where] of cases)
    it(name, TIMEOUT, async () => {
      const p = await tempProject({ 'promha.yaml': topologyText(), 'rules/demo.yml': FAST_RULES });
      try {
        await mkdir(path.join(p.dir, 'tests'));
        await promisify(execFile)('mkfifo', [path.join(p.dir, 'tests', 'fifo.yml')]);
        await writeFile(path.join(p.dir, 'tests', 't_test.yml'), text);
        const r = await inProcess(['test', 'rules', 'tests/t_test.yml', '--release', 'bookworm'], p.dir);
        assertClean(r, name);
        assert.equal(r.exitCode, 2, `${r.stderr}${r.stdout}`);
        const located = r.stderr.split('\n').find((l) => l.includes(message));
        assert.ok(located, r.stderr);
        const lines = text.toString('latin1').split('\n');
        const line = lines.findIndex((l) => l.includes(where)) + 1;
        assert.ok(located.startsWith(`tests/t_test.yml:${line}:`), `${located}: not at line ${line}`);
      } finally {
        await p.cleanup();
      }
    });
});

describe('test rules output: user text escaped, a condition not run never a pass', () => {
  const report = (over: Partial<TestRulesReport>): TestRulesReport => ({
    release: 'sid',
    promtool: { path: '/usr/bin/promtool', version: '3.5.3' },
    pushGap: '1m4s',
    files: [],
    failed: 0,
    changed: 0,
    notRun: 0,
    ...over,
  });
  const merged = { kind: 'merged-copies', title: 'merged scraper copies' } as const;
  const gap = { kind: 'push-gap', title: 'a push gap of 1m4s ending at 8m' } as const;
  const cases: Array<[name: string, r: TestRulesReport, lines: RegExp[], exit: number]> = [
    [
      'every condition run and holding: exit 0',
      report({ files: [{ file: 't.yml', groups: [{ group: 'g', asWritten: { outcome: 'pass' }, conditions: [{ condition: merged, outcome: 'pass' }] }] }] }),
      [/^ {2}pass merged scraper copies$/m, /^1 test group\(s\): every outcome holds under the HA conditions$/m],
      0,
    ],
    [
      'a condition not run: listed with the reason, exit 1, never "every outcome holds"',
      report({
        notRun: 2,
        files: [
          {
            file: 't.yml',
            groups: [
              {
                group: 'hist',
                asWritten: { outcome: 'pass' },
                conditions: [
                  { condition: merged, outcome: 'not-run', detail: 'h: native histogram samples ({{…}}): promha does not rewrite them' },
                  { condition: gap, outcome: 'not-run', detail: 'promtool did not finish within 120 s and was stopped' },
                ],
              },
            ],
          },
        ],
      }),
      [
        /^ {2}NOT RUN merged scraper copies\n {6}h: native histogram samples/m,
        /^ {2}NOT RUN a push gap of 1m4s ending at 8m\n {6}promtool did not finish within 120 s/m,
        /^1 test group\(s\): every outcome tested holds under the HA conditions; 2 condition\(s\) NOT RUN, so their outcome is unknown$/m,
      ],
      1,
    ],
    [
      'ANSI escapes and other controls in a group name, a file name and promtool words',
      report({ failed: 1, files: [{ file: 'x\u001b[2J.yml', groups: [{ group: 'evil \u001b[31mred\u001b[0m\r\u0007\u202e', asWritten: { outcome: 'fail', detail: 'alertname: A, \u001b]0;title\u0007\ngot: []' }, conditions: [] }] }] }),
      [/^x\\x1b\[2J\.yml: evil \\x1b\[31mred\\x1b\[0m\\x0d\\x07\\u202e$/m, /^ {6}alertname: A, \\x1b\]0;title\\x07\n {6}got: \[\]$/m],
      1,
    ],
  ];
  for (const [name, r, lines, exit] of cases)
    it(name, () => {
      const text = formatTestRules(r, plain);
      for (const line of lines) assert.match(text, line);
      // eslint-disable-next-line no-control-regex
      assert.doesNotMatch(text, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/, 'no raw control character');
      if (exit === 0) testRulesExit(r);
      else assert.throws(() => testRulesExit(r), (e: unknown) => e instanceof ExitError && e.code === exit);
    });

  it('printable: one line, every control escaped, the rest as it is', () => {
    assert.equal(printable('a\tb\nc\u001b[0m é 😀 \u2066'), 'a\\x09b\\x0ac\\x1b[0m é 😀 \\u2066');
  });
});

describe('durations beyond the range of the real binaries', () => {
  // promtool check config: 106751d and 9223372036854ms pass, 106752d and 9223372036855ms are "duration out of range".
  for (const [text, ok] of [
    ['106751d', true],
    ['106752d', false],
    ['292y', true],
    ['293y', false],
    ['9223372036854ms', true],
    ['9223372036855ms', false],
    [`${'9'.repeat(400)}s`, false],
  ] as const)
    it(`${text.length > 20 ? `${text.length}-digit` : text}: ${ok ? 'accepted' : 'out of range'}`, () => {
      assert.equal(Duration.tryParse(text) !== undefined, ok);
      if (!ok) assert.match(Duration.problem(text) ?? '', /^out of range/);
    });
  it('keeps its other messages', () => {
    assert.match(Duration.problem('30m1h') ?? '', /^units must go/);
    assert.match(Duration.problem('soon') ?? '', /^not a duration/);
    assert.equal(Duration.problem('1h30m'), undefined);
  });
});

describe('metric name patterns', () => {
  for (const [pattern, problem] of [
    ['pushed_value', undefined],
    ['job_[a-z]+_total', undefined],
    ['(foo|bar)+_total', undefined],
    ['[(]+x', undefined],
    ['\\(a+\\)+', undefined],
    ['([a-z_]+)+_total', /^nested quantifiers/],
    ['(?:[a-z_]+)*_total', /^nested quantifiers/],
    ['(.*a){20}', /^nested quantifiers/],
    ['((a)+b)+', /^nested quantifiers/],
    ['a{1001}', /repetition count above 1000/],
    ['x(?=y)', /not RE2 syntax/],
    ['(\\w+)\\1', /not RE2 syntax/],
    ['a(', /^not a regular expression: Unterminated group/],
    ['a'.repeat(257), /longer than 256/],
  ] as const)
    it(pattern.length > 40 ? `${pattern.length} characters` : pattern, () => {
      const p = metricPatternProblem(pattern);
      if (problem === undefined) assert.equal(p, undefined);
      else assert.match(p ?? '', problem);
    });
});

describe('names Kubernetes refuses', () => {
  const longSet = 'p'.repeat(63);
  const t = fastTopology({ pushgateways: [{ ...(fastTopology()['pushgateways'] as object[])[0], name: longSet }] });

  it('check warns (PH106), the hosts target is fine', TIMEOUT, async () => {
    const r = await checkText(topologyText(t));
    assert.equal(r.exitCode, 0, r.stdout);
    assert.match(r.stdout, new RegExp(`^promha\\.yaml:\\d+:\\d+: warning PH106 kubernetes-names: pushgateway set "${longSet}" is 63 characters long`, 'm'));
  });

  it('render --target kubernetes refuses them, located (exit 2, not 70)', TIMEOUT, async () => {
    const text = topologyText(t);
    const p = await tempProject({ 'promha.yaml': text, 'rules/demo.yml': FAST_RULES });
    try {
      const r = await inProcess(['render', 'promha.yaml', '--target', 'kubernetes', '--out', 'out'], p.dir);
      assertClean(r, 'kubernetes names');
      assert.equal(r.exitCode, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`^promha\\.yaml:${lineOf(text, longSet)}:\\d+: error pushgateway set "${longSet}" .* VIP Service`, 'm'));
      assert.match(r.stderr, /fix: shorten the set's name to at most 59 characters/);
    } finally {
      await p.cleanup();
    }
  });
});

describe('expected failures of commands: exit 1 or 2, JSON under --json', () => {
  it('schema --out into a missing directory', TIMEOUT, async () => {
    const p = await tempProject({});
    try {
      const r = await inProcess(['schema', '--out', 'missing/promha.schema.json'], p.dir);
      assertClean(r, 'schema --out');
      assert.equal(r.exitCode, 2);
      assert.match(r.stderr, /cannot write missing\/promha\.schema\.json: .*\[ENOENT\]\n\s+fix: create missing\/ first/);
    } finally {
      await p.cleanup();
    }
  });

  it('fault against a demo exporter that does not listen: exit 1, the reason, no "fetch failed"', TIMEOUT, async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    await new Promise((resolve) => server.close(resolve));
    const state = { version: 1, topologyFile: 'promha.yaml', mode: 'loopback', startedAt: '', nodes: [{ name: 'exporter-demo1', role: 'demo', set: 'demo1', backup: false, topologyAddress: '', localAddress: `127.0.0.1:${port}`, processes: [] }] };
    const p = await tempProject({ 'state/state.json': JSON.stringify(state) });
    try {
      for (const json of [false, true]) {
        const r = await inProcess(['fault', 'exporter', 'demo1', 'down', '--state-dir', 'state', ...(json ? ['--json'] : [])], p.dir);
        assertClean(r, 'fault');
        assert.equal(r.exitCode, json ? 2 : 1, `${r.stderr}${r.stdout}`);
        // fault has no --json: the unknown option is a usage error, printed as JSON all the same.
        if (json) {
          assert.equal((JSON.parse(r.stdout) as { error: { exitCode: number } }).error.exitCode, 2);
          continue;
        }
        assert.match(r.stderr, new RegExp(`exporter-demo1: http://127\\.0\\.0\\.1:${port}/-/fault: connection refused`));
        assert.doesNotMatch(r.stderr, /fetch failed/);
      }
    } finally {
      await p.cleanup();
    }
  });

  it('stop or start of a demo server inside the workload process: exit 2 with the fix, nothing stopped', TIMEOUT, async () => {
    const workload = { name: 'demo-workload', role: 'demo', set: 'workload', backup: false, topologyAddress: '', localAddress: '', processes: [{ name: 'demo-workload', pid: process.pid, binary: '/nonexistent/node', args: [], log: 'x.log' }] };
    const served = (name: string, set: string) => ({ name, role: 'demo', set, backup: false, topologyAddress: '', localAddress: '127.0.0.1:9', processes: [], servedBy: 'demo-workload' });
    const state = { version: 1, topologyFile: 'promha.yaml', mode: 'loopback', startedAt: '', nodes: [workload, served('exporter-demo1', 'exporter'), served('webhook', 'webhook')] };
    const p = await tempProject({ 'state/state.json': JSON.stringify(state) });
    try {
      for (const command of ['stop', 'start']) {
        const r = await inProcess([command, 'exporter-demo1', '--state-dir', 'state'], p.dir);
        assertClean(r, command);
        assert.equal(r.exitCode, 2, r.stderr);
        assert.match(r.stderr, /exporter-demo1 runs inside the demo workload process "demo-workload"[^\n]*\n\s+fix: `promha fault exporter demo1 down` makes it fail alone/);
      }
      const r = await inProcess(['stop', 'webhook', '--state-dir', 'state'], p.dir);
      assert.equal(r.exitCode, 2);
      assert.match(r.stderr, /fix: stop or start "demo-workload"/);
    } finally {
      await p.cleanup();
    }
  });

  for (const [name, args, code] of [
    ['check of a missing file', ['check', 'nothing.yaml', '--json'], 2],
    ['an unknown option', ['check', '--json', '--bogus'], 2],
    ['status with nothing running', ['status', '--json', '--state-dir', 'none'], 1],
    ['render, which has no --json', ['render', 'promha.yaml', '--out', 'out', '--json'], 2],
  ] as const)
    it(`--json: ${name} prints JSON on stdout (exit ${code})`, TIMEOUT, async () => {
      const p = await tempProject({});
      try {
        const r = await inProcess([...args], p.dir);
        assertClean(r, name);
        assert.equal(r.exitCode, code, `${r.stderr}${r.stdout}`);
        const doc = JSON.parse(r.stdout) as { problems?: unknown[]; error?: { exitCode: number; message: string } };
        assert.ok(Array.isArray(doc.problems) || (doc.error?.exitCode === code && doc.error.message !== ''), r.stdout);
      } finally {
        await p.cleanup();
      }
    });

  it('maps ProbeError, fetch failures and file errors; leaves defects alone', () => {
    assert.equal(expectedFailure(new ProbeError('GET http://127.0.0.1:1/: connection refused', { url: 'http://127.0.0.1:1/' }))?.code, 1);
    const refused = new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    assert.match(expectedFailure(refused)?.message ?? '', /connection refused/);
    assert.equal(expectedFailure(refused)?.code, 1);
    const enoent = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT', path: '/x/state.json' });
    assert.equal(expectedFailure(enoent)?.code, 2);
    assert.match(expectedFailure(enoent)?.message ?? '', /\/x\/state\.json: no such file or directory/);
    assert.equal(expectedFailure(new RangeError('invalid duration')), undefined);
    assert.equal(expectedFailure(new TypeError('x is undefined')), undefined);
  });
});

describe('main does not run at import', () => {
  it('importing src/cli/main.ts neither parses argv nor sets an exit code', async () => {
    const before = process.exitCode;
    await import('../src/cli/main.ts');
    assert.equal(process.exitCode, before);
  });
});
