import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { samplesMissing } from '../src/drills/scenarios/federator-killed.ts';

describe('federator-killed: samples held before the kill are all still there after the restart', () => {
  const cases: Array<[name: string, before: number[], after: number[], missing: number[]]> = [
    ['the same samples', [1.0, 2.0, 3.0], [1.0, 2.0, 3.0], []],
    // Stamped inside the window but written after the first query: late federation, the other copy out of order.
    ['more samples at the same instants and between them', [1.0, 2.0, 3.0], [1.0, 1.5, 2.0, 2.5, 3.0, 3.4], []],
    ['one sample lost, though the count is higher', [1.0, 2.0, 3.0], [1.0, 1.5, 2.5, 3.0], [2.0]],
    ['every sample lost', [1.0, 2.0], [], [1.0, 2.0]],
    ['millisecond timestamps compared exactly', [1700000000.123, 1700000001.123], [1700000000.123, 1700000001.124], [1700000001.123]],
  ];
  for (const [name, before, after, missing] of cases)
    it(name, () => {
      assert.deepEqual(samplesMissing(before, after), missing);
    });
});
