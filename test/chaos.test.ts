// `promha drill chaos` on real stacks: a seeded, bounded 10-minute campaign per network
// mode, the HA promises judged throughout, doctor passing after every fault healed.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { campaignSchedule, chaosMembers, type CampaignReport } from '../src/chaos/campaign.ts';
import { formatCampaign } from '../src/chaos/report.ts';
import { parseTopology } from '../src/topology/load.ts';
import type { ReleaseName } from '../src/release/release.ts';
import { FAST_RULES, fastTopology, laneUpArgs, promha, stackSkip, tempProject } from './helpers.ts';

/** The campaign's length: what CI affords per lane; `PROMHA_CHAOS_MINUTES` lengthens it by hand. */
const MINUTES = Number(process.env['PROMHA_CHAOS_MINUTES'] ?? '10');

const LANES: ReadonlyArray<{ lane: 'loopback' | 'netns'; release: ReleaseName; seed: number }> = [
  { lane: 'loopback', release: 'sid', seed: 1701 },
  { lane: 'netns', release: 'bookworm', seed: 1702 },
];

for (const { lane, release, seed } of LANES)
  describe(`promha drill chaos: a ${MINUTES}-minute campaign (${lane}, ${release})`, { skip: stackSkip(lane) }, () => {
    let project: Awaited<ReturnType<typeof tempProject>>;
    let stateDir: string;
    const run = (...args: string[]) => promha([...args, '--state-dir', stateDir], project.dir, (MINUTES + 10) * 60_000);

    before(async () => {
      project = await tempProject({ 'promha.yaml': fastTopology(), 'rules/demo.yml': FAST_RULES });
      stateDir = path.join(project.dir, '.promha');
      const up = await run('up', '--network', lane, '--detach', '--release', release, ...laneUpArgs(lane));
      assert.equal(up.exitCode, 0, up.stdout + up.stderr);
    });
    after(async () => {
      await run('down');
      await project.cleanup();
    });

    it('injects the seed’s schedule under a steady alert load: no episode missed, no push lost, no sample gap; doctor passes after', { timeout: (MINUTES + 15) * 60_000 }, async (t) => {
      const r = await run('drill', 'chaos', '-f', 'promha.yaml', '--duration', `${MINUTES}m`, '--seed', String(seed), '--json');
      const report = JSON.parse(r.stdout) as CampaignReport;
      t.diagnostic(formatCampaign(report));
      // The schedule is the seed's: the same members, sets and bounds give the same faults.
      const state = JSON.parse(await readFile(path.join(stateDir, 'state.json'), 'utf8')) as { nodes: Array<{ name: string; role: string; set: string; backup: boolean }> };
      const spec = parseTopology('promha.yaml', stringify(fastTopology())).spec;
      const expected = campaignSchedule(spec, lane, chaosMembers(state.nodes), { seed, durationMs: MINUTES * 60_000, faults: report.faults, maxConcurrent: 2 });
      assert.deepEqual(report.schedule, expected);
      assert.ok(report.injected.length >= 10 && report.injected.every((f) => !f.error && f.healedAt !== undefined), formatCampaign(report));
      assert.ok(report.episodes >= 10, formatCampaign(report));
      // Duplicates and flaps are counted and printed, not yet promised: a restarted or
      // resumed Alertmanager's first flush can repeat or contradict what the cluster sent
      // (README, Chaos campaigns). Every other promise holds.
      const held = report.violations.filter((v) => v.kind !== 'duplicate' && v.kind !== 'flap');
      assert.deepEqual(held, [], formatCampaign(report));
      assert.equal(r.exitCode, report.violations.length > 0 ? 1 : 0, r.stderr);
    });
  });
