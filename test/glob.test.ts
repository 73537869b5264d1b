import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { ValidationError } from '../src/errors.ts';
import { glob, globMatch, GlobSyntaxError, type GlobFs } from '../src/topology/glob.ts';
import { loadTopology } from '../src/topology/load.ts';
import { fastTopology, tempProject } from './helpers.ts';

const BAD = 'bad pattern';

describe('globMatch: the cases of Go path/filepath match_test.go', () => {
  const cases: Array<[pattern: string, name: string, want: boolean | typeof BAD]> = [
    ['abc', 'abc', true],
    ['*', 'abc', true],
    ['*c', 'abc', true],
    ['a*', 'a', true],
    ['a*', 'abc', true],
    ['a*', 'ab/c', false],
    ['a*/b', 'abc/b', true],
    ['a*/b', 'a/c/b', false],
    ['a*b*c*d*e*/f', 'axbxcxdxe/f', true],
    ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true],
    ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false],
    ['a*b*c*d*e*/f', 'axbxcxdxexxx/fff', false],
    ['a*b?c*x', 'abxbbxdbxebxczzx', true],
    ['a*b?c*x', 'abxbbxdbxebxczzy', false],
    ['ab[c]', 'abc', true],
    ['ab[b-d]', 'abc', true],
    ['ab[e-g]', 'abc', false],
    ['ab[^c]', 'abc', false],
    ['ab[^b-d]', 'abc', false],
    ['ab[^e-g]', 'abc', true],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'ab', false],
    ['a?b', 'a☺b', true],
    ['a[^a]b', 'a☺b', true],
    ['a???b', 'a☺b', false],
    ['a[^a][^a][^a]b', 'a☺b', false],
    ['[a-ζ]*', 'α', true],
    ['*[a-ζ]', 'A', false],
    ['a?b', 'a/b', false],
    ['a*b', 'a/b', false],
    ['[\\]a]', ']', true],
    ['[\\-]', '-', true],
    ['[x\\-]', 'x', true],
    ['[x\\-]', '-', true],
    ['[x\\-]', 'z', false],
    ['[\\-x]', 'x', true],
    ['[\\-x]', '-', true],
    ['[\\-x]', 'a', false],
    ['[]a]', ']', BAD],
    ['[-]', '-', BAD],
    ['[x-]', 'x', BAD],
    ['[x-]', '-', BAD],
    ['[x-]', 'z', BAD],
    ['[-x]', 'x', BAD],
    ['[-x]', '-', BAD],
    ['[-x]', 'a', BAD],
    ['\\', 'a', BAD],
    ['[a-b-c]', 'a', BAD],
    ['[', 'a', BAD],
    ['[^', 'a', BAD],
    ['[^bc', 'a', BAD],
    ['a[', 'a', BAD],
    ['a[', 'ab', BAD],
    ['a[', 'x', BAD],
    ['a/b[', 'x', BAD],
    ['*x', 'xxx', true],
    // Beyond Go's table: a class may hold the separator, a star matches a leading dot.
    ['a[/]b', 'a/b', true],
    ['*.yml', '.hidden.yml', true],
    // A mismatch early does not hide a malformed rest.
    ['x*[', 'abc', BAD],
  ];
  for (const [pattern, name, want] of cases)
    it(`Match(${JSON.stringify(pattern)}, ${JSON.stringify(name)})`, () => {
      if (want === BAD) assert.throws(() => globMatch(pattern, name), GlobSyntaxError);
      else assert.equal(globMatch(pattern, name), want);
    });
});

describe('glob: the directory walk of Go filepath.Glob', () => {
  // An in-memory tree: directories end in '/'.
  const tree = new Set(['rules/', 'rules/a/', 'rules/a/x.yml', 'rules/b/', 'rules/b/y.yml', 'rules/r1.yml', 'rules/r2.yml', 'rules/.hidden.yml', 'rules/locked/', 'rules/*.yml']);
  const fs: GlobFs = {
    exists: async (p) => tree.has(p) || tree.has(`${p}/`),
    isDirectory: async (p) => tree.has(`${p === '.' ? '' : p}/`) || p === '.',
    list: async (p) => {
      if (p === 'rules/locked') return undefined;
      const prefix = p === '.' ? '' : `${p}/`;
      return [...tree].filter((e) => e.startsWith(prefix) && e !== prefix && !e.slice(prefix.length).replace(/\/$/, '').includes('/')).map((e) => e.slice(prefix.length).replace(/\/$/, ''));
    },
  };
  const cases: Array<[string, string[] | typeof BAD]> = [
    ['rules/*.yml', ['rules/*.yml', 'rules/.hidden.yml', 'rules/r1.yml', 'rules/r2.yml']],
    ['rules/r?.yml', ['rules/r1.yml', 'rules/r2.yml']],
    ['rules/r[^2].yml', ['rules/r1.yml']],
    ['rules/\\*.yml', ['rules/*.yml']],
    ['rules/*/*.yml', ['rules/a/x.yml', 'rules/b/y.yml']],
    ['rules/?/x.yml', ['rules/a/x.yml']],
    ['rules/[ab]/*', ['rules/a/x.yml', 'rules/b/y.yml']],
    ['*/a/*', ['rules/a/x.yml']],
    // A file matched where a directory is needed, and an unreadable directory, match nothing.
    ['rules/*/z.yml', []],
    ['rules/locked/*', []],
    // A plain path is returned when it exists, whatever it is.
    ['rules/r1.yml', ['rules/r1.yml']],
    ['rules/a', ['rules/a']],
    ['rules/nope.yml', []],
    ['rules/*.nope', []],
    ['rules/[.yml', BAD],
    ['rules/[/]x', BAD],
  ];
  for (const [pattern, want] of cases)
    it(pattern, async () => {
      if (want === BAD) await assert.rejects(glob(pattern, fs), GlobSyntaxError);
      else assert.deepEqual(await glob(pattern, fs), want);
    });
});

