// The fuzzer's long campaign: 3,000 inputs per release, every render judged by that
// release's promtool and amtool and the host's keepalived, HAProxy and systemd-analyze.
// Starts no stack. Counts per outcome and per failure class, with a minimized input each.
import { RELEASE_NAMES, type ReleaseName } from '../src/release/release.ts';
import { formatResult, runCampaign, type CampaignResult } from '../test/fuzz/campaign.ts';

export interface FuzzReleaseResult {
  readonly release: ReleaseName;
  readonly seed: number;
  readonly inputs: number;
  readonly seconds: number;
  readonly rendered: number;
  readonly outcomes: Record<string, number>;
  readonly kinds: CampaignResult['kinds'];
  /** Failure signature → inputs that failed with it; the replay file of its minimized input. */
  readonly classes: ReadonlyArray<{ readonly signature: string; readonly count: number; readonly replay: string }>;
  readonly toolRuns: number;
}

export type FuzzResult = FuzzReleaseResult[];

export async function fuzzCampaigns(o: { inputs?: number; seed?: number; releases?: readonly ReleaseName[]; progress: (line: string) => void }): Promise<FuzzResult> {
  const out: FuzzResult = [];
  for (const release of o.releases ?? RELEASE_NAMES) {
    o.progress(`fuzz ${release}: ${o.inputs ?? 3000} inputs`);
    const r = await runCampaign({ seed: o.seed ?? 1, release, iterations: o.inputs ?? 3000, budgetMs: Infinity, shrinkMs: 20_000, log: o.progress });
    o.progress(formatResult(r, Infinity));
    out.push({
      release,
      seed: r.seed,
      inputs: r.iterations,
      seconds: Math.round(r.elapsedMs / 1000),
      rendered: r.rendered,
      outcomes: r.outcomes,
      kinds: r.kinds,
      classes: r.failures.map((f) => ({ signature: f.signature, count: f.count, replay: f.file })),
      toolRuns: r.tools?.runs ?? 0,
    });
  }
  return out;
}
