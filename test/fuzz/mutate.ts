import { parse, stringify } from 'yaml';
import { ADDRESSES, DURATIONS, INJECTIONS, NUMBERS, ODD_STRINGS, PATTERNS, YAML_FRAGMENTS } from './dictionary.ts';
import type { FuzzInput, ForeignFile } from './input.ts';
import { Prng } from './prng.ts';

type Key = string | number;
type Tree = unknown;

/*
 * Two levels of mutation: structural ones edit the parsed document (a value deleted,
 * swapped, retyped, replaced from a dictionary) and are written back as YAML; textual
 * ones edit the bytes (characters, lines, anchors, tags, nesting, line ends), so the
 * parser's own error paths get inputs too.
 */

/** A plain mapping: not an array, nor a Uint8Array (`!!binary`), Set or Map (`!!set`, `!!omap`). */
const isMap = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(v) as object | null);

function allPaths(v: Tree, prefix: Key[] = [], out: Key[][] = []): Key[][] {
  if (Array.isArray(v)) v.forEach((x, i) => (out.push([...prefix, i]), allPaths(x, [...prefix, i], out)));
  else if (isMap(v)) for (const k of Object.keys(v)) out.push([...prefix, k]), allPaths(v[k], [...prefix, k], out);
  return out;
}

function get(root: Tree, path: readonly Key[]): Tree {
  return path.reduce<Tree>((v, k) => (v as Record<Key, unknown>)?.[k], root);
}

function parentOf(root: Tree, path: readonly Key[]): Record<Key, unknown> {
  return get(root, path.slice(0, -1)) as Record<Key, unknown>;
}

/** Sets the value at `path`; nothing when an earlier mutation replaced an ancestor by a scalar. */
function set(root: Tree, path: readonly Key[], value: unknown): void {
  const parent = parentOf(root, path);
  if (parent !== null && typeof parent === 'object') parent[path[path.length - 1] as Key] = value;
}

function remove(root: Tree, path: readonly Key[]): void {
  const parent = parentOf(root, path);
  if (parent === null || typeof parent !== 'object') return;
  const last = path[path.length - 1] as Key;
  if (Array.isArray(parent)) parent.splice(last as number, 1);
  else delete parent[last];
}

const clone = <T>(v: T): T => (v === undefined ? v : structuredClone(v));

/** A hostile value chosen by what the key is about. */
function valueFor(rng: Prng, key: Key | undefined): unknown {
  const k = String(key ?? '');
  const pools: Array<readonly unknown[]> = [INJECTIONS, ODD_STRINGS, NUMBERS];
  if (/address|targets/.test(k)) pools.push(ADDRESSES, ADDRESSES);
  if (/interval|scrape|push|federate|evaluate|retention|delta|timeout|wait|for|delay|period|window|advert/.test(k)) pools.push(DURATIONS, DURATIONS);
  if (/match|metrics|expr|regex/.test(k)) pools.push(PATTERNS, PATTERNS);
  if (/interface|path|dir|file|name|url|receiver|username/.test(k)) pools.push(INJECTIONS);
  if (typeof key === 'number') pools.push(ADDRESSES, PATTERNS, DURATIONS);
  return rng.pick(rng.pick(pools));
}

function retype(rng: Prng, v: unknown): unknown {
  switch (rng.int(0, 8)) {
    case 0:
      return String(v);
    case 1:
      return typeof v === 'string' && v.trim() !== '' ? Number(v) : rng.pick(NUMBERS);
    case 2:
      return rng.chance(0.5);
    case 3:
      return null;
    case 4:
      return [];
    case 5:
      return [clone(v)];
    case 6:
      return {};
    case 7:
      return { x: clone(v) };
    default:
      return Array.isArray(v) ? clone(v[0]) : isMap(v) ? clone(Object.values(v)[0]) : rng.pick(NUMBERS);
  }
}

/** Keys of the topology and rule-file formats, added where they do not belong (or do). */
const KEYS = [
  'name',
  'address',
  'cluster_address',
  'storage',
  'path',
  'persistent',
  'retention',
  'labels',
  'vip',
  'interface',
  'virtual_router_id',
  'advert_int',
  'backup',
  'jobs',
  'metrics',
  'match',
  'rule_files',
  'scrape_configs',
  'for',
  'keep_firing_for',
  'annotations',
  'expr',
  'alert',
  'record',
  'interval',
  'lookback_delta',
  'persistence_file',
  'peer_timeout',
  'out_of_order_window',
  'data-center',
  '__proto__',
  'constructor',
];

