import { check } from '../check/check.ts';
import { ExitError } from '../errors.ts';
import { HOST_LAYOUT, type Layout } from '../plan/node-spec.ts';
import { plan } from '../plan/plan.ts';
import { writeRender } from '../render/write.ts';
import { prepareSecurity } from '../security/material.ts';
import { loadTopology } from '../topology/load.ts';
import { formatFinding } from './check.ts';

export interface RenderOptions {
  readonly out: string;
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
export async function runRender(file: string | undefined, o: RenderOptions): Promise<{ written: string[]; nodes: number }> {
  const topology = await loadTopology(file);
  const errors = check(topology).filter((f) => f.severity === 'error');
  if (errors.length)
    throw new ExitError(1, `${errors.map(formatFinding).join('\n')}\nnot rendered: ${errors.length} error(s) (see \`promha check\`)`);
  const security = await prepareSecurity(topology);
  const nodes = plan(topology, { layout: layoutFor(o), ...(security ? { security } : {}) });
  const written = await writeRender(o.out, nodes);
  return { written, nodes: nodes.length };
}
