/*
 * File names as a message prints them. A name is bytes: it may hold a newline (which
 * made a listed name look cut off, its rest on a line of its own), control characters
 * that move the terminal's cursor, bidirectional overrides that show it reversed, or
 * bytes that are no UTF-8 (which Node decodes to U+FFFD, so the name printed is not
 * the name on disk). Such a name is printed quoted and escaped, one line, byte-exact;
 * every other name as it is, so that the common case reads plainly.
 */

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The name as text, or undefined when its bytes are no UTF-8 (promha never writes such a name). */
export function utf8Name(bytes: Buffer): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Characters that do not print as themselves: controls, format characters (bidi overrides, zero-width), line and paragraph separators. */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
/** What makes a name need quotes: an unprintable character, a quote or backslash of its own, or white space at an end (invisible in a list). */
const NEEDS_QUOTES = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}"\\]|^\s|\s$/u;

const SHORT: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '"': '\\"', '\\': '\\\\' };

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
/** `\uXXXX`, or `\u{XXXXX}` beyond the four digits (a tag character, say). */
const codePoint = (n: number) => (n > 0xffff ? `\\u{${hex(n, 5)}}` : `\\u${hex(n, 4)}`);

/**
 * A file name (or relative path) for a message: as it is when it prints as itself,
 * else in double quotes with C/JSON-style escapes: `\n`, `\t`, `\"`, `\\`, `\uXXXX` for
 * an unprintable character, and `\xNN` for each byte that is no UTF-8.
 */
export function displayName(name: string | Buffer): string {
  const text = typeof name === 'string' ? name : utf8Name(name);
  if (text !== undefined) {
    if (!NEEDS_QUOTES.test(text)) return text;
    let out = '';
    for (const ch of text) out += SHORT[ch] ?? (UNPRINTABLE.test(ch) ? codePoint(ch.codePointAt(0) as number) : ch);
    return `"${out}"`;
  }
  // Not UTF-8: printable ASCII as it is, every other byte as \xNN, so the bytes on disk can be told exactly.
  let out = '';
  for (const byte of name as Buffer) {
    const ch = String.fromCharCode(byte);
    out += SHORT[ch] ?? (byte >= 0x20 && byte < 0x7f ? ch : `\\x${hex(byte, 2)}`);
  }
  return `"${out}"`;
}
