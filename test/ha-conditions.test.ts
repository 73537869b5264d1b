import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Duration } from '../src/duration.ts';
import { haParameters } from '../src/commands/test-rules.ts';
import { haVariants, pushedSeriesMatcher, type HaParameters, type TestGroup } from '../src/rules/ha-conditions.ts';
import { countSteps, expandValues, formatValues, MAX_STEPS } from '../src/rules/series-values.ts';
import { parseTopology } from '../src/topology/load.ts';
import { seedTopology } from '../src/topology/seed.ts';

describe('series values notation', () => {
  const cases: Array<[string, string]> = [
    ['1 2 3', '1 2 3'],
    ['0x3', '0 0 0 0'],
    ['1+2x3', '1 3 5 7'],
    ['-1-1x2', '-1 -2 -3'],
    ['1e+3 .5 +2', '1000 0.5 2'],
    ['_ _x3 stale 4', '_ _ _ _ stale 4'],
    ['Inf -Inf NaN', 'Inf -Inf NaN'],
    ['  1   2 ', '1 2'],
  ];
  for (const [written, explicit] of cases) it(`${written} → ${explicit}`, () => assert.equal(formatValues(expandValues(written) as never), explicit));
  it('adds the step one at a time, as promtool does', () => assert.deepEqual(expandValues('0.1+0.1x2'), [0.1, 0.2, 0.30000000000000004]));
  it('refuses native histograms, unknown terms and huge expansions with the reason', () => {
    assert.match(String(expandValues('{{schema:0 sum:1 count:1}}')), /native histogram/);
    assert.match(String(expandValues('1 two 3')), /"two" is not a term/);
    assert.match(String(expandValues(`1x${MAX_STEPS}`)), /more than/);
  });
});

describe('countSteps: the samples promtool makes of a values string, counted without making them', () => {
  const cases: Array<[string, number]> = [
    ['1 2 3', 3],
    ['0x3', 4],
    ['1+2x3 -1-1x2', 7],
    ['_ _x3 stale', 5],
    ['{{schema:0 sum:1 count:1 buckets:[1 2 1]}}', 1],
    ['{{schema:0 sum:1}}x5 1', 7],
    ['{{count:1}}+{{count:2}}x3', 4],
    ['1x999999999999999999999', 1e21],
    ['1 two', 2],
    ['', 0],
  ];
  for (const [values, want] of cases) it(`${JSON.stringify(values)}: ${want}`, () => assert.equal(countSteps(values), want));
  it('agrees with the expansion wherever promha expands', () => {
    for (const v of ['1 2 3', '0x3', '1+2x3 -1-1x2', '_ _x3 stale']) assert.equal(countSteps(v), (expandValues(v) as unknown[]).length);
  });
});

const scraped = { series: 'up{job="node"}', values: '1x3' };
const pushed = { series: 'last_success{job="batch"}', values: '5+1x3' };
const params: HaParameters = { pushed: (s) => s.includes('batch'), pushGap: Duration.seconds(90) };
const steps = (g: TestGroup | { skipped: string }, i: number): string => ('skipped' in g ? String(g.skipped) : (g.input_series?.[i]?.values ?? ''));

