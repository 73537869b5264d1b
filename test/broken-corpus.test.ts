import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { inProcess, promha } from './helpers.ts';

/*
 * The corpus of broken topology files (test/fixtures/broken/). Each file differs from
 * a valid topology (fastTopology() written as YAML) by one problem and states what
 * `promha check` must say about it in its leading comments:
 *
 *   # expect-exit: 2                        1 (check errors) or 2 (unusable input)
 *   # expect-message: unknown key "adress"  one or more; all on the located line
 *   # expect-hint: did you mean "address"?  optional; on the `fix:` line that follows
 *   # expect-no-message: units must go      optional; must appear nowhere in the output
 *   # expect-line: 24                       the line in this same file, or
 *   # expect-location: rules/NAME.yml:5     a place in a rule file (relative to the fixtures)
 *
 * Every file must exit with its code, print the message at its location followed by a
 * fix, and never show a stack trace. The corpus runs in-process (main(argv, io)); a few
 * files also run through bin/promha.js, for the process boundary.
 */

const FIXTURES = path.join(import.meta.dirname, 'fixtures', 'broken');

interface Expectation {
  readonly file: string;
  readonly exit: number;
  readonly messages: readonly string[];
  readonly hints: readonly string[];
  readonly absent: readonly string[];
  /** `file:line`, as the output starts a located message. */
  readonly location: string;
}

function expectation(file: string): Expectation {
  const text = readFileSync(path.join(FIXTURES, file), 'utf8');
  const fields = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('#')) break;
    const m = /^#\s*expect-([a-z-]+):\s?(.*)$/.exec(line);
    if (m) fields.set(m[1] as string, [...(fields.get(m[1] as string) ?? []), (m[2] as string).trimEnd()]);
  }
  const one = (key: string) => {
    const v = fields.get(key);
    return v?.length === 1 ? v[0] : undefined;
  };
  const line = one('line');
  const location = one('location');
  const exit = Number(one('exit'));
  assert.ok(exit === 1 || exit === 2, `${file}: expect-exit must be 1 or 2`);
  assert.ok((fields.get('message') ?? []).length > 0, `${file}: needs at least one expect-message`);
  assert.ok((line === undefined) !== (location === undefined), `${file}: needs exactly one expect-line or expect-location`);
  if (line !== undefined) assert.match(line, /^[1-9]\d*$/, `${file}: expect-line must be a line number`);
  if (location !== undefined) assert.match(location, /^\S+:[1-9]\d*$/, `${file}: expect-location must be FILE:LINE`);
  return {
    file,
    exit,
    messages: fields.get('message') ?? [],
    hints: fields.get('hint') ?? [],
    absent: fields.get('no-message') ?? [],
    location: location ?? `${file}:${line}`,
  };
}

const files = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

function assertNoStackTrace(output: string, what: string): void {
  assert.doesNotMatch(output, /^\s+at /m, `${what}: stack trace in the output:\n${output}`);
  assert.ok(!output.includes('node:internal'), `${what}: node internals in the output:\n${output}`);
  assert.ok(!/unexpected error/i.test(output), `${what}: unexpected error:\n${output}`);
}

