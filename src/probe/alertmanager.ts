/**
 * A typed client of the Alertmanager 0.25 API v2, and the helpers that tell a
 * member's place in the gossip cluster.
 */
import * as z from 'zod';
import { ComponentClient, getJson, getText, send, sendJson } from './http.ts';
import { parseMetrics } from './metrics-text.ts';
import type { Labels } from './schema-util.ts';
import { labelsSchema, timeSchema } from './schema-util.ts';


export type ClusterStatus = 'ready' | 'settling' | 'disabled';

export interface ClusterPeer {
  /** The peer's gossip name (a ULID made at start, e.g. `01M85Z6FRRVK7SZGBKX4TH9FWW`). */
  readonly name: string;
  /** Its gossip address, `host:port`. */
  readonly address: string;
}

export interface AlertmanagerStatus {
  readonly cluster: {
    /**
     * This member's OWN peer name (not a cluster name: 0.25 fills it with
     * `peer.Name()`); undefined when clustering is disabled.
     */
    readonly name: string | undefined;
    readonly status: ClusterStatus;
    /** Every member this one sees alive, itself included, in no useful order. */
    readonly peers: readonly ClusterPeer[];
  };
  readonly config: { readonly original: string };
  /** When the process started. */
  readonly uptime: Date;
  readonly versionInfo: Readonly<Record<string, string>>;
}

export type AmAlertState = 'active' | 'suppressed' | 'unprocessed';

export interface AmAlert {
  readonly fingerprint: string;
  readonly labels: Labels;
  readonly annotations: Labels;
  readonly startsAt: Date;
  readonly endsAt: Date;
  readonly updatedAt: Date;
  /** '' when the sender gave none. */
  readonly generatorURL: string;
  /** Names of the receivers the route tree sends this alert to. */
  readonly receivers: readonly string[];
  readonly status: {
    readonly state: AmAlertState;
    readonly silencedBy: readonly string[];
    readonly inhibitedBy: readonly string[];
  };
}

export interface Matcher {
  readonly name: string;
  readonly value: string;
  readonly isRegex: boolean;
  /** false for `!=` and `!~`. */
  readonly isEqual: boolean;
}

export type SilenceState = 'active' | 'pending' | 'expired';

export interface Silence {
  readonly id: string;
  readonly state: SilenceState;
  readonly matchers: readonly Matcher[];
  readonly startsAt: Date;
  readonly endsAt: Date;
  readonly updatedAt: Date;
  readonly createdBy: string;
  readonly comment: string;
}

export interface NewSilence {
  /** At least one; `isRegex` defaults to false, `isEqual` to true. */
  readonly matchers: ReadonlyArray<{ readonly name: string; readonly value: string; readonly isRegex?: boolean; readonly isEqual?: boolean }>;
  /** A start in the past is moved to "now" by the server. */
  readonly startsAt: Date;
  readonly endsAt: Date;
  readonly createdBy: string;
  readonly comment: string;
}

export interface AlertFilter {
  /** Default true each. */
  readonly active?: boolean;
  readonly silenced?: boolean;
  readonly inhibited?: boolean;
  readonly unprocessed?: boolean;
  /** A regex on receiver names. */
  readonly receiver?: string;
}

/** An alert to post, as Prometheus posts them (used by drills). */
export interface PostableAlert {
  readonly labels: Labels;
  readonly annotations?: Labels;
  readonly startsAt?: Date;
  readonly endsAt?: Date;
  readonly generatorURL?: string;
}

// ---------- wire schemas ----------

const statusSchema = z.object({
  cluster: z.object({
    name: z.string().optional(),
    status: z.enum(['ready', 'settling', 'disabled']),
    peers: z.array(z.object({ name: z.string(), address: z.string() })).default([]),
  }),
  config: z.object({ original: z.string() }),
  uptime: timeSchema,
  versionInfo: labelsSchema.default({}),
});

const alertSchema = z.object({
  fingerprint: z.string(),
  labels: labelsSchema,
  annotations: labelsSchema.default({}),
  startsAt: timeSchema,
  endsAt: timeSchema,
  updatedAt: timeSchema,
  generatorURL: z.string().default(''),
  receivers: z.array(z.object({ name: z.string() })).default([]),
  status: z.object({
    state: z.enum(['active', 'suppressed', 'unprocessed']),
    silencedBy: z.array(z.string()).default([]),
    inhibitedBy: z.array(z.string()).default([]),
  }),
});

const matcherSchema = z.object({
  name: z.string(),
  value: z.string(),
  isRegex: z.boolean(),
  isEqual: z.boolean().default(true),
});

const silenceSchema = z.object({
  id: z.string(),
  status: z.object({ state: z.enum(['active', 'pending', 'expired']) }),
  matchers: z.array(matcherSchema),
  startsAt: timeSchema,
  endsAt: timeSchema,
  updatedAt: timeSchema,
  createdBy: z.string(),
  comment: z.string(),
});

const silenceIdSchema = z.object({ silenceID: z.string().min(1) });

