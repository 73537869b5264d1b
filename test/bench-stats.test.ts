import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cpuCores, expectedLatency, firstAbove, fmt, latencyFloor, median, p95, quantile, table } from '../bench/stats.ts';
import { Duration } from '../src/duration.ts';

describe('bench statistics', () => {
  it('median and p95 interpolate between samples, in any order', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    const hundred = Array.from({ length: 101 }, (_, i) => 100 - i);
    assert.equal(p95(hundred), 95);
    assert.equal(quantile([5], 0.95), 5);
    assert.ok(Number.isNaN(median([])));
  });

  it('computes the latency floor and the expected latency from the intervals', () => {
    const s = Duration.seconds;
    const i = { scrape: s(1), federate: s(2), evaluate: s(1), groupWait: s(1) };
    assert.equal(latencyFloor(i), 5);
    assert.equal(expectedLatency(i), 3);
  });

  it('reads CPU as cores between two readings', () => {
    assert.equal(cpuCores({ cpuSeconds: 10, at: 0 }, { cpuSeconds: 12, at: 4000 }), 0.5);
    assert.ok(Number.isNaN(cpuCores({ cpuSeconds: 1, at: 5 }, { cpuSeconds: 2, at: 5 })));
  });

  it('finds the first step above a limit', () => {
    const steps = [{ n: 1, d: 0.1 }, { n: 2, d: 0.6 }, { n: 3, d: 0.9 }];
    assert.equal(firstAbove(steps, (x) => x.d, 0.5)?.n, 2);
    assert.equal(firstAbove(steps, (x) => x.d, 1), undefined);
  });

  it('formats values and pads a Markdown table', () => {
    assert.equal(fmt(1.234, 's'), '1.23 s');
    assert.equal(fmt(1.5, 'x'), '1.50×');
    assert.equal(fmt(1300.4, 'MiB'), '1300 MiB');
    assert.equal(fmt(undefined), '–');
    assert.equal(table(['a', 'bb'], [['xyz', '1']]), '| a   | bb |\n|-----|----|\n| xyz | 1  |');
  });
});
