/**
 * `promha test rules FILE…`: the operator's promtool rule tests, run by the release's own
 * promtool as written and under each HA condition of the design (src/rules/ha-conditions.ts).
 * A test that passes as written but fails under a condition is an alert that behaves
 * differently at the federators than in its test.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { ExitError, ValidationError, type Problem } from '../errors.ts';
import { vipFailoverTime } from '../plan/derived.ts';
import { chooseRelease } from '../release/choose.ts';
import { releasePromtool, runLimited } from '../release/promtool.ts';
import type { ReleaseName } from '../release/release.ts';
import { CONDITION_FIX, haVariants, pushedSeriesMatcher, type Condition, type HaParameters, type TestGroup } from '../rules/ha-conditions.ts';
import { parseRuleFile } from '../rules/rule-file.ts';
import { countSteps, MAX_STEPS } from '../rules/series-values.ts';
import { shape } from '../promql/shape.ts';
import { GlobSyntaxError, glob, hasMeta } from '../topology/glob.ts';
import { readInputFile, UnreadableInput } from '../topology/input-file.ts';
import { loadTopology } from '../topology/load.ts';
import type { TopologySpec } from '../topology/schema.ts';
import { YamlSource } from '../topology/yaml-source.ts';
import { Duration } from '../duration.ts';
import type { Paint } from '../cli/paint.ts';

/**
 * pass: the same as written; changed: passes as written, fails here; not-run: the
 * condition could not be made or promtool could not answer for it (`detail` says why).
 * A condition not run is never counted as holding.
 */
export type Outcome = 'pass' | 'fail' | 'changed' | 'not-run';

export interface ConditionResult {
  readonly condition: Condition;
  readonly outcome: Outcome;
  /** promtool's words about the failure, or why the condition was not run. */
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
  /** Conditions that could not be run: their outcome is unknown. */
  readonly notRun: number;
}

/** The HA parameters of a topology: which series are pushed, and the longest failover gap of its gateway sets. */
export function haParameters(spec: TopologySpec): HaParameters {
  const gaps = spec.pushgateways.map((s) => spec.intervals.push.plus(spec.intervals.federate).plus(vipFailoverTime(s.vip.advert_int)));
  return { pushed: pushedSeriesMatcher(spec.pushgateways.flatMap((s) => s.jobs)), pushGap: Duration.max(...gaps) };
}

/**
 * A test group may hand promtool at most this many samples in all: 10 series of 10^6
 * take it 0.6-0.9 GB (see TOOL_LIMITS).
 */
export const MAX_GROUP_SAMPLES = 10_000_000;

/**
 * promtool evaluates the rules at every evaluation_interval up to the last eval_time; at
 * most this many steps (about 20 s of promtool for a simple rule; 10^6 took 200 s).
 */
export const MAX_EVALUATIONS = 100_000;

interface RuleFile {
  /** As promha names it in messages: relative to the working directory. */
  readonly display: string;
  readonly text: string;
}

