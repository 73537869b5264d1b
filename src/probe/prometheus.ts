/**
 * A typed client of the Prometheus 2.42 HTTP API: the parts `promha up`,
 * `status`, `doctor` and the drills read.
 */
import * as z from 'zod';
import { ComponentClient, getText, isOk, ProbeError, promApi } from './http.ts';
import type { Labels } from './schema-util.ts';
import { goTimeSchema, labelsSchema, promFloatSchema, samplePairSchema } from './schema-util.ts';


export type TargetHealth = 'up' | 'down' | 'unknown';

export interface ActiveTarget {
  readonly scrapePool: string;
  readonly scrapeUrl: string;
  /** The scrape URL with the machine's hostname instead of `localhost` (2.42 has it; '' if absent). */
  readonly globalUrl: string;
  readonly health: TargetHealth;
  /** Target labels after relabelling (`job`, `instance`, …). */
  readonly labels: Labels;
  /** Labels from service discovery, before relabelling (`__address__`, …). */
  readonly discoveredLabels: Labels;
  /** '' when the last scrape succeeded. */
  readonly lastError: string;
  /** undefined before the first scrape (the API then says `0001-01-01T00:00:00Z`). */
  readonly lastScrape: Date | undefined;
  /** Seconds. */
  readonly lastScrapeDuration: number;
  /** A Prometheus duration as configured, e.g. `1s`. */
  readonly scrapeInterval: string;
  readonly scrapeTimeout: string;
}

export interface VectorSample {
  readonly metric: Labels;
  readonly value: number;
  /** Unix time in seconds (fractional). */
  readonly timestamp: number;
}

export interface SamplePoint {
  /** Unix time in seconds (fractional). */
  readonly timestamp: number;
  readonly value: number;
}

export interface MatrixSeries {
  readonly metric: Labels;
  readonly values: readonly SamplePoint[];
}

export type AlertState = 'firing' | 'pending' | 'inactive';

/** An alert as Prometheus holds it (`/api/v1/alerts`, and in each alerting rule). */
export interface PromAlert {
  readonly labels: Labels;
  readonly annotations: Labels;
  readonly state: AlertState;
  readonly activeAt: Date | undefined;
  /** The value of the expression when the alert last fired (NaN if unknown). */
  readonly value: number;
  /** Set while the alert fires only because of `keep_firing_for`. */
  readonly keepFiringSince: Date | undefined;
}

export type RuleHealth = 'ok' | 'err' | 'unknown';

interface RuleCommon {
  readonly name: string;
  readonly query: string;
  readonly labels: Labels;
  readonly health: RuleHealth;
  /** '' when the last evaluation succeeded. */
  readonly lastError: string;
  /** Seconds. */
  readonly evaluationTime: number;
  readonly lastEvaluation: Date | undefined;
}

export interface AlertingRule extends RuleCommon {
  readonly type: 'alerting';
  readonly state: AlertState;
  /** `for`, in seconds. */
  readonly duration: number;
  /** `keep_firing_for`, in seconds (0 when unset). */
  readonly keepFiringFor: number;
  readonly annotations: Labels;
  readonly alerts: readonly PromAlert[];
}

export interface RecordingRule extends RuleCommon {
  readonly type: 'recording';
}

export type Rule = AlertingRule | RecordingRule;

export interface RuleGroup {
  readonly name: string;
  readonly file: string;
  /** Evaluation interval, seconds. */
  readonly interval: number;
  readonly limit: number;
  readonly evaluationTime: number;
  readonly lastEvaluation: Date | undefined;
  readonly rules: readonly Rule[];
}

export interface AlertmanagerTargets {
  /** Alert push URLs, e.g. `http://127.0.0.1:9093/api/v2/alerts`. */
  readonly active: readonly string[];
  readonly dropped: readonly string[];
}

export interface PrometheusBuildInfo {
  readonly version: string;
  readonly revision: string;
  readonly branch: string;
  readonly buildUser: string;
  readonly buildDate: string;
  readonly goVersion: string;
}

// ---------- wire schemas ----------

const targetSchema = z.object({
  scrapePool: z.string(),
  scrapeUrl: z.string(),
  globalUrl: z.string().optional(),
  health: z.enum(['up', 'down', 'unknown']),
  labels: labelsSchema,
  discoveredLabels: labelsSchema,
  lastError: z.string().default(''),
  lastScrape: goTimeSchema,
  lastScrapeDuration: z.number(),
  scrapeInterval: z.string().default(''),
  scrapeTimeout: z.string().default(''),
});

