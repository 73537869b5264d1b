import { check } from '../check/check.ts';
import { ExitError, ValidationError } from '../errors.ts';
import { kubernetesNameProblems } from '../check/rules/kubernetes-names.ts';
import { HOST_LAYOUT, type Layout } from '../plan/node-spec.ts';
import { plan } from '../plan/plan.ts';
import { kubernetesFiles } from '../render/kubernetes/files.ts';
import { writeRender, writeTree } from '../render/write.ts';
import { prepareSecurity } from '../security/material.ts';
import { loadTopology } from '../topology/load.ts';
import { formatFinding } from './check.ts';

export const RENDER_TARGETS = ['hosts', 'kubernetes'] as const;
export type RenderTarget = (typeof RENDER_TARGETS)[number];

export interface RenderOptions {
  readonly out: string;
  /** One bundle per host, or Kubernetes manifests. @default 'hosts' */
  readonly target?: RenderTarget;
  /** The Kubernetes namespace of the manifests. @default 'promha' */
  readonly namespace?: string;
  /** Where configs live on the hosts. @default /etc/promha */
  readonly configRoot?: string;
  /** Where data lives on the hosts (unless the topology names a storage path). @default /var/lib/promha */
  readonly dataRoot?: string;
}

export function layoutFor(o: { configRoot?: string; dataRoot?: string }): Layout {
  return {
    configDir: o.configRoot ? (m) => `${o.configRoot}/${m}` : HOST_LAYOUT.configDir,
    dataDir: (m, configured) => configured ?? (o.dataRoot ? `${o.dataRoot}/${m}` : HOST_LAYOUT.dataDir(m)),
    runDir: HOST_LAYOUT.runDir,
  };
}

/** Renders every node; refuses when check finds errors, since the files would not work together. */
export async function runRender(file: string | undefined, o: RenderOptions): Promise<{ written: string[]; /** Nodes, or Kubernetes objects. */ nodes: number }> {
  const topology = await loadTopology(file);
  const errors = check(topology).filter((f) => f.severity === 'error');
  if (errors.length)
    throw new ExitError(1, `${errors.map(formatFinding).join('\n')}\nnot rendered: ${errors.length} error(s) (see \`promha check\`)`);
  if (o.target === 'kubernetes') {
    if (topology.spec.security)
      throw new ExitError(2, `${topology.file}: --target kubernetes does not render the security section yet; render --target hosts, or terminate TLS in the cluster`);
    const names = kubernetesNameProblems(topology.spec);
    if (names.length) throw new ValidationError(names.map((p) => ({ message: p.message, location: topology.locate(p.path), hint: p.hint })));
    const { files, objects } = kubernetesFiles(topology, o.namespace ?? 'promha');
    return { written: await writeTree(o.out, files), nodes: objects };
  }
  const security = await prepareSecurity(topology);
  const layout = layoutFor(o);
  const nodes = plan(topology, { layout, ...(security ? { security } : {}) });
  const written = await writeRender(o.out, nodes, layout);
  return { written, nodes: nodes.length };
}
