// Alert episodes against the notifications the receiver got: which episode was notified
// and how fast, which was missed, which notification repeated one already sent, and which
// alert resolved while its cause still held. Pure, over the webhook's records.
import type { NotificationRecord, WebhookAlert } from '../demo/notifications.ts';

/** One stretch of time in which a cause of an alert held (a demo value set above 0). */
export interface AlertEpisode {
  /** What the load changed: `exporter demo1`, `pusher pushgateway1`. */
  readonly source: string;
  readonly alertname: string;
  /** Labels the notified alert carries with exactly these values. */
  readonly labels: Readonly<Record<string, string>>;
  /** When the cause began, ms since the epoch. */
  readonly start: number;
  /** When the cause ended; undefined while it holds. */
  readonly end?: number;
}

export interface EpisodeVerdict {
  readonly episode: AlertEpisode;
  /** When the first firing notification of the episode arrived. */
  readonly notifiedAt?: number;
  readonly latencySeconds?: number;
  /** No firing notification within the bound after the episode began. */
  readonly missed: boolean;
}

/** A notification that told the receiver nothing the previous one of its group had not. */
export interface DuplicateNotification {
  readonly receivedAt: number;
  /** The Alertmanager that sent it (its external URL), when the payload says. */
  readonly sender?: string;
  readonly receiver: string;
  readonly groupKey: string;
  readonly firing: readonly string[];
}

/**
 * What the receiver was told against the cause: the alert resolved while its cause held
 * (after the episode's firing notification; the receiver keys alerts by labels, so a
 * resolution of an earlier episode counts too), or an episode's alert firing again after
 * its resolution was notified.
 */
export interface Flap {
  readonly episode: AlertEpisode;
  readonly receivedAt: number;
  /** The Alertmanager that sent it (its external URL), when the payload says. */
  readonly sender?: string;
  readonly kind: 'resolved-while-holding' | 'firing-after-resolved';
}

export interface EpisodeJudgement {
  readonly verdicts: readonly EpisodeVerdict[];
  readonly missed: readonly EpisodeVerdict[];
  readonly duplicates: readonly DuplicateNotification[];
  readonly flaps: readonly Flap[];
}

export interface JudgeOptions {
  /** How long after its start an episode must have been notified; per episode where faults stretch it. */
  readonly notifyWithinMs: number | ((e: AlertEpisode) => number);
  /** The end of the observation: an episode younger than the bound then is not judged missed. */
  readonly now: number;
  /**
   * Alertmanager stamps an alert with the time its rule first held, which can be up to a
   * scrape and an evaluation after the cause began, and a federator may start it a little
   * earlier than the other (rounding): the slack allowed before `start`. @default 1000
   */
  readonly startSlackMs?: number;
}

const labelsMatch = (alert: Pick<WebhookAlert, 'labels'>, e: AlertEpisode) =>
  alert.labels?.['alertname'] === e.alertname && Object.entries(e.labels).every(([k, v]) => alert.labels?.[k] === v);

const senderOf = (r: NotificationRecord): { sender?: string } => (typeof r.payload?.externalURL === 'string' && r.payload.externalURL !== '' ? { sender: r.payload.externalURL } : {});

const alertsOf = (r: NotificationRecord): readonly WebhookAlert[] => (Array.isArray(r.payload?.alerts) ? r.payload.alerts : []);

/** The alert of a notification belongs to the episode: same labels, started within it. */
function ofEpisode(alert: WebhookAlert, e: AlertEpisode, slackMs: number): boolean {
  if (!labelsMatch(alert, e)) return false;
  const startsAt = Date.parse(alert.startsAt);
  return startsAt >= e.start - slackMs && (e.end === undefined || startsAt <= e.end);
}

