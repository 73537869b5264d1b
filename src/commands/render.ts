import { check, CHECK_RULES } from '../check/check.ts';
import { ExitError, ValidationError } from '../errors.ts';
import { kubernetesNameProblems } from '../check/rules/kubernetes-names.ts';
import { HOST_LAYOUT, type Layout, type NodeSpec } from '../plan/node-spec.ts';
import { dataDirProblems, rootDirectoryProblem } from '../render/host-paths.ts';
import { hostPathProblem } from '../topology/host-names.ts';
import type { Topology } from '../topology/topology.ts';
import { plan } from '../plan/plan.ts';
import { chooseRelease } from '../release/choose.ts';
import type { ReleaseName } from '../release/release.ts';
import { kubernetesFiles } from '../render/kubernetes/files.ts';
import { writeRender, writeTree } from '../render/write.ts';
import { prepareSecurity } from '../security/material.ts';
import { loadTopology } from '../topology/load.ts';
import { formatFinding } from './check.ts';

import { RENDER_TARGETS, type RenderTarget } from './render-targets.ts';

export { RENDER_TARGETS, type RenderTarget };

export interface RenderOptions {
  readonly out: string;
  /** One bundle per host, or Kubernetes manifests. @default 'hosts' */
  readonly target?: RenderTarget;
  /** The Kubernetes namespace of the manifests. @default 'promha' */
  readonly namespace?: string;
  /** The release whose versions the output is for. @default the topology's `release`, else this machine's, else bookworm */
  readonly release?: ReleaseName;
  /** Where configs live on the hosts. @default /etc/promha */
  readonly configRoot?: string;
  /** Where data lives on the hosts (unless the topology names a storage path). @default /var/lib/promha */
  readonly dataRoot?: string;
}

/** The --config-root and --data-root flags, as a command line names them. */
const ROOT_FLAGS = { configRoot: '--config-root', dataRoot: '--data-root' } as const;

/**
 * Refuses a root that would reach install.sh, units and keepalived.conf unsafely (see
 * hostPathProblem), or that is a shared system directory (see rootDirectoryProblem).
 */
export function assertHostRoots(o: { configRoot?: string; dataRoot?: string }): void {
  for (const key of ['configRoot', 'dataRoot'] as const) {
    const value = o[key];
    if (value === undefined) continue;
    const example = key === 'configRoot' ? '/etc/promha' : '/var/lib/promha';
    const problem = hostPathProblem(value);
    if (problem) throw new ExitError(2, `${ROOT_FLAGS[key]} ${problem}\n    fix: give an absolute, normalised path of letters, digits and "/._+@-", e.g. ${example}`);
    const shared = rootDirectoryProblem(value);
    if (shared) throw new ExitError(2, `${ROOT_FLAGS[key]} ${shared}\n    fix: give promha a directory of its own, e.g. ${ROOT_FLAGS[key]} ${example}`);
  }
}

/** Refuses data directories that install.sh would chown as system directories, or empty as config directories. */
function assertDataDirs(topology: Topology, nodes: readonly NodeSpec[], layout: Layout): void {
  const problems = dataDirProblems(nodes, layout);
  if (!problems.length) return;
  const configured = (set: string) =>
    [...topology.spec.scrapers, topology.spec.federators].some((s) => s.name === set && s.storage.path !== undefined) ? 'storage.path' : '--data-root';
  const lines = [...new Set(problems.map((p) => `${p.message} (from ${configured(p.node.set)})`))];
  throw new ExitError(
    2,
    `${lines.join('\n')}\nnot rendered: the data directories overlap config or runtime directories, or are system directories\n    fix: keep --config-root, --data-root and every storage.path apart (e.g. /etc/promha and /var/lib/promha)`,
  );
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
  if (o.target !== 'kubernetes') assertHostRoots(o);
  const topology = await loadTopology(file);
  const release = await chooseRelease(o.release, topology.spec.release);
  const errors = check(topology, CHECK_RULES, release).filter((f) => f.severity === 'error');
  if (errors.length)
    throw new ExitError(1, `${errors.map((f) => formatFinding(f)).join('\n')}\nnot rendered: ${errors.length} error(s) (see \`promha check\`)`);
  if (o.target === 'kubernetes') {
    if (topology.spec.security)
      throw new ExitError(2, `${topology.file}: --target kubernetes does not render the security section yet; render --target hosts, or terminate TLS in the cluster`);
    const names = kubernetesNameProblems(topology.spec);
    if (names.length) throw new ValidationError(names.map((p) => ({ message: p.message, location: topology.locate(p.path), hint: p.hint })));
    const { files, objects } = kubernetesFiles(topology, o.namespace ?? 'promha', release);
    return { written: await writeTree(o.out, files), nodes: objects };
  }
  const layout = layoutFor(o);
  assertDataDirs(topology, plan(topology, { layout, release }), layout);
  const security = await prepareSecurity(topology);
  const nodes = plan(topology, { layout, release, ...(security ? { security } : {}) });
  const written = await writeRender(o.out, nodes, layout, release);
  return { written, nodes: nodes.length };
}
