/**
 * A Prometheus duration (`90s`, `1h30m`, `2d`), kept as whole milliseconds.
 *
 * Prometheus and Alertmanager accept the same grammar: units y, w, d, h, m, s, ms
 * in decreasing order, each at most once. `Duration.parse` accepts exactly that,
 * so a value that passes here also passes the real binaries.
 */
export class Duration {
  private static readonly UNITS: ReadonlyArray<readonly [string, number]> = [
    ['y', 365 * 24 * 3600_000],
    ['w', 7 * 24 * 3600_000],
    ['d', 24 * 3600_000],
    ['h', 3600_000],
    ['m', 60_000],
    ['s', 1000],
    ['ms', 1],
  ];
  private static readonly PATTERN =
    /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

  static readonly ZERO = new Duration(0);

  /**
   * The longest duration the real binaries accept: their durations are Go time.Duration,
   * int64 nanoseconds, so at most 2^63 - 1 ns (106751d 23h 47m 16.854s, about 292 years).
   * `promtool check config` refuses 9223372036855ms with "duration out of range".
   */
  static readonly MAX_MS = 9_223_372_036_854;

  static milliseconds(ms: number): Duration {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`invalid duration: ${ms} ms`);
    return new Duration(Math.round(ms));
  }
  static seconds(s: number): Duration {
    return Duration.milliseconds(s * 1000);
  }
  static minutes(m: number): Duration {
    return Duration.milliseconds(m * 60_000);
  }
  static hours(h: number): Duration {
    return Duration.milliseconds(h * 3600_000);
  }

  /** Returns undefined when `text` is not a Prometheus duration, or one out of its range. */
  static tryParse(text: string): Duration | undefined {
    const r = Duration.read(text);
    return typeof r === 'string' ? undefined : r;
  }

  /** Why `text` is no Prometheus duration, or undefined when it is one. */
  static problem(text: string): string | undefined {
    const r = Duration.read(text);
    return typeof r === 'string' ? r : undefined;
  }

  private static read(text: string): Duration | string {
    if (text === '0') return Duration.ZERO;
    const m = Duration.PATTERN.exec(text);
    if (!m || text === '') {
      return /^(?:\d+(?:ms|[ywdhms]))+$/.test(text)
        ? 'units must go from largest to smallest, each once (e.g. 1h30m, not 30m1h)'
        : 'not a duration: use e.g. 30s, 5m, 1h30m, 15d';
    }
    let ms = 0;
    Duration.UNITS.forEach(([, factor], i) => {
      const v = m[i + 1];
      // Number() of a 400-digit count is a huge float or Infinity: either is out of range.
      if (v !== undefined) ms += Number(v) * factor;
    });
    if (!(ms <= Duration.MAX_MS)) return `out of range: Prometheus and Alertmanager take durations of at most 106751d (about 292 years, ${Duration.MAX_MS}ms)`;
    return new Duration(ms);
  }

  static parse(text: string): Duration {
    const d = Duration.tryParse(text);
    if (!d) throw new RangeError(`not a duration: "${text}" (use e.g. 30s, 5m, 1h30m, 15d)`);
    return d;
  }

  static max(...ds: Duration[]): Duration {
    return ds.reduce((a, b) => (b.ms > a.ms ? b : a), Duration.ZERO);
  }

  private constructor(readonly ms: number) {}

  get seconds(): number {
    return this.ms / 1000;
  }
  plus(o: Duration): Duration {
    return new Duration(this.ms + o.ms);
  }
  minus(o: Duration): Duration {
    return new Duration(Math.max(0, this.ms - o.ms));
  }
  times(k: number): Duration {
    return Duration.milliseconds(this.ms * k);
  }
  /** Rounds up to a whole multiple of `unit`. */
  ceilTo(unit: Duration): Duration {
    return new Duration(Math.ceil(this.ms / unit.ms) * unit.ms);
  }
  compare(o: Duration): number {
    return this.ms - o.ms;
  }
  lt(o: Duration): boolean {
    return this.ms < o.ms;
  }
  gt(o: Duration): boolean {
    return this.ms > o.ms;
  }
  equals(o: Duration): boolean {
    return this.ms === o.ms;
  }

  /** Canonical Prometheus form, e.g. `1h30m`, `0s`. Years are never emitted (`365d` reads clearer). */
  toString(): string {
    if (this.ms === 0) return '0s';
    let rest = this.ms;
    let out = '';
    for (const [unit, factor] of Duration.UNITS) {
      if (unit === 'y') continue;
      const n = Math.floor(rest / factor);
      if (n > 0) {
        out += `${n}${unit}`;
        rest -= n * factor;
      }
    }
    return out;
  }
  toJSON(): string {
    return this.toString();
  }
}
