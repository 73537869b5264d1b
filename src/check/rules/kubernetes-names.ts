import type { PropertyPath } from '../../topology/yaml-source.ts';
import type { TopologySpec } from '../../topology/schema.ts';
import type { CheckRule } from '../finding.ts';

/**
 * StatefulSet names: Kubernetes labels each pod with controller-revision-hash =
 * `<name>-<10-character hash>`, and a label value has at most 63 characters.
 */
export const MAX_STATEFULSET_NAME = 52;
/** Service names are DNS-1035 labels: a letter first, at most 63 characters. */
const MAX_SERVICE_NAME = 63;
const VIP_SERVICE_SUFFIX = '-vip';

export interface NameProblem {
  readonly path: PropertyPath;
  readonly message: string;
  readonly hint: string;
}

/**
 * Names the topology accepts (DNS labels, for hosts) that Kubernetes refuses in the
 * objects `render --target kubernetes` derives from them: a StatefulSet per member,
 * a headless Service per set, a `<set>-vip` Service per pushgateway set.
 */
export function kubernetesNameProblems(spec: TopologySpec): NameProblem[] {
  const out: NameProblem[] = [];
  const sets: Array<{ name: string; path: PropertyPath; members: Array<{ name: string; path: PropertyPath }>; vip: boolean }> = [
    ...spec.scrapers.map((s, i) => ({ name: s.name, path: ['scrapers', i, 'name'], members: s.members.map((m, j) => ({ name: m.name, path: ['scrapers', i, 'members', j, 'name'] })), vip: false })),
    ...spec.pushgateways.map((s, i) => ({ name: s.name, path: ['pushgateways', i, 'name'], members: s.members.map((m, j) => ({ name: m.name, path: ['pushgateways', i, 'members', j, 'name'] })), vip: true })),
    { name: spec.federators.name, path: ['federators', 'name'], members: spec.federators.members.map((m, j) => ({ name: m.name, path: ['federators', 'members', j, 'name'] })), vip: false },
    {
      name: spec.alertmanagers.name,
      path: ['alertmanagers', 'name'],
      members: [...spec.alertmanagers.members.map((m, j) => ({ name: m.name, path: ['alertmanagers', 'members', j, 'name'] as PropertyPath })), { name: spec.alertmanagers.backup.name, path: ['alertmanagers', 'backup', 'name'] }],
      vip: false,
    },
  ];
  for (const set of sets) {
    if (!/^[a-z]/.test(set.name))
      out.push({ path: set.path, message: `set "${set.name}" starts with a digit: Kubernetes Service names (the set's headless Service) start with a letter`, hint: `rename the set, e.g. s${set.name}` });
    if (set.vip && set.name.length + VIP_SERVICE_SUFFIX.length > MAX_SERVICE_NAME)
      out.push({
        path: set.path,
        message: `pushgateway set "${set.name}" is ${set.name.length} characters long: its VIP Service "${set.name}${VIP_SERVICE_SUFFIX}" would exceed Kubernetes' ${MAX_SERVICE_NAME}`,
        hint: `shorten the set's name to at most ${MAX_SERVICE_NAME - VIP_SERVICE_SUFFIX.length} characters`,
      });
    for (const m of set.members)
      if (m.name.length > MAX_STATEFULSET_NAME)
        out.push({
          path: m.path,
          message: `member "${m.name}" is ${m.name.length} characters long: a Kubernetes StatefulSet name has at most ${MAX_STATEFULSET_NAME} (its pods' revision label adds 11)`,
          hint: `shorten the member's name to at most ${MAX_STATEFULSET_NAME} characters`,
        });
  }
  return out;
}

export const kubernetesNames: CheckRule = {
  code: 'PH106',
  name: 'kubernetes-names',
  description: 'Set and member names fit the Kubernetes objects `render --target kubernetes` names after them.',
  *run({ topology }) {
    for (const p of kubernetesNameProblems(topology.spec))
      yield { severity: 'warning', message: `${p.message} (render --target kubernetes refuses it; hosts are fine)`, location: topology.locate(p.path), hint: p.hint };
  },
};
