/**
 * A typed client of the Pushgateway 1.5 API: push, list, delete and wipe groups.
 */
import * as z from 'zod';
import { ComponentClient, ProbeError, promApi, send, type RequestOptions } from './http.ts';
import { memberUrl } from './client-security.ts';
import type { Labels } from './schema-util.ts';
import { labelsSchema, promFloatSchema } from './schema-util.ts';


/** The metrics the Pushgateway adds to every group itself. */
export const PUSHGATEWAY_META_METRICS: readonly string[] = ['push_time_seconds', 'push_failure_time_seconds'];

export interface PushGroup {
  /** The grouping key, `job` included. */
  readonly labels: Labels;
  /** From the group's `push_time_seconds`; undefined if the group has none. */
  readonly lastPush: Date | undefined;
  /** From `push_failure_time_seconds`; undefined when no push to this group ever failed. */
  readonly lastPushFailure: Date | undefined;
  readonly lastPushSuccessful: boolean;
  /** Names of the pushed metric families, sorted, without the two meta metrics above. */
  readonly metrics: readonly string[];
}

export interface PushgatewayStatus {
  /** Command-line flags without the leading `--`, defaults included. */
  readonly flags: Labels;
  readonly buildInformation: Labels;
}

export interface WaitOptions {
  /**
   * DELETE and wipe are asynchronous in the Pushgateway (202 Accepted, then a
   * queue). Wait up to this long until the groups are gone; 0 = don't wait.
   * Default 2000.
   */
  readonly waitMs?: number;
}

// ---------- wire schemas ----------

/** One metric family of a group: a gauge/counter/untyped has `value`, histograms and summaries do not. */
const familySchema = z.object({
  type: z.string(),
  metrics: z.array(z.object({ labels: labelsSchema.default({}), value: promFloatSchema.optional() }).loose()),
}).loose();

const groupSchema = z.record(z.string(), z.unknown()).transform((raw, ctx) => {
  const labels = labelsSchema.safeParse(raw.labels);
  if (!labels.success) {
    ctx.addIssue({ code: 'custom', message: 'group without a labels object' });
    return z.NEVER;
  }
  const families: Record<string, z.output<typeof familySchema>> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'labels' || key === 'last_push_successful') continue;
    const family = familySchema.safeParse(value);
    if (!family.success) {
      ctx.addIssue({ code: 'custom', message: `metric family ${key}: ${family.error.issues[0]?.message ?? 'invalid'}` });
      return z.NEVER;
    }
    families[key] = family.data;
  }
  return { labels: labels.data, lastPushSuccessful: raw.last_push_successful !== false, families };
});

const groupsSchema = z.array(groupSchema);

const statusSchema = z.object({ flags: labelsSchema, build_information: labelsSchema.default({}) });