export function structural(rng: Prng, root: Tree): void {
  const paths = allPaths(root);
  if (paths.length === 0) return;
  const path = rng.pick(paths);
  const key = path[path.length - 1];
  const value = get(root, path);
  switch (rng.int(0, 11)) {
    case 0:
      return remove(root, path);
    case 10:
    case 11:
      // Leaves mostly: a hostile value where a plain one was keeps the rest of the file valid.
      if (value === null || typeof value !== 'object') return set(root, path, valueFor(rng, typeof key === 'number' ? path[path.length - 2] : key));
      return structural(rng, root);
    case 1:
    case 2:
      return set(root, path, valueFor(rng, key));
    case 3:
      return set(root, path, retype(rng, value));
    case 4: {
      const other = rng.pick(paths);
      const a = clone(value);
      const b = clone(get(root, other));
      set(root, path, b);
      set(root, other, a);
      return;
    }
    case 5:
      return set(root, path, clone(get(root, rng.pick(paths))));
    case 6: {
      const parent = parentOf(root, path);
      if (Array.isArray(parent)) parent.push(clone(value));
      else if (isMap(value)) value[rng.pick(KEYS)] = valueFor(rng, key);
      else set(root, path, [clone(value), clone(value)]);
      return;
    }
    case 7: {
      const k = rng.pick(KEYS);
      const parent = parentOf(root, path);
      if (isMap(parent)) parent[k] = valueFor(rng, k);
      return;
    }
    case 8:
      return set(root, path, rng.pick(NUMBERS));
    default:
      if (isMap(value)) value['labels'] = { [rng.pick(['data-center', 'job', '__name__', 'le', 'a b', '0x', ''])]: valueFor(rng, 'labels') };
      else set(root, path, valueFor(rng, rng.pick(KEYS)));
  }
}

function lines(text: string): string[] {
  return text.split('\n');
}

function randomChar(rng: Prng): string {
  return rng.chance(0.5) ? rng.pick([':', '-', ' ', '\t', '"', "'", '&', '*', '!', '{', '}', '[', ']', '#', '|', '>', '%', '@', '`', ',', '?', '\u0000', '\r', '\ufeff', 'é']) : String.fromCharCode(rng.int(32, 126));
}

export function textual(rng: Prng, text: string): string {
  const at = rng.int(0, text.length);
  const ls = lines(text);
  const li = rng.int(0, Math.max(0, ls.length - 1));
  const line = ls[li] ?? '';
  const indent = /^\s*/.exec(line)?.[0] ?? '';
  const join = (xs: string[]) => xs.join('\n');
  switch (rng.int(0, 15)) {
    case 0:
      return text.slice(0, at) + randomChar(rng) + text.slice(at + 1);
    case 1:
      return text.slice(0, at) + randomChar(rng) + text.slice(at);
    case 2:
      return text.slice(0, at) + text.slice(at + rng.int(1, 20));
    case 3:
      // A duplicated line is a duplicated key in a mapping.
      return join([...ls.slice(0, li + 1), line, ...ls.slice(li + 1)]);
    case 4:
      return join(ls.filter((_, i) => i !== li));
    case 5:
      return join(ls.map((l, i) => (i === li ? (ls[li + 1] ?? l) : i === li + 1 ? line : l)));
    case 6: {
      const colon = line.indexOf(': ');
      const fragment = rng.pick(YAML_FRAGMENTS);
      const edited = colon >= 0 && rng.chance(0.6) ? `${line.slice(0, colon + 2)}${fragment}${line.slice(colon + 2)}` : `${indent}${fragment}${line.slice(indent.length)}`;
      return join(ls.map((l, i) => (i === li ? edited : l)));
    }
    case 7: {
      // An anchor on one value and an alias to it on another.
      const values = ls.map((l, i) => [i, l.indexOf(': ')] as const).filter(([, c]) => c >= 0);
      if (values.length < 2) return text;
      const [ai, ac] = rng.pick(values);
      const [bi, bc] = rng.pick(values);
      return join(ls.map((l, i) => (i === ai ? `${l.slice(0, ac + 2)}&x ${l.slice(ac + 2)}` : i === bi && bi !== ai ? `${l.slice(0, bc + 2)}*x` : l)));
    }
    case 8: {
      const depth = rng.pick([64, 1000, 5000, 20_000]);
      const nest = rng.chance(0.5) ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{a: '.repeat(depth)}1${'}'.repeat(depth)}`;
      const colon = line.indexOf(': ');
      return join(ls.map((l, i) => (i === li ? (colon >= 0 ? `${l.slice(0, colon + 2)}${nest}` : `${indent}- ${nest}`) : l)));
    }
    case 9: {
      const n = rng.int(2, 12);
      const defs = Array.from({ length: n }, (_, i) => `l${i}: &l${i} [${Array(9).fill(i === 0 ? '"lol"' : `*l${i - 1}`).join(', ')}]`);
      return `${defs.join('\n')}\n${text}`;
    }
    case 10:
      return `\ufeff${text}`;
    case 11:
      return text.replace(/\n/g, '\r\n');
    case 12:
      return join(ls.map((l, i) => (i === li ? l.replace(/^ +/, (s) => '\t'.repeat(Math.max(1, s.length / 2))) : l)));
    case 13:
      return text.slice(0, at);
    case 14:
      return join(ls.map((l, i) => (i === li ? `${l}\n${indent}<<: *${rng.pick(['x', 'undefined', 'l0'])}` : l)));
    default: {
      const colon = line.indexOf(': ');
      const v = stringify(valueFor(rng, line.slice(indent.length, colon)), { lineWidth: 0 }).trimEnd();
      return colon >= 0 && !v.includes('\n') ? join(ls.map((l, i) => (i === li ? `${l.slice(0, colon + 2)}${v}` : l))) : text;
    }
  }
}