interface TestFile {
  readonly file: string;
  readonly data: { readonly rule_files?: unknown; readonly evaluation_interval?: string; readonly tests: readonly TestGroup[]; readonly [k: string]: unknown };
  /** The rule files of each `rule_files` entry, read through the bounded reader. */
  readonly ruleFiles: readonly RuleFile[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The files a `rule_files` entry names, as promtool resolves them: relative to the test
 * file, then Go's filepath.Glob. promtool only warns of a pattern that matches nothing
 * and tests no rules of it; promha refuses it, since every test would then pass or fail
 * for the wrong reason.
 */
async function ruleFilesOf(testFile: string, pattern: string): Promise<string[] | string> {
  const full = path.isAbsolute(pattern) ? pattern : path.join(path.dirname(testFile), pattern);
  let matches: string[];
  try {
    matches = hasMeta(full) ? await glob(full) : [full];
  } catch (e) {
    if (e instanceof GlobSyntaxError) return `rule_files: "${printable(pattern)}" is not a valid pattern (syntax error in pattern)`;
    throw e;
  }
  return matches.length > 0 ? matches : `rule_files: "${printable(pattern)}" matches no file`;
}

/**
 * Reads a promtool test file and every rule file it names, with located problems for
 * what promha needs of them and for what would make promtool wait or fill memory: rule
 * files go through the bounded reader (no FIFO, no device, at most 4 MiB), series have
 * at most MAX_STEPS samples, groups at most MAX_GROUP_SAMPLES and MAX_EVALUATIONS.
 */
export async function readTestFile(file: string): Promise<TestFile> {
  let text: string;
  try {
    text = await readInputFile(file);
  } catch (e) {
    if (e instanceof UnreadableInput)
      throw new ValidationError([{ location: { file, line: 1, column: 1, ...e.position }, message: `test file "${printable(file)}": ${e.message}`, hint: e.hint }]);
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
  const evaluationInterval = typeof data['evaluation_interval'] === 'string' ? Duration.tryParse(data['evaluation_interval']) : Duration.minutes(1);
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
    let samples = 0;
    let tooLong = false;
    for (const [j, s] of series.entries()) {
      if (!isRecord(s) || typeof s['series'] !== 'string' || typeof s['values'] !== 'string') {
        problem(['tests', i, 'input_series', j], 'an input series needs `series` and `values`, both strings', "quote them: series: 'up{job=\"x\"}', values: '1+1x10'");
        continue;
      }
      const steps = countSteps(s['values']);
      samples += steps;
      tooLong ||= steps > MAX_STEPS;
      if (steps > MAX_STEPS)
        problem(
          ['tests', i, 'input_series', j, 'values'],
          `values expand to ${steps > 1e15 ? 'about ' : ''}${steps.toLocaleString('en-US')} samples; promha runs series of at most ${MAX_STEPS.toLocaleString('en-US')} (promtool would fill memory)`,
          'a count after `x` is the number of repetitions: 1x10 is 11 samples',
        );
    }
    if (samples > MAX_GROUP_SAMPLES && !tooLong)
      problem(['tests', i, 'input_series'], `the input series hold ${samples.toLocaleString('en-US')} samples in all; promha runs test groups of at most ${MAX_GROUP_SAMPLES.toLocaleString('en-US')}`, 'split the group');
    // The last evaluation step, as promtool steps to it.
    if (evaluationInterval && evaluationInterval.ms > 0)
      for (const kind of ['alert_rule_test', 'promql_expr_test'] as const) {
        const tests = g[kind];
        if (!Array.isArray(tests)) continue;
        for (const [k, t] of tests.entries()) {
          const deep = kind === 'promql_expr_test' && isRecord(t) && typeof t['expr'] === 'string' ? shape(t['expr']).tooDeep : undefined;
          if (deep) problem(['tests', i, kind, k, 'expr'], deep.message, DEEP_HINT);
          const at = isRecord(t) && typeof t['eval_time'] === 'string' ? Duration.tryParse(t['eval_time']) : undefined;
          if (at && at.ms / evaluationInterval.ms > MAX_EVALUATIONS)
            problem(
              ['tests', i, kind, k, 'eval_time'],
              `eval_time ${String((t as Record<string, unknown>)['eval_time'])} is ${Math.floor(at.ms / evaluationInterval.ms).toLocaleString('en-US')} evaluation_interval steps of ${String(data['evaluation_interval'] ?? '1m')}; promha runs at most ${MAX_EVALUATIONS.toLocaleString('en-US')} (promtool evaluates every step up to it)`,
              'test at an earlier eval_time, or set a longer evaluation_interval',
            );
        }
      }
  }
  const ruleFiles: RuleFile[] = [];
  const entries = data['rule_files'];
  if (entries !== undefined && entries !== null && !Array.isArray(entries)) problem(['rule_files'], 'rule_files is a list of file names', 'rule_files: [rules.yml]');
  for (const [i, pattern] of (Array.isArray(entries) ? entries : []).entries()) {
    if (typeof pattern !== 'string') {
      problem(['rule_files', i], 'a rule file is named by a string', 'rule_files: [rules.yml]');
      continue;
    }
    const files = await ruleFilesOf(file, pattern);
    if (typeof files === 'string') {
      problem(['rule_files', i], files, `paths are relative to ${file}`);
      continue;
    }
    for (const f of files) {
      const display = shown(f);
      try {
        const text = await readInputFile(f);
        found.push(...deepExpressions(display, text));
        ruleFiles.push({ display, text });
      } catch (e) {
        if (!(e instanceof UnreadableInput)) throw e;
        const message = `rule file "${printable(display)}" cannot be read: ${e.message}`;
        if (e.position) found.push({ location: { file: display, ...e.position }, message, hint: e.hint });
        else problem(['rule_files', i], message, e.code === 'ENOENT' ? `paths are relative to ${file}` : e.hint);
      }
    }
  }
  if (found.length > 0) throw new ValidationError(found);
  return { file, data: data as TestFile['data'], ruleFiles };
}

/**
 * Nesting is bounded as `check` bounds it: promtool evaluates every level of nested
 * subqueries at every step of every HA condition (measured: 50,000 nested
 * `max_over_time((…)[5m:1m])` had promtool still busy after 150 s, for one run of the four).
 */
const DEEP_HINT = 'split the expression into recording rules';

/** Expressions of a rule file that nest past MAX_NESTING, located in the file; the rest of the file is promtool's to judge. */
function deepExpressions(display: string, text: string): Problem[] {
  const out: Problem[] = [];
  for (const rule of parseRuleFile(display, text).rules) {
    const deep = shape(rule.expr).tooDeep;
    if (deep) out.push({ location: rule.exprLocation(deep.from), message: `${rule.kind} ${printable(rule.name)}: ${deep.message}`, hint: DEEP_HINT });
  }
  return out;
}

/** A path as messages show it: relative to the working directory when under it. */
function shown(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

/**
 * The rule files of a test file, copied into `dir` as read: promtool reads these copies,
 * never a path that could turn into a FIFO or grow after promha read it.
 */
async function copyRuleFiles(t: TestFile, dir: string): Promise<Array<{ copy: string; display: string }>> {
  const out: Array<{ copy: string; display: string }> = [];
  for (const [i, f] of t.ruleFiles.entries()) {
    const copy = path.join(dir, String(i), path.basename(f.display));
    await mkdir(path.dirname(copy), { recursive: true });
    await writeFile(copy, f.text);
    out.push({ copy, display: f.display });
  }
  return out;
}

/** promtool's answer to a group: passed, failed with its words, or no answer (`failure`). */
interface Run {
  readonly ok: boolean;
  readonly detail: string;
  readonly failure?: string;
}

/** At most this many lines of promtool's words per outcome: the rest is counted. */
const MAX_DETAIL_LINES = 60;

async function runPromtool(promtool: string, dir: string, name: string, t: TestFile, rules: ReadonlyArray<{ copy: string; display: string }>, group: TestGroup): Promise<Run> {
  const file = path.join(dir, `${name}.yml`);
  await writeFile(file, stringify({ ...t.data, rule_files: rules.map((r) => r.copy), tests: [group] }, { lineWidth: 0, aliasDuplicateObjects: false }));
  const r = await runLimited(promtool, ['test', 'rules', file]);
  let words = r.output.replaceAll(file, t.file);
  for (const rule of rules) words = words.replaceAll(rule.copy, rule.display);
  const lines = words
    .split('\n')
    .filter((l) => !/^\s*(Unit Testing:|SUCCESS|FAILED:?\s*$)/.test(l))
    .join('\n')
    .trim()
    .split('\n');
  const kept = lines.length > MAX_DETAIL_LINES ? [...lines.slice(0, MAX_DETAIL_LINES), `… ${lines.length - MAX_DETAIL_LINES} more line(s)`] : lines;
  let detail = kept.join('\n').trim();
  if (r.failure) detail = detail ? `${r.failure}; it printed:\n${detail}` : r.failure;
  else if (r.exitCode !== 0 && detail === '') detail = `promtool exited with code ${r.exitCode ?? '?'} and named no failed test`;
  return { ok: r.exitCode === 0 && !r.failure, detail, ...(r.failure ? { failure: r.failure } : {}) };
}

export async function runTestRules(files: readonly string[], topologyFile: string, releaseFlag?: ReleaseName): Promise<TestRulesReport> {
  const topology = await loadTopology(topologyFile);
  const release = await chooseRelease(releaseFlag, topology.spec.release);
  const tests: TestFile[] = [];
  const problems: Problem[] = [];
  // Every file's problems at once, as `check` reports a topology's.
  for (const f of files)
    await readTestFile(f).then(
      (t) => void tests.push(t),
      (e: unknown) => {
        if (!(e instanceof ValidationError)) throw e;
        problems.push(...e.problems);
      },
    );
  if (problems.length > 0) throw new ValidationError(problems);
  const promtool = await releasePromtool(release);
  const ha = haParameters(topology.spec);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'promha-test-rules-'));
  let run = 0;
  try {
    const results: FileResult[] = [];
    for (const t of tests) {
      const rules = await copyRuleFiles(t, path.join(dir, `rules${results.length}`));
      const groups: GroupResult[] = [];
      for (const [i, group] of t.data.tests.entries()) {
        const name = typeof group.name === 'string' ? group.name : `tests[${i}]`;
        const written = await runPromtool(promtool.path, dir, `r${run++}`, t, rules, group);
        if (!written.ok) {
          groups.push({ group: name, asWritten: { outcome: 'fail', detail: written.detail }, conditions: [] });
          continue;
        }
        const conditions: ConditionResult[] = [];
        for (const v of haVariants(group, t.data.evaluation_interval, ha)) {
          if ('skipped' in v.group) {
            conditions.push({ condition: v.condition, outcome: 'not-run', detail: String(v.group.skipped) });
            continue;
          }
          const r = await runPromtool(promtool.path, dir, `r${run++}`, t, rules, v.group);
          // promtool that did not answer (timed out, out of memory) says nothing of the outcome.
          conditions.push(
            r.ok
              ? { condition: v.condition, outcome: 'pass' }
              : r.failure
                ? { condition: v.condition, outcome: 'not-run', detail: r.detail }
                : { condition: v.condition, outcome: 'changed', detail: r.detail, fix: CONDITION_FIX[v.condition.kind] },
          );
        }
        groups.push({ group: name, asWritten: { outcome: 'pass' }, conditions });
      }
      results.push({ file: t.file, groups });
    }
    const all = results.flatMap((f) => f.groups);
    const outcomes = all.flatMap((g) => g.conditions);
    return {
      release: release.name,
      promtool,
      pushGap: String(ha.pushGap),
      files: results,
      failed: all.filter((g) => g.asWritten.outcome === 'fail').length,
      changed: outcomes.filter((c) => c.outcome === 'changed').length,
      notRun: outcomes.filter((c) => c.outcome === 'not-run').length,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * User text as one printable line: control characters (an ANSI escape would recolour or
 * rewrite the terminal), line breaks and bidirectional controls escaped.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** Several lines of text (promtool's words), each printable, indented by `by`. */
const indent = (text: string, by: string) => text.split('\n').map((l) => `${by}${printable(l)}`).join('\n');

export function formatTestRules(r: TestRulesReport, paint: Paint): string {
  const out: string[] = [`promtool ${r.promtool.version} (${r.release}); a gateway failover leaves pushed series out for ${r.pushGap}`];
  for (const f of r.files)
    for (const g of f.groups) {
      out.push(`${printable(f.file)}: ${printable(g.group)}`);
      if (g.asWritten.outcome === 'fail') {
        out.push(`  ${paint.red('FAIL')} as written\n${indent(g.asWritten.detail ?? '', '      ')}`);
        continue;
      }
      out.push(`  ${paint.green('pass')} as written`);
      for (const c of g.conditions) {
        if (c.outcome === 'pass') out.push(`  ${paint.green('pass')} ${c.condition.title}`);
        else if (c.outcome === 'not-run') out.push(`  ${paint.yellow('NOT RUN')} ${c.condition.title}\n${indent(c.detail ?? '', '      ')}`);
        else out.push(`  ${paint.red('CHANGED')} ${c.condition.title}\n${indent(c.detail ?? '', '      ')}\n    ${paint.cyan('fix:')} ${c.fix ?? ''}`);
      }
    }
  const groups = r.files.reduce((n, f) => n + f.groups.length, 0);
  const summary =
    r.failed + r.changed === 0
      ? `${groups} test group(s): every outcome tested holds under the HA conditions`
      : `${groups} test group(s): ${r.failed} fail as written, ${r.changed} outcome(s) change under an HA condition`;
  out.push(r.notRun === 0 ? summary.replace('every outcome tested holds', 'every outcome holds') : `${summary}; ${r.notRun} condition(s) NOT RUN, so their outcome is unknown`);
  return out.join('\n');
}

/** Exit 1 when a test fails as written, changes under a condition, or a condition could not be run. */
export function testRulesExit(r: TestRulesReport): void {
  if (r.failed + r.changed + r.notRun > 0) throw new ExitError(1);
}
