import { parse } from 'yaml';
import { Duration } from '../../duration.ts';
import type { DoctorCheck } from '../result.ts';

/**
 * The first place where `live` does not carry `planned`. Prometheus reports its config
 * with defaults filled in, zero values left out and relative paths resolved, so the
 * planned config must be a subset of the live one, durations compared by value,
 * paths by their ending, and redacted secrets not at all.
 */
export function firstDifference(live: unknown, planned: unknown, path = ''): string | undefined {
  if (Array.isArray(planned)) {
    if (!Array.isArray(live) || live.length !== planned.length) return `${path || '.'}: ${Array.isArray(live) ? live.length : 'no'} entries live, ${planned.length} planned`;
    for (let i = 0; i < planned.length; i++) {
      const d = firstDifference(live[i], planned[i], `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (planned !== null && typeof planned === 'object') {
    if (live === null || typeof live !== 'object') return `${path || '.'}: missing live`;
    for (const [k, v] of Object.entries(planned)) {
      const d = firstDifference((live as Record<string, unknown>)[k], v, path ? `${path}.${k}` : k);
      if (d) return d;
    }
    return undefined;
  }
  if (live === planned || String(live) === String(planned)) return undefined;
  // Prometheus and Alertmanager print secrets as "<secret>" (Alertmanager 0.28+ also webhook
  // URLs): a redacted value cannot be compared, and is no difference.
  if (live === '<secret>' && typeof planned === 'string') return undefined;
  // Go's omitempty: a zero value is reported as absent.
  if (live === undefined && (planned === false || planned === 0 || planned === '')) return undefined;
  if (typeof live === 'string' && typeof planned === 'string') {
    const a = Duration.tryParse(live);
    const b = Duration.tryParse(planned);
    if (a && b && a.equals(b)) return undefined;
    if (live.startsWith('/') && live.endsWith(`/${planned}`)) return undefined;
  }
  return `${path}: live ${JSON.stringify(live)}, planned ${JSON.stringify(planned)}`;
}

export const drift: DoctorCheck = {
  code: 'DR801',
  name: 'drift',
  description: 'The config each member runs equals what `render` produces now.',
  *run(t, o) {
    for (const node of t.planned) {
      const prometheus = node.role === 'scraper' || node.role === 'federator';
      if (!prometheus && node.role !== 'alertmanager') continue;
      const file = prometheus ? 'prometheus.yml' : 'alertmanager.yml';
      const live = prometheus ? o.prometheus.get(node.name)?.config : o.alertmanager.get(node.name)?.status?.config.original;
      const planned = node.files.find((f) => f.path === file)?.content;
      if (!live || !planned) continue;
      const d = firstDifference(parse(live), parse(planned));
      yield d
        ? { verdict: 'fail', member: node.name, message: `${node.name} runs a config that differs from the topology: ${d}` }
        : { verdict: 'pass', member: node.name, message: `${node.name} runs the rendered ${file}` };
    }
  },
};
