import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { promqlDiagnostics } from '../src/promql/analyze.ts';
import { MAX_NESTING } from '../src/promql/shape.ts';
import { RELEASE_NAMES, RELEASES, type ReleaseName } from '../src/release/release.ts';
import { releaseBinary } from './helpers.ts';

/*
 * `check` and each release's `promtool check rules` must agree on every expression of
 * this table: where the releases' PromQL differs (functions added, renamed or made
 * experimental, numbers as durations, quoted names, zero durations), check follows the
 * release it checks for. The verdicts come from the real tools, never from this file.
 */
const EXPRESSIONS: readonly string[] = [
  "-x offset 5m",
  "a + b offset 5m",
  "a + fill(0) b",
  "absent_over_time(x[5m])",
  "clamp(x, 0, 1)",
  "day_of_week()",
  "deriv(x[5m])",
  "double_exponential_smoothing(x[1h], 0.5, 0.5)",
  "double_exponential_smoothing(x[1h], 0.5, 0.5) > 0",
  "first_over_time(x[5m])",
  "histogram_avg(x)",
  "histogram_count(x)",
  "histogram_stddev(x)",
  "histogram_stdvar(x)",
  "holt_winters(x[1h], 0.5, 0.5)",
  "info(x)",
  "label_join(x, \"a\", \",\", \"b\")",
  "limit_ratio(0.5, x)",
  "limitk(1, x)",
  "limitk(1, x) > 0",
  "mad_over_time(x[5m])",
  "present_over_time(x[5m])",
  "quantile_over_time(0.5, x[5m])",
  "rate(x[5m*2])",
  "rate(x[5m] @ end())",
  "rate(x[5m]) offset 5m",
  "sort_by_label(x, \"a\")",
  "sort_by_label_desc(x, \"a\")",
  "ts_of_last_over_time(x[5m])",
  "ts_of_max_over_time(x[5m])",
  "ts_of_min_over_time(x[5m])",
  "up",
  "x > -5m",
  "x > 5m",
  "x @ 100",
  "x anchored",
  "x offset (1h-5m)",
  "x offset --5m",
  "x offset -1h",
  "x offset -300",
  "x offset 0",
  "x offset 0s",
  "x offset 1.5",
  "x offset 1h-5m",
  "x offset 1m [5m]",
  "x offset 300",
  "x[(5m)]",
  "x[-5]",
  "x[0]",
  "x[0s]",
  "x[0x10]",
  "x[1.5]",
  "x[1d1h]",
  "x[1e3]",
  "x[1h:5m+1m]",
  "x[1h:step()]",
  "x[1m30s]",
  "x[1m:0.5]",
  "x[1m] offset 1m",
  "x[5]",
  "x[5m:-1m]",
  "x[5m:0]",
  "x[5m:0s]",
  "x[5m:1]",
  "x[5m:1m] offset 1m",
  "x[5m:]",
  "x[5m] smoothed",
  "x[5ms]",
  "x[90s]",
  "x[Inf]",
  "x{\"my.label\"=\"a\"}",
  "{\"my.metric\", job=\"a\"}",
  "{\"my.metric\"}"
];

const chain = (n: number, op: string, term: (i: number) => string) => Array.from({ length: n }, (_, i) => term(i)).join(op);

/**
 * Long expressions and U+FFFD, by name (the expressions are too long to print). The
 * parser promha uses stopped at about 400 terms of a chain; Prometheus has no limit.
 */
const GENERATED: ReadonlyArray<[name: string, expr: string]> = [
  ['600 terms', chain(600, ' + ', () => 'up')],
  ['3,000 terms', chain(3000, ' + ', () => 'up')],
  ['2,000 terms of every operator and modifier', chain(2000, ' * on(a) group_left(b) -', (i) => `rate(x${i}[5m] offset 1m) > bool y ^ 2 or z unless w atan2 v`)],
  ['a chain of 2,000 with a function unknown to all in it', `${chain(1000, ' + ', () => 'up')} + foo_bar(x) + ${chain(1000, ' + ', () => 'up')}`],
  ['a chain of 2,000 with a 3.5 function in it', `${chain(1000, ' + ', () => 'up')} + histogram_avg(x) + ${chain(1000, ' + ', () => 'up')}`],
  ['256 parentheses', `${'('.repeat(256)}up${')'.repeat(256)}`],
  ['256 calls', `${'abs('.repeat(256)}up${')'.repeat(256)}`],
  ['U+FFFD in a string', 'up{job="\uFFFD"}'],
  ['U+FFFD in a raw string', 'label_replace(up, "a", `\uFFFD`, "b", "c")'],
  ['U+FFFD in a comment', 'up # \uFFFD'],
  ['the escape \\uFFFD', 'up{job="\\uFFFD"}'],
];
const ALL: ReadonlyArray<[name: string, expr: string]> = [...EXPRESSIONS.map((e): [string, string] => [e, e]), ...GENERATED];

