import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { ValidationError, type Problem } from '../errors.ts';
import { parseRuleFile } from '../rules/rule-file.ts';
import { readInputFile, UnreadableInput } from './input-file.ts';
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

/** Expands a `*` in the last path segment, as Prometheus does for rule_files. */
async function expand(dir: string, pattern: string): Promise<string[]> {
  const base = path.basename(pattern);
  if (!base.includes('*')) return [pattern];
  const sub = path.dirname(pattern);
  const re = new RegExp(`^${base.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  const names = await readdir(path.resolve(dir, sub)).catch(() => []);
  return names.filter((n) => re.test(n)).sort().map((n) => path.join(sub, n));
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
        location: { file, line: 1, column: 1 },
        hint: e.code === 'ENOENT' ? 'create one with `promha init`, or pass its path' : e.hint,
      },
    ]);
  }
  const topology = parseTopology(file, text);
  const dir = path.dirname(file);
  const ruleFiles: RuleFileSource[] = [];
  const problems: Problem[] = [];
  for (const [entry, pattern] of topology.spec.federators.rule_files.entries()) {
    const names = await expand(dir, pattern);
    if (names.length === 0)
      problems.push({
        message: `rule_files: "${pattern}" matches no file`,
        location: topology.locate(['federators', 'rule_files', entry]),
        hint: `paths are relative to ${file}`,
      });
    for (const name of names) {
      const abs = path.resolve(dir, name);
      const ruleText = await readInputFile(abs).catch((e: unknown) => {
        if (!(e instanceof UnreadableInput)) throw e;
        problems.push({
          message: `rule file "${name}" cannot be read: ${e.message}`,
          location: topology.locate(['federators', 'rule_files', entry]),
          hint: e.code === 'ENOENT' ? `paths are relative to ${file}` : e.hint,
        });
        return undefined;
      });
      if (ruleText === undefined) continue;
      const display = path.relative(process.cwd(), abs) || abs;
      ruleFiles.push({ name, entry, text: ruleText, parsed: parseRuleFile(display, ruleText) });
    }
  }
  if (problems.length) throw new ValidationError(problems);
  return { ...topology, ruleFiles };
}
