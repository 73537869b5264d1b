import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { Location } from '../location.ts';
import type { Problem } from '../errors.ts';
import { MAX_YAML_DEPTH, yamlStructureProblems } from './yaml-limits.ts';

/**
 * The parser reports an unclosed quote where the file ends; the opening quote is
 * what needs fixing: the first line before `end` with an unbalanced quote.
 */
function unclosedQuoteStart(text: string, end: number): number {
  let offset = 0;
  for (const line of text.slice(0, end).split('\n')) {
    const code = line.replace(/(^|\s)#.*$/, '');
    const doubles = (code.replace(/\\./g, '').match(/"/g) ?? []).length;
    const singles = (code.replace(/''/g, '').match(/'/g) ?? []).length;
    const at = doubles % 2 ? code.indexOf('"') : singles % 2 ? code.indexOf("'") : -1;
    if (at >= 0) return offset + at;
    offset += line.length + 1;
  }
  return end;
}

export type PropertyPath = ReadonlyArray<string | number>;

/**
 * A parsed YAML file that can tell where any value of it stands, so that every
 * message about it points at a line and column.
 */
export class YamlSource {
  static parse(file: string, text: string): { source: YamlSource; problems: Problem[] } {
    const lineCounter = new LineCounter();
    const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
    const source = new YamlSource(file, text, doc, lineCounter);
    const problems: Problem[] = doc.errors.map((e) =>
      // The parser recurses: nesting far beyond the limit overflows its stack first.
      e.code === 'RESOURCE_EXHAUSTION' && /call stack/i.test(e.message)
        ? { message: `YAML: values nest more than ${MAX_YAML_DEPTH} levels deep`, location: source.at(e.pos[0]), hint: `promha reads at most ${MAX_YAML_DEPTH} levels of nested mappings and lists` }
        : {
            message: `YAML: ${e.message.split('\n')[0]}`,
            location: source.at(e.code === 'MISSING_CHAR' ? unclosedQuoteStart(text, e.pos[0]) : e.pos[0]),
            hint: e.code === 'DUPLICATE_KEY' ? 'each key may appear once per mapping' : 'fix the YAML syntax (indentation, quotes, colons)',
          },
    );
    if (problems.length === 0)
      for (const p of yamlStructureProblems(doc)) problems.push({ message: p.message, location: source.at(p.offset), hint: p.hint });
    return { source, problems };
  }

  private constructor(
    readonly file: string,
    readonly text: string,
    readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /** The plain value; call only when `parse` reported no problem (aliases are bounded there). */
  toJS(): unknown {
    return this.doc.toJS({ maxAliasCount: -1 });
  }

  at(offset: number): Location {
    const p = this.lines.linePos(Math.min(offset, this.text.length));
    return { file: this.file, line: p.line, column: p.col };
  }

  /**
   * Location of the value at `path`, or of its key with `key: true`. Falls back to the
   * deepest existing ancestor, so a missing key points at the mapping that lacks it.
   */
  locate(path: PropertyPath, options: { key?: boolean } = {}): Location {
    let node: unknown = this.doc.contents;
    let keyNode: Node | undefined;
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) break;
        keyNode = pair.key as Node;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number' && node.items[seg] !== undefined) {
        keyNode = undefined;
        node = node.items[seg];
      } else break;
    }
    const target = options.key && keyNode ? keyNode : (node as Node | null);
    const offset = target?.range?.[0] ?? keyNode?.range?.[0] ?? 0;
    return this.at(offset);
  }
}
