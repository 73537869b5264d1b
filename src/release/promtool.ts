import { accessSync, constants } from 'node:fs';
import { execa } from 'execa';
import { ExitError } from '../errors.ts';
import { binaryVersion, releaseSource } from './fetch.ts';
import { versionMatches, type Release } from './release.ts';

/**
 * The release's own promtool: the host's Debian package for the host's release, else the
 * one `promha setup --release` fetched. Its version is checked, because a rule test or a
 * rule check by another Prometheus version answers for that version, not for the release.
 */
export async function releasePromtool(release: Release): Promise<{ path: string; version: string }> {
  const { host, fetched } = await releaseSource(release.name);
  const file = fetched?.binaries.promtool.path ?? release.components.promtool.path;
  try {
    accessSync(file, constants.X_OK);
  } catch {
    const fix = host ? `apt-get install ${release.components.promtool.package}` : `promha setup --release ${release.name}`;
    throw new ExitError(2, `${release.name}'s promtool is not at ${file}\n    fix: \`${fix}\``);
  }
  const version = await binaryVersion(file);
  if (version === undefined || !versionMatches(version, release.components.promtool.version))
    throw new ExitError(2, `${file} is promtool ${version ?? 'of an unknown version'}, not ${release.components.promtool.version} of ${release.name}\n    fix: \`promha setup --release ${release.name}\`, or pass the release this promtool belongs to with --release`);
  return { path: file, version };
}

/**
 * What promha lets a promtool (or amtool) child use. Memory is RLIMIT_DATA: Go reserves
 * address space it never touches (promtool does not start under `ulimit -v` 1 GB), while
 * the data limit counts what the heap really takes. Measured: a test group of 10 series
 * of 10^6 samples takes 0.6-0.9 GB; `1x999999999999999999` stops at this limit with
 * "fatal error: out of memory" in about 25 s instead of taking the host's memory.
 */
export const TOOL_LIMITS = {
  dataBytes: 2 * 1024 ** 3,
  /** Wall clock per run: 100,000 evaluation steps of a simple rule take promtool 17-20 s. */
  timeoutMs: 120_000,
  /** CPU seconds: ends a child that outlives promha (the wall-clock timeout dies with promha). */
  cpuSeconds: 300,
  /** What promha keeps of its output. */
  outputBytes: 4 * 1024 ** 2,
} as const;

export interface LimitedRun {
  /** The exit code, when it exited. */
  readonly exitCode?: number;
  /** stdout and stderr, interleaved. */
  readonly output: string;
  /** Why it did not run to an answer (timed out, out of memory, killed, crashed); undefined when it did. */
  readonly failure?: string;
  /** True when one of TOOL_LIMITS stopped it or it could not be started: its output is no verdict on its input. */
  readonly stopped?: boolean;
}

const OUT_OF_MEMORY = /fatal error: (?:runtime: )?(?:out of memory|cannot allocate memory)|out of memory allocating/;

/**
 * Runs a release binary under TOOL_LIMITS, through `sh` for its ulimit builtin (there
 * on every host, unlike prlimit). A limit the hard limit forbids is skipped: the lower
 * hard limit holds then. stdin is closed, so it can never wait on promha's terminal.
 * stderr joins stdout on one descriptor, so promtool's `Checking` lines (stdout) and its
 * FAILED lines (stderr) stay in the order it wrote them.
 */
export async function runLimited(
  binary: string,
  args: readonly string[],
  options: { cwd?: string; timeoutMs?: number; dataBytes?: number } = {},
): Promise<LimitedRun> {
  const timeoutMs = options.timeoutMs ?? TOOL_LIMITS.timeoutMs;
  const dataBytes = options.dataBytes ?? TOOL_LIMITS.dataBytes;
  const script = `ulimit -d ${Math.ceil(dataBytes / 1024)} 2>/dev/null; ulimit -t ${TOOL_LIMITS.cpuSeconds} 2>/dev/null; exec "$0" "$@" 2>&1`;
  const r = await execa('sh', ['-c', script, binary, ...args], {
    reject: false,
    all: true,
    stdin: 'ignore',
    timeout: timeoutMs,
    forceKillAfterDelay: 2_000,
    maxBuffer: TOOL_LIMITS.outputBytes,
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  const output = typeof r.all === 'string' ? r.all : '';
  const name = binary.split('/').at(-1) ?? binary;
  const outOfMemory = OUT_OF_MEMORY.test(output);
  const stopped = r.timedOut || r.isMaxBuffer || outOfMemory || (r.exitCode === undefined && !r.signal);
  const failure = r.timedOut
    ? `${name} did not finish within ${timeoutMs / 1000} s and was stopped`
    : r.isMaxBuffer
      ? `${name} printed more than ${TOOL_LIMITS.outputBytes / 1024 ** 2} MiB and was stopped`
      : outOfMemory
        ? `${name} ran out of memory (promha allows it ${dataBytes >= 1024 ** 3 ? `${dataBytes / 1024 ** 3} GiB` : `${Math.round(dataBytes / 1024 ** 2)} MiB`})`
        : r.signal
          ? `${name} was killed by ${r.signal}`
          : /^(?:panic: |fatal error: )/m.test(output)
            ? `${name} crashed: ${/^(?:panic: |fatal error: ).*$/m.exec(output)?.[0] ?? ''}`
            : r.exitCode === undefined
              ? `${name} could not be run: ${r.shortMessage ?? 'unknown error'}`
              : r.exitCode !== 0 && output.trim() === ''
                ? `${name} exited with code ${r.exitCode} without a message`
                : undefined;
  return { ...(r.exitCode !== undefined ? { exitCode: r.exitCode } : {}), output, ...(failure ? { failure } : {}), ...(stopped ? { stopped } : {}) };
}
