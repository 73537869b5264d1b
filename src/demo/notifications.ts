// Pure helpers over the notifications the demo webhook recorded (Alertmanager webhook
// format, version 4). Records come from a file other processes wrote, so the helpers
// tolerate payloads without alerts instead of throwing.

export type AlertStatus = 'firing' | 'resolved';

/** One alert of a webhook notification. */
export interface WebhookAlert {
  readonly status: AlertStatus;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly generatorURL?: string;
  readonly fingerprint: string;
}

/** The body Alertmanager POSTs to a webhook receiver. */
export interface WebhookPayload {
  readonly version?: string;
  readonly groupKey?: string;
  readonly truncatedAlerts?: number;
  readonly status: AlertStatus;
  readonly receiver: string;
  readonly groupLabels: Readonly<Record<string, string>>;
  readonly commonLabels: Readonly<Record<string, string>>;
  readonly commonAnnotations?: Readonly<Record<string, string>>;
  readonly externalURL?: string;
  readonly alerts: readonly WebhookAlert[];
}

/** One line of the webhook's JSONL file. */
export interface NotificationRecord {
  /** ISO time at which the webhook received the notification. */
  readonly receivedAt: string;
  /** The request path: a receiver's webhook URL may carry its name there. */
  readonly path: string;
  readonly payload: WebhookPayload;
}

export interface AlertFilter {
  readonly alertname: string;
  /** The alert's own status (a "firing" notification may also carry resolved alerts). */
  readonly status?: AlertStatus;
  /** Labels the alert must carry with exactly these values. */
  readonly labels?: Readonly<Record<string, string>>;
}

/** A flattened alert: when it arrived, its status and its labels. */
export interface ReceivedAlert {
  readonly receivedAt: string;
  readonly status: AlertStatus;
  readonly labels: Readonly<Record<string, string>>;
}

function alertsOf(record: NotificationRecord): readonly WebhookAlert[] {
  const alerts: unknown = record.payload?.alerts;
  return Array.isArray(alerts) ? (alerts as WebhookAlert[]) : [];
}

export function alertMatches(alert: Pick<WebhookAlert, 'status' | 'labels'>, filter: AlertFilter): boolean {
  const labels = alert.labels ?? {};
  if (labels.alertname !== filter.alertname) return false;
  if (filter.status !== undefined && alert.status !== filter.status) return false;
  return Object.entries(filter.labels ?? {}).every(([name, value]) => labels[name] === value);
}

/** The number of notifications (records) with at least one alert matching `filter`. */
export function countNotifications(records: readonly NotificationRecord[], filter: AlertFilter): number {
  return records.filter((r) => alertsOf(r).some((a) => alertMatches(a, filter))).length;
}

/** Every alert of every notification, in the order received. */
export function alertsIn(records: readonly NotificationRecord[]): ReceivedAlert[] {
  return records.flatMap((r) => alertsOf(r).map((a) => ({ receivedAt: r.receivedAt, status: a.status, labels: a.labels ?? {} })));
}

/** The alerts (by their labels) whose latest notification says firing: episodes still open at the receiver. */
export function openAlerts(alerts: readonly ReceivedAlert[]): Array<Readonly<Record<string, string>>> {
  const last = new Map<string, ReceivedAlert>();
  for (const a of alerts) last.set(JSON.stringify(Object.entries(a.labels).sort(([x], [y]) => (x < y ? -1 : 1))), a);
  return [...last.values()].filter((a) => a.status === 'firing').map((a) => a.labels);
}

/**
 * Parses the webhook's JSONL file. A crash in the middle of an append can leave a torn
 * last line (no newline at its end): it is reported in `tornTail`, not parsed. Any other
 * bad line is an error that names it.
 */
export function parseNotificationLines(text: string, file: string): { records: NotificationRecord[]; tornTail: string } {
  const end = text.lastIndexOf('\n') + 1;
  const records: NotificationRecord[] = [];
  text
    .slice(0, end)
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() === '') return;
      let record: unknown;
      try {
        record = JSON.parse(line);
      } catch (e) {
        throw new Error(`${file}:${i + 1}: not a JSON line: ${(e as Error).message}`);
      }
      if (!isRecord(record)) throw new Error(`${file}:${i + 1}: not a notification record (receivedAt, path, payload)`);
      records.push(record);
    });
  return { records, tornTail: text.slice(end) };
}

function isRecord(v: unknown): v is NotificationRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return typeof r.receivedAt === 'string' && typeof r.path === 'string' && typeof r.payload === 'object' && r.payload !== null;
}
