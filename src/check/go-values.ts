/*
 * What Alertmanager says about a URL field (config.URL, SecretURL): Go's net/url.Parse,
 * then Alertmanager's own demands (an http or https scheme, a host). Only the errors, in
 * their words, so `check` can refuse at the topology field what `amtool check-config`
 * refuses in the rendered file. Ported from Go 1.19-1.24's net/url (the versions Debian
 * builds Alertmanager 0.25-0.33 with); test/check-real-tools.test.ts holds it against
 * each release's amtool.
 */

/** Go's strconv.Quote: what `%q` prints. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    const simple: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '\\': '\\\\', '"': '\\"' };
    if (simple[ch]) out += simple[ch];
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    // Not printable in Go's sense: C1 controls, line and paragraph separators, BOM, bidi controls.
    else if ((c >= 0x80 && c <= 0x9f) || c === 0x2028 || c === 0x2029 || c === 0xfeff || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) || c === 0xad || c === 0x200b)
      out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

const ishex = (c: string | undefined) => c !== undefined && /^[0-9a-fA-F]$/.test(c);
const isAlnum = (c: string) => /^[a-zA-Z0-9]$/.test(c);

/** Go's unescape: the error of a bad %-escape, or (host mode) of a character a host cannot hold. */
function unescapeProblem(s: string, mode: 'host' | 'zone' | 'path' | 'fragment' | 'userinfo'): string | undefined {
  for (let i = 0; i < s.length; ) {
    const c = s[i] as string;
    if (c === '%') {
      if (i + 2 >= s.length || !ishex(s[i + 1]) || !ishex(s[i + 2])) return `invalid URL escape ${goQuote(s.slice(i, i + 3))}`;
      // In a host, %-escapes may only stand for bytes >= 0x80, except %25 (a zone's "%").
      if (mode === 'host' && parseInt(s[i + 1] as string, 16) < 8 && s.slice(i, i + 3) !== '%25') return `invalid URL escape ${goQuote(s.slice(i, i + 3))}`;
      i += 3;
      continue;
    }
    if ((mode === 'host' || mode === 'zone') && c.charCodeAt(0) < 0x80 && !isAlnum(c) && !"!$&'()*+,;=:[]<>\"-_.~".includes(c))
      return `invalid character ${goQuote(c)} in host name`;
    i++;
  }
  return undefined;
}

const validOptionalPort = (port: string) => port === '' || (port.startsWith(':') && /^[0-9]*$/.test(port.slice(1)));

function hostProblem(host: string): string | undefined {
  if (host.startsWith('[')) {
    const i = host.lastIndexOf(']');
    if (i < 0) return "missing ']' in host";
    const colonPort = host.slice(i + 1);
    if (!validOptionalPort(colonPort)) return `invalid port ${goQuote(colonPort)} after host`;
    const zone = host.slice(0, i).indexOf('%25');
    if (zone >= 0) return unescapeProblem(host.slice(0, zone), 'host') ?? unescapeProblem(host.slice(zone, i), 'zone') ?? unescapeProblem(host.slice(i), 'host');
  } else {
    const i = host.lastIndexOf(':');
    if (i >= 0 && !validOptionalPort(host.slice(i))) return `invalid port ${goQuote(host.slice(i))} after host`;
  }
  return unescapeProblem(host, 'host');
}

