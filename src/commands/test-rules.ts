/**
 * `promha test rules FILE…`: the operator's promtool rule tests, run by the release's own
 * promtool as written and under each HA condition of the design (src/rules/ha-conditions.ts).
 * A test that passes as written but fails under a condition is an alert that behaves
 * differently at the federators than in its test.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { ExitError, ValidationError, type Problem } from '../errors.ts';
import { vipFailoverTime } from '../plan/derived.ts';
import { chooseRelease } from '../release/choose.ts';
import { releasePromtool } from '../release/promtool.ts';
import type { ReleaseName } from '../release/release.ts';
import { CONDITION_FIX, haVariants, pushedSeriesMatcher, type Condition, type HaParameters, type TestGroup } from '../rules/ha-conditions.ts';
import { readInputFile, UnreadableInput } from '../topology/input-file.ts';
import { loadTopology } from '../topology/load.ts';
import type { TopologySpec } from '../topology/schema.ts';
import { YamlSource } from '../topology/yaml-source.ts';
import { Duration } from '../duration.ts';
import type { Paint } from '../cli/paint.ts';

export type Outcome = 'pass' | 'fail' | 'changed' | 'skipped';

export interface ConditionResult {
  readonly condition: Condition;
  /** pass: same as written; changed: passes as written, fails here; skipped: does not apply. */
  readonly outcome: Outcome;
  /** promtool's words about the failure, or why the condition was skipped. */
  readonly detail?: string;
  readonly fix?: string;
}

export interface GroupResult {
  /** The group's `name`, else `tests[i]`. */
  readonly group: string;
  readonly asWritten: { readonly outcome: 'pass' | 'fail'; readonly detail?: string };
  readonly conditions: readonly ConditionResult[];
}

export interface FileResult {
  readonly file: string;
  readonly groups: readonly GroupResult[];
}

export interface TestRulesReport {
  readonly release: string;
  readonly promtool: { readonly path: string; readonly version: string };
  /** How long pushed series are gone after a gateway failover, per the topology. */
  readonly pushGap: string;
  readonly files: readonly FileResult[];
  /** Tests that fail as written, and tests whose outcome a condition changes. */
  readonly failed: number;
  readonly changed: number;
}

/** The HA parameters of a topology: which series are pushed, and the longest failover gap of its gateway sets. */
export function haParameters(spec: TopologySpec): HaParameters {
  const gaps = spec.pushgateways.map((s) => spec.intervals.push.plus(spec.intervals.federate).plus(vipFailoverTime(s.vip.advert_int)));
  return { pushed: pushedSeriesMatcher(spec.pushgateways.flatMap((s) => s.jobs)), pushGap: Duration.max(...gaps) };
}

