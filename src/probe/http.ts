/**
 * The HTTP layer of the probe clients: Node's global fetch with a timeout, and
 * one error type for everything that can go wrong between us and a server.
 *
 * Every failure (refused connection, timeout, non-2xx status, a body that is
 * not what the API promises) becomes a `ProbeError` that names the URL, so a
 * command can print `error.message` as it is.
 */
import type * as z from 'zod';
import { secureRequestInit } from './client-security.ts';

export { describeNetworkError, ProbeError } from './probe-error.ts';
import { describeNetworkError, ProbeError } from './probe-error.ts';

export interface RequestOptions {
  /** Abort the whole request (connect, headers and body) after this long. Default 3000. */
  readonly timeoutMs?: number;
  /** An extra signal to abort with, e.g. a command's own deadline. */
  readonly signal?: AbortSignal;
}

/** A successful (2xx) answer. */
export interface ProbeResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

export const DEFAULT_TIMEOUT_MS = 3000;

/** The first bytes of a body, on one line, for error messages. */
export function excerpt(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

function timeoutSignal(options: RequestOptions): { signal: AbortSignal; timeoutMs: number } {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  return { signal: options.signal ? AbortSignal.any([timeout, options.signal]) : timeout, timeoutMs };
}

/**
 * Sends one request and reads the whole body. Never throws anything but a
 * ProbeError. With `allowError`, a non-2xx answer is returned instead of thrown
 * (for APIs whose error bodies carry the real message).
 */
async function request(
  method: string,
  url: string,
  body: string | undefined,
  headers: Readonly<Record<string, string>> | undefined,
  options: RequestOptions,
  allowError = false,
): Promise<ProbeResponse> {
  const { signal, timeoutMs } = timeoutSignal(options);
  let response: Response;
  let text: string;
  try {
    const secure = secureRequestInit(url);
    // Node's fetch is undici: it takes undici's dispatcher (the CA and client certificate).
    const init = { method, body, headers: { ...secure.headers, ...headers }, signal, redirect: 'follow', ...(secure.dispatcher ? { dispatcher: secure.dispatcher } : {}) };
    response = await fetch(url, init as RequestInit);
    text = await response.text();
  } catch (error) {
    throw new ProbeError(`${method} ${url}: ${describeNetworkError(error, timeoutMs)}`, { url, cause: error });
  }
  if (!response.ok && !allowError) {
    const detail = excerpt(text);
    throw new ProbeError(`${method} ${url}: HTTP ${response.status}${detail ? `: ${detail}` : ''}`, { url, status: response.status });
  }
  return { status: response.status, headers: response.headers, text };
}

/** Sends a request; a non-2xx answer or a network failure is a ProbeError. */
export function send(
  method: string,
  url: string,
  body?: string,
  headers?: Readonly<Record<string, string>>,
  options: RequestOptions = {},
): Promise<ProbeResponse> {
  return request(method, url, body, headers, options);
}

/** GET, body as text. */
export async function getText(url: string, options: RequestOptions = {}): Promise<string> {
  return (await request('GET', url, undefined, undefined, options)).text;
}

/** Options of the JSON helpers: a zod schema narrows the answer, or it stays `unknown`. */
export interface JsonOptions<T> extends RequestOptions {
  readonly schema?: z.ZodType<T>;
}

function parseJson(text: string, method: string, url: string, status: number): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ProbeError(`${method} ${url}: HTTP ${status} but the body is not JSON: ${excerpt(text, 120)}`, { url, status, cause: error });
  }
}

/** A zod error as one short line: `data.activeTargets[0].health: Invalid option …`. */
function describeIssues(error: z.ZodError): string {
  const lines = error.issues.slice(0, 3).map((issue) => {
    let where = '';
    for (const key of issue.path) where += typeof key === 'number' ? `[${key}]` : `${where ? '.' : ''}${String(key)}`;
    return `${where || '(root)'}: ${issue.message}`;
  });
  const more = error.issues.length > 3 ? ` (and ${error.issues.length - 3} more)` : '';
  return lines.join('; ') + more;
}

/** Checks `value` against `schema`; a mismatch is a ProbeError that says where. */
export function validate<T>(value: unknown, schema: z.ZodType<T>, url: string, what = 'response'): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new ProbeError(`${url}: unexpected ${what}: ${describeIssues(result.error)}`, { url, cause: result.error });
  }
  return result.data;
}

