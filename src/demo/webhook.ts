// A demo Alertmanager webhook receiver: it records every notification in a JSONL file,
// which outlives restarts, and serves them back to the drills.
import { appendFile, mkdir, readFile, truncate } from 'node:fs/promises';
import path from 'node:path';
import * as z from 'zod';
import { json, notFound, readJson, serve, type DemoServer } from './http.ts';
import { parseNotificationLines, type NotificationRecord, type WebhookPayload } from './notifications.ts';

export type { DemoServer } from './http.ts';

export interface WebhookOptions {
  readonly listen: string;
  /** The JSONL file; created with its parent directory, appended to, never rewritten. */
  readonly file: string;
}

// Alertmanager always sends an object; anything else is not a notification. The shape is
// not enforced further: the record keeps what was sent, and the helpers tolerate it.
const Payload = z.record(z.string(), z.unknown());

export async function startWebhook(o: WebhookOptions): Promise<DemoServer> {
  await mkdir(path.dirname(o.file), { recursive: true });
  const records = await loadHistory(o.file);

  // Appends run one after the other, so lines never interleave and the file's order is
  // the order of `records`.
  let appending: Promise<void> = Promise.resolve();
  const append = (record: NotificationRecord): Promise<void> => {
    const next = appending.then(() => appendFile(o.file, `${JSON.stringify(record)}\n`));
    appending = next.catch(() => undefined);
    return next;
  };

  const server = await serve(o.listen, async (req, reqPath) => {
    if (req.method === 'POST') {
      const body = await readJson(req, Payload);
      if (!body.ok) return body.reply;
      const record: NotificationRecord = { receivedAt: new Date().toISOString(), path: reqPath, payload: body.value as unknown as WebhookPayload };
      // Answer only once the line is on disk: on a failed write Alertmanager gets a 500
      // and retries, rather than the notification being lost silently.
      await append(record);
      records.push(record);
      return json(200, { recorded: records.length });
    }
    if (reqPath === '/notifications' && req.method === 'GET') return json(200, records);
    if (reqPath === '/-/ready' && req.method === 'GET') return json(200, { ready: true });
    return notFound(req.method, reqPath);
  });

  return {
    url: server.url,
    async close() {
      await server.close();
      await appending;
    },
  };
}

/** The records of an earlier run; a torn last line (a crash mid-append) is cut off. */
async function loadHistory(file: string): Promise<NotificationRecord[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const { records, tornTail } = parseNotificationLines(text, file);
  // Otherwise the next record would be glued onto the torn fragment.
  if (tornTail !== '') await truncate(file, Buffer.byteLength(text) - Buffer.byteLength(tornTail));
  return records;
}