interface TestFile {
  readonly file: string;
  readonly data: { readonly rule_files?: unknown; readonly evaluation_interval?: string; readonly tests: readonly TestGroup[]; readonly [k: string]: unknown };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads a promtool test file, with located problems for what promha needs of it. */
export async function readTestFile(file: string): Promise<TestFile> {
  let text: string;
  try {
    text = await readInputFile(file);
  } catch (e) {
    if (e instanceof UnreadableInput) throw new ValidationError([{ location: { file, line: 1, column: 1 }, message: `test file "${file}": ${e.message}`, hint: e.hint }]);
    throw e;
  }
  const { source, problems } = YamlSource.parse(file, text);
  if (problems.length > 0) throw new ValidationError(problems);
  const data = source.toJS();
  const found: Problem[] = [];
  const problem = (p: ReadonlyArray<string | number>, message: string, hint: string) => void found.push({ location: source.locate(p), message, hint });
  if (!isRecord(data) || !Array.isArray(data['tests'])) {
    problem(isRecord(data) ? ['tests'] : [], 'a promtool test file needs `tests:`, a list of test groups', 'see `promtool test rules --help` and the Prometheus docs "Unit testing for rules"');
    throw new ValidationError(found);
  }
  for (const [i, g] of (data['tests'] as unknown[]).entries()) {
    if (!isRecord(g)) {
      problem(['tests', i], 'a test group is a mapping', 'give it input_series and alert_rule_test or promql_expr_test');
      continue;
    }
    const series = g['input_series'] ?? [];
    if (!Array.isArray(series)) {
      problem(['tests', i, 'input_series'], 'input_series is a list', 'list `- series: …` / `values: …` entries');
      continue;
    }
    for (const [j, s] of series.entries())
      if (!isRecord(s) || typeof s['series'] !== 'string' || typeof s['values'] !== 'string')
        problem(['tests', i, 'input_series', j], 'an input series needs `series` and `values`, both strings', "quote them: series: 'up{job=\"x\"}', values: '1+1x10'");
  }
  if (found.length > 0) throw new ValidationError(found);
  return { file, data: data as TestFile['data'] };
}

/** The rule files of a test file, resolved against its directory (the variants are written elsewhere). */
function absoluteRuleFiles(t: TestFile): unknown {
  const files = t.data.rule_files;
  return Array.isArray(files) ? files.map((f) => (typeof f === 'string' ? path.resolve(path.dirname(t.file), f) : f)) : files;
}

async function runPromtool(promtool: string, dir: string, name: string, t: TestFile, group: TestGroup): Promise<{ ok: boolean; detail: string }> {
  const file = path.join(dir, `${name}.yml`);
  await writeFile(file, stringify({ ...t.data, rule_files: absoluteRuleFiles(t), tests: [group] }, { lineWidth: 0, aliasDuplicateObjects: false }));
  const r = await execa(promtool, ['test', 'rules', file], { reject: false, all: true, timeout: 120_000 });
  const detail = (r.all ?? '')
    .replaceAll(`${file}`, t.file)
    .split('\n')
    .filter((l) => !/^\s*(Unit Testing:|SUCCESS|FAILED:?\s*$)/.test(l))
    .join('\n')
    .trim();
  return { ok: r.exitCode === 0, detail };
}

export async function runTestRules(files: readonly string[], topologyFile: string, releaseFlag?: ReleaseName): Promise<TestRulesReport> {
  const topology = await loadTopology(topologyFile);
  const release = await chooseRelease(releaseFlag, topology.spec.release);
  const tests = await Promise.all(files.map(readTestFile));
  const promtool = await releasePromtool(release);
  const ha = haParameters(topology.spec);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'promha-test-rules-'));
  let run = 0;
  try {
    const results: FileResult[] = [];
    for (const t of tests) {
      const groups: GroupResult[] = [];
      for (const [i, group] of t.data.tests.entries()) {
        const name = typeof group.name === 'string' ? group.name : `tests[${i}]`;
        const written = await runPromtool(promtool.path, dir, `r${run++}`, t, group);
        if (!written.ok) {
          groups.push({ group: name, asWritten: { outcome: 'fail', detail: written.detail }, conditions: [] });
          continue;
        }
        const conditions: ConditionResult[] = [];
        for (const v of haVariants(group, t.data.evaluation_interval, ha)) {
          if ('skipped' in v.group) {
            conditions.push({ condition: v.condition, outcome: 'skipped', detail: String(v.group.skipped) });
            continue;
          }
          const r = await runPromtool(promtool.path, dir, `r${run++}`, t, v.group);
          conditions.push(r.ok ? { condition: v.condition, outcome: 'pass' } : { condition: v.condition, outcome: 'changed', detail: r.detail, fix: CONDITION_FIX[v.condition.kind] });
        }
        groups.push({ group: name, asWritten: { outcome: 'pass' }, conditions });
      }
      results.push({ file: t.file, groups });
    }
    const all = results.flatMap((f) => f.groups);
    return {
      release: release.name,
      promtool,
      pushGap: String(ha.pushGap),
      files: results,
      failed: all.filter((g) => g.asWritten.outcome === 'fail').length,
      changed: all.flatMap((g) => g.conditions).filter((c) => c.outcome === 'changed').length,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const indent = (text: string, by: string) => text.split('\n').map((l) => `${by}${l}`).join('\n');

export function formatTestRules(r: TestRulesReport, paint: Paint): string {
  const out: string[] = [`promtool ${r.promtool.version} (${r.release}); a gateway failover leaves pushed series out for ${r.pushGap}`];
  for (const f of r.files)
    for (const g of f.groups) {
      out.push(`${f.file}: ${g.group}`);
      if (g.asWritten.outcome === 'fail') {
        out.push(`  ${paint.red('FAIL')} as written\n${indent(g.asWritten.detail ?? '', '      ')}`);
        continue;
      }
      out.push(`  ${paint.green('pass')} as written`);
      for (const c of g.conditions) {
        if (c.outcome === 'pass') out.push(`  ${paint.green('pass')} ${c.condition.title}`);
        else if (c.outcome === 'skipped') out.push(`  ${paint.dim('skip')} ${c.condition.title}: ${c.detail ?? ''}`);
        else out.push(`  ${paint.red('CHANGED')} ${c.condition.title}\n${indent(c.detail ?? '', '      ')}\n    ${paint.cyan('fix:')} ${c.fix ?? ''}`);
      }
    }
  const groups = r.files.reduce((n, f) => n + f.groups.length, 0);
  out.push(
    r.failed + r.changed === 0
      ? `${groups} test group(s): every outcome holds under the HA conditions`
      : `${groups} test group(s): ${r.failed} fail as written, ${r.changed} outcome(s) change under an HA condition`,
  );
  return out.join('\n');
}

/** Exit 1 when a test fails as written or changes under a condition. */
export function testRulesExit(r: TestRulesReport): void {
  if (r.failed + r.changed > 0) throw new ExitError(1);
}