const targetsSchema = z.object({ activeTargets: z.array(targetSchema) });

const vectorSchema = z.object({
  resultType: z.literal('vector'),
  result: z.array(z.object({ metric: labelsSchema, value: samplePairSchema })),
});
const scalarSchema = z.object({ resultType: z.literal('scalar'), result: samplePairSchema });
const matrixSchema = z.object({
  resultType: z.literal('matrix'),
  result: z.array(z.object({ metric: labelsSchema, values: z.array(samplePairSchema) })),
});
const stringResultSchema = z.object({ resultType: z.literal('string'), result: z.tuple([z.number(), z.string()]) });
const querySchema = z.discriminatedUnion('resultType', [vectorSchema, scalarSchema, matrixSchema, stringResultSchema]);

const alertSchema = z.object({
  labels: labelsSchema,
  annotations: labelsSchema.default({}),
  state: z.enum(['firing', 'pending', 'inactive']),
  activeAt: goTimeSchema.optional(),
  value: promFloatSchema.optional(),
  keepFiringSince: goTimeSchema.optional(),
});

const ruleCommon = {
  name: z.string(),
  query: z.string(),
  labels: labelsSchema.default({}),
  health: z.enum(['ok', 'err', 'unknown']),
  lastError: z.string().default(''),
  evaluationTime: z.number().default(0),
  lastEvaluation: goTimeSchema.optional(),
};

const ruleSchema = z.discriminatedUnion('type', [
  z.object({
    ...ruleCommon,
    type: z.literal('alerting'),
    state: z.enum(['firing', 'pending', 'inactive']),
    duration: z.number().default(0),
    keepFiringFor: z.number().default(0),
    annotations: labelsSchema.default({}),
    alerts: z.array(alertSchema).default([]),
  }),
  z.object({ ...ruleCommon, type: z.literal('recording') }),
]);

const rulesSchema = z.object({
  groups: z.array(
    z.object({
      name: z.string(),
      file: z.string(),
      interval: z.number(),
      limit: z.number().default(0),
      evaluationTime: z.number().default(0),
      lastEvaluation: goTimeSchema.optional(),
      rules: z.array(ruleSchema),
    }),
  ),
});

const alertsSchema = z.object({ alerts: z.array(alertSchema) });

const alertmanagersSchema = z.object({
  activeAlertmanagers: z.array(z.object({ url: z.string() })),
  droppedAlertmanagers: z.array(z.object({ url: z.string() })).default([]),
});

const flagsSchema = labelsSchema;
const configSchema = z.object({ yaml: z.string() });
const buildInfoSchema = z.object({
  version: z.string(),
  revision: z.string().default(''),
  branch: z.string().default(''),
  buildUser: z.string().default(''),
  buildDate: z.string().default(''),
  goVersion: z.string().default(''),
});

function toAlert(a: z.output<typeof alertSchema>): PromAlert {
  return {
    labels: a.labels,
    annotations: a.annotations,
    state: a.state,
    activeAt: a.activeAt,
    value: a.value ?? NaN,
    keepFiringSince: a.keepFiringSince,
  };
}

function toRule(r: z.output<typeof ruleSchema>): Rule {
  const common = {
    name: r.name,
    query: r.query,
    labels: r.labels,
    health: r.health,
    lastError: r.lastError,
    evaluationTime: r.evaluationTime,
    lastEvaluation: r.lastEvaluation,
  };
  if (r.type === 'recording') return { ...common, type: 'recording' };
  return {
    ...common,
    type: 'alerting',
    state: r.state,
    duration: r.duration,
    keepFiringFor: r.keepFiringFor,
    annotations: r.annotations,
    alerts: r.alerts.map(toAlert),
  };
}

/** Time as a query parameter: a Date or Unix seconds. */
export type PromTime = Date | number;

function timeParam(t: PromTime): string {
  return String(t instanceof Date ? t.getTime() / 1000 : t);
}

const toSeries = (r: { metric: Labels; values: Array<[number, number]> }): MatrixSeries => ({
  metric: r.metric,
  values: r.values.map(([timestamp, value]) => ({ timestamp, value })),
});

export class PrometheusClient extends ComponentClient {

  private api(path: string, params: Record<string, string> = {}): string {
    const query = new URLSearchParams(params).toString();
    return this.url(`/api/v1/${path}${query ? `?${query}` : ''}`);
  }

  /** GET /-/healthy answers 200 (the process serves HTTP, maybe not yet ready). */
  healthy(): Promise<boolean> {
    return isOk(this.url('/-/healthy'), this.options);
  }

