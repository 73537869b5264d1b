import type { FileSpec, NodeSpec, ProcessSpec } from '../plan/node-spec.ts';

/**
 * The node's files a process reads: those its flags name, and those these files name in
 * turn (the rule files of prometheus.yml, the scripts of keepalived.conf).
 */
export function filesRead(node: NodeSpec, p: ProcessSpec): FileSpec[] {
  const direct = node.files.filter((f) => p.args.some((a) => a.includes(`${node.configDir}/${f.path}`)));
  return node.files.filter((f) => direct.includes(f) || direct.some((d) => d.content.includes(f.path)));
}
