import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { accessSync, constants } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { releaseSource } from '../../src/release/fetch.ts';
import { RELEASES, type Component, type ReleaseName } from '../../src/release/release.ts';
import type { Failure } from './oracle.ts';
import { TOOL_LIMITS } from '../../src/release/promtool.ts';

/*
 * The real tools judge what render wrote (DESIGN §2): each release's promtool (config,
 * rules, web config) and amtool, and the host's keepalived, HAProxy and systemd-analyze. A render that exits 0 with a
 * file one of them refuses is a failure of kind `refused-by-tool`. Each distinct file is
 * checked once (verdicts are cached by content hash), and the files of one kind of one
 * input go to one run of the tool; only when that run refuses are they run one by one,
 * to name the file and the message.
 */

export type ToolName = 'promtool-config' | 'promtool-rules' | 'promtool-web' | 'amtool' | 'keepalived' | 'haproxy' | 'systemd';
export const TOOL_NAMES: readonly ToolName[] = ['promtool-config', 'promtool-rules', 'promtool-web', 'amtool', 'keepalived', 'haproxy', 'systemd'];

/** Files of one rendered member for one tool. */
export interface Artifact {
  readonly tool: ToolName;
  /** Where render put it, e.g. `scraper1-1/prometheus.yml`: named in the failure. */
  readonly label: string;
  /**
   * Files to write. Relative paths go to a directory of the checker's; absolute ones
   * (keepalived.conf and haproxy.cfg name their scripts and certificates) must lie under
   * the checker's root, which render was given as its --config-root.
   */
  readonly files: ReadonlyArray<{ readonly path: string; readonly content: string; readonly mode?: number }>;
  /** The files the tool reads (paths as in `files`); all of them when absent. */
  readonly targets?: readonly string[];
}

interface Verdict {
  readonly ok: boolean;
  readonly message?: string;
}

export interface ToolStats {
  /** Artifacts judged, by tool; `cached` of them from an earlier verdict. */
  readonly checked: Record<ToolName, number>;
  readonly cached: Record<ToolName, number>;
  readonly refused: Record<ToolName, number>;
  /** Tool processes started. */
  runs: number;
  /** Artifacts not judged: the tool is missing (keepalived without root, say). */
  readonly skipped: Record<ToolName, number>;
}

/**
 * As long as promha lets its own promtool and amtool children run: a rule of 50,000
 * chained terms, which promtool accepts, takes it 28 s to check on an idle machine, and
 * three fuzzers side by side triple that. Past it, "no verdict" is reported as a refusal.
 */
const TOOL_TIMEOUT_MS = TOOL_LIMITS.timeoutMs;
const zero = (): Record<ToolName, number> => Object.fromEntries(TOOL_NAMES.map((t) => [t, 0])) as Record<ToolName, number>;

/** The release's binary of a component: the host's package for the host's release, else `promha setup --release`'s copy. */
export async function releaseTool(release: ReleaseName, component: Component): Promise<string> {
  const { fetched } = await releaseSource(release);
  const file = fetched?.binaries[component].path ?? RELEASES[release].components[component].path;
  accessSync(file, constants.X_OK);
  return file;
}

async function available(command: string, args: string[]): Promise<boolean> {
  return (await execa(command, args, { reject: false, timeout: 10_000 })).exitCode === 0;
}

