// Per-box health from doctor's results and process liveness. Pure.
import type { DoctorResult, Verdict } from '../doctor/result.ts';
import type { Diagram } from './layout.ts';
import { vipId } from './layout.ts';

/** `down`: its process is not running; `fail`/`warn`/`ok`: the worst doctor verdict about it; `unknown`: nothing known. */
export type Health = 'down' | 'fail' | 'warn' | 'ok' | 'unknown';

export interface ResultLine {
  readonly code: string;
  readonly check: string;
  readonly verdict: Verdict;
  readonly message: string;
}

export interface NodeHealth {
  readonly health: Health;
  /** Whether its processes run; undefined where promha does not run it (a real deployment). */
  readonly running?: boolean;
  /** The doctor results about it, failures first. */
  readonly results: readonly ResultLine[];
}

const RANK: Readonly<Record<Verdict, number>> = { fail: 0, warn: 1, pass: 2 };

/**
 * The box a result is about: the member it concerns or was read from; a set's result
 * goes to its VIP (pushgateway sets) or to every member of the set. Undefined: about
 * the whole system.
 */
export function attribute(diagram: Diagram, r: Pick<DoctorResult, 'member' | 'concerns'>): string[] {
  const name = r.concerns ?? r.member;
  if (name === undefined) return [];
  if (diagram.nodes.some((n) => n.id === name)) return [name];
  if (diagram.nodes.some((n) => n.kind === 'vip' && n.id === vipId(name))) return [vipId(name)];
  return diagram.nodes.filter((n) => n.member && n.set === name).map((n) => n.id);
}

/**
 * Every box's health. A box with a stopped process is down whatever doctor says; otherwise
 * its worst verdict decides. Results that concern no box are returned as `general`.
 */
export function healthOf(
  diagram: Diagram,
  results: readonly DoctorResult[],
  running: ReadonlyMap<string, boolean>,
): { nodes: Record<string, NodeHealth>; general: ResultLine[] } {
  const about = new Map<string, ResultLine[]>();
  const general: ResultLine[] = [];
  for (const r of results) {
    const line: ResultLine = { code: r.code, check: r.check, verdict: r.verdict, message: r.message };
    const ids = attribute(diagram, r);
    if (ids.length === 0) general.push(line);
    for (const id of ids) about.set(id, [...(about.get(id) ?? []), line]);
  }
  const nodes: Record<string, NodeHealth> = {};
  for (const n of diagram.nodes) {
    const lines = [...(about.get(n.id) ?? [])].sort((a, b) => RANK[a.verdict] - RANK[b.verdict]);
    const live = running.get(n.id);
    const worst = lines[0]?.verdict;
    const health: Health = live === false ? 'down' : worst === 'fail' ? 'fail' : worst === 'warn' ? 'warn' : worst === 'pass' || live ? 'ok' : 'unknown';
    nodes[n.id] = { health, ...(live !== undefined ? { running: live } : {}), results: lines };
  }
  return { nodes, general };
}
