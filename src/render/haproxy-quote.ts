/**
 * Quotes a word for haproxy.cfg (HAProxy 2.6): single quotes, in which nothing is
 * special (no `$VAR`, no `#` comment, no backslash escape), a `'` as `\'` between two
 * quoted parts, and control characters as `\xNN` outside quotes, since the file is
 * read line by line. Words of the plain grammar stay as they are.
 */
export function haproxyQuote(word: string): string {
  if (/^[A-Za-z0-9_@+=:,./-]+$/.test(word)) return word;
  let out = "'";
  for (const c of word) {
    const code = c.codePointAt(0) as number;
    if (c === "'") out += "'\\''";
    else if (code < 0x20 || code === 0x7f) out += `'\\x${code.toString(16).padStart(2, '0')}'`;
    else out += c;
  }
  return `${out}'`;
}
