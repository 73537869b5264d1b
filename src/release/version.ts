/**
 * Upstream version numbers of the Prometheus-project binaries (`3.5.3`, `0.33.1`), as
 * compared by what they can do: every behaviour promha depends on is keyed by the version
 * that introduced it (capabilities.ts), never by a Debian codename or revision.
 */
export interface Version {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
}

/** `3.5.3`, `3.5` or `v0.33.1`; undefined when it is none of those. */
export function parseVersion(text: string): Version | undefined {
  const m = /^v?(\d{1,6})\.(\d{1,6})(?:\.(\d{1,6}))?$/.exec(text);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0) };
}

/** Negative, zero or positive as `a` is older than, the same as or newer than `b`; only major and minor when `b` has no patch. */
export function compareVersions(a: string, b: string): number {
  const x = parseVersion(a);
  const y = parseVersion(b);
  if (!x || !y) throw new Error(`not a version: ${x ? b : a}`);
  const withPatch = /^v?\d+\.\d+\.\d+$/.test(b);
  return x.major - y.major || x.minor - y.minor || (withPatch ? x.patch - y.patch : 0);
}

/** True when `version` is `since` or newer (`3.14.0` is at least `3.5`). */
export function atLeast(version: string, since: string): boolean {
  return compareVersions(version, since) >= 0;
}

/** The `major.minor` line of a version: `3.14.0` → `3.14`. */
export function lineOf(version: string): string {
  const v = parseVersion(version);
  if (!v) throw new Error(`not a version: ${version}`);
  return `${v.major}.${v.minor}`;
}