/** The expressions each release's promtool refuses (by name): one rule group per expression, one run. */
async function refusedByPromtool(release: ReleaseName, dir: string): Promise<Set<string>> {
  const file = path.join(dir, `${release}.yml`);
  const groups = ALL.map(([, expr], i) => ({ name: `g${i}`, rules: [{ record: 'r', expr }] }));
  await writeFile(file, stringify({ groups }, { lineWidth: 0 }));
  const r = await execa(await releaseBinary(release, 'promtool'), ['check', 'rules', file], { reject: false, all: true });
  const refused = new Set([...(r.all ?? '').matchAll(/group "g(\d+)"/g)].map((m) => ALL[Number(m[1])]?.[0] ?? ''));
  assert.equal(r.exitCode === 0, refused.size === 0, r.all);
  return refused;
}

describe("check's PromQL agrees with every release's promtool", () => {
  let dir: string;
  const refused = new Map<ReleaseName, Set<string>>();
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'promha-promql-'));
    for (const release of RELEASE_NAMES) refused.set(release, await refusedByPromtool(release, dir));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  for (const release of RELEASE_NAMES)
    it(`${release} (Prometheus ${RELEASES[release].promql.version})`, () => {
      const disagreements = ALL.flatMap(([name, expr]) => {
        const errors = promqlDiagnostics(expr, RELEASES[release].promql).filter((d) => d.severity === 'error');
        const promtoolRefuses = refused.get(release)?.has(name) ?? false;
        return promtoolRefuses === errors.length > 0 ? [] : [`${name}: promtool ${promtoolRefuses ? 'refuses' : 'accepts'}, check says ${errors[0]?.message ?? 'ok'}`];
      });
      assert.deepEqual(disagreements, []);
    });

  it('the table holds expressions on which the releases differ, and ones all refuse or all accept', () => {
    const verdicts = (expr: string) => RELEASE_NAMES.map((r) => refused.get(r)?.has(expr)).join();
    const differing = EXPRESSIONS.filter((e) => new Set(RELEASE_NAMES.map((r) => refused.get(r)?.has(e))).size > 1);
    assert.ok(differing.length >= 20, `${differing.length} differ: ${differing.map((e) => `${e} ${verdicts(e)}`).join('; ')}`);
    assert.ok(EXPRESSIONS.some((e) => RELEASE_NAMES.every((r) => refused.get(r)?.has(e))));
    assert.ok(EXPRESSIONS.some((e) => RELEASE_NAMES.every((r) => !refused.get(r)?.has(e))));
  });
});

describe('past the nesting bound: promtool accepts, check refuses with a located error, quickly', () => {
  // Measured: promtool checks 5,000 nested parentheses in 0.2 s and 100,000 in 20 s; promha stops at MAX_NESTING.
  it('5,000 nested parentheses', async () => {
    const expr = `${'('.repeat(5000)}up${')'.repeat(5000)}`;
    const dir = await mkdtemp(path.join(os.tmpdir(), 'promha-promql-deep-'));
    try {
      const file = path.join(dir, 'deep.yml');
      await writeFile(file, stringify({ groups: [{ name: 'g', rules: [{ record: 'r', expr }] }] }, { lineWidth: 0 }));
      for (const release of RELEASE_NAMES) {
        const r = await execa(await releaseBinary(release, 'promtool'), ['check', 'rules', file], { reject: false, all: true });
        assert.equal(r.exitCode, 0, `${release}: ${r.all}`);
        const [d, ...more] = promqlDiagnostics(expr, RELEASES[release].promql);
        assert.deepEqual(more, []);
        assert.match(d?.message ?? '', new RegExp(`nests more than ${MAX_NESTING} levels deep`));
        assert.equal(d?.from, MAX_NESTING);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