describe('broken topology corpus', () => {
  it('has at least 36 fixtures, each with a well-formed expectation', () => {
    assert.ok(files.length >= 36, `only ${files.length} fixtures in ${FIXTURES}`);
    for (const f of files) expectation(f);
  });

  describe('promha check', () => {
    for (const file of files)
      it(file, async () => {
        const e = expectation(file);
        const r = await inProcess(['check', file], FIXTURES);
        const output = `${r.stdout}\n${r.stderr}`;
        assertNoStackTrace(output, file);
        assert.equal(r.exitCode, e.exit, `${file}: exit code ${r.exitCode}, expected ${e.exit}; output:\n${output}`);
        assert.ok(output.includes(e.messages[0] as string), `${file}: no "${e.messages[0]}" in the output:\n${output}`);
        assert.ok(output.includes(`${e.location}:`), `${file}: nothing located at ${e.location}; output:\n${output}`);
        const lines = output.split('\n');
        const at = lines.findIndex((l) => l.startsWith(`${e.location}:`) && e.messages.every((m) => l.includes(m)));
        assert.ok(at >= 0, `${file}: no line at ${e.location} says ${e.messages.map((m) => `"${m}"`).join(' and ')}; output:\n${output}`);
        const located = lines[at] as string;
        assert.match(located, new RegExp(`^${e.location.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+: error `), `${file}: not an error: ${located}`);
        const fix = lines[at + 1] ?? '';
        assert.match(fix, /^\s+fix: \S/, `${file}: no fix after "${located}"; output:\n${output}`);
        for (const h of e.hints) assert.ok(fix.includes(h), `${file}: the fix "${fix.trim()}" does not say "${h}"`);
        for (const a of e.absent) assert.ok(!output.includes(a), `${file}: the output should not say "${a}":\n${output}`);
      });
  });

  describe('promha check --json', () => {
    const isLocation = (l: unknown): boolean => {
      const loc = l as { file?: unknown; line?: unknown; column?: unknown } | null;
      return (
        !!loc &&
        typeof loc.file === 'string' &&
        loc.file !== '' &&
        Number.isInteger(loc.line) &&
        (loc.line as number) >= 1 &&
        Number.isInteger(loc.column) &&
        (loc.column as number) >= 1
      );
    };
    for (const file of files)
      it(file, async () => {
        const e = expectation(file);
        const r = await inProcess(['check', file, '--json'], FIXTURES);
        assertNoStackTrace(`${r.stdout}\n${r.stderr}`, file);
        assert.equal(r.exitCode, e.exit, `${file} --json: exit code ${r.exitCode}, expected ${e.exit}:\n${r.stdout}\n${r.stderr}`);
        let json: unknown;
        assert.doesNotThrow(() => (json = JSON.parse(r.stdout)), `${file} --json: stdout is not JSON:\n${r.stdout}`);
        const [file0, line0] = [e.location.slice(0, e.location.lastIndexOf(':')), Number(e.location.slice(e.location.lastIndexOf(':') + 1))];
        if (e.exit === 1) {
          const findings = (json as { findings?: unknown }).findings;
          assert.ok(Array.isArray(findings) && findings.length > 0, `${file} --json: no findings:\n${r.stdout}`);
          for (const f of findings as Array<Record<string, unknown>>) {
            assert.match(String(f['code']), /^PH\d{3}$/, `${file} --json: bad code in ${JSON.stringify(f)}`);
            assert.ok(f['severity'] === 'error' || f['severity'] === 'warning', `${file} --json: bad severity in ${JSON.stringify(f)}`);
            assert.ok(typeof f['message'] === 'string' && f['message'] !== '', `${file} --json: no message in ${JSON.stringify(f)}`);
            assert.ok(isLocation(f['location']), `${file} --json: bad location in ${JSON.stringify(f)}`);
            assert.ok(typeof f['hint'] === 'string' && f['hint'] !== '', `${file} --json: no hint in ${JSON.stringify(f)}`);
          }
          // The expected finding is there, at its place (the text form prefixes "PHxxx rule: ").
          const message = (e.messages[0] as string).replace(/^PH\d{3} [a-z-]+: /, '');
          assert.ok(
            (findings as Array<{ message: string; severity: string; location: { file: string; line: number } }>).some(
              (f) => f.severity === 'error' && f.message.includes(message) && f.location.file === file0 && f.location.line === line0,
            ),
            `${file} --json: no error "${message}" at ${e.location}:\n${r.stdout}`,
          );
        } else {
          const problems = (json as { problems?: unknown }).problems;
          assert.ok(Array.isArray(problems) && problems.length > 0, `${file} --json: no problems:\n${r.stdout}`);
          for (const p of problems as Array<Record<string, unknown>>) {
            assert.ok(typeof p['message'] === 'string' && p['message'] !== '', `${file} --json: no message in ${JSON.stringify(p)}`);
            assert.ok(isLocation(p['location']), `${file} --json: bad location in ${JSON.stringify(p)}`);
            assert.ok(typeof p['hint'] === 'string' && p['hint'] !== '', `${file} --json: no hint in ${JSON.stringify(p)}`);
          }
          assert.ok(
            (problems as Array<{ message: string; location: { file: string; line: number } }>).some(
              (p) => p.message.includes(e.messages[0] as string) && p.location.file === file0 && p.location.line === line0,
            ),
            `${file} --json: no problem "${e.messages[0]}" at ${e.location}:\n${r.stdout}`,
          );
        }
      });
  });

  describe('bin/promha.js (the process boundary)', () => {
    // One file per exit code, in both output modes: the exit code, stderr, no stack trace.
    const sample = [files.find((f) => expectation(f).exit === 1), files.find((f) => expectation(f).exit === 2)] as string[];
    for (const file of sample)
      it(file, async () => {
        const e = expectation(file);
        const [text, json] = await Promise.all([promha(['check', file], FIXTURES), promha(['check', file, '--json'], FIXTURES)]);
        for (const r of [text, json]) {
          assertNoStackTrace(`${r.stdout}\n${r.stderr}`, file);
          assert.equal(r.exitCode, e.exit, `${file}: exit code ${r.exitCode}, expected ${e.exit}:\n${r.stdout}\n${r.stderr}`);
        }
        assert.ok(`${text.stdout}\n${text.stderr}`.includes(`${e.location}:`), `${file}: nothing located at ${e.location}:\n${text.stderr}`);
        if (e.exit === 2) assert.ok(text.stderr.includes(e.messages[0] as string), `${file}: unusable input is reported on stderr:\n${text.stderr}`);
        assert.doesNotThrow(() => JSON.parse(json.stdout), `${file} --json: stdout is not JSON:\n${json.stdout}`);
      });
  });
});