const RULES = stringify({ groups: [{ name: 'g', rules: [{ alert: 'A', expr: 'vector(1)' }] }] });
const FILES = ['rules/a/x.yml', 'rules/b/y.yml', 'rules/r1.yml', 'rules/r2.yml', 'rules/.hidden.yml', 'rules/r[1].yml', 'shared/z.yml'];

/** The rule files `promtool check config` lists for a config with these rule_files, or its failure. */
async function promtoolRuleFiles(dir: string, patterns: string[]): Promise<string[] | 'rejected'> {
  await writeFile(path.join(dir, 'p.yml'), stringify({ rule_files: patterns }));
  const r = await execa('promtool', ['check', 'config', 'p.yml'], { cwd: dir, reject: false });
  if (r.exitCode !== 0) return 'rejected';
  return [...r.stdout.matchAll(/^Checking (.+)$/gm)].map((m) => m[1] as string).filter((f) => f !== 'p.yml');
}

async function promhaRuleFiles(dir: string, patterns: string[]): Promise<string[] | 'rejected'> {
  await writeFile(path.join(dir, 'promha.yaml'), stringify(fastTopology({ federators: { ...(fastTopology()['federators'] as object), rule_files: patterns } })));
  try {
    const t = await loadTopology(path.join(dir, 'promha.yaml'));
    return t.ruleFiles.map((f) => f.name);
  } catch (e) {
    if (e instanceof ValidationError) return 'rejected';
    throw e;
  }
}

describe('rule_files resolve to the files promtool check config resolves', () => {
  const cases: string[][] = [
    ['rules/*.yml'],
    ['rules/r?.yml'],
    ['rules/r[^2].yml', 'rules/r\\[1\\].yml'],
    ['rules/?/x.yml', 'rules/[ab]/*.yml'],
    ['rules/./r1.yml', 'rules/x/../r2.yml', 'rules/../shared/*'],
    // Rejected by Prometheus 2.42: a `*` before the last segment, a malformed class.
    ['rules/*/*.yml'],
    ['rules/a*/x.yml'],
    ['rules/[.yml'],
  ];
  it('matches promtool on every case', async () => {
    const project = await tempProject(Object.fromEntries(FILES.map((f) => [f, RULES])));
    try {
      for (const patterns of cases) {
        const want = await promtoolRuleFiles(project.dir, patterns);
        assert.deepEqual(await promhaRuleFiles(project.dir, patterns), want, `rule_files ${JSON.stringify(patterns)}`);
      }
    } finally {
      await project.cleanup();
    }
  });

  it('a `*` before the last segment is refused with the reason and a fix', async () => {
    const project = await tempProject(Object.fromEntries(FILES.map((f) => [f, RULES])));
    try {
      await mkdir(path.join(project.dir, 'rules', 'c'));
      await writeFile(path.join(project.dir, 'promha.yaml'), stringify(fastTopology({ federators: { ...(fastTopology()['federators'] as object), rule_files: ['rules/*/*.yml', 'rules/[x', 'rules/none-*.yml'] } })));
      const e = await loadTopology(path.join(project.dir, 'promha.yaml')).then(() => undefined, (x: unknown) => x);
      assert.ok(e instanceof ValidationError);
      assert.deepEqual(
        e.problems.map((p) => p.message),
        [
          'rule_files: Prometheus 2.42 rejects "rules/*/*.yml" (invalid rule file path): `*` may only appear in the last path segment',
          'rule_files: "rules/[x" is not a valid pattern (syntax error in pattern)',
          'rule_files: "rules/none-*.yml" matches no file',
        ],
      );
      assert.match(e.problems[0]?.hint ?? '', /rules\/team-\?\/\*\.yml/);
      assert.ok(e.problems.every((p) => p.location.file.endsWith('promha.yaml') && p.location.line > 1));
    } finally {
      await project.cleanup();
    }
  });
});