/** A finite, acyclic tree no deeper than `depth` (aliases can make cycles). */
function plainTree(v: unknown, depth: number, seen = new Set<unknown>()): boolean {
  if (v === null || typeof v !== 'object') return true;
  if (!Array.isArray(v) && !isMap(v)) return false;
  if (depth === 0 || seen.has(v)) return false;
  seen.add(v);
  const ok = Object.values(v).every((x) => plainTree(x, depth - 1, seen));
  seen.delete(v);
  return ok;
}

/** Parses a YAML text for structural mutation; undefined when it is no plain tree. */
export function tree(text: string): Tree | undefined {
  try {
    const v: unknown = parse(text, { maxAliasCount: 100, uniqueKeys: false, logLevel: 'silent' });
    return (isMap(v) || Array.isArray(v)) && plainTree(v, 100) ? structuredClone(v) : undefined;
  } catch {
    return undefined;
  }
}

const FOREIGN: readonly ForeignFile[] = [
  { path: 'notes.txt', content: 'mine\n', afterRender: false },
  { path: 'plan.json', content: '{"mine": true}\n', afterRender: false },
  { path: 'kustomization.yaml', content: 'mine: true\n', afterRender: false },
  { path: 'notes.txt', content: 'mine\n', afterRender: true },
  { path: 'scraper1-1/local.conf', content: 'mine\n', afterRender: true },
];

/** The input of one iteration: a few mutations of one seed, the same for the same generator state. */
export function mutate(rng: Prng, seed: FuzzInput): FuzzInput {
  const files: Record<string, string> = { ...seed.files };
  let topology = seed.topology;
  const ruleNames = Object.keys(files);
  const target = () => (ruleNames.length && rng.chance(0.3) ? rng.pick(ruleNames) : undefined);
  const read = (name: string | undefined) => (name === undefined ? topology : (files[name] as string));
  const write = (name: string | undefined, text: string) => (name === undefined ? (topology = text) : (files[name] = text));

  // Mostly one or two mutations, so that many inputs stay valid enough to be rendered.
  const structuralCount = rng.chance(0.25) ? 0 : rng.chance(0.6) ? 1 : rng.int(2, 5);
  for (let i = 0; i < structuralCount; i++) {
    const name = target();
    const t = tree(read(name));
    if (t === undefined) continue;
    structural(rng, t);
    write(name, stringify(t, { lineWidth: 0, aliasDuplicateObjects: false }));
  }
  const textualCount = structuralCount === 0 ? rng.int(1, 3) : rng.chance(0.2) ? 1 : 0;
  for (let i = 0; i < textualCount; i++) {
    const name = target();
    write(name, textual(rng, read(name)));
  }
  const foreign = rng.chance(0.15) ? rng.pick(FOREIGN) : seed.foreign;
  return { ...seed, topology, files, ...(foreign ? { foreign } : {}) };
}
