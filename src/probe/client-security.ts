/**
 * How promha's own clients (readiness probes, doctor, drills, the CLI) reach members in
 * secure mode: the CA to trust, the client certificate to show and the basic auth
 * credentials. One process-wide setting, made once by whoever knows the stack (`up`,
 * or the state directory of a running stack), so that every client stays unchanged.
 *
 * Credentials only travel over TLS: requests to `http://` URLs (the demo processes)
 * get neither the header nor the certificate.
 */
import { Agent } from 'undici';

export interface ClientSecurity {
  /** PEM CA; when set, members are reached over https. */
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly username?: string;
  readonly password?: string;
}

let active: { readonly sec: ClientSecurity; readonly agent: Agent } | undefined;

/** Sets (or, with undefined, clears) the security of every later request. */
export function useClientSecurity(sec: ClientSecurity | undefined): void {
  const old = active;
  active = sec
    ? { sec, agent: new Agent({ connect: { ...(sec.ca ? { ca: sec.ca } : {}), ...(sec.cert ? { cert: sec.cert } : {}), ...(sec.key ? { key: sec.key } : {}) } }) }
    : undefined;
  void old?.agent.close();
}

export function clientSecurity(): ClientSecurity | undefined {
  return active?.sec;
}

/** The base URL of a member: https in secure mode. */
export function memberUrl(address: string): string {
  return `${active?.sec.ca ? 'https' : 'http'}://${address}`;
}

/** The Authorization header value, when credentials are set. */
export function authorization(sec: ClientSecurity | undefined = active?.sec): string | undefined {
  return sec?.username !== undefined && sec.password !== undefined ? `Basic ${Buffer.from(`${sec.username}:${sec.password}`).toString('base64')}` : undefined;
}

/** What a fetch to `url` adds: the TLS dispatcher and the Authorization header, for https URLs only. */
export function secureRequestInit(url: string): { dispatcher?: Agent; headers: Record<string, string> } {
  if (!active || !url.startsWith('https:')) return { headers: {} };
  const auth = authorization();
  return { dispatcher: active.agent, headers: auth ? { Authorization: auth } : {} };
}