/** GET, body as JSON, optionally checked against a zod schema. */
export function getJson(url: string, options?: RequestOptions): Promise<unknown>;
export function getJson<T>(url: string, options: JsonOptions<T> & { readonly schema: z.ZodType<T> }): Promise<T>;
export async function getJson<T>(url: string, options: JsonOptions<T> = {}): Promise<T | unknown> {
  const response = await request('GET', url, undefined, { Accept: 'application/json' }, options);
  const value = parseJson(response.text, 'GET', url, response.status);
  return options.schema ? validate(value, options.schema, url) : value;
}

/** Sends a request whose answer is JSON (e.g. a POST that returns an id). */
export async function sendJson<T>(
  method: string,
  url: string,
  body: unknown,
  schema: z.ZodType<T>,
  options: RequestOptions = {},
): Promise<T> {
  const response = await request(method, url, body === undefined ? undefined : JSON.stringify(body), { 'Content-Type': 'application/json', Accept: 'application/json' }, options);
  return validate(parseJson(response.text, method, url, response.status), schema, url);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * GET a Prometheus HTTP API endpoint (`/api/v1/...`, also the Pushgateway's)
 * and unwrap its envelope `{status: 'success', data}`. `{status: 'error'}`
 * becomes a ProbeError with the server's `errorType` and `error`, whatever the
 * HTTP status (Prometheus answers 400, 422 or 503 with that envelope).
 */
export function promApi(url: string, options?: RequestOptions): Promise<unknown>;
export function promApi<T>(url: string, options: JsonOptions<T> & { readonly schema: z.ZodType<T> }): Promise<T>;
export async function promApi<T>(url: string, options: JsonOptions<T> = {}): Promise<T | unknown> {
  const response = await request('GET', url, undefined, { Accept: 'application/json' }, options, true);
  let envelope: unknown;
  try {
    envelope = JSON.parse(response.text) as unknown;
  } catch (error) {
    const detail = excerpt(response.text);
    const status = response.status >= 200 && response.status < 300 ? `HTTP ${response.status} but the body is not JSON` : `HTTP ${response.status}`;
    throw new ProbeError(`GET ${url}: ${status}${detail ? `: ${detail}` : ''}`, { url, status: response.status, cause: error });
  }
  if (!isRecord(envelope) || (envelope.status !== 'success' && envelope.status !== 'error')) {
    throw new ProbeError(`GET ${url}: HTTP ${response.status}, not a Prometheus API answer: ${excerpt(response.text, 120)}`, { url, status: response.status });
  }
  if (envelope.status === 'error') {
    const errorType = typeof envelope.errorType === 'string' ? envelope.errorType : 'error';
    const message = typeof envelope.error === 'string' ? envelope.error : 'no error message';
    throw new ProbeError(`GET ${url}: ${errorType}: ${message}`, { url, status: response.status, errorType });
  }
  if (response.status < 200 || response.status >= 300) {
    throw new ProbeError(`GET ${url}: HTTP ${response.status}: ${excerpt(response.text)}`, { url, status: response.status });
  }
  return options.schema ? validate(envelope.data, options.schema, url, 'data') : envelope.data;
}

/** `base` + `path`, with one slash between them (base may carry a route prefix). */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

/** GET `url` → true on 2xx, false on anything else, never throws. */
export async function isOk(url: string, options: RequestOptions = {}): Promise<boolean> {
  try {
    await request('GET', url, undefined, undefined, options);
    return true;
  } catch {
    return false;
  }
}

/**
 * Prometheus renders sample values as strings: `"1"`, `"1e+00"`, `"NaN"`,
 * `"+Inf"`, `"-Inf"`. `Number()` gets the infinities wrong, so use this.
 * Returns undefined for anything that is not a float.
 */
export function parsePromFloat(text: string): number | undefined {
  const t = text.trim();
  if (/^[+-]?inf(inity)?$/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(t)) return NaN;
  if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t)) return Number(t);
  return undefined;
}

/** What every component client shares: its base URL, request options and `/-/ready`. */
export abstract class ComponentClient {
  readonly baseUrl: string;

  /** `baseUrl`: `http://host:port`, plus the route prefix if there is one. */
  constructor(
    baseUrl: string,
    protected readonly options: RequestOptions = {},
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  url(path: string): string {
    return joinUrl(this.baseUrl, path);
  }

  /** GET /-/ready answers 200; false on any error. */
  ready(): Promise<boolean> {
    return isOk(this.url('/-/ready'), this.options);
  }
}
