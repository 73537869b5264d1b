// The dashboard's drawing of a topology, laid out like the seed's diagram: layered
// columns from the exporters and pushers on the left to the Alertmanagers on the right.
// Pure: the page only draws what this computes.
import type { TopologySpec } from '../topology/schema.ts';

export type DiagramKind = 'exporters' | 'pushers' | 'vip' | 'scraper' | 'pushgateway' | 'federator' | 'alertmanager' | 'receiver';

/** One box of the diagram. Ids of members are their names; the others match the local stack's process names. */
export interface DiagramNode {
  readonly id: string;
  readonly kind: DiagramKind;
  readonly label: string;
  /** The set the box belongs to (exporters: the scraper set that scrapes them). */
  readonly set: string;
  /** The Alertmanager backup member. */
  readonly backup: boolean;
  /** A member of the topology (it has doctor results and can be stopped). */
  readonly member: boolean;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export type EdgeKind = 'pull' | 'push' | 'notify' | 'gossip' | 'vip';

/** An arrow from the side that acts (scrapes, pushes, notifies) to the other. */
export interface DiagramEdge {
  readonly from: string;
  readonly to: string;
  readonly kind: EdgeKind;
}

/** A frame around the members of one set. */
export interface DiagramSet {
  readonly name: string;
  readonly kind: 'scraper' | 'pushgateway' | 'federator' | 'alertmanager';
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface Diagram {
  readonly width: number;
  readonly height: number;
  readonly columns: ReadonlyArray<{ readonly title: string; readonly x: number }>;
  readonly nodes: readonly DiagramNode[];
  readonly edges: readonly DiagramEdge[];
  readonly sets: readonly DiagramSet[];
}

const NODE_W = 160;
const NODE_H = 34;
const ROW = 46;
const SET_GAP = 24;
const TOP = 40;
const LEFT = 16;
const COLUMN_PITCH = 205;

/** Columns: 0 exporters/pushers, 1 VIPs, 2 scrapers/pushgateways, 3 federators, 4 Alertmanagers, 5 receiver. */
const COLUMN_TITLES = ['exporters · pushers', 'VIP', 'scrapers · pushgateways', 'federators', 'alertmanagers', 'receiver'];
const columnX = (c: number) => LEFT + c * COLUMN_PITCH;
export const vipId = (set: string) => `${set}-vip`;
export const exportersId = (group: string) => `exporter-${group}`;
export const pushersId = (set: string) => `pusher-${set}`;
export const RECEIVER_ID = 'webhook';

/** Lays the topology out in layered columns, every set in its own band of rows. */
export function layoutTopology(spec: TopologySpec): Diagram {
  const nodes: DiagramNode[] = [];
  const edges: DiagramEdge[] = [];
  const sets: DiagramSet[] = [];
  const node = (n: Omit<DiagramNode, 'x' | 'y' | 'width' | 'height'>, column: number, y: number) => {
    nodes.push({ ...n, x: columnX(column), y, width: NODE_W, height: NODE_H });
  };
  const frame = (name: string, kind: DiagramSet['kind'], column: number, ys: number[]) => {
    const top = Math.min(...ys) - 6;
    sets.push({ name, kind, x: columnX(column) - 6, y: top, width: NODE_W + 12, height: Math.max(...ys) + NODE_H + 6 - top });
  };

  let y = TOP;
  const band = (rows: number) => {
    const start = y;
    y += rows * ROW + SET_GAP;
    return start;
  };
  // A band of `rows` rows holds `count` boxes, centred in it.
  const place = (start: number, rows: number, count: number, i: number) => start + ((rows - count) * ROW) / 2 + i * ROW;

  const senders: string[] = [];
  for (const s of spec.scrapers) {
    const rows = Math.max(2, s.exporters.length);
    const start = band(rows);
    const ys = s.members.map((m, i) => {
      const my = place(start, rows, s.members.length, i);
      node({ id: m.name, kind: 'scraper', label: m.name, set: s.name, backup: false, member: true }, 2, my);
      senders.push(m.name);
      return my;
    });
    frame(s.name, 'scraper', 2, ys);
    s.exporters.forEach((g, i) => {
      node({ id: exportersId(g), kind: 'exporters', label: g, set: s.name, backup: false, member: false }, 0, place(start, rows, s.exporters.length, i));
      for (const m of s.members) edges.push({ from: m.name, to: exportersId(g), kind: 'pull' });
    });
  }
  for (const s of spec.pushgateways) {
    const start = band(2);
    const ys = s.members.map((m, i) => {
      const my = place(start, 2, s.members.length, i);
      node({ id: m.name, kind: 'pushgateway', label: m.name, set: s.name, backup: false, member: true }, 2, my);
      senders.push(m.name);
      edges.push({ from: vipId(s.name), to: m.name, kind: 'vip' });
      return my;
    });
    frame(s.name, 'pushgateway', 2, ys);
    node({ id: pushersId(s.name), kind: 'pushers', label: `pushers → ${s.name}`, set: s.name, backup: false, member: false }, 0, place(start, 2, 1, 0));
    node({ id: vipId(s.name), kind: 'vip', label: `VIP ${s.name}`, set: s.name, backup: false, member: false }, 1, place(start, 2, 1, 0));
    edges.push({ from: pushersId(s.name), to: vipId(s.name), kind: 'push' });
  }
  const bottom = Math.max(y - SET_GAP, TOP + 3 * ROW);
  const middle = (TOP + bottom) / 2;

  const federators = spec.federators.members;
  const fys = federators.map((m, i) => middle - ROW + i * ROW * 1.5 - NODE_H / 2 + ROW / 4);
  federators.forEach((m, i) => {
    node({ id: m.name, kind: 'federator', label: m.name, set: spec.federators.name, backup: false, member: true }, 3, fys[i] as number);
    for (const s of senders) edges.push({ from: m.name, to: s, kind: 'pull' });
  });
  frame(spec.federators.name, 'federator', 3, fys);

  const am = spec.alertmanagers;
  const ays = am.members.map((m, i) => fys[i] ?? middle + i * ROW);
  am.members.forEach((m, i) => {
    node({ id: m.name, kind: 'alertmanager', label: m.name, set: am.name, backup: false, member: true }, 4, ays[i] as number);
    for (const f of federators) edges.push({ from: f.name, to: m.name, kind: 'notify' });
    edges.push({ from: m.name, to: RECEIVER_ID, kind: 'notify' });
  });
  // The seed draws the backup apart, at the bottom: it gossips but never notifies.
  const backupY = Math.max(bottom - NODE_H, (ays[ays.length - 1] ?? middle) + 2 * ROW);
  node({ id: am.backup.name, kind: 'alertmanager', label: am.backup.name, set: am.name, backup: true, member: true }, 4, backupY);
  const cluster = [...am.members.map((m) => m.name), am.backup.name];
  cluster.slice(1).forEach((name, i) => edges.push({ from: cluster[i] as string, to: name, kind: 'gossip' }));
  frame(am.name, 'alertmanager', 4, [...ays, backupY]);
  node({ id: RECEIVER_ID, kind: 'receiver', label: 'receiver', set: '', backup: false, member: false }, 5, ays.reduce((a, b) => a + b, 0) / Math.max(1, ays.length));

  return {
    width: columnX(COLUMN_TITLES.length - 1) + NODE_W + LEFT,
    height: Math.max(...nodes.map((n) => n.y + n.height)) + 16,
    columns: COLUMN_TITLES.map((title, i) => ({ title, x: columnX(i) })),
    nodes,
    edges,
    sets,
  };
}