/** A message without its temporary paths, values and numbers: the same refusal of different inputs gets one signature. */
export function toolSignature(message: string): string {
  const lines = message
    .split('\n')
    .map((l) => l.trim())
    .map((l) => l.replace(/^(?:Checking )?\S+\s+(?=FAILED)/, ''))
    .filter((l) => l !== '' && !/^(Checking |SUCCESS|Found:|- |FAILED:?$)/.test(l))
    // HAProxy's summaries and banners name no cause.
    .filter((l) => !/\[NOTICE\]|Error\(s\) found in configuration|Fatal errors found|^\[WARNING\].*(?:path to executable|version is)/.test(l))
    .map((l) => l.replace(/^\[(ALERT|WARNING)\]\s*\(\d+\)\s*:\s*(config\s*:\s*)?/, '[$1] '));
  const line = lines.find((l) => /FAILED|[Ee]rror|invalid|[Uu]nknown|not |refus|must|cannot|WARNING|unsupported|unexpected|missing|empty/.test(l)) ?? lines[0] ?? '';
  return line
    .replace(/\/\S*\//g, '')
    .replace(/(^|[\s(=:,[])("[^"]*"|'[^']*'|`[^`]*`)/g, '$1…')
    .replace(/\d+/g, 'N')
    .replace(/\s+/g, ' ')
    .replace(/^(?:\(?[^\s:]*: Line N\)? ?)/, '')
    .replace(/^[\w.+@-]+\.(?:ya?ml|cfg|conf|service): /, '')
    .slice(0, 120);
}

export class ToolChecker {
  readonly stats: ToolStats = { checked: zero(), cached: zero(), refused: zero(), runs: 0, skipped: zero() };
  private readonly cache = new Map<string, Verdict>();
  private netns: string | undefined;
  private readonly interfaces = new Set<string>();
  private peers = 0;
  private written = 0;

  private constructor(
    readonly release: ReleaseName,
    /** Render's --config-root for the files that name others by absolute path lies under it. */
    readonly root: string,
    private readonly bin: { promtool: string; amtool: string; keepalived: boolean; haproxy: boolean; systemd: boolean },
  ) {}

  /** The checker of one release; throws when the release's promtool or amtool is missing. */
  static async create(release: ReleaseName): Promise<ToolChecker> {
    const bin = {
      promtool: await releaseTool(release, 'promtool'),
      amtool: await releaseTool(release, 'amtool'),
      // keepalived -t checks that the interface exists: it runs in a network namespace of ours.
      keepalived: process.getuid?.() === 0 && (await available('keepalived', ['--version'])) && (await available('ip', ['netns', 'list'])),
      haproxy: await available('haproxy', ['-v']),
      systemd: await available('systemd-analyze', ['--version']),
    };
    // Under os.tmpdir(), not /dev/shm: keepalived's script security accepts it (test/render-validators.test.ts).
    const root = await mkdtemp(path.join(os.tmpdir(), 'promha-fuzz-tools-'));
    return new ToolChecker(release, root, bin);
  }

  /** The --config-root render gets for the files of keepalived and HAProxy. */
  get configRoot(): string {
    return path.join(this.root, 'etc');
  }

  /** Which of the host's tools run here (promtool and amtool always do). */
  get host(): { keepalived: boolean; haproxy: boolean; systemd: boolean } {
    return { keepalived: this.bin.keepalived, haproxy: this.bin.haproxy, systemd: this.bin.systemd };
  }

  private key(a: Artifact): string {
    const h = createHash('sha256').update(`${this.release}\0${a.tool}\0`);
    for (const f of a.files) h.update(`${f.path}\0${f.mode ?? 0o644}\0${f.content}\0`);
    for (const t of a.targets ?? []) h.update(`${t}\0`);
    return h.digest('hex');
  }

  /** Writes an artifact's files; returns the absolute paths of its targets. */
  private async write(a: Artifact): Promise<string[]> {
    const dir = path.join(this.root, 'w', String(this.written++));
    const at = (p: string) => (path.isAbsolute(p) ? p : path.join(dir, p));
    for (const f of a.files) {
      const abs = at(f.path);
      if (!abs.startsWith(`${this.root}${path.sep}`)) throw new Error(`${a.label}: ${f.path} lies outside the checker's directory`);
      await mkdir(path.dirname(abs), { recursive: true });
      await writeFile(abs, f.content, { mode: f.mode ?? 0o644 });
      await chmod(abs, f.mode ?? 0o644);
    }
    return (a.targets ?? a.files.map((f) => f.path)).map(at);
  }

  private async run(command: string, args: string[]): Promise<{ code: number; output: string; stderr: string }> {
    this.stats.runs++;
    const r = await execa(command, args, { reject: false, all: true, timeout: TOOL_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 });
    if (r.timedOut) return { code: -1, output: `no verdict within ${TOOL_TIMEOUT_MS / 1000} s`, stderr: '' };
    return { code: r.exitCode ?? -1, output: r.all ?? '', stderr: r.stderr ?? '' };
  }

  /** The command line that checks `files` (one or several of one tool). */
  private command(tool: ToolName, files: string[]): [string, string[]] {
    switch (tool) {
      case 'promtool-config':
        // --syntax-only: the rule files and certificates it names are on the hosts, not here.
        return [this.bin.promtool, ['check', 'config', '--syntax-only', ...files]];
      case 'promtool-rules':
        return [this.bin.promtool, ['check', 'rules', ...files]];
      case 'promtool-web':
        // It loads the certificates and keys web.yml names: they are written beside it.
        return [this.bin.promtool, ['check', 'web-config', ...files]];
      case 'amtool':
        return [this.bin.amtool, ['check-config', ...files]];
      case 'systemd':
        return ['systemd-analyze', ['verify', ...files]];
      case 'haproxy':
        return ['haproxy', ['-c', '-f', ...files]];
      case 'keepalived':
        return ['ip', ['netns', 'exec', this.netns as string, 'keepalived', '-t', '-f', ...files]];
    }
  }

  /** A run's verdict: systemd-analyze also counts what it says about the files on stderr. */
  private judge(tool: ToolName, r: { code: number; output: string; stderr: string }, files: readonly string[]): Verdict {
    const said = tool === 'systemd' ? r.stderr.split('\n').filter((l) => files.some((f) => l.includes(f))) : [];
    if (r.code === 0 && said.length === 0) return { ok: true };
    return { ok: false, message: (said.length ? said.join('\n') : r.output).slice(0, 4000) };
  }

  private skips(tool: ToolName): boolean {
    if (tool === 'keepalived') return !this.bin.keepalived;
    if (tool === 'haproxy') return !this.bin.haproxy;
    if (tool === 'systemd') return !this.bin.systemd;
    return false;
  }

  /** The network namespace of keepalived -t, with every interface a config names. */
  private async interfacesFor(content: string): Promise<string | undefined> {
    if (!this.netns) {
      await this.removeStaleNamespaces();
      this.netns = `fuzz-kachk-${process.pid}`; // not promha-*: the netns lane counts those
      await execa('ip', ['netns', 'add', this.netns]);
    }
    const names = new Set([...content.matchAll(/^\s*interface\s+(\S+)\s*$/gm), ...content.matchAll(/\sdev\s+(\S+)\s*$/gm)].map((m) => m[1] as string));
    for (const name of names) {
      if (this.interfaces.has(name)) continue;
      const r = await execa('ip', ['-n', this.netns, 'link', 'add', name, 'type', 'veth', 'peer', 'name', `fzp${this.peers++}`], { reject: false, all: true });
      if (r.exitCode !== 0 && !/File exists/.test(r.all ?? '')) return `ip link add ${name}: ${(r.all ?? '').trim()}: no interface can have this name`;
      this.interfaces.add(name);
    }
    return undefined;
  }

  /** Namespaces of checkers whose process is gone (a run that was killed). */
  private async removeStaleNamespaces(): Promise<void> {
    const list = await execa('ip', ['netns', 'list'], { reject: false });
    for (const m of (list.stdout ?? '').matchAll(/^fuzz-kachk-(\d+)/gm)) {
      const pid = Number(m[1]);
      let alive = true;
      try {
        process.kill(pid, 0);
      } catch {
        alive = false;
      }
      if (!alive) await execa('ip', ['netns', 'delete', m[0]], { reject: false });
    }
  }

  private async verdictOf(a: Artifact): Promise<Verdict> {
    const files = await this.write(a);
    if (a.tool === 'keepalived') {
      const conf = a.files.find((f) => f.path === (a.targets?.[0] ?? a.files[0]?.path));
      const problem = await this.interfacesFor(conf?.content ?? '');
      if (problem) return { ok: false, message: problem };
    }
    const [command, args] = this.command(a.tool, files);
    return this.judge(a.tool, await this.run(command, args), files);
  }

  /** Verdicts of artifacts of one tool: one run for all, and one per artifact only when that run refuses. */
  private async judgeBatch(tool: ToolName, batch: Artifact[]): Promise<Map<Artifact, Verdict>> {
    const out = new Map<Artifact, Verdict>();
    if (batch.length === 1 || tool === 'keepalived' || tool === 'haproxy') {
      for (const a of batch) out.set(a, await this.verdictOf(a));
      return out;
    }
    const files: string[] = [];
    for (const a of batch) files.push(...(await this.write(a)));
    const [command, args] = this.command(tool, files);
    const all = this.judge(tool, await this.run(command, args), files);
    for (const a of batch) out.set(a, all.ok ? all : await this.verdictOf(a));
    return out;
  }

  /** Every refusal of the artifacts of one render, as failures of stage `tools`. */
  async verify(artifacts: readonly Artifact[]): Promise<Failure[]> {
    const pending = new Map<string, Artifact>();
    const keys = new Map<Artifact, string>();
    for (const a of artifacts) {
      if (this.skips(a.tool)) {
        this.stats.skipped[a.tool]++;
        continue;
      }
      const key = this.key(a);
      keys.set(a, key);
      this.stats.checked[a.tool]++;
      if (this.cache.has(key) || pending.has(key)) this.stats.cached[a.tool]++;
      else pending.set(key, a);
    }
    const byTool = new Map<ToolName, Artifact[]>();
    for (const a of pending.values()) byTool.set(a.tool, [...(byTool.get(a.tool) ?? []), a]);
    for (const [tool, batch] of byTool) for (const [a, v] of await this.judgeBatch(tool, batch)) this.cache.set(keys.get(a) as string, v);
    await rm(path.join(this.root, 'w'), { recursive: true, force: true });
    this.written = 0;

    const failures = new Map<string, Failure>();
    for (const [a, key] of keys) {
      const v = this.cache.get(key);
      if (!v || v.ok) continue;
      this.stats.refused[a.tool]++;
      const message = (v.message ?? '').split(this.root).join('').trim();
      const signature = `refused-by-tool ${a.tool} ${toolSignature(message)}`;
      if (!failures.has(signature)) failures.set(signature, { kind: 'refused-by-tool', stage: 'tools', detail: `${a.tool} (${this.release}) refuses ${a.label}:\n${message}`, signature });
    }
    return [...failures.values()];
  }

  async close(): Promise<void> {
    if (this.netns) await execa('ip', ['netns', 'delete', this.netns], { reject: false });
    this.netns = undefined;
    await rm(this.root, { recursive: true, force: true });
  }
}
