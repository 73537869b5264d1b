/** zod pieces shared by the probe clients: label sets, Go timestamps, Prometheus floats. */
import * as z from 'zod';
import { parsePromFloat } from './http.ts';

/** A label set. */
export type Labels = Readonly<Record<string, string>>;

/** A label set as the servers send it. */
export const labelsSchema = z.record(z.string(), z.string());

/** Go's zero `time.Time` (`0001-01-01T00:00:00Z`): "never". */
const GO_ZERO_TIME = -62135596800000;

/** An RFC 3339 timestamp (nanoseconds allowed) → Date; Go's zero time → undefined. */
export const goTimeSchema = z.string().transform((text, ctx): Date | undefined => {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) {
    ctx.addIssue({ code: 'custom', message: `not a timestamp: ${JSON.stringify(text)}` });
    return z.NEVER;
  }
  return ms <= GO_ZERO_TIME ? undefined : new Date(ms);
});

/** Like goTimeSchema, for fields that are never the zero time. */
export const timeSchema = goTimeSchema.transform((date, ctx): Date => {
  if (date === undefined) {
    ctx.addIssue({ code: 'custom', message: 'zero timestamp' });
    return z.NEVER;
  }
  return date;
});

/** A float rendered as a string (`"1"`, `"1e+00"`, `"NaN"`, `"+Inf"`) → number. */
export const promFloatSchema = z.string().transform((text, ctx): number => {
  const value = parsePromFloat(text);
  if (value === undefined) {
    ctx.addIssue({ code: 'custom', message: `not a float: ${JSON.stringify(text)}` });
    return z.NEVER;
  }
  return value;
});

/** `[unixSeconds, "value"]`, the sample pair of the query API. */
export const samplePairSchema = z.tuple([z.number(), promFloatSchema]);