function secondsToDate(seconds: number | undefined): Date | undefined {
  return seconds === undefined || !Number.isFinite(seconds) || seconds <= 0 ? undefined : new Date(seconds * 1000);
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * One `/name/value` pair of a grouping key path. Values that are empty or not
 * plain URL-safe text use the `@base64` form: Go decodes `%2F` before routing,
 * so a `/` cannot be escaped any other way.
 */
function keySegment(name: string, value: string): string {
  if (value === '') return `/${name}@base64/=`;
  if (/^[A-Za-z0-9._~-]+$/.test(value)) return `/${name}/${value}`;
  return `/${name}@base64/${Buffer.from(value, 'utf8').toString('base64url')}`;
}

/** `/metrics/job/<job>/<label>/<value>…`, the path of one group. */
export function groupPath(job: string, labels: Labels = {}): string {
  if (job === '') throw new TypeError('a Pushgateway job name cannot be empty');
  let path = `/metrics${keySegment('job', job)}`;
  for (const [name, value] of Object.entries(labels)) {
    if (name === 'job') throw new TypeError('the grouping labels cannot contain "job": pass it as the job');
    if (!LABEL_NAME.test(name)) throw new TypeError(`invalid label name in a grouping key: ${JSON.stringify(name)}`);
    path += keySegment(name, value);
  }
  return path;
}

function sameLabels(a: Labels, b: Labels): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

export class PushgatewayClient extends ComponentClient {


  /** Flags and build information (`/api/v1/status`): e.g. `flags['persistence.file']`. */
  async status(): Promise<PushgatewayStatus> {
    const s = await promApi(this.url('/api/v1/status'), { ...this.options, schema: statusSchema });
    return { flags: s.flags, buildInformation: s.build_information };
  }

  /** Every group the gateway holds. */
  async groups(): Promise<PushGroup[]> {
    const groups = await promApi(this.url('/api/v1/metrics'), { ...this.options, schema: groupsSchema });
    return groups.map((g) => ({
      labels: g.labels,
      lastPush: secondsToDate(g.families.push_time_seconds?.metrics[0]?.value),
      lastPushFailure: secondsToDate(g.families.push_failure_time_seconds?.metrics[0]?.value),
      lastPushSuccessful: g.lastPushSuccessful,
      metrics: Object.keys(g.families)
        .filter((name) => !PUSHGATEWAY_META_METRICS.includes(name))
        .sort(),
    }));
  }

  /**
   * Pushes `bodyText` (text exposition format) to the group `job` + `groupingLabels`.
   * `PUT` (default) replaces the whole group; `POST` replaces only the metric
   * families that the body names. A missing final newline is added: 1.5 rejects
   * a body without one.
   */
  async push(job: string, bodyText: string, groupingLabels: Labels = {}, method: 'PUT' | 'POST' = 'PUT'): Promise<void> {
    const body = bodyText.endsWith('\n') ? bodyText : `${bodyText}\n`;
    await send(method, this.url(groupPath(job, groupingLabels)), body, { 'Content-Type': 'text/plain; version=0.0.4' }, this.options);
  }

  /** Deletes one group (its exact grouping key), then waits until it is gone. */
  async deleteGroup(job: string, labels: Labels = {}, wait: WaitOptions = {}): Promise<void> {
    const url = this.url(groupPath(job, labels));
    await send('DELETE', url, undefined, undefined, this.options);
    const key = { job, ...labels };
    await this.waitUntil((groups) => !groups.some((g) => sameLabels(g.labels, key)), wait, url, 'the group is still there');
  }

  /**
   * Deletes every group (`PUT /api/v1/admin/wipe`), then waits until none is
   * left. Needs `--web.enable-admin-api`: without it the answer is a 404.
   */
  async wipe(wait: WaitOptions = {}): Promise<void> {
    const url = this.url('/api/v1/admin/wipe');
    try {
      await send('PUT', url, undefined, undefined, this.options);
    } catch (error) {
      if (error instanceof ProbeError && error.status === 404) {
        throw new ProbeError(`PUT ${url}: 404, the admin API is off: start the Pushgateway with --web.enable-admin-api`, { url, status: 404, cause: error });
      }
      throw error;
    }
    await this.waitUntil((groups) => groups.length === 0, wait, url, 'groups are left (pushes may have arrived since)');
  }

  private async waitUntil(done: (groups: PushGroup[]) => boolean, wait: WaitOptions, url: string, what: string): Promise<void> {
    const waitMs = wait.waitMs ?? 2000;
    if (waitMs <= 0) return;
    const deadline = Date.now() + waitMs;
    for (;;) {
      if (done(await this.groups())) return;
      if (Date.now() >= deadline) throw new ProbeError(`${url}: accepted, but after ${waitMs} ms ${what}`, { url });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/**
 * Which member answers behind a VIP: the gateway names itself in its --web.external-url
 * (addresses, not URLs, so that http and https stacks compare alike). `member` is absent
 * when that URL names none of `members`; a VIP that does not answer throws.
 */
export async function vipServedBy(
  vip: string,
  members: ReadonlyArray<{ readonly name: string; readonly address: string }>,
  options: RequestOptions = {},
): Promise<{ readonly member?: string; readonly externalUrl: string }> {
  const externalUrl = (await new PushgatewayClient(memberUrl(vip), options).status()).flags['web.external-url'] ?? '';
  const member = members.find((m) => externalUrl.replace(/\/+$/, '') === memberUrl(m.address))?.name;
  return { ...(member ? { member } : {}), externalUrl };
}
