import { constants } from 'node:fs';
import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import type { FileSpec, NodeSpec } from '../plan/node-spec.ts';
import { yamlFile } from '../plan/yaml-file.ts';
import { binaryVersion, releaseSource } from '../release/fetch.ts';
import { runLimited } from '../release/promtool.ts';
import { versionMatches, type Release } from '../release/release.ts';
import type { Topology } from '../topology/topology.ts';
import type { PropertyPath } from '../topology/yaml-source.ts';
import type { Finding } from './finding.ts';
import { topologyPath } from './rendered-source.ts';

/*
 * `check` answers for the real tools: the release's own `amtool check-config` reads every
 * distinct alertmanager.yml render would write, and its `promtool check config
 * --syntax-only` every distinct prometheus.yml (rule files are checked by PH801; the
 * other files they name, certificates and passwords, are not written by `check`, hence
 * --syntax-only, which 2.42, 2.53 and 3.5 all have). Each tool runs once for all its files,
 * so a topology costs two processes, not one per member. A refusal is an error located
 * at the topology field the rendered line or value came from, quoting the tool. A tool
 * that is not there is a warning, never silence: "0 errors" then says nothing about it.
 */

export const REAL_TOOLS_CODE = 'PH1101';
export const REAL_TOOLS_RULE = 'real-tools';
export const REAL_TOOLS_DESCRIPTION =
  "The release's own amtool check-config and promtool check config --syntax-only accept every alertmanager.yml and prometheus.yml render would write.";

export type RealTool = 'amtool' | 'promtool';
export const REAL_TOOLS: readonly RealTool[] = ['amtool', 'promtool'];

const CONFIG_FILE: Readonly<Record<RealTool, string>> = { amtool: 'alertmanager.yml', promtool: 'prometheus.yml' };
const ARGS: Readonly<Record<RealTool, readonly string[]>> = { amtool: ['check-config'], promtool: ['check', 'config', '--syntax-only'] };
const COMMAND: Readonly<Record<RealTool, string>> = { amtool: 'amtool check-config', promtool: 'promtool check config --syntax-only' };
/** Measured: amtool takes 10-50 ms, promtool 60-150 ms; a tool still busy after this is stuck (a template naming a pipe). */
export const DEFAULT_TOOL_TIMEOUT_MS = 20_000;
/** A tool's message is quoted up to this length: amtool can echo a whole template. */
const MAX_QUOTE = 600;

/** One distinct rendered config and the members it is rendered for (one file per content). */
export interface RenderedConfig {
  readonly tool: RealTool;
  /** Where render writes it, relative to --out: `<first member>/alertmanager.yml`. */
  readonly file: string;
  readonly content: string;
  readonly nodes: readonly NodeSpec[];
}

/** Where the `templates` globs of an alertmanager.yml point while amtool checks it: a directory that does not exist. */
export const TEMPLATES_CHECKED_IN = 'promha-check-no-templates';

/**
 * The file amtool checks for an alertmanager.yml: the same, but its `templates` globs
 * moved under a directory that does not exist. The templates are files on the member's
 * host, not on this machine: read here, a glob would parse (and quote in its errors) this
 * machine's files. Moved, each pattern still has to be a valid glob, and matches nothing:
 * its `..` segments are renamed too, as Alertmanager cleans the joined path and they
 * would climb out of the directory.
 */
function checkedAlertmanagerConfig(spec: FileSpec): string {
  const data = spec.data as { templates?: unknown } | undefined;
  if (!data || !Array.isArray(data.templates) || data.templates.length === 0) return spec.content;
  const moved = (t: string) => `${TEMPLATES_CHECKED_IN}/${t.split('/').map((segment) => (segment === '..' ? 'dot-dot' : segment)).filter((segment, i) => i > 0 || segment !== '').join('/')}`;
  const templates = data.templates.map((t: unknown) => (typeof t === 'string' ? moved(t) : t));
  return yamlFile(spec.path, { ...data, templates }).content;
}