/** Go's url.Parse: the parsed scheme and host, or its error as `parse "…": reason`. */
export function goParseUrl(raw: string): { scheme: string; host: string } | { error: string } {
  const hash = raw.indexOf('#');
  const u = hash < 0 ? raw : raw.slice(0, hash);
  const fail = (reason: string, whole = u) => ({ error: `parse ${goQuote(whole)}: ${reason}` });
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(u)) return fail('net/url: invalid control character in URL');
  let scheme = '';
  let rest = u;
  for (let i = 0; i < u.length; i++) {
    const c = u[i] as string;
    if (/[a-zA-Z]/.test(c)) continue;
    if (/[0-9+\-.]/.test(c)) {
      if (i === 0) break;
      continue;
    }
    if (c === ':') {
      if (i === 0) return fail('missing protocol scheme');
      scheme = u.slice(0, i).toLowerCase();
      rest = u.slice(i + 1);
    }
    break;
  }
  if (rest.endsWith('?') && rest.split('?').length === 2) rest = rest.slice(0, -1);
  else if (rest.includes('?')) rest = rest.slice(0, rest.indexOf('?'));
  let host = '';
  if (!rest.startsWith('/')) {
    // An opaque URL (mailto:x, http:h): no host.
    if (scheme !== '') return { scheme, host: '' };
    const segment = rest.split('/')[0] as string;
    if (segment.includes(':')) return fail('first path segment in URL cannot contain colon');
  }
  if ((scheme !== '' || !rest.startsWith('///')) && rest.startsWith('//')) {
    let authority = rest.slice(2);
    const slash = authority.indexOf('/');
    rest = slash < 0 ? '' : authority.slice(slash);
    authority = slash < 0 ? authority : authority.slice(0, slash);
    const at = authority.lastIndexOf('@');
    host = at < 0 ? authority : authority.slice(at + 1);
    const problem = hostProblem(host);
    if (problem) return fail(problem);
    if (at >= 0) {
      const userinfo = authority.slice(0, at);
      if (![...userinfo].every((r) => isAlnum(r) || "-._:~!$&'()*+,;=%@".includes(r))) return fail('net/url: invalid userinfo');
      const userProblem = unescapeProblem(userinfo, 'userinfo');
      if (userProblem) return fail(userProblem);
    }
  }
  const pathProblem = unescapeProblem(rest, 'path');
  if (pathProblem) return fail(pathProblem);
  if (hash >= 0) {
    const fragmentProblem = unescapeProblem(raw.slice(hash + 1), 'fragment');
    if (fragmentProblem) return fail(fragmentProblem, raw);
  }
  return { scheme, host };
}

/**
 * Alertmanager's error for a URL field's value, or undefined when it takes it.
 * @param prefixed Alertmanager 0.33 starts the message with "invalid URL: ".
 */
export function alertmanagerUrlProblem(raw: string, prefixed: boolean): string | undefined {
  const parsed = goParseUrl(raw);
  const problem =
    'error' in parsed
      ? parsed.error
      : parsed.scheme !== 'http' && parsed.scheme !== 'https'
        ? `unsupported scheme ${goQuote(parsed.scheme)} for URL`
        : parsed.host === ''
          ? 'missing host for URL'
          : undefined;
  return problem === undefined ? undefined : `${prefixed ? 'invalid URL: ' : ''}${problem}`;
}

/** Go's time.ParseDuration's error, or undefined. */
export function goDurationProblem(s: string): string | undefined {
  const q = goQuote(s);
  let rest = s;
  if (rest.startsWith('-') || rest.startsWith('+')) rest = rest.slice(1);
  if (rest === '0') return undefined;
  if (rest === '') return `time: invalid duration ${q}`;
  while (rest !== '') {
    const number = /^([0-9]*)(\.[0-9]*)?/.exec(rest)?.[0] ?? '';
    if (number === '' || number === '.') return `time: invalid duration ${q}`;
    rest = rest.slice(number.length);
    const unit = /^[^0-9.]*/.exec(rest)?.[0] ?? '';
    if (unit === '') return `time: missing unit in duration ${q}`;
    if (!['ns', 'us', 'µs', 'μs', 'ms', 's', 'm', 'h'].includes(unit)) return `time: unknown unit ${goQuote(unit)} in duration ${q}`;
    rest = rest.slice(unit.length);
  }
  return undefined;
}

/**
 * Characters of a string that the rendered file cannot carry to Prometheus and
 * Alertmanager, whose YAML reader (yaml.v2, YAML 1.1) refuses DEL, the C1 controls but NEL,
 * U+FFFE and U+FFFF anywhere ("control characters are not allowed"), and reads NEL, LS and
 * PS as line breaks; promha's YAML writer (YAML 1.2) puts all of them into the file as they
 * are. Measured: a URL with U+2028 makes amtool stop at "could not find expected ':'".
 */
// eslint-disable-next-line no-control-regex
const GO_YAML_REFUSED = /[\u007f-\u0084\u0086-\u009f\ufffe\uffff]/u;
const GO_YAML_LINE_BREAK = /[\u0085\u2028\u2029]/u;