describe('HA conditions of a test group', () => {
  const group: TestGroup = { interval: '1m', input_series: [scraped, pushed], alert_rule_test: [{ eval_time: '2m' }, { eval_time: '3m' }] };
  const variants = haVariants(group, undefined, params);

  it('lists merged copies, a scraper lost at half the last eval_time, and a push gap before each eval_time', () =>
    assert.deepEqual(
      variants.map((v) => v.condition.title),
      ['merged scraper copies', 'a scraper member lost at 1m30s', 'a push gap of 1m30s ending at 2m', 'a push gap of 1m30s ending at 3m'],
    ));

  it('merged copies: half the interval, every scraped sample twice, a pushed series once', () => {
    const [m] = variants;
    assert.ok(m && !('skipped' in m.group));
    assert.equal(m.group.interval, '30s');
    assert.equal(steps(m.group, 0), '1 1 1 1 1 1 1 1');
    assert.equal(steps(m.group, 1), '5 _ 6 _ 7 _ 8 _');
    assert.deepEqual(m.group.alert_rule_test, group.alert_rule_test, 'the tests themselves are unchanged');
  });

  it('a scraper lost: the second copy ends at the first step from the loss on', () => assert.equal(steps(variants[1]!.group, 0), '1 1 1 1 1 _ 1 _'));

  it('a push gap: the pushed series stale at the gap start and absent to its end; scraped ones untouched', () => {
    assert.equal(steps(variants[2]!.group, 1), '5 stale _ 8');
    assert.equal(steps(variants[2]!.group, 0), '1 1 1 1');
    assert.equal(steps(variants[3]!.group, 1), '5 6 stale _');
  });

  it('uses the file evaluation_interval when the group has no interval, and skips what it cannot transform', () => {
    const odd = haVariants({ input_series: [scraped], alert_rule_test: [{ eval_time: '1m' }] }, '1ms', params);
    assert.match(steps(odd[0]!.group, 0), /cannot be halved/);
    const hist = haVariants({ interval: '1m', input_series: [{ series: 'h', values: '{{count:1}}' }] }, undefined, params);
    assert.match(steps(hist[0]!.group, 0), /native histogram/);
    assert.equal(hist.length, 2, 'no push gap without pushed series');
  });
});

describe('a condition that cannot be made is listed with the reason, never left out', () => {
  const tests = { alert_rule_test: [{ eval_time: '2m' }, { eval_time: '3m' }] };
  const allTitles = ['merged scraper copies', 'a scraper member lost at 1m30s', 'a push gap of 1m30s ending at 2m', 'a push gap of 1m30s ending at 3m'];
  const cases: Array<[name: string, group: TestGroup, evaluationInterval: string | undefined, reason: RegExp]> = [
    ['a native histogram among the series', { interval: '1m', input_series: [scraped, pushed, { series: 'h{job="node"}', values: '{{count:1}}x3' }], ...tests }, undefined, /^h\{job="node"\}: native histogram samples/],
    ['more samples in all than promha rewrites', { interval: '1m', input_series: [pushed, { series: 'up', values: `1x${MAX_STEPS / 2}` }, { series: 'up2', values: `1x${MAX_STEPS / 2}` }], ...tests }, undefined, /more than 1000000 samples in all/],
    ['an interval that is no duration', { interval: 'soon', input_series: [scraped, pushed], ...tests }, undefined, /the interval "soon" is no duration/],
  ];
  for (const [name, group, evaluationInterval, reason] of cases)
    it(name, () => {
      const variants = haVariants(group, evaluationInterval, params);
      assert.deepEqual(
        variants.map((v) => v.condition.title),
        allTitles,
        'the push gaps too: which series are pushed is known without their samples',
      );
      for (const v of variants) assert.match(steps(v.group, 0), reason);
    });
});

describe('which input series are pushed', () => {
  const pushedBy = pushedSeriesMatcher([{ name: 'batch-backup', metrics: ['backup_last_success_timestamp_seconds', 'report_.*'] }]);
  const cases: Array<[string, boolean]> = [
    ['backup_last_success_timestamp_seconds{job="batch-backup"}', true],
    ['anything{job="batch-backup", instance="x"}', true],
    ['backup_last_success_timestamp_seconds{job="node"}', false],
    ['backup_last_success_timestamp_seconds', true],
    ['report_done', true],
    ['up{instance="a"}', false],
    ['not a series {', false],
  ];
  for (const [series, expected] of cases) it(`${series}: ${expected ? 'pushed' : 'scraped'}`, () => assert.equal(pushedBy(series), expected));

  it("the seed's gap: push 30s + gateway scrape 30s + VIP failover 4 × advert_int 1s", () => {
    const t = parseTopology('promha.yaml', seedTopology('promha.schema.json'));
    const p = haParameters(t.spec);
    assert.equal(String(p.pushGap), '1m4s');
    assert.equal(p.pushed('backup_last_success_timestamp_seconds{job="batch-backup"}'), true);
  });
});
