import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fastTopology, promha, tempProject } from './helpers.ts';

interface JsonFinding {
  readonly code: string;
  readonly severity: string;
  readonly message: string;
  readonly hint: string;
  readonly location: { file: string; line: number; column: number };
}

/** Findings of `promha check --json` for the test topology with one rule file. */
async function findings(topology: Record<string, unknown>, rules: string): Promise<{ exitCode: number; findings: JsonFinding[] }> {
  const project = await tempProject({ 'promha.yaml': topology, 'rules/r.yml': rules });
  try {
    const r = await promha(['check', '--json'], project.dir);
    return { exitCode: r.exitCode ?? -1, findings: (JSON.parse(r.stdout) as { findings: JsonFinding[] }).findings };
  } finally {
    await project.cleanup();
  }
}

const alert = (forValue: string) => `groups:\n  - name: g\n    rules:\n      - alert: Slow\n        expr: demo_value > 0\n        for: ${forValue}\n`;

describe('PH602 for-restore: a restarted federator restores `for:` state only past the grace period', () => {
  const withGrace = (grace: string | undefined) => {
    const { for_grace_period: _, ...federators } = fastTopology()['federators'] as Record<string, unknown>;
    return fastTopology({ federators: grace === undefined ? federators : { ...federators, for_grace_period: grace } });
  };
  const cases: Array<[string, Record<string, unknown>, string, RegExp | undefined]> = [
    ['for shorter than the default 10m', withGrace(undefined), '5m', /alert Slow has `for: 5m`, shorter than the federators' for-grace-period \(10m, Prometheus' default\)/],
    ['for shorter than a configured grace period', withGrace('2m'), '1m', /shorter than the federators' for-grace-period \(2m\): a restarted federator/],
    ['for equal to the grace period', withGrace('5m'), '5m', undefined],
    ['for: 0s (nothing to restore)', withGrace(undefined), '0s', undefined],
  ];
  for (const [name, topology, forValue, expected] of cases)
    it(name, async () => {
      const r = await findings(topology, alert(forValue));
      const f = r.findings.filter((x) => x.code === 'PH602');
      assert.equal(r.exitCode, 0, 'a warning does not fail the check');
      if (!expected) return assert.deepEqual(f, []);
      assert.equal(f.length, 1);
      assert.equal(f[0]?.severity, 'warning');
      assert.match(f[0]?.message ?? '', expected);
      assert.match(f[0]?.hint ?? '', new RegExp(`set federators.for_grace_period to ${forValue} or less`));
      assert.deepEqual([f[0]?.location.file, f[0]?.location.line], ['rules/r.yml', 4]);
    });
});
