import { doctor } from '../doctor/doctor.ts';
import type { DoctorResult } from '../doctor/result.ts';
import { StateDir } from '../runtime/state.ts';
import { loadTopology } from '../topology/load.ts';
import { plain, type Paint } from '../cli/paint.ts';
import { chooseRelease } from '../release/choose.ts';
import type { ReleaseName } from '../release/release.ts';

export interface DoctorReport {
  readonly results: readonly DoctorResult[];
  readonly pass: number;
  readonly warn: number;
  readonly fail: number;
}

export async function runDoctor(file: string, stateDir: string, release?: ReleaseName): Promise<DoctorReport> {
  // A release asked for is judged as `up` judged it: by the versions of its binaries here.
  const results = await doctor(await loadTopology(file), new StateDir(stateDir), release && (await chooseRelease(release)));
  const count = (v: DoctorResult['verdict']) => results.filter((r) => r.verdict === v).length;
  return { results, pass: count('pass'), warn: count('warn'), fail: count('fail') };
}

export function formatDoctor(r: DoctorReport, pc: Paint = plain): string {
  const badge = { pass: pc.green('pass'), warn: pc.yellow('warn'), fail: pc.red('fail') } as const;
  const lines = r.results.map((x) => `${badge[x.verdict]}  ${pc.dim(`${x.code} ${x.check.padEnd(24)}`)} ${x.message}`);
  return [...lines, `\n${r.pass} passed, ${r.warn} warned, ${r.fail} failed`].join('\n');
}
