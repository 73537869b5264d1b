import { isAlias, isMap, isPair, isScalar, isSeq, parseDocument, visit, type Document, type Node, type Pair, type Scalar, type YAMLMap } from 'yaml';
import { Duration } from '../duration.ts';
import { LineIndex, type Location } from '../location.ts';
import { MAX_YAML_DEPTH } from '../topology/yaml-limits.ts';
import { controlCharacterProblems, indentationProblems } from './go-yaml.ts';

/*
 * A Prometheus rule file, read the way Prometheus 2.42 reads it (rulefmt with strict
 * fields), but reporting every problem with its place instead of stopping at the first.
 * PromQL is left to the caller, which maps expression offsets back with `exprLocation`.
 */

export interface RuleDefinition {
  readonly kind: 'alert' | 'record';
  /** Alert or record name. */
  readonly name: string;
  readonly group: string;
  readonly groupInterval?: Duration;
  readonly expr: string;
  readonly for?: Duration;
  readonly keepFiringFor?: Duration;
  readonly labels: Readonly<Record<string, string>>;
  /** The rule's `alert:`/`record:` key. */
  readonly location: Location;
  /** Location in the rule file of character `offset` of `expr` (handles plain, single/double quoted, and block `|`/`>` scalars across lines). */
  exprLocation(offset: number): Location;
}

export interface RuleFileProblem {
  readonly message: string;
  readonly location: Location;
  readonly hint?: string;
}

export interface LoadedRuleFile {
  readonly path: string;
  readonly rules: readonly RuleDefinition[];
  readonly problems: readonly RuleFileProblem[];
}

