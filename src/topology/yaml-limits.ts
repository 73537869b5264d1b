import { isAlias, isCollection, isPair, type Document, type Node } from 'yaml';

/** Collections inside collections; a real topology (routes included) stays far below. */
export const MAX_YAML_DEPTH = 64;
/** Values once every alias is expanded; a real topology has a few thousand. */
export const MAX_YAML_EXPANDED_NODES = 100_000;

export interface StructureProblem {
  readonly offset: number;
  readonly message: string;
  readonly hint: string;
}

type Frame = { node: Node; depth: number; exit: false } | { node: Node; exit: true };

function children(node: Node): Node[] {
  if (!isCollection(node)) return [];
  const out: Node[] = [];
  for (const item of node.items as unknown[])
    if (isPair(item)) {
      if (item.key && typeof item.key === 'object') out.push(item.key as Node);
      if (item.value && typeof item.value === 'object') out.push(item.value as Node);
    } else if (item && typeof item === 'object') out.push(item as Node);
  return out;
}

/**
 * Checks what the YAML parser accepts but promha must not expand: aliases that name
 * no anchor or their own ancestor (an endless value), aliases that multiply the
 * document (an "alias bomb"), and nesting deeper than MAX_YAML_DEPTH. Iterative,
 * in document order, so that an alias resolves to the last anchor before it, as in YAML.
 */
export function yamlStructureProblems(doc: Document): StructureProblem[] {
  const root = doc.contents as Node | null;
  if (!root) return [];
  const anchors = new Map<string, Node>();
  const open = new Set<Node>();
  const size = new Map<Node, number>();
  const stack: Frame[] = [{ node: root, depth: 1, exit: false }];
  while (stack.length) {
    const frame = stack.pop() as Frame;
    const { node } = frame;
    if (frame.exit) {
      open.delete(node);
      let n = 1;
      for (const c of children(node)) n += size.get(c) ?? 1;
      size.set(node, Math.min(n, MAX_YAML_EXPANDED_NODES + 1));
      continue;
    }
    const offset = node.range?.[0] ?? 0;
    if (isAlias(node)) {
      const target = anchors.get(node.source);
      if (!target)
        return [{ offset, message: `YAML: alias *${node.source} names no anchor before it`, hint: `define \`&${node.source}\` on a value above this line, or write the value out (merge keys \`<<\` are not supported)` }];
      if (open.has(target))
        return [{ offset, message: `YAML: alias *${node.source} refers to a value that contains it (an endless value)`, hint: 'an alias may only repeat a value defined before it, not one it is inside of' }];
      size.set(node, size.get(target) ?? 1);
      continue;
    }
    if (node.anchor) anchors.set(node.anchor, node);
    if (isCollection(node) && frame.depth > MAX_YAML_DEPTH)
      return [{ offset, message: `YAML: values nest more than ${MAX_YAML_DEPTH} levels deep`, hint: `promha reads at most ${MAX_YAML_DEPTH} levels of nested mappings and lists` }];
    open.add(node);
    stack.push({ node, exit: true });
    const kids = children(node);
    for (let i = kids.length - 1; i >= 0; i--) stack.push({ node: kids[i] as Node, depth: frame.depth + (isCollection(node) ? 1 : 0), exit: false });
  }
  if ((size.get(root) ?? 0) > MAX_YAML_EXPANDED_NODES) {
    const firstAlias = [...size.keys()].find((n) => isAlias(n));
    return [
      {
        offset: firstAlias?.range?.[0] ?? 0,
        message: `YAML: the aliases expand the file to more than ${MAX_YAML_EXPANDED_NODES} values`,
        hint: 'repeat values with fewer aliases (an alias of a list of aliases multiplies); promha refuses such "alias bombs"',
      },
    ];
  }
  return [];
}
