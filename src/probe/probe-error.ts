/**
 * The one error type of the probe clients, and network failures in words. Apart from
 * http.ts so that the CLI's error mapping does not load the HTTP stack.
 */

/** Any failure to get a usable answer from a server. */
export class ProbeError extends Error {
  /** The URL that was requested. */
  readonly url: string;
  /** The HTTP status, when the server answered. */
  readonly status?: number;
  /** Prometheus API `errorType` (`bad_data`, `execution`, …), when there is one. */
  readonly errorType?: string;

  constructor(message: string, details: { url: string; status?: number; errorType?: string; cause?: unknown }) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'ProbeError';
    this.url = details.url;
    if (details.status !== undefined) this.status = details.status;
    if (details.errorType !== undefined) this.errorType = details.errorType;
  }
}

const NETWORK_CODES: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed (temporary)',
  ETIMEDOUT: 'connection timed out',
  EADDRNOTAVAIL: 'address not available',
  EPIPE: 'connection closed (broken pipe)',
  UND_ERR_SOCKET: 'connection closed by the server',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_HEADERS_TIMEOUT: 'timed out waiting for response headers',
  UND_ERR_BODY_TIMEOUT: 'timed out reading the response body',
};

function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') return error.code;
  return undefined;
}

/** A short human phrase for a fetch failure: `connection refused`, `timed out after 3000 ms`, … */
export function describeNetworkError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return error.name === 'TimeoutError' ? `timed out after ${timeoutMs} ms` : 'aborted';
  }
  // undici wraps the real reason: TypeError('fetch failed', { cause }), sometimes twice.
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current !== undefined; depth++) {
    const code = errorCode(current);
    if (code !== undefined) return NETWORK_CODES[code] ?? (current instanceof Error ? `${current.message} (${code})` : code);
    if (current instanceof Error && current.name === 'TimeoutError') return `timed out after ${timeoutMs} ms`;
    current = current instanceof Error ? current.cause : undefined;
  }
  if (error instanceof Error && error.cause instanceof Error && error.cause.message === 'bad port') {
    return 'fetch refuses this port (it is on the WHATWG "bad ports" list, e.g. 1, 6000, 6665-6669)';
  }
  if (error instanceof Error) {
    const inner = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${inner}`;
  }
  return String(error);
}