export class AlertmanagerClient extends ComponentClient {


  async status(): Promise<AlertmanagerStatus> {
    const s = await getJson(this.url('/api/v2/status'), { ...this.options, schema: statusSchema });
    return { ...s, cluster: { name: s.cluster.name, status: s.cluster.status, peers: s.cluster.peers } };
  }

  /**
   * Alerts, optionally filtered by matchers in Alertmanager syntax
   * (`alertname="Foo"`, `severity=~"crit.*"`), all of which must match.
   */
  async alerts(filter: readonly string[] = [], options: AlertFilter = {}): Promise<AmAlert[]> {
    const params = new URLSearchParams();
    for (const f of filter) params.append('filter', f);
    for (const key of ['active', 'silenced', 'inhibited', 'unprocessed'] as const) {
      const v = options[key];
      if (v !== undefined) params.set(key, String(v));
    }
    if (options.receiver !== undefined) params.set('receiver', options.receiver);
    const query = params.toString();
    const list = await getJson(this.url(`/api/v2/alerts${query ? `?${query}` : ''}`), { ...this.options, schema: z.array(alertSchema) });
    return list.map((a) => ({ ...a, receivers: a.receivers.map((r) => r.name) }));
  }

  /** Posts alerts directly, as a Prometheus server would. */
  async postAlerts(alerts: readonly PostableAlert[]): Promise<void> {
    const body = alerts.map((a) => ({
      labels: a.labels,
      annotations: a.annotations ?? {},
      ...(a.startsAt ? { startsAt: a.startsAt.toISOString() } : {}),
      ...(a.endsAt ? { endsAt: a.endsAt.toISOString() } : {}),
      ...(a.generatorURL ? { generatorURL: a.generatorURL } : {}),
    }));
    await send('POST', this.url('/api/v2/alerts'), JSON.stringify(body), { 'Content-Type': 'application/json' }, this.options);
  }

  /** Every silence this member knows, expired ones included (kept for the retention period). */
  async silences(): Promise<Silence[]> {
    const list = await getJson(this.url('/api/v2/silences'), { ...this.options, schema: z.array(silenceSchema) });
    return list.map((s) => ({ ...s, state: s.status.state }));
  }

  /** Creates a silence and returns its id. It reaches the other members by gossip. */
  async createSilence(silence: NewSilence): Promise<string> {
    const body = {
      matchers: silence.matchers.map((m) => ({ name: m.name, value: m.value, isRegex: m.isRegex ?? false, isEqual: m.isEqual ?? true })),
      startsAt: silence.startsAt.toISOString(),
      endsAt: silence.endsAt.toISOString(),
      createdBy: silence.createdBy,
      comment: silence.comment,
    };
    const answer = await sendJson('POST', this.url('/api/v2/silences'), body, silenceIdSchema, this.options);
    return answer.silenceID;
  }

  /**
   * Expires a silence now. Expiring an already expired silence succeeds; an
   * unknown id is a ProbeError with status 500 (`"silence not found"`).
   */
  async expireSilence(id: string): Promise<void> {
    await send('DELETE', this.url(`/api/v2/silence/${encodeURIComponent(id)}`), undefined, undefined, this.options);
  }

  /** /metrics as text (see `parseMetrics`, `parsePeerName`, `parsePeerPosition`). */
  metrics(): Promise<string> {
    return getText(this.url('/metrics'), this.options);
  }

  /** When the process started (ms since the epoch, `process_start_time_seconds`), if it says. */
  async startedAtMs(): Promise<number | undefined> {
    const seconds = parseMetrics(await this.metrics()).find((x) => x.name === 'process_start_time_seconds')?.value;
    return seconds === undefined ? undefined : seconds * 1000;
  }
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The position of `peerName` in the cluster as `status` shows it: its index in
 * the peer names sorted bytewise, which is how Alertmanager orders members
 * (`Peer.Position`). Position k waits k × `--cluster.peer-timeout` before it
 * notifies. -1 when the name is not among the peers.
 */
export function peerPosition(status: AlertmanagerStatus, peerName: string): number {
  return status.cluster.peers.map((p) => p.name).sort(byName).indexOf(peerName);
}

/** The position of the member that answered `status` (its own name is `cluster.name`). */
export function ownPeerPosition(status: AlertmanagerStatus): number {
  return status.cluster.name === undefined ? -1 : peerPosition(status, status.cluster.name);
}

/** This member's own peer name, from `alertmanager_cluster_peer_info{peer="…"}` in its /metrics. */
export function parsePeerName(metricsText: string): string | undefined {
  return parseMetrics(metricsText).find((s) => s.name === 'alertmanager_cluster_peer_info')?.labels.peer;
}

/** The position the member itself reports (`alertmanager_peer_position`), as it computed it last. */
export function parsePeerPosition(metricsText: string): number | undefined {
  return parseMetrics(metricsText).find((s) => s.name === 'alertmanager_peer_position')?.value;
}