const TOP_KEYS = new Set(['groups']);
const GROUP_KEYS = new Set(['name', 'interval', 'limit', 'rules']);
const RULE_KEYS = new Set(['record', 'alert', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations']);
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const FORMAT_HINT = 'see https://prometheus.io/docs/prometheus/2.42/configuration/recording_rules/';

export function parseRuleFile(path: string, text: string): LoadedRuleFile {
  const lines = new LineIndex(text);
  const problems: RuleFileProblem[] = [];
  const rules: RuleDefinition[] = [];
  const at = (offset: number): Location => lines.locate(path, Math.max(0, Math.min(offset, text.length)));
  const report = (message: string, offset: number, hint?: string) =>
    problems.push({ message, location: at(offset), ...(hint !== undefined ? { hint } : {}) });

  const doc = parseDocument(text, { keepSourceTokens: true, prettyErrors: false, uniqueKeys: true });
  for (const p of controlCharacterProblems(text)) report(p.message, p.offset, p.hint);
  if (doc.errors.length > 0) {
    // A file that is not YAML is not loaded at all; anything read from it would be a guess.
    for (const e of doc.errors)
      if (e.code === 'RESOURCE_EXHAUSTION' && /call stack/i.test(e.message))
        // The YAML parser recurses: nesting far past the limit overflows its stack before it is counted.
        report(`YAML: values nest more than ${MAX_YAML_DEPTH} levels deep`, e.pos[0], NESTING_HINT);
      else
        report(
          `YAML: ${e.message.split('\n')[0]}`,
          e.pos[0],
          e.code === 'DUPLICATE_KEY' ? 'each key may appear once per mapping' : 'fix the YAML syntax (indentation, quotes, colons)',
        );
    return { path, rules, problems: byPosition(problems) };
  }
  const deep = tooDeep(doc);
  if (deep !== undefined) {
    report(`YAML: values nest more than ${MAX_YAML_DEPTH} levels deep`, deep, NESTING_HINT);
    return { path, rules, problems: byPosition(problems) };
  }
  // Prometheus' YAML reader is stricter than this one: what it refuses is not loaded either.
  for (const p of indentationProblems(text, doc)) report(p.message, p.offset, p.hint);
  for (const p of tagProblems(doc)) report(p.message, p.offset, p.hint);
  if (problems.length > 0) return { path, rules, problems: byPosition(problems) };

  const top = resolve(doc, doc.contents);
  if (top === undefined || (isScalar(top) && top.value === null)) {
    report('rule file has no `groups` list', 0, 'start the file with `groups:`; Prometheus would load it but it defines no rules');
    return { path, rules, problems };
  }
  if (!isMap(top)) {
    report('a rule file must be a mapping with a `groups` list', start(top), FORMAT_HINT);
    return { path, rules, problems };
  }
  reportUnknownKeys(top, TOP_KEYS, 'at the top level', report);
  const groupsPair = findPair(top, 'groups');
  if (!groupsPair) {
    report('rule file has no `groups` list', start(top), FORMAT_HINT);
    return { path, rules, problems };
  }
  const groups = resolve(doc, groupsPair.value);
  if (groups === undefined || (isScalar(groups) && groups.value === null)) return { path, rules, problems };
  if (!isSeq(groups)) {
    report('`groups` must be a list of groups', start(groups, groupsPair), FORMAT_HINT);
    return { path, rules, problems };
  }

  const groupNames = new Map<string, number>();
  for (const item of groups.items) {
    const group = resolve(doc, item);
    if (!isMap(group)) {
      report('each entry of `groups` must be a mapping with `name` and `rules`', start(group, groupsPair), FORMAT_HINT);
      continue;
    }
    const namePair = findPair(group, 'name');
    const nameNode = resolve(doc, namePair?.value);
    const name = scalarText(nameNode);
    if (!namePair) report('group has no name', start(group), 'give every group a unique `name`');
    else if (name === undefined || name === '') report('group name must be a non-empty string', start(nameNode, namePair), 'give every group a unique `name`');
    else {
      const first = groupNames.get(name);
      if (first !== undefined)
        report(`duplicate group name "${name}" (first used at line ${lines.position(first).line})`, start(nameNode), 'group names must be unique within a file');
      else groupNames.set(name, start(nameNode));
    }
    const label = name ? `group "${name}"` : 'group';
    reportUnknownKeys(group, GROUP_KEYS, `in ${label}`, report);

    const interval = durationField(doc, group, 'interval', `${label}: interval`, report);
    const limitPair = findPair(group, 'limit');
    if (limitPair) {
      const limit = resolve(doc, limitPair.value);
      if (!(isScalar(limit) && (limit.value === null || (typeof limit.value === 'number' && Number.isInteger(limit.value) && limit.value >= 0))))
        report(`${label}: limit must be a non-negative integer`, start(limit, limitPair));
    }

    const rulesPair = findPair(group, 'rules');
    const ruleSeq = resolve(doc, rulesPair?.value);
    if (!rulesPair || ruleSeq === undefined || (isScalar(ruleSeq) && ruleSeq.value === null)) continue;
    if (!isSeq(ruleSeq)) {
      report(`${label}: rules must be a list`, start(ruleSeq, rulesPair), FORMAT_HINT);
      continue;
    }
    for (const ruleItem of ruleSeq.items) {
      const rule = readRule(doc, resolve(doc, ruleItem), rulesPair, report, at, text);
      if (rule) rules.push({ ...rule, group: name ?? '', ...(interval ? { groupInterval: interval } : {}) });
    }
  }
  return { path, rules, problems: byPosition(problems) };
}

const NESTING_HINT = `a rule file nests 4 levels (groups, a group, rules, a rule) and its labels one more; promha reads at most ${MAX_YAML_DEPTH}`;

/** The offset of the first collection nested deeper than MAX_YAML_DEPTH, by a walk with a stack of its own. */
function tooDeep(doc: Document): number | undefined {
  const stack: Array<{ node: unknown; depth: number }> = [{ node: doc.contents, depth: 1 }];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const { node, depth } = item;
    if (!isMap(node) && !isSeq(node)) continue;
    if (depth > MAX_YAML_DEPTH) return node.range?.[0] ?? 0;
    for (const child of node.items as unknown[])
      if (isPair(child)) stack.push({ node: child.key, depth: depth + 1 }, { node: child.value, depth: depth + 1 });
      else stack.push({ node: child, depth: depth + 1 });
  }
  return undefined;
}

function byPosition(problems: RuleFileProblem[]): RuleFileProblem[] {
  return problems.sort((a, b) => a.location.line - b.location.line || a.location.column - b.location.column);
}

type Report = (message: string, offset: number, hint?: string) => void;

function readRule(
  doc: Document,
  node: Node | undefined,
  parent: Pair,
  report: Report,
  at: (offset: number) => Location,
  text: string,
): Omit<RuleDefinition, 'group' | 'groupInterval'> | undefined {
  if (!isMap(node)) {
    report('each rule must be a mapping with `alert` or `record` and `expr`', start(node, parent), FORMAT_HINT);
    return undefined;
  }
  const alertPair = findPair(node, 'alert');
  const recordPair = findPair(node, 'record');
  if (alertPair && recordPair) {
    report('rule has both `alert` and `record`; use one per rule', start(undefined, recordPair, node));
    return undefined;
  }
  const namePair = alertPair ?? recordPair;
  if (!namePair) {
    report('rule has neither `alert` nor `record`', start(node), 'name the rule with `alert: Name` or `record: metric:name`');
    return undefined;
  }
  const kind = alertPair ? 'alert' : 'record';
  const nameNode = resolve(doc, namePair.value);
  const name = scalarText(nameNode);
  let valid = true;
  if (!name) {
    report(`${kind} name must be a non-empty string`, start(nameNode, namePair));
    valid = false;
  } else if (kind === 'record' && !METRIC_NAME.test(name)) {
    report(`invalid recording rule name "${name}"`, start(nameNode), 'recording rule names are metric names, e.g. job:http_requests:rate5m');
  }
  const label = `${kind === 'alert' ? 'alert' : 'recording rule'} ${name ?? '(unnamed)'}`;
  reportUnknownKeys(node, RULE_KEYS, `in ${label}`, report);

  for (const field of kind === 'record' ? ['for', 'keep_firing_for', 'annotations'] : []) {
    const pair = findPair(node, field);
    if (pair) report(`${label}: \`${field}\` is not allowed on a recording rule`, start(pair.key as Node | null, pair), `remove \`${field}\` or make it an alert`);
  }
  const forD = kind === 'alert' ? durationField(doc, node, 'for', `${label}: for`, report) : undefined;
  const keepFiringFor = kind === 'alert' ? durationField(doc, node, 'keep_firing_for', `${label}: keep_firing_for`, report) : undefined;
  const labels = stringMap(doc, node, 'labels', label, report);
  stringMap(doc, node, 'annotations', label, report);

  const exprPair = findPair(node, 'expr');
  const exprNode = resolve(doc, exprPair?.value);
  const expr = isScalar(exprNode) ? scalarText(exprNode) : undefined;
  if (!exprPair || (isScalar(exprNode) && exprNode.value === null) || exprNode === undefined) {
    report(`${label}: expr is missing`, start(exprPair, node), 'every rule needs a PromQL `expr`');
    return undefined;
  }
  if (expr === undefined) {
    report(`${label}: expr must be a string`, start(exprNode, exprPair), 'write the PromQL as a string, e.g. with `expr: |`');
    return undefined;
  }
  if (expr.trim() === '') {
    report(`${label}: expr is empty`, start(exprNode, exprPair), 'every rule needs a PromQL `expr`');
    return undefined;
  }
  if (!valid || !name || !isScalar(exprNode)) return undefined;

  const offsets = scalarOffsets(exprNode, expr, text);
  const exprStart = start(exprNode);
  return {
    kind,
    name,
    expr,
    ...(forD ? { for: forD } : {}),
    ...(keepFiringFor ? { keepFiringFor } : {}),
    labels,
    location: at(start(namePair.key as Node | null, namePair)),
    exprLocation(offset: number): Location {
      if (!offsets) return at(exprStart);
      const i = Math.max(0, Math.min(Math.trunc(offset), offsets.length - 1));
      return at(offsets[i] ?? exprStart);
    },
  };
}

/* ------------------------------------------------------------ yaml helpers -- */

function resolve(doc: Document, node: unknown): Node | undefined {
  if (isAlias(node)) return (node.resolve(doc) as Node | undefined) ?? undefined;
  return isScalar(node) || isMap(node) || isSeq(node) ? node : undefined;
}

/** Offset of the first node that has a position, e.g. the value, else its key, else its mapping. */
function start(...candidates: Array<Node | Pair | null | undefined>): number {
  for (const c of candidates) {
    if (!c) continue;
    if (isPair(c)) {
      const k = c.key as Node | null;
      if (k?.range) return k.range[0];
      continue;
    }
    if (c.range) return c.range[0];
  }
  return 0;
}

function findPair(map: YAMLMap, key: string): Pair | undefined {
  return map.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
}

function reportUnknownKeys(map: YAMLMap, allowed: ReadonlySet<string>, where: string, report: Report): void {
  for (const pair of map.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
    if (key !== undefined && allowed.has(key)) continue;
    report(
      `unknown key ${key !== undefined ? `"${key}"` : '(not a string)'} ${where}`,
      start(pair.key as Node | null, pair, map),
      `Prometheus rejects unknown keys; allowed: ${[...allowed].join(', ')}`,
    );
  }
}

/**
 * The string Prometheus would see for a scalar: strings as they are, other plain scalars as
 * written (Go's yaml decodes `1.0` into a string field as "1.0", not "1").
 */
function scalarText(node: Node | undefined): string | undefined {
  if (!isScalar(node) || node.value === null || node.value === undefined) return undefined;
  if (typeof node.value === 'string') return node.value;
  const token = node.srcToken;
  if (token && token.type === 'scalar') return token.source;
  return typeof node.value === 'object' ? undefined : String(node.value);
}

function durationField(doc: Document, map: YAMLMap, key: string, what: string, report: Report): Duration | undefined {
  const pair = findPair(map, key);
  if (!pair) return undefined;
  const node = resolve(doc, pair.value);
  const value = scalarText(node);
  if (isScalar(node) && node.value === null) return undefined;
  const d = value !== undefined ? Duration.tryParse(value) : undefined;
  if (!d) report(`${what} ${value !== undefined ? `"${value}" ` : ''}is not a duration`, start(node, pair), 'use e.g. 30s, 5m, 1h30m');
  return d;
}

function stringMap(doc: Document, map: YAMLMap, key: string, owner: string, report: Report): Record<string, string> {
  const out: Record<string, string> = {};
  const pair = findPair(map, key);
  if (!pair) return out;
  const node = resolve(doc, pair.value);
  if (node === undefined || (isScalar(node) && node.value === null)) return out;
  if (!isMap(node)) {
    report(`${owner}: ${key} must be a mapping of names to strings`, start(node, pair));
    return out;
  }
  for (const item of node.items) {
    const name = isScalar(item.key) ? String(item.key.value) : undefined;
    if (name === undefined || !LABEL_NAME.test(name)) {
      report(`${owner}: invalid ${key === 'labels' ? 'label' : 'annotation'} name ${name !== undefined ? `"${name}"` : ''}`.trimEnd(), start(item.key as Node | null, item, node));
      continue;
    }
    const value = resolve(doc, item.value);
    if (value !== undefined && !isScalar(value)) {
      report(`${owner}: ${key}.${name} must be a string`, start(value, item));
      continue;
    }
    out[name] = scalarText(value) ?? '';
  }
  return out;
}

/* ----------------------------------------------------- expression offsets -- */

/**
 * For each character of a scalar's value, its offset in the file (plus one entry for the
 * end). YAML folds lines, strips indentation and decodes escapes, so a character's place
 * has to be worked out per scalar style. The result is checked against the value the
 * YAML library produced and dropped (undefined) on any disagreement.
 */
function scalarOffsets(node: Scalar, value: string, text: string): number[] | undefined {
  const token = node.srcToken;
  if (!token) return undefined;
  let mapped: Mapped | undefined;
  switch (token.type) {
    case 'scalar':
      mapped = foldFlow(token.source, token.offset, plainChar);
      break;
    case 'single-quoted-scalar':
      mapped = foldFlow(token.source.slice(1, -1), token.offset + 1, singleQuotedChar);
      break;
    case 'double-quoted-scalar':
      mapped = foldFlow(token.source.slice(1, -1), token.offset + 1, doubleQuotedChar);
      break;
    case 'block-scalar': {
      const header = token.props.find((p) => p.type === 'block-scalar-header');
      const last = token.props[token.props.length - 1];
      if (!header || !('source' in header) || !last || !('source' in last)) return undefined;
      const bodyStart = last.offset + last.source.length;
      if (text.slice(bodyStart, bodyStart + token.source.length) !== token.source) return undefined;
      mapped = blockScalar(header.source, token.source, bodyStart, token.indent);
      break;
    }
    default:
      return undefined;
  }
  return mapped && mapped.value === value ? mapped.offsets : undefined;
}

interface Mapped {
  readonly value: string;
  /** `value.length + 1` entries. */
  readonly offsets: number[];
}

class MappedBuilder {
  private value = '';
  private readonly offsets: number[] = [];
  push(chars: string, offset: number): void {
    this.value += chars;
    for (let i = 0; i < chars.length; i++) this.offsets.push(offset);
  }
  done(end: number): Mapped {
    return { value: this.value, offsets: [...this.offsets, end] };
  }
}

interface SourceLine {
  readonly text: string;
  readonly start: number;
}

function splitLines(source: string, base: number): SourceLine[] {
  const out: SourceLine[] = [];
  let lineStart = 0;
  for (let i = 0; i <= source.length; i++) {
    if (i === source.length || source.charAt(i) === '\n') {
      const raw = source.slice(lineStart, i);
      out.push({ text: raw.endsWith('\r') ? raw.slice(0, -1) : raw, start: base + lineStart });
      lineStart = i + 1;
    }
  }
  return out;
}

/** One decoded unit of a flow scalar line: the characters it stands for and how much source it spans. */
interface FlowUnit {
  readonly chars: string;
  readonly length: number;
  /** Unescaped white space, which folding may drop at the end of a line. */
  readonly blank: boolean;
  /** A backslash right before the line break: the break is removed, not folded. */
  readonly joinsLine?: boolean;
}

type FlowDecoder = (line: string, i: number) => FlowUnit;

const plainChar: FlowDecoder = (line, i) => ({ chars: line.charAt(i), length: 1, blank: /[ \t]/.test(line.charAt(i)) });

const singleQuotedChar: FlowDecoder = (line, i) =>
  line.startsWith("''", i) ? { chars: "'", length: 2, blank: false } : plainChar(line, i);

const DOUBLE_ESCAPES: Readonly<Record<string, string>> = {
  '0': '\0', a: '\x07', b: '\b', t: '\t', '\t': '\t', n: '\n', v: '\v', f: '\f', r: '\r', e: '\x1b', ' ': ' ',
  '"': '"', '/': '/', '\\': '\\', N: '\x85', _: '\xa0', L: '\u2028', P: '\u2029',
};

const doubleQuotedChar: FlowDecoder = (line, i) => {
  if (line.charAt(i) !== '\\') return plainChar(line, i);
  if (i + 1 >= line.length) return { chars: '', length: 1, blank: false, joinsLine: true };
  const e = line.charAt(i + 1);
  const simple = DOUBLE_ESCAPES[e];
  if (simple !== undefined) return { chars: simple, length: 2, blank: false };
  const hexLength = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
  const hex = line.slice(i + 2, i + 2 + hexLength);
  if (hexLength && /^[0-9a-fA-F]+$/.test(hex) && hex.length === hexLength)
    return { chars: String.fromCodePoint(Math.min(parseInt(hex, 16), 0x10ffff)), length: 2 + hexLength, blank: false };
  return { chars: line.slice(i, i + 2), length: 2, blank: false };
};

/**
 * Flow scalar line folding: white space around line breaks is dropped, a single break
 * becomes a space and n+1 breaks become n newlines.
 */
function foldFlow(source: string, base: number, decode: FlowDecoder): Mapped {
  const out = new MappedBuilder();
  const lines = splitLines(source, base);
  let emptyLines = 0;
  let previousEnd = base;
  let joinNext = false;
  lines.forEach((line, index) => {
    const isLast = index === lines.length - 1;
    let i = 0;
    if (index > 0) while (i < line.text.length && /[ \t]/.test(line.text.charAt(i))) i++;
    const units: Array<{ unit: FlowUnit; offset: number }> = [];
    for (; i < line.text.length; ) {
      const unit = decode(line.text, i);
      units.push({ unit, offset: line.start + i });
      i += unit.length;
    }
    const joins = units.at(-1)?.unit.joinsLine === true;
    if (!isLast && !joins) while (units.length > 0 && units[units.length - 1]?.unit.blank) units.pop();
    if (index > 0 && !isLast && units.length === 0) {
      emptyLines++;
      return;
    }
    if (index > 0 && !joinNext) {
      if (emptyLines === 0) out.push(' ', previousEnd);
      else for (let k = 0; k < emptyLines; k++) out.push('\n', previousEnd);
    }
    emptyLines = 0;
    for (const { unit, offset } of units) out.push(unit.chars, offset);
    joinNext = joins;
    const lastUnit = units.at(-1);
    previousEnd = lastUnit ? lastUnit.offset + lastUnit.unit.length : line.start;
  });
  return out.done(previousEnd);
}

/** Literal (`|`) and folded (`>`) block scalars, with their chomping and indentation indicators. */
function blockScalar(header: string, body: string, base: number, parentIndent: number): Mapped | undefined {
  const folded = header.startsWith('>');
  const chomping = header.includes('-') ? 'strip' : header.includes('+') ? 'keep' : 'clip';
  const explicit = /\d/.exec(header)?.[0];
  const lines = splitLines(body, base);
  const firstContent = lines.find((l) => l.text.trim() !== '');
  const indent = explicit !== undefined ? parentIndent + Number(explicit) : firstContent ? firstContent.text.length - firstContent.text.trimStart().length : 0;
  const content = lines.map((l) => (l.text.length <= indent && l.text.trim() === '' ? { text: '', start: l.start } : { text: l.text.slice(indent), start: l.start + indent }));
  let last = content.length - 1;
  while (last >= 0 && content[last]?.text === '') last--;

  const out = new MappedBuilder();
  let previous: SourceLine | undefined;
  let emptyLines = 0;
  const moreIndented = (l: SourceLine) => /^[ \t]/.test(l.text);
  for (let i = 0; i <= last; i++) {
    const line = content[i];
    if (!line) return undefined;
    if (line.text === '') {
      emptyLines++;
      continue;
    }
    const breakAt = previous ? previous.start + previous.text.length : line.start;
    if (!previous) for (let k = 0; k < emptyLines; k++) out.push('\n', line.start);
    else if (folded && !moreIndented(previous) && !moreIndented(line)) {
      if (emptyLines === 0) out.push(' ', breakAt);
      else for (let k = 0; k < emptyLines; k++) out.push('\n', breakAt);
    } else for (let k = 0; k <= emptyLines; k++) out.push('\n', breakAt);
    for (let j = 0; j < line.text.length; j++) out.push(line.text.charAt(j), line.start + j);
    previous = line;
    emptyLines = 0;
  }
  const end = previous ? previous.start + previous.text.length : base;
  const breaksAfter = content.length - 1 - last;
  const trailing = chomping === 'strip' || last < 0 ? 0 : chomping === 'clip' ? Math.min(1, breaksAfter) : breaksAfter;
  for (let k = 0; k < trailing; k++) out.push('\n', end);
  return out.done(end);
}

/** What a core YAML tag promises of its scalar, as Go's YAML reader checks it. */
const TAGGED: Readonly<Record<string, (v: unknown) => boolean>> = {
  'tag:yaml.org,2002:str': () => true,
  'tag:yaml.org,2002:int': (v) => typeof v === 'number' && Number.isInteger(v),
  'tag:yaml.org,2002:float': (v) => typeof v === 'number',
  'tag:yaml.org,2002:bool': (v) => typeof v === 'boolean',
  'tag:yaml.org,2002:null': (v) => v === null,
};

/**
 * Explicit tags Prometheus' YAML reader refuses: `for: !!int 2m` is "cannot decode !!str
 * `2m` as a !!int" in promtool, while this parser would take the string. Tags on
 * mappings and lists, `!!str` and local tags (`!x`, which Go ignores) pass. The document
 * is at most MAX_YAML_DEPTH deep here, so the visit's recursion is bounded.
 */
function tagProblems(doc: Document): Array<{ message: string; offset: number; hint: string }> {
  const found: Array<{ message: string; offset: number; hint: string }> = [];
  visit(doc, {
    Scalar(_key, node) {
      const tag = node.tag;
      if (tag === undefined || !tag.startsWith('tag:yaml.org,2002:')) return;
      const fits = TAGGED[tag];
      if (fits?.(node.value)) return;
      const short = `!!${tag.slice('tag:yaml.org,2002:'.length)}`;
      found.push({
        message: `YAML: cannot decode ${JSON.stringify(String(node.source ?? node.value))} as a ${short} (Prometheus' YAML reader refuses it)`,
        offset: node.range?.[0] ?? 0,
        hint: `remove the ${short} tag`,
      });
    },
  });
  return found;
}