/** The first character of `s` the rendered file cannot carry, as U+XXXX, and what the reader makes of it. */
export function goYamlCharProblem(s: string): { char: string; lineBreak: boolean } | undefined {
  const code = (c: string) => `U+${(c.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0')}`;
  const refused = GO_YAML_REFUSED.exec(s)?.[0];
  if (refused !== undefined) return { char: code(refused), lineBreak: false };
  const lineBreak = GO_YAML_LINE_BREAK.exec(s)?.[0];
  return lineBreak === undefined ? undefined : { char: code(lineBreak), lineBreak: true };
}

/** Every string (value or key) of a rendered tree that {@link goYamlCharProblem} refuses, with its path. */
export function* goYamlCharProblems(v: unknown, path: ReadonlyArray<string | number>): Generator<{ path: ReadonlyArray<string | number>; char: string; lineBreak: boolean }> {
  if (typeof v === 'string') {
    const problem = goYamlCharProblem(v);
    if (problem) yield { path, ...problem };
  } else if (Array.isArray(v)) for (const [i, x] of v.entries()) yield* goYamlCharProblems(x, [...path, i]);
  else if (v !== null && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) {
      const problem = goYamlCharProblem(k);
      if (problem) yield { path: [...path, k], ...problem };
      yield* goYamlCharProblems(x, [...path, k]);
    }
}

/**
 * The text Go's YAML reader takes into a string field for a scalar as promha renders it:
 * numbers as the YAML writer spells them (`.inf`, `-0`, `1e+21`), not as JavaScript does
 * (`Infinity`, `0`).
 */
export function goText(v: string | number | boolean): string {
  if (typeof v !== 'number') return String(v);
  if (Number.isNaN(v)) return '.nan';
  if (v === Infinity) return '.inf';
  if (v === -Infinity) return '-.inf';
  if (Object.is(v, -0)) return '-0';
  return String(v);
}

/**
 * Go's net.SplitHostPort's error for `host:port`, as Alertmanager's HostPort fields
 * (smtp_smarthost, smarthost) say it; undefined when it takes the value.
 */
export function goHostPortProblem(hostport: string): string | undefined {
  const fail = (why: string) => `address ${hostport}: ${why}`;
  const i = hostport.lastIndexOf(':');
  if (i < 0) return fail('missing port in address');
  let j = 0;
  let k = 0;
  if (hostport.startsWith('[')) {
    const end = hostport.indexOf(']');
    if (end < 0) return fail("missing ']' in address");
    if (end + 1 === hostport.length) return fail('missing port in address');
    if (end + 1 !== i) return fail(hostport[end + 1] === ':' ? 'too many colons in address' : 'missing port in address');
    j = 1;
    k = end + 1;
  } else if (hostport.slice(0, i).includes(':')) return fail('too many colons in address');
  if (hostport.slice(j).includes('[')) return fail("unexpected '[' in address");
  if (hostport.slice(k).includes(']')) return fail("unexpected ']' in address");
  if (hostport.slice(i + 1) === '') return `address ${goQuote(hostport)}: port cannot be empty`;
  return undefined;
}

/**
 * The YAML tag and the value Go's YAML reader shows for a value as promha renders it:
 * `!!str \`x\``, cut as Go cuts it (`pushgat...`).
 */
export function goShown(v: unknown): string {
  if (Array.isArray(v)) return '!!seq';
  if (v !== null && typeof v === 'object') return '!!map';
  const tag = v === null ? '!!null' : typeof v === 'boolean' ? '!!bool' : typeof v === 'number' ? (Number.isInteger(v) ? '!!int' : '!!float') : '!!str';
  const text = typeof v === 'number' ? goText(v) : String(v);
  return `${tag} \`${text.length > 10 ? `${text.slice(0, 7)}...` : text}\``;
}

/** Strings the topology holds that promha renders plain and Go's YAML 1.1 reader takes as booleans. */
export const YAML11_BOOLS = new Set(['y', 'Y', 'yes', 'Yes', 'YES', 'n', 'N', 'no', 'No', 'NO', 'on', 'On', 'ON', 'off', 'Off', 'OFF']);
