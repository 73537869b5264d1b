import { isIPv6 } from 'node:net';

/**
 * A member's `host:port`. Hosts are hostnames, IPv4 literals or bracketed IPv6 literals,
 * the forms Prometheus accepts in `static_configs` targets.
 */
export class Address {
  private static readonly HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
  private static readonly IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

  /** Returns a reason when `text` is not `host:port`. */
  static problem(text: string): string | undefined {
    const m = /^(\[[0-9A-Fa-f:.]+\]|[^:\[\]]+):(\d{1,5})$/.exec(text);
    if (!m) return `"${text}" is not host:port (e.g. 10.0.0.11:9090 or scraper1-1.example.net:9090)`;
    const port = Number(m[2]);
    if (port < 1 || port > 65535) return `port ${port} is outside 1-65535`;
    return Address.hostProblem(m[1] as string);
  }

  private static hostProblem(host: string): string | undefined {
    if (host.startsWith('[')) return isIPv6(host.slice(1, -1)) ? undefined : `"${host}" is not an IPv6 address`;
    if (Address.IPV4.test(host)) return undefined;
    // Go resolves anything that is not an IP literal as a name, and a name whose last
    // label is all digits never resolves (RFC 3696 §2): 198.51.100.256 is a typo, not a host.
    if (/^[0-9.]+$/.test(host)) return `"${host}" is not an IPv4 address (four numbers 0-255)`;
    if (!Address.HOSTNAME.test(host)) return `"${host}" is neither a hostname nor an IP address`;
    if (/(^|\.)\d+$/.test(host)) return `"${host}" is not a hostname: its last label is all digits`;
    return undefined;
  }

  static parse(text: string): Address {
    const p = Address.problem(text);
    if (p) throw new RangeError(p);
    const i = text.lastIndexOf(':');
    return new Address(text.slice(0, i), Number(text.slice(i + 1)));
  }

  private constructor(
    readonly host: string,
    readonly port: number,
  ) {}

  /** True for IPv4 and bracketed IPv6 literals: keepalived and bind addresses need one. */
  get isIp(): boolean {
    return this.isIpv6 || Address.IPV4.test(this.host);
  }
  get isIpv6(): boolean {
    return this.host.startsWith('[');
  }
  /** The address a server binds to: the IP itself, or every interface when only a name is known. */
  get listen(): string {
    return this.isIp ? this.toString() : `:${this.port}`;
  }
  withPort(port: number): Address {
    return new Address(this.host, port);
  }
  toString(): string {
    return `${this.host}:${this.port}`;
  }
  toJSON(): string {
    return this.toString();
  }
}
