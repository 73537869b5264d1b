/*
 * Grammars of the values that reach install.sh, systemd units, keepalived.conf and
 * haproxy.cfg as they are: paths on the hosts and the VIP's interface. keepalived.conf
 * has no quoting that survives a space or a newline, so these are refused, not quoted.
 */

/** Longest host path accepted: far below PATH_MAX, long enough for any real layout. */
export const MAX_HOST_PATH = 200;

const PATH_CHARS = /^[A-Za-z0-9._+@/-]+$/;

/**
 * Why `p` is no absolute, normalised host path, or undefined. Absolute because the
 * unit and install.sh would resolve a relative path against different directories;
 * normalised (no `.`, `..`, `//` or trailing `/`) so that it cannot escape DESTDIR
 * and two spellings never name one directory.
 */
export function hostPathProblem(p: string): string | undefined {
  const shown = JSON.stringify(p);
  if (p === '') return 'is empty';
  if (!p.startsWith('/')) return `${shown} is not an absolute path`;
  if (p.length > MAX_HOST_PATH) return `${shown} is longer than ${MAX_HOST_PATH} characters`;
  if (!PATH_CHARS.test(p)) return `${shown} holds characters other than letters, digits, "/", ".", "_", "+", "@" and "-" (spaces, quotes, "$" and newlines would reach shell scripts and configs)`;
  if (p === '/') return undefined;
  if (p.endsWith('/')) return `${shown} ends with "/"`;
  const segments = p.slice(1).split('/');
  if (segments.some((s) => s === '')) return `${shown} holds "//"`;
  if (segments.some((s) => s === '.' || s === '..')) return `${shown} holds a "." or ".." component`;
  return undefined;
}

/**
 * Why `name` is no network interface name keepalived can be given, or undefined. Linux
 * (dev_valid_name) takes 1-15 bytes other than "/", ":" and whitespace, and not "." or
 * ".."; this grammar is stricter: letters, digits and `_ . - @`.
 */
export function interfaceNameProblem(name: string): string | undefined {
  const shown = JSON.stringify(name);
  if (name === '') return 'is empty';
  if (!/^[A-Za-z0-9_.@-]+$/.test(name)) return `${shown} is not an interface name: use letters, digits, "_", ".", "-" and "@" only (no spaces, no newlines)`;
  if (name.length > 15) return `${shown} is longer than 15 characters, the Linux limit for an interface name`;
  if (name === '.' || name === '..') return `${shown} is not an interface name`;
  return undefined;
}
