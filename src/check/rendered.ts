import { parse } from 'yaml';
import type { FileSpec, NodeSpec } from '../plan/node-spec.ts';

/** Parsed rendered files: several rules read the same federator config, which is large for many sets. */
const parsed = new WeakMap<FileSpec, unknown>();

/** A planned node's rendered YAML file as data, parsed at most once; `{}` when the node has no such file. */
export function renderedYaml(node: NodeSpec, path: string): unknown {
  const file = node.files.find((f) => f.path === path);
  if (!file) return {};
  if (file.data !== undefined) return file.data;
  if (!parsed.has(file)) parsed.set(file, parse(file.content));
  return parsed.get(file);
}
