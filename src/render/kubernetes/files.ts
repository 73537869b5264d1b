import { stringify } from 'yaml';
import type { Release } from '../../release/release.ts';
import type { Topology } from '../../topology/topology.ts';
import { GENERATED_HEADER } from '../../plan/yaml-file.ts';
import { KUSTOMIZATION_FILE, type TreeFile } from '../write.ts';
import { kubernetesManifests } from './manifests.ts';

const yaml = (value: unknown) => stringify(value, { lineWidth: 0, aliasDuplicateObjects: false });

/** One multi-document file per set, plus a kustomization, so `kubectl apply -k DIR` applies them all. */
export function kubernetesFiles(topology: Topology, namespace: string, release: Release): { files: TreeFile[]; objects: number } {
  const groups = kubernetesManifests(topology, namespace, release);
  const files: TreeFile[] = groups.map((g) => ({ path: `${g.name}.yaml`, content: GENERATED_HEADER + g.manifests.map(yaml).join('---\n') }));
  files.push({
    path: KUSTOMIZATION_FILE,
    content: GENERATED_HEADER + yaml({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: groups.map((g) => `${g.name}.yaml`) }),
  });
  return { files, objects: groups.reduce((sum, g) => sum + g.manifests.length, 0) };
}