  /**
   * Active scrape targets. Right after start the list is empty for a few seconds:
   * service discovery hands targets over on a 5 s tick, even static ones.
   */
  async targets(): Promise<ActiveTarget[]> {
    const data = await promApi(this.api('targets', { state: 'active' }), { ...this.options, schema: targetsSchema });
    return data.activeTargets.map((t) => ({ ...t, globalUrl: t.globalUrl ?? '' }));
  }

  /**
   * Instant query. A vector gives one sample per series; a scalar gives one
   * sample with empty `metric`. A matrix (`up[1m]`) or string result is a ProbeError.
   */
  async query(expr: string, time?: PromTime): Promise<VectorSample[]> {
    const url = this.api('query', time === undefined ? { query: expr } : { query: expr, time: timeParam(time) });
    const data = await promApi(url, { ...this.options, schema: querySchema });
    switch (data.resultType) {
      case 'vector':
        return data.result.map((r) => ({ metric: r.metric, timestamp: r.value[0], value: r.value[1] }));
      case 'scalar':
        return [{ metric: {}, timestamp: data.result[0], value: data.result[1] }];
      default:
        throw new ProbeError(`${url}: the query returned a ${data.resultType}, not an instant vector or scalar`, { url });
    }
  }

  /**
   * Raw samples of a selector over the `seconds` before `time` (default now), as stored:
   * no step, no lookback. `up{job="x"}` gives one series per matching series.
   */
  async rawSamples(selector: string, seconds: number, time?: PromTime): Promise<MatrixSeries[]> {
    const expr = `${selector}[${Math.max(1, Math.ceil(seconds))}s]`;
    const url = this.api('query', time === undefined ? { query: expr } : { query: expr, time: timeParam(time) });
    const data = await promApi(url, { ...this.options, schema: querySchema });
    if (data.resultType !== 'matrix') throw new ProbeError(`${url}: a range selector returned a ${data.resultType}`, { url });
    return data.result.map(toSeries);
  }

  /** Range query; `start` and `end` as Date or Unix seconds. Scalars come back as one series with empty `metric`. */
  async queryRange(expr: string, start: PromTime, end: PromTime, stepSeconds: number): Promise<MatrixSeries[]> {
    const url = this.api('query_range', { query: expr, start: timeParam(start), end: timeParam(end), step: String(stepSeconds) });
    const data = await promApi(url, { ...this.options, schema: querySchema });
    if (data.resultType !== 'matrix') {
      throw new ProbeError(`${url}: a range query returned a ${data.resultType}`, { url });
    }
    return data.result.map(toSeries);
  }

  /**
   * The Alertmanagers this server sends alerts to, as alert push URLs. Empty
   * for the first few seconds after start, like `targets()`.
   */
  async alertmanagers(): Promise<AlertmanagerTargets> {
    const data = await promApi(this.api('alertmanagers'), { ...this.options, schema: alertmanagersSchema });
    return { active: data.activeAlertmanagers.map((a) => a.url), dropped: data.droppedAlertmanagers.map((a) => a.url) };
  }

  /** Command-line flags, without the leading `--`: `{'storage.tsdb.path': '…', …}`. Every flag is listed, defaults too. */
  flags(): Promise<Record<string, string>> {
    return promApi(this.api('status/flags'), { ...this.options, schema: flagsSchema });
  }

  /** The loaded configuration as YAML, with every default filled in. */
  async config(): Promise<string> {
    return (await promApi(this.api('status/config'), { ...this.options, schema: configSchema })).yaml;
  }

  async buildInfo(): Promise<PrometheusBuildInfo> {
    return promApi(this.api('status/buildinfo'), { ...this.options, schema: buildInfoSchema });
  }

  async rules(): Promise<RuleGroup[]> {
    const data = await promApi(this.api('rules'), { ...this.options, schema: rulesSchema });
    return data.groups.map((g) => ({
      name: g.name,
      file: g.file,
      interval: g.interval,
      limit: g.limit,
      evaluationTime: g.evaluationTime,
      lastEvaluation: g.lastEvaluation,
      rules: g.rules.map(toRule),
    }));
  }

  /** Pending and firing alerts of every alerting rule. */
  async alerts(): Promise<PromAlert[]> {
    const data = await promApi(this.api('alerts'), { ...this.options, schema: alertsSchema });
    return data.alerts.map(toAlert);
  }

  /** This server's own /metrics, as text (see `parseMetrics`). */
  metrics(): Promise<string> {
    return getText(this.url('/metrics'), this.options);
  }
}
