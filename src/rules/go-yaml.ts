import { isMap, isScalar, isSeq, Scalar, visit, type Document, type Node } from 'yaml';

/*
 * Where Prometheus' YAML reader (go-yaml, YAML 1.1) refuses text that the YAML 1.2
 * library used here accepts. promtool 2.42 fails the whole file on each of these:
 * "control characters are not allowed", "found character that cannot start any token"
 * and "found a tab character that violates indentation" for a tab in a line's
 * indentation (a tab-only line included), and a broken line at U+0085, U+2028 or U+2029.
 */

export interface TextProblem {
  readonly message: string;
  /** Offset in the text. */
  readonly offset: number;
  readonly hint: string;
}

/** go-yaml's reader: #x9 | #xA | #xD | [#x20-#x7E] | #x85 | [#xA0-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]. */
function allowed(c: number): boolean {
  return (
    c === 0x09 ||
    c === 0x0a ||
    c === 0x0d ||
    (c >= 0x20 && c <= 0x7e) ||
    c === 0x85 ||
    (c >= 0xa0 && c <= 0xd7ff) ||
    (c >= 0xe000 && c <= 0xfffd) ||
    (c >= 0x10000 && c <= 0x10ffff)
  );
}

const hex = (c: number) => `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;

/** Characters go-yaml refuses anywhere in a file, comments included. Needs no parse. */
export function controlCharacterProblems(text: string): TextProblem[] {
  const out: TextProblem[] = [];
  for (let i = 0; i < text.length; ) {
    const c = text.codePointAt(i) as number;
    if (!allowed(c))
      out.push({
        message: `control character ${hex(c)} is not allowed: Prometheus refuses the file ("control characters are not allowed")`,
        offset: i,
        hint: 'remove it; inside double quotes an escape such as \\x01 is allowed',
      });
    i += c > 0xffff ? 2 : 1;
  }
  return out;
}

interface Span {
  readonly start: number;
  readonly end: number;
}
interface BlockScalarSpan extends Span {
  /** Offset of the first body line (after the header line). */
  readonly body: number;
  /** Offset of the first content line: go-yaml refuses any tab in the indentation before it. */
  readonly content: number;
  /** Column of the content; tabs left of it are indentation. */
  readonly indent: number;
}
interface PlainSpan extends Span {
  /** go-yaml's indentation limit for continuation lines: the enclosing collection's column + 1. */
  readonly minColumn: number;
}

/** Tabs in indentation and YAML 1.1 line breaks, for a document that parsed without errors. */
export function indentationProblems(text: string, doc: Document): TextProblem[] {
  const quoted: Span[] = [];
  const blocks: BlockScalarSpan[] = [];
  const plains: PlainSpan[] = [];
  const column = (offset: number) => offset - (text.lastIndexOf('\n', offset - 1) + 1);
  visit(doc, (_key, node, path) => {
    if ((isMap(node) || isSeq(node)) && node.flow && node.range) quoted.push({ start: node.range[0], end: node.range[1] });
    if (!isScalar(node) || !node.range) return;
    const [start, end] = node.range;
    if (node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE) quoted.push({ start, end });
    else if (node.type === Scalar.BLOCK_LITERAL || node.type === Scalar.BLOCK_FOLDED) {
      const body = text.indexOf('\n', start) + 1;
      if (body > 0) blocks.push({ start, end, body, ...blockContent(text, node, body, end) });
    } else if (text.slice(start, end).includes('\n')) {
      const parent = [...path].reverse().find((p): p is Node => isMap(p) || isSeq(p));
      plains.push({ start, end, minColumn: parent?.range ? column(parent.range[0]) + 1 : 1 });
    }
  });
  const inside = <T extends Span>(spans: readonly T[], offset: number): T | undefined => spans.find((s) => s.start < offset && offset < s.end);

  const out: TextProblem[] = [];
  for (let lineStart = 0; lineStart < text.length; ) {
    const next = text.indexOf('\n', lineStart);
    const lineEnd = next < 0 ? text.length : next;
    const lead = /^[ \t]*/.exec(text.slice(lineStart, lineEnd))?.[0] ?? '';
    const spaces = lead.indexOf('\t');
    const tab = lineStart + spaces;
    if (spaces >= 0 && !inside(quoted, tab)) {
      const block = blocks.find((b) => b.body <= tab && tab <= b.end);
      const plain = inside(plains, tab);
      const fine = block ? tab > block.content && spaces >= block.indent : plain ? spaces >= plain.minColumn : false;
      if (!fine)
        out.push({
          message: "a tab in the indentation: Prometheus' YAML reader refuses the file (a tab may only follow the indentation spaces)",
          offset: tab,
          hint: 'indent with spaces only; a blank line holding a tab counts too',
        });
    }
    lineStart = lineEnd + 1;
  }
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c === 0x85 || c === 0x2028 || c === 0x2029) && !inside(quoted, i))
      out.push({
        message: `${hex(c)} is a line break to Prometheus' YAML reader: it would split the line here`,
        offset: i,
        hint: 'remove it, or write it inside double quotes as \\N, \\L or \\P',
      });
  }
  return out.sort((a, b) => a.offset - b.offset);
}

/** Where a block scalar's content starts, and its column: the indentation indicator, else the spaces of its first content line. */
function blockContent(text: string, node: Scalar, body: number, end: number): { content: number; indent: number } {
  const token = node.srcToken;
  const header = token && token.type === 'block-scalar' ? token.props.find((p) => p.type === 'block-scalar-header') : undefined;
  const explicit = header && 'source' in header ? /\d/.exec(header.source)?.[0] : undefined;
  let offset = body;
  for (const line of text.slice(body, end).split('\n')) {
    if (line.trim() !== '') {
      const spaces = /^ */.exec(line)?.[0].length ?? 0;
      const indent = explicit !== undefined && token && 'indent' in token ? token.indent + Number(explicit) : spaces;
      return { content: offset, indent };
    }
    offset += line.length + 1;
  }
  return { content: end, indent: 0 };
}
