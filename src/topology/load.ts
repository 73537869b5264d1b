import path from 'node:path';
import { ValidationError, type Problem } from '../errors.ts';
import type { Location } from '../location.ts';
import { parseRuleFile } from '../rules/rule-file.ts';
import { readInputFile, UnreadableInput } from './input-file.ts';
import { GlobSyntaxError, glob, hasMeta } from './glob.ts';
import { topologySchema } from './schema.ts';
import { schemaProblems } from './schema-errors.ts';
import type { RuleFileSource, Topology } from './topology.ts';
import { YamlSource } from './yaml-source.ts';

export const DEFAULT_TOPOLOGY_FILE = 'promha.yaml';

/** Parses and validates topology text; throws ValidationError with every located problem. */
export function parseTopology(file: string, text: string): Omit<Topology, 'ruleFiles'> {
  const { source, problems } = YamlSource.parse(file, text);
  if (problems.length) throw new ValidationError(problems);
  const input = source.toJS();
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    throw new ValidationError([
      { message: 'the topology must be a YAML mapping', location: source.at(0), hint: 'start from `promha init`' },
    ]);
  const result = topologySchema.safeParse(input, { reportInput: true });
  if (!result.success) throw new ValidationError(schemaProblems(topologySchema, result.error.issues, source, input));
  return { file, spec: result.data, locate: (p, o) => source.locate(p, o) };
}

/** Prometheus 2.42 config.go (patRulePath): a `*` only in the last path segment. */
const PROMETHEUS_RULE_PATH = /^[^*]*(\*[^/]*)?$/;

/**
 * The rule files a `rule_files` entry names, relative to `dir`, as Prometheus resolves
 * it: the path joined to the config's directory, then Go's filepath.Glob (see glob.ts).
 */
async function expand(file: string, pattern: string, where: Location): Promise<{ names: string[]; problem?: Problem }> {
  const dir = path.dirname(file);
  const fail = (message: string, hint: string) => ({ names: [], problem: { message, location: where, hint } });
  if (!PROMETHEUS_RULE_PATH.test(pattern))
    return fail(
      `rule_files: Prometheus 2.42 rejects "${pattern}" (invalid rule file path): \`*\` may only appear in the last path segment`,
      'list one entry per directory (rules/a/*.yml, rules/b/*.yml), or match directory names with `?` or `[...]` (rules/team-?/*.yml)',
    );
  const absolute = path.isAbsolute(pattern);
  const full = absolute ? pattern : path.join(dir, pattern);
  const relative = (m: string) => (absolute ? m : path.relative(dir, m) || m);
  // A plain path is Glob'd to itself when it exists; one that does not is reported by the read, as promtool does.
  if (!hasMeta(full)) return { names: [relative(full)] };
  let matches: string[];
  try {
    matches = await glob(full);
  } catch (e) {
    if (!(e instanceof GlobSyntaxError)) throw e;
    return fail(
      `rule_files: "${pattern}" is not a valid pattern (syntax error in pattern)`,
      'close every `[` with `]`, put no `-` or `]` first in a class, and escape a literal `*`, `?`, `[` or `\\` with a backslash',
    );
  }
  if (matches.length === 0) return fail(`rule_files: "${pattern}" matches no file`, `paths are relative to ${file}`);
  return { names: matches.map(relative) };
}

/** Reads the topology file and the rule files it names. */
export async function loadTopology(file: string = DEFAULT_TOPOLOGY_FILE): Promise<Topology> {
  let text: string;
  try {
    text = await readInputFile(file);
  } catch (e) {
    if (!(e instanceof UnreadableInput)) throw e;
    throw new ValidationError([
      {
        message: e.code === 'ENOENT' ? `no topology file "${file}"` : `cannot read "${file}": ${e.message}`,
        location: { file, line: 1, column: 1, ...e.position },
        hint: e.code === 'ENOENT' ? 'create one with `promha init`, or pass its path' : e.hint,
      },
    ]);
  }
  const topology = parseTopology(file, text);
  const dir = path.dirname(file);
  const ruleFiles: RuleFileSource[] = [];
  const problems: Problem[] = [];
  for (const [entry, pattern] of topology.spec.federators.rule_files.entries()) {
    const { names, problem } = await expand(file, pattern, topology.locate(['federators', 'rule_files', entry]));
    if (problem) problems.push(problem);
    for (const name of names) {
      const abs = path.resolve(dir, name);
      const display = path.relative(process.cwd(), abs) || abs;
      const ruleText = await readInputFile(abs).catch((e: unknown) => {
        if (!(e instanceof UnreadableInput)) throw e;
        problems.push({
          message: `rule file "${name}" cannot be read: ${e.message}`,
          // A problem with a place in the rule file (a byte that is no UTF-8) is shown there.
          location: e.position ? { file: display, ...e.position } : topology.locate(['federators', 'rule_files', entry]),
          hint: e.code === 'ENOENT' ? `paths are relative to ${file}` : e.hint,
        });
        return undefined;
      });
      if (ruleText === undefined) continue;
      ruleFiles.push({ name, entry, text: ruleText, parsed: parseRuleFile(display, ruleText) });
    }
  }
  if (problems.length) throw new ValidationError(problems);
  return { ...topology, ruleFiles };
}