/** The alertmanager.yml and prometheus.yml files of a plan, each content once. */
export function renderedConfigs(nodes: readonly NodeSpec[]): RenderedConfig[] {
  const byContent = new Map<string, { tool: RealTool; file: string; content: string; nodes: NodeSpec[] }>();
  for (const node of nodes)
    for (const tool of REAL_TOOLS) {
      const spec = node.files.find((f) => f.path === CONFIG_FILE[tool]);
      if (!spec) continue;
      const content = tool === 'amtool' ? checkedAlertmanagerConfig(spec) : spec.content;
      const key = `${tool}\0${content}`;
      const known = byContent.get(key);
      if (known) known.nodes.push(node);
      else byContent.set(key, { tool, file: `${node.name}/${spec.path}`, content, nodes: [node] });
    }
  return [...byContent.values()];
}

/** What one run of a tool said: a refusal message per file (undefined: accepted), or why it gave no verdict. */
export type ToolRun = { readonly verdicts: ReadonlyMap<string, string | undefined> } | { readonly failed: string };

/**
 * Splits the output of one run into each file's verdict, in the order the tool checks them
 * (its arguments'). Returns the verdicts of the files it finished, and the block of the
 * file it was on when the output ends without a verdict (a crash), if any.
 */
export function parseToolOutput(tool: RealTool, output: string, files: readonly string[]): { verdicts: Map<string, string | undefined>; unfinished?: { file: string; output: string } } {
  // amtool: `Checking 'F'  SUCCESS` / `Checking 'F'  FAILED: msg` (`Checking 'F'panic: …` when it crashes);
  // promtool: `Checking F` then ` SUCCESS: …` / `  FAILED: msg`.
  const header = tool === 'amtool' ? (f: string) => `Checking '${f}'` : (f: string) => `Checking ${f}\n`;
  const verdicts = new Map<string, string | undefined>();
  let at = 0;
  for (const [i, f] of files.entries()) {
    const start = output.indexOf(header(f), at);
    if (start < 0) return { verdicts };
    const from = start + header(f).length;
    const nextFile = files[i + 1];
    const next = nextFile === undefined ? -1 : output.indexOf(header(nextFile), from);
    // Alertmanager 0.28+ logs matchers its new parser falls back on (`time=… level=WARN …`) amid the verdicts.
    let block = output.slice(from, next < 0 ? output.length : next).replace(/^time=\S+ level=[A-Z]+ [^\n]*(\n|$)/gm, '');
    if (tool === 'amtool') block = block.replace(/\namtool: error: failed to validate \d+ file\(s\)\s*$/, '');
    // amtool says SUCCESS for the config, then FAILED when its templates do not parse.
    const failed = /(?:^|\n)\s*FAILED: ([\s\S]*)$/.exec(block);
    if (failed) verdicts.set(f, (failed[1] as string).trim());
    else if (/^\s*SUCCESS/.test(block)) verdicts.set(f, undefined);
    else return { verdicts, unfinished: { file: f, output: block } };
    if (next < 0) return { verdicts };
    at = next;
  }
  return { verdicts };
}

/**
 * Runs `binary` (amtool or promtool) on all `configs`, written under a private temporary
 * directory that is removed afterwards, under runLimited (stdout and stderr in the order
 * written, memory and time bounded). A file the tool
 * crashes on (a Go panic) is refused with the crash's words, as the real binary would
 * crash on it too, and the files after it get a run of their own.
 */
