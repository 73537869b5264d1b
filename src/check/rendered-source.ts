import type { NodeSpec } from '../plan/node-spec.ts';
import type { Topology } from '../topology/topology.ts';
import type { PropertyPath } from '../topology/yaml-source.ts';
import { goYamlCharProblems } from './go-values.ts';
import { renderedYaml } from './rendered.ts';

/*
 * Where a part of a rendered alertmanager.yml or prometheus.yml comes from in the
 * topology, so that a problem found in the rendered file (by a rule, or by the release's
 * amtool or promtool) is located at the field the user wrote.
 */

const ACTIVE_KEYS = ['global', 'templates', 'route', 'inhibit_rules', 'receivers'];
const BACKUP_ROUTE_KEYS = ['group_by', 'group_wait', 'group_interval', 'repeat_interval'];

/** The topology field the part of a rendered config at `rendered` comes from (the nearest section when promha wrote it). */
export function topologyPath(topology: Topology, node: NodeSpec, rendered: PropertyPath | undefined): PropertyPath {
  const { spec } = topology;
  const [first, second, ...rest] = rendered ?? [];
  if (node.role === 'alertmanager') {
    if (!node.backup) return typeof first === 'string' && ACTIVE_KEYS.includes(first) ? ['alertmanagers', ...(rendered ?? [])] : ['alertmanagers'];
    return first === 'route' && typeof second === 'string' && BACKUP_ROUTE_KEYS.includes(second) ? ['alertmanagers', 'route', second, ...rest] : ['alertmanagers', 'backup'];
  }
  if (node.role === 'scraper') {
    const si = spec.scrapers.findIndex((s) => s.name === node.set);
    const set = spec.scrapers[si];
    if (!set || first !== 'scrape_configs' || typeof second !== 'number') return ['scrapers', Math.max(si, 0)];
    let k = 0;
    for (const groupName of set.exporters) {
      const gi = spec.exporters.findIndex((g) => g.name === groupName);
      const group = spec.exporters[gi];
      if (!group) continue;
      if (group.scrape_configs) {
        if (second < k + group.scrape_configs.length) return ['exporters', gi, 'scrape_configs', second - k, ...rest];
        k += group.scrape_configs.length;
        continue;
      }
      if (second === k) {
        // Rendered from `targets` and `labels`: static_configs[0].targets[t] / .labels.NAME.
        const [, , field, ...inner] = rest;
        if (field === 'targets') return ['exporters', gi, 'targets', ...inner];
        if (field === 'labels') return ['exporters', gi, 'labels', ...inner];
        return ['exporters', gi];
      }
      k += 1;
    }
    return ['scrapers', si];
  }
  if (node.role === 'federator') {
    const extra = spec.federators.scrape_configs.length;
    const file = node.files.find((f) => f.path === 'prometheus.yml');
    const total = ((file?.data as { scrape_configs?: unknown[] } | undefined)?.scrape_configs ?? []).length;
    if (first === 'scrape_configs' && typeof second === 'number' && second >= total - extra) return ['federators', 'scrape_configs', second - (total - extra), ...rest];
    // The federate jobs pass the topology's match[] selectors as they are.
    if (first === 'scrape_configs' && rest[0] === 'params' && rest[1] === 'match[]' && typeof rest[2] === 'number') return ['federators', 'match', rest[2]];
    return ['federators'];
  }
  return [];
}


/**
 * Every string promha renders into `file` (alertmanager.yml or prometheus.yml) of any
 * member that Go's YAML reader refuses, located at the topology field it comes from
 * (each field once), whatever part of the topology it came from.
 */
export function renderedCharProblems(topology: Topology, nodes: readonly NodeSpec[], file: 'alertmanager.yml' | 'prometheus.yml'): Array<{ path: PropertyPath; message: string; hint: string }> {
  const who = file === 'alertmanager.yml' ? 'Alertmanager' : 'Prometheus';
  const out = new Map<string, { path: PropertyPath; message: string; hint: string }>();
  for (const node of nodes) {
    if (!node.files.some((f) => f.path === file)) continue;
    for (const p of goYamlCharProblems(renderedYaml(node, file), [])) {
      const path = topologyPath(topology, node, p.path);
      const key = JSON.stringify(path);
      if (out.has(key)) continue;
      out.set(key, {
        path,
        message: p.lineBreak
          ? `character ${p.char} cannot go into the rendered ${file}: ${who === 'Prometheus' ? "Prometheus'" : "Alertmanager's"} YAML reader takes it for a line break (the file breaks, or the value changes)`
          : `character ${p.char} cannot go into the rendered ${file}: ${who} refuses the file (yaml: control characters are not allowed)`,
        hint: file === 'alertmanager.yml' ? 'remove the character (in a URL, percent-encode it)' : 'remove the character',
      });
    }
  }
  return [...out.values()];
}
