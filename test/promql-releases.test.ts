import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { promqlDiagnostics } from '../src/promql/analyze.ts';
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

/** The expressions each release's promtool refuses: one rule group per expression, one run. */
async function refusedByPromtool(release: ReleaseName, dir: string): Promise<Set<string>> {
  const file = path.join(dir, `${release}.yml`);
  const groups = EXPRESSIONS.map((expr, i) => ({ name: `g${i}`, rules: [{ record: 'r', expr }] }));
  await writeFile(file, stringify({ groups }));
  const r = await execa(await releaseBinary(release, 'promtool'), ['check', 'rules', file], { reject: false, all: true });
  const refused = new Set([...(r.all ?? '').matchAll(/group "g(\d+)"/g)].map((m) => EXPRESSIONS[Number(m[1])] ?? ''));
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
      const disagreements = EXPRESSIONS.flatMap((expr) => {
        const errors = promqlDiagnostics(expr, RELEASES[release].promql).filter((d) => d.severity === 'error');
        const promtoolRefuses = refused.get(release)?.has(expr) ?? false;
        return promtoolRefuses === errors.length > 0 ? [] : [`${expr}: promtool ${promtoolRefuses ? 'refuses' : 'accepts'}, check says ${errors[0]?.message ?? 'ok'}`];
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