export async function runTool(binary: string, tool: RealTool, configs: ReadonlyArray<{ file: string; content: string }>, timeoutMs = DEFAULT_TOOL_TIMEOUT_MS): Promise<ToolRun> {
  if (configs.length === 0) return { verdicts: new Map() };
  // mkdtemp makes the directory 0700: secrets in a receiver stay private.
  const dir = await mkdtemp(path.join(os.tmpdir(), 'promha-check-'));
  try {
    for (const c of configs) {
      await mkdir(path.join(dir, path.dirname(c.file)), { recursive: true });
      await writeFile(path.join(dir, c.file), c.content, { mode: 0o600 });
    }
    const verdicts = new Map<string, string | undefined>();
    let remaining = configs.map((c) => c.file);
    const deadline = Date.now() + timeoutMs;
    while (remaining.length > 0) {
      const run = await spawnTool(binary, tool, dir, remaining, deadline - Date.now());
      if ('failed' in run) return run;
      const parsed = parseToolOutput(tool, run.output, remaining);
      for (const [f, v] of parsed.verdicts) verdicts.set(f, v);
      const normal = run.code === 0 || run.code === 1;
      if (normal && parsed.verdicts.size === remaining.length && (run.code !== 0) === [...parsed.verdicts.values()].some((v) => v !== undefined)) break;
      const crashed = parsed.unfinished ?? (remaining[parsed.verdicts.size] === undefined ? undefined : { file: remaining[parsed.verdicts.size] as string, output: '' });
      if (normal || !crashed) return { failed: `${tool} exited with code ${run.code} without a verdict on every file: ${quote(run.output)}` };
      verdicts.set(crashed.file, `${tool} crashed (exit code ${run.code}): ${crashed.output.trim() || run.output.trim()}`);
      remaining = remaining.slice(remaining.indexOf(crashed.file) + 1);
    }
    return { verdicts };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** One run of the tool under promha's limits (memory, CPU, wall clock, output). */
async function spawnTool(binary: string, tool: RealTool, dir: string, files: readonly string[], timeoutMs: number): Promise<{ code: number | null; output: string } | { failed: string }> {
  if (timeoutMs <= 0) return { failed: `${tool} gave no verdict in time` };
  // Relative paths, from the directory: the tool's messages name the file as render writes it.
  const run = await runLimited(binary, [...ARGS[tool], ...files], { cwd: dir, timeoutMs });
  if (run.stopped) return { failed: run.failure ?? `${tool} was stopped` };
  // A signal (exitCode undefined) reads as a crash, like a Go panic's exit code 2.
  return { code: run.exitCode ?? 128, output: run.output };
}

/**
 * Where a release's tool is, and its version when known without running it (`promha setup`
 * checked and recorded the fetched ones'); or why it cannot be used, and the fix.
 */
export type ToolBinary = { readonly path: string; readonly version?: string } | { readonly missing: string; readonly fix: string };

/** The release's own amtool or promtool: the host's package for the host's release, else the one `promha setup --release` fetched. */
export async function releaseTool(release: Release, tool: RealTool): Promise<ToolBinary> {
  const { host, fetched } = await releaseSource(release.name);
  const file = fetched?.binaries[tool].path ?? release.components[tool].path;
  const fix = host ? `apt-get install ${release.components[tool].package}` : `promha setup --release ${release.name}`;
  if (!host && !fetched) return { missing: `${release.name}'s ${tool} has not been fetched`, fix };
  const version = fetched?.binaries[tool].version;
  return access(file, constants.X_OK).then(
    () => (version === undefined ? { path: file } : { path: file, version }),
    () => ({ missing: `${release.name}'s ${tool} is not at ${file}`, fix }),
  );
}

export interface RealToolOptions {
  /** Use these binaries instead of the release's (tests); a path that is not there reads as a missing tool. */
  readonly binaries?: Partial<Record<RealTool, string>>;
  readonly timeoutMs?: number;
}

/**
 * The findings of the release's own tools on the files render would write for `nodes`
 * (`plan(topology, { release })`): an error per refusal, a warning per tool that could not
 * verify its files.
 */
export async function realToolFindings(topology: Topology, release: Release, nodes: readonly NodeSpec[], options: RealToolOptions = {}): Promise<Finding[]> {
  const configs = renderedConfigs(nodes);
  const perTool = await Promise.all(
    REAL_TOOLS.map(async (tool) => {
      const mine = configs.filter((c) => c.tool === tool);
      if (mine.length === 0) return [];
      const given = options.binaries?.[tool];
      const binary: ToolBinary =
        given === undefined
          ? await releaseTool(release, tool)
          : await access(given, constants.X_OK).then(
              () => ({ path: given }),
              () => ({ missing: `${tool} is not at ${given}`, fix: `install ${tool} ${release.components[tool].version}` }),
            );
      if ('missing' in binary) return [unverified(topology, release, tool, mine, binary.missing, binary.fix)];
      const expected = release.components[tool].version;
      // An unrecorded version (the host's package) is asked while the files are checked: both are short processes.
      let version: string | undefined;
      let run: ToolRun;
      try {
        [version, run] = await Promise.all([binary.version ?? binaryVersion(binary.path), runTool(binary.path, tool, mine, options.timeoutMs)]);
      } catch (e) {
        // No private directory to write the files to (a read-only or full TMPDIR): not verified, and said so.
        return [unverified(topology, release, tool, mine, `the files could not be written for it: ${(e as Error).message}`, 'TMPDIR=<a writable directory> promha check')];
      }
      if (version === undefined || !versionMatches(version, expected))
        return [unverified(topology, release, tool, mine, `${binary.path} is ${tool} ${version ?? 'of an unknown version'}, not ${expected}`, `promha setup --release ${release.name}`)];
      if ('failed' in run)
        return [
          {
            code: REAL_TOOLS_CODE,
            rule: REAL_TOOLS_RULE,
            severity: 'error' as const,
            message: `${tool} ${version} of ${release.name} gave no verdict on the rendered ${mine.map((c) => c.file).join(', ')}: ${run.failed}`,
            location: topology.locate([]),
            hint: `render the topology and run \`${COMMAND[tool]}\` on these files to see what it stops at`,
          },
        ];
      // Members whose files differ elsewhere (a scraper's replica label; the backup's route
      // copies the active one's timings) are refused for the same field: one finding names them all.
      const refused = new Map<string, { where: PropertyPath; refusal: string; configs: RenderedConfig[] }>();
      for (const c of mine) {
        const refusal = run.verdicts.get(c.file);
        if (refusal === undefined) continue;
        const where = sourceOf(topology, c, refusal);
        const key = `${JSON.stringify(where)}\0${refusal.split(c.file).join('\0')}`;
        const known = refused.get(key);
        if (known) known.configs.push(c);
        else refused.set(key, { where, refusal, configs: [c] });
      }
      return [...refused.values()].map((r) => refusalFinding(topology, release, tool, version, r.configs, r.where, r.refusal));
    }),
  );
  return perTool.flat();
}

function unverified(topology: Topology, release: Release, tool: RealTool, configs: readonly RenderedConfig[], why: string, fix: string): Finding {
  const what = CONFIG_FILE[tool];
  return {
    code: REAL_TOOLS_CODE,
    rule: REAL_TOOLS_RULE,
    severity: 'warning',
    message: `the ${configs.length} rendered ${what} file(s) were not verified by ${release.name}'s ${tool} (${release.components[tool].version}): ${why}; static checks only`,
    location: topology.locate([tool === 'amtool' ? 'alertmanagers' : 'scrapers'], { key: true }),
    hint: `\`${fix}\`, then check again`,
  };
}

function refusalFinding(topology: Topology, release: Release, tool: RealTool, version: string, configs: readonly RenderedConfig[], where: PropertyPath, refusal: string): Finding {
  const config = configs[0] as RenderedConfig;
  const members = configs.flatMap((c) => c.nodes.map((n) => n.name));
  return {
    code: REAL_TOOLS_CODE,
    rule: REAL_TOOLS_RULE,
    severity: 'error',
    message: `${tool} ${version} of ${release.name} refuses the ${CONFIG_FILE[tool]} rendered for ${members.join(', ')}: ${quote(refusal)}`,
    location: topology.locate(where),
    hint: `fix ${formatPath(where)} so that \`${COMMAND[tool]}\` accepts ${config.file} (\`promha render\` writes it; ${tool === 'amtool' ? 'Alertmanager' : 'Prometheus'} loads it the same way)`,
  };
}

/** A tool's message on one line, control characters escaped, cut at {@link MAX_QUOTE}. */
export function quote(message: string): string {
  const line = message
    .trim()
    .replace(/\r?\n\s*/g, ' ')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => (c.charCodeAt(0) <= 0xff ? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}` : `\\u${c.charCodeAt(0).toString(16)}`));
  return line.length > MAX_QUOTE ? `${line.slice(0, MAX_QUOTE)}…` : line;
}

/** `alertmanagers.receivers[0].url`. */
export function formatPath(p: PropertyPath): string {
  return p.reduce<string>((s, seg) => (typeof seg === 'number' ? `${s}[${seg}]` : s ? `${s}.${seg}` : seg), '') || 'the topology';
}

/** Go's %q: the strings a tool's message quotes, as their values. */
function goQuoted(message: string): string[] {
  const out: string[] = [];
  for (const m of message.matchAll(/"((?:[^"\\]|\\.)*)"/g)) {
    const body = m[1] as string;
    out.push(
      body.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[abfnrtv\\"'])/g, (_, e: string) => {
        const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'" };
        return simple[e] ?? String.fromCodePoint(parseInt(e.slice(1), 16));
      }),
    );
  }
  return out;
}

/** Every node of a YAML document with the path of the value it belongs to. */
function yamlNodes(content: string): { lines: LineCounter; nodes: Array<{ path: PropertyPath; range: readonly [number, number] }> } {
  const lines = new LineCounter();
  const doc = parseDocument(content, { lineCounter: lines, uniqueKeys: false });
  const nodes: Array<{ path: PropertyPath; range: readonly [number, number] }> = [];
  const walk = (node: unknown, p: PropertyPath): void => {
    if (isMap(node))
      for (const pair of node.items) {
        if (!isPair(pair) || !isScalar(pair.key)) continue;
        const child = [...p, String(pair.key.value)];
        const key = pair.key as Node;
        const value = pair.value as Node | null;
        if (key.range) nodes.push({ path: child, range: [key.range[0], value?.range?.[1] ?? key.range[1]] });
        walk(value, child);
      }
    else if (isSeq(node))
      node.items.forEach((item, i) => {
        const n = item as Node;
        if (n.range) nodes.push({ path: [...p, i], range: [n.range[0], n.range[1]] });
        walk(item, [...p, i]);
      });
  };
  walk(doc.contents, []);
  return { lines, nodes };
}

/** The path, in the rendered file, of what the tool's message is about: the line it names, else a value it quotes. */
function renderedPathOf(content: string, message: string): PropertyPath | undefined {
  const { lines, nodes } = yamlNodes(content);
  const line = /\bline (\d+)\b/.exec(message)?.[1];
  if (line !== undefined) {
    const n = Number(line);
    const deepest = (xs: typeof nodes) => xs.reduce<PropertyPath | undefined>((best, x) => (best === undefined || x.path.length > best.length ? x.path : best), undefined);
    const starting = nodes.filter((x) => lines.linePos(x.range[0]).line === n);
    const spanning = nodes.filter((x) => lines.linePos(x.range[0]).line < n && lines.linePos(Math.max(x.range[0], x.range[1] - 1)).line >= n);
    const found = deepest(starting) ?? deepest(spanning);
    if (found) return found;
  }
  const data: unknown = parseDocument(content, { uniqueKeys: false }).toJS({ maxAliasCount: -1 });
  for (const wanted of goQuoted(message)) {
    if (wanted === '') continue;
    const found = findScalar(data, wanted, []);
    if (found) return found;
  }
  return undefined;
}

function findScalar(v: unknown, wanted: string, p: PropertyPath): PropertyPath | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v !== 'object') return String(v) === wanted ? p : undefined;
  for (const [k, x] of Array.isArray(v) ? v.entries() : Object.entries(v as Record<string, unknown>)) {
    const found = findScalar(x, wanted, [...p, k]);
    if (found) return found;
  }
  return undefined;
}

function sourceOf(topology: Topology, config: RenderedConfig, refusal: string): PropertyPath {
  const node = config.nodes[0] as NodeSpec;
  let rendered: PropertyPath | undefined;
  try {
    rendered = renderedPathOf(config.content, refusal);
  } catch {
    // promha wrote the file: it parses. Should it not, the section is still a place to look.
    rendered = undefined;
  }
  return topologyPath(topology, node, rendered);
}
