import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { check } from '../src/check/check.ts';
import { loadTopology } from '../src/topology/load.ts';
import { fastTopology, tempProject } from './helpers.ts';

/*
 * Rule files in the style of the public collections people start from (a well-known
 * collection of alerting rules, kube-prometheus), checked as a user would check them:
 * with the default for-grace-period and a retention of one day. `promtool check rules`
 * accepts every file.
 */
const CORPUS = path.join(import.meta.dirname, 'fixtures', 'corpus');

describe('check on real-world rule files', () => {
  it('finds no false errors, and one summary or precise warning per real problem', async () => {
    const files: Record<string, string> = {};
    for (const f of await readdir(CORPUS)) files[`rules/${f}`] = await readFile(path.join(CORPUS, f), 'utf8');
    const { for_grace_period: _, ...federators } = fastTopology()['federators'] as Record<string, unknown>;
    const project = await tempProject({ 'promha.yaml': fastTopology({ federators: { ...federators, storage: { retention: '1d' } } }), ...files });
    try {
      const findings = check(await loadTopology(path.join(project.dir, 'promha.yaml')));
      assert.deepEqual(findings.filter((f) => f.severity === 'error'), [], 'no errors: `for: 7d` needs no retention, kubernetes_build_info{job!~…} reads no pushed job, the pushed alerts keep firing');
      const ours = findings.filter((f) => /^PH(4|6)/.test(f.code)).sort((a, b) => a.code.localeCompare(b.code));
      assert.deepEqual(
        ours.map((f) => f.code),
        ['PH602', 'PH603', 'PH604'],
      );
      const [grace, up, changes] = ours;
      assert.match(grace?.message ?? '', /^5 alerts have a `for:` shorter than the federators' for-grace-period \(10m, Prometheus' default\): ExporterAbsent \(for: 5m, .*, and 2 more\./);
      assert.match(grace?.hint ?? '', /^set federators.for_grace_period to 2m /);
      assert.match(up?.message ?? '', /^alert PrometheusTargetMissing reads the merged `up`/);
      assert.match(changes?.message ?? '', /^alert PrometheusTooManyRestarts: changes\(process_start_time_seconds\{job=~"prometheus\|pushgateway\|alertmanager"\}\[…\]\)/);
    } finally {
      await project.cleanup();
    }
  });
});