export function judgeEpisodes(episodes: readonly AlertEpisode[], records: readonly NotificationRecord[], o: JudgeOptions): EpisodeJudgement {
  const slack = o.startSlackMs ?? 1000;
  const sorted = [...records].sort((a, b) => Date.parse(a.receivedAt) - Date.parse(b.receivedAt));
  const bound = (e: AlertEpisode) => (typeof o.notifyWithinMs === 'number' ? o.notifyWithinMs : o.notifyWithinMs(e));
  const verdicts = episodes.map((e): EpisodeVerdict => {
    const within = bound(e);
    const first = sorted.find((r) => alertsOf(r).some((a) => a.status === 'firing' && ofEpisode(a, e, slack)));
    const notifiedAt = first ? Date.parse(first.receivedAt) : undefined;
    if (notifiedAt !== undefined && notifiedAt - e.start <= within) return { episode: e, notifiedAt, latencySeconds: (notifiedAt - e.start) / 1000, missed: false };
    const judged = o.now - e.start > within;
    return { episode: e, ...(notifiedAt !== undefined ? { notifiedAt, latencySeconds: (notifiedAt - e.start) / 1000 } : {}), missed: judged };
  });
  const flaps: Flap[] = [];
  for (const v of verdicts) {
    const e = v.episode;
    const firstResolved = sorted.find((r) => alertsOf(r).some((a) => a.status === 'resolved' && ofEpisode(a, e, slack)));
    for (const r of sorted) {
      const at = Date.parse(r.receivedAt);
      const alerts = alertsOf(r);
      if (v.notifiedAt !== undefined && at > v.notifiedAt && (e.end === undefined || at < e.end) && alerts.some((a) => a.status === 'resolved' && labelsMatch(a, e)))
        flaps.push({ episode: e, receivedAt: at, kind: 'resolved-while-holding', ...senderOf(r) });
      if (firstResolved && at > Date.parse(firstResolved.receivedAt) && alerts.some((a) => a.status === 'firing' && ofEpisode(a, e, slack)))
        flaps.push({ episode: e, receivedAt: at, kind: 'firing-after-resolved', ...senderOf(r) });
    }
  }
  return { verdicts, missed: verdicts.filter((v) => v.missed), duplicates: duplicateNotifications(sorted), flaps };
}

/**
 * Alertmanager's notification log sends a group again only when it fires an alert the
 * last notification did not, or resolves one it did not report resolved (send_resolved),
 * or repeat_interval passed. A notification that does neither came from a member that did
 * not know what another had sent: a duplicate. Alerts are told apart by fingerprint, as
 * in the log.
 */
export function duplicateNotifications(records: readonly NotificationRecord[], repeatIntervalMs = Infinity): DuplicateNotification[] {
  const last = new Map<string, { at: number; firing: Set<string>; resolved: Set<string> }>();
  const out: DuplicateNotification[] = [];
  for (const r of [...records].sort((a, b) => Date.parse(a.receivedAt) - Date.parse(b.receivedAt))) {
    const key = `${r.path}\u0000${r.payload?.groupKey ?? ''}`;
    const at = Date.parse(r.receivedAt);
    const firing = new Set(alertsOf(r).filter((a) => a.status === 'firing').map((a) => a.fingerprint));
    const resolved = new Set(alertsOf(r).filter((a) => a.status === 'resolved').map((a) => a.fingerprint));
    const prev = last.get(key);
    const subset = (a: Set<string>, b: Set<string>) => [...a].every((x) => b.has(x));
    if (prev && at - prev.at < repeatIntervalMs && subset(firing, prev.firing) && subset(resolved, prev.resolved))
      out.push({ receivedAt: at, ...senderOf(r), receiver: r.path, groupKey: r.payload?.groupKey ?? '', firing: [...firing].sort() });
    else last.set(key, { at, firing, resolved });
  }
  return out;
}

/** The median and the largest latency of the notified episodes, in seconds. */
export function latencySummary(verdicts: readonly EpisodeVerdict[]): { readonly count: number; readonly median?: number; readonly max?: number } {
  const l = verdicts.flatMap((v) => (v.missed || v.latencySeconds === undefined ? [] : [v.latencySeconds])).sort((a, b) => a - b);
  if (l.length === 0) return { count: 0 };
  const mid = Math.floor(l.length / 2);
  return { count: l.length, median: l.length % 2 ? (l[mid] as number) : ((l[mid - 1] as number) + (l[mid] as number)) / 2, max: l[l.length - 1] as number };
}
