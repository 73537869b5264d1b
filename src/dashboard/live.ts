// What the dashboard shows at one moment: doctor's observation and checks, process
// liveness from the state file, the notifications at the local receiver and the latest
// drill results.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { evaluate } from '../doctor/doctor.ts';
import { observe } from '../doctor/observe.ts';
import { resolveTarget } from '../doctor/target.ts';
import type { ChaosStatus } from '../chaos/campaign.ts';
import type { DrillOutcome } from '../drills/drill.ts';
import { parseNotificationLines } from '../demo/notifications.ts';
import { ownPeerPosition } from '../probe/alertmanager.ts';
import { isRunning } from '../runtime/process.ts';
import { processesOf, type StateDir } from '../runtime/state.ts';
import type { Topology } from '../topology/topology.ts';
import { healthOf, type NodeHealth, type ResultLine } from './health.ts';
import type { Diagram } from './layout.ts';

export interface NodeState extends NodeHealth {
  /** A pushgateway member that serves (or, in netns mode, holds) its set's VIP. */
  readonly holdsVip?: boolean;
  /** An Alertmanager's peer position: index of its name in the sorted member list. */
  readonly position?: number;
}

export interface NotificationLine {
  readonly receivedAt: string;
  readonly receiver: string;
  readonly status: string;
  readonly alerts: ReadonlyArray<{ readonly alertname: string; readonly status: string }>;
}

export interface DrillLine {
  readonly scenario: string;
  readonly title: string;
  readonly mode: string;
  readonly ok: boolean;
  readonly startedAt: string;
  readonly detectSeconds?: number;
  readonly recoverSeconds?: number;
  readonly failed: readonly string[];
}

export interface LiveState {
  readonly at: string;
  /** A `promha up` stack runs from the state directory (members can be stopped and started). */
  readonly local: boolean;
  readonly mode?: string;
  readonly nodes: Readonly<Record<string, NodeState>>;
  readonly general: readonly ResultLine[];
  readonly summary: { readonly pass: number; readonly warn: number; readonly fail: number };
  readonly notifications: readonly NotificationLine[];
  readonly drills: readonly DrillLine[];
  /** The running or last chaos campaign (`promha drill chaos`). */
  readonly chaos?: ChaosStatus;
}

const LATEST = 12;

async function notifications(file: string): Promise<NotificationLine[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return parseNotificationLines(text, file)
    .records.slice(-LATEST)
    .reverse()
    .map((r) => ({
      receivedAt: r.receivedAt,
      receiver: r.payload.receiver ?? r.path,
      status: r.payload.status,
      alerts: (Array.isArray(r.payload.alerts) ? r.payload.alerts : []).map((a) => ({ alertname: a.labels?.['alertname'] ?? '?', status: a.status })),
    }));
}

async function drills(stateDir: StateDir): Promise<DrillLine[]> {
  const text = await readFile(path.join(stateDir.absoluteRoot, 'drills', 'latest.json'), 'utf8').catch(() => '[]');
  let outcomes: DrillOutcome[];
  try {
    outcomes = JSON.parse(text) as DrillOutcome[];
  } catch {
    return [];
  }
  return outcomes.map((o) => ({
    scenario: o.scenario,
    title: o.title,
    mode: o.mode,
    ok: o.ok,
    startedAt: o.startedAt,
    ...(o.measurements.detectSeconds !== undefined ? { detectSeconds: o.measurements.detectSeconds } : {}),
    ...(o.measurements.recoverSeconds !== undefined ? { recoverSeconds: o.measurements.recoverSeconds } : {}),
    failed: o.expectations.filter((e) => !e.ok).map((e) => `${e.name}: ${e.detail}`),
  }));
}

async function chaos(stateDir: StateDir): Promise<ChaosStatus | undefined> {
  const text = await readFile(path.join(stateDir.absoluteRoot, 'chaos', 'status.json'), 'utf8').catch(() => undefined);
  try {
    return text === undefined ? undefined : (JSON.parse(text) as ChaosStatus);
  } catch {
    return undefined;
  }
}

/** Observes the system once, the way `doctor` does, and maps everything onto the diagram's boxes. */
export async function collectLive(topology: Topology, stateDir: StateDir, diagram: Diagram): Promise<LiveState> {
  const state = await stateDir.read();
  const target = await resolveTarget(topology, stateDir);
  const o = await observe(target);
  const results = evaluate(target, o);
  const recorded = state?.nodes ?? [];
  const running = new Map(
    recorded.map((n) => {
      const processes = processesOf({ nodes: recorded }, n);
      return [n.name, processes.length > 0 && processes.every(isRunning)] as const;
    }),
  );
  const { nodes, general } = healthOf(diagram, results, running);

  const holders = new Set<string>();
  for (const v of o.vip.values()) for (const h of v.holders ?? (v.servedBy ? [v.servedBy] : [])) holders.add(h);
  const out: Record<string, NodeState> = {};
  for (const [id, h] of Object.entries(nodes)) {
    const status = o.alertmanager.get(id)?.status;
    const position = status ? ownPeerPosition(status) : -1;
    out[id] = { ...h, ...(holders.has(id) ? { holdsVip: true } : {}), ...(position >= 0 ? { position } : {}) };
  }
  const count = (v: string) => results.filter((r) => r.verdict === v).length;
  return {
    at: o.now.toISOString(),
    local: state !== undefined,
    ...(state ? { mode: state.mode } : {}),
    nodes: out,
    general,
    summary: { pass: count('pass'), warn: count('warn'), fail: count('fail') },
    notifications: state ? await notifications(stateDir.notificationsFile) : [],
    drills: await drills(stateDir),
    ...(await chaos(stateDir).then((c) => (c ? { chaos: c } : {}))),
  };
}
