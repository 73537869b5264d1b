/**
 * A small parser of the Prometheus text exposition format (0.0.4): enough for
 * the /metrics of Prometheus, Alertmanager and the Pushgateway.
 *
 * Every sample line becomes one Sample; histogram and summary series stay as
 * their `_bucket`, `_sum`, `_count` and quantile lines. `# HELP`, `# TYPE` and
 * other comments are skipped.
 */

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** NaN, +Inf and -Inf included. */
  readonly value: number;
  /** Milliseconds since the epoch, when the line has one. */
  readonly timestamp?: number;
}

/** A line that is not in the text format. */
export class MetricsParseError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'MetricsParseError';
  }
}

const NAME = /[a-zA-Z_:][a-zA-Z0-9_:]*/y;
const LABEL_NAME = /[a-zA-Z_][a-zA-Z0-9_]*/y;

/** Go's strconv.ParseFloat, as far as exporters use it. */
function parseValue(token: string): number | undefined {
  if (/^[+-]?inf(inity)?$/i.test(token)) return token.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(token)) return NaN;
  if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(token)) return Number(token);
  return undefined;
}

class LineReader {
  pos = 0;
  constructor(
    readonly text: string,
    readonly lineNo: number,
  ) {}

  fail(message: string): never {
    throw new MetricsParseError(`${message} at column ${this.pos + 1}: ${this.text.slice(0, 120)}`, this.lineNo);
  }

  skipSpace(): void {
    while (this.pos < this.text.length && (this.text[this.pos] === ' ' || this.text[this.pos] === '\t')) this.pos++;
  }

  match(re: RegExp): string | undefined {
    re.lastIndex = this.pos;
    const m = re.exec(this.text);
    if (!m) return undefined;
    this.pos += m[0].length;
    return m[0];
  }

  peek(): string | undefined {
    return this.text[this.pos];
  }

  quoted(): string {
    if (this.text[this.pos] !== '"') this.fail('expected "');
    this.pos++;
    let out = '';
    while (this.pos < this.text.length) {
      const c = this.text[this.pos++];
      if (c === '"') return out;
      if (c === '\\') {
        const e = this.text[this.pos++];
        if (e === 'n') out += '\n';
        else if (e === '\\') out += '\\';
        else if (e === '"') out += '"';
        else this.fail(`invalid escape \\${e ?? ''}`);
      } else {
        out += c;
      }
    }
    return this.fail('unterminated label value');
  }

  token(): string {
    const start = this.pos;
    while (this.pos < this.text.length && this.text[this.pos] !== ' ' && this.text[this.pos] !== '\t') this.pos++;
    return this.text.slice(start, this.pos);
  }
}

function parseLine(text: string, lineNo: number): Sample {
  const r = new LineReader(text, lineNo);
  r.skipSpace();
  const name = r.match(NAME) ?? r.fail('expected a metric name');
  r.skipSpace();
  const labels: Record<string, string> = {};
  if (r.peek() === '{') {
    r.pos++;
    for (;;) {
      r.skipSpace();
      if (r.peek() === '}') break;
      const label = r.match(LABEL_NAME) ?? r.fail('expected a label name');
      r.skipSpace();
      if (r.peek() !== '=') r.fail('expected =');
      r.pos++;
      r.skipSpace();
      if (Object.hasOwn(labels, label)) r.fail(`duplicate label ${label}`);
      labels[label] = r.quoted();
      r.skipSpace();
      if (r.peek() === ',') {
        r.pos++;
        continue;
      }
      if (r.peek() !== '}') r.fail('expected , or }');
    }
    r.pos++;
    r.skipSpace();
  }
  const valueToken = r.token();
  if (valueToken === '') r.fail('expected a value');
  const value = parseValue(valueToken) ?? r.fail(`invalid value ${JSON.stringify(valueToken)}`);
  r.skipSpace();
  const tsToken = r.token();
  r.skipSpace();
  if (r.pos < text.length) r.fail('unexpected text after the timestamp');
  if (tsToken === '') return { name, labels, value };
  if (!/^-?\d+$/.test(tsToken)) r.fail(`invalid timestamp ${JSON.stringify(tsToken)}`);
  return { name, labels, value, timestamp: Number(tsToken) };
}

/** Parses a whole exposition. Throws MetricsParseError (with the line number) on a malformed line. */
export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').replace(/\r$/, '');
    const trimmed = line.trimStart();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    samples.push(parseLine(line, i + 1));
  }
  return samples;
}

/** The samples named `name` whose labels include every pair of `labels`. */
export function findSamples(samples: readonly Sample[], name: string, labels: Readonly<Record<string, string>> = {}): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** The value of the first matching sample, or undefined. */
export function sampleValue(samples: readonly Sample[], name: string, labels: Readonly<Record<string, string>> = {}): number | undefined {
  return findSamples(samples, name, labels)[0]?.value;
}
