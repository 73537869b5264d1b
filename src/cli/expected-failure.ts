import { ExitError } from '../errors.ts';
import { describeNetworkError, ProbeError } from '../probe/probe-error.ts';

/** Why a path could not be used, in words, for the errno codes a user can cause and fix. */
const FILE_CODES: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a part of the path is not a directory',
  EISDIR: 'it is a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EEXIST: 'it already exists',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'too many symbolic links',
  EMFILE: 'too many open files',
  EBUSY: 'the resource is busy',
  EXDEV: 'the paths are on different file systems',
};

function errnoOf(e: unknown): { code: string; path?: string } | undefined {
  if (!(e instanceof Error) || !('code' in e) || typeof e.code !== 'string') return undefined;
  const p = 'path' in e && typeof e.path === 'string' ? e.path : undefined;
  return p === undefined ? { code: e.code } : { code: e.code, path: p };
}

/** fetch() failures are TypeError('fetch failed') with the reason (a code) in `cause`. */
function isFetchFailure(e: unknown): boolean {
  return e instanceof TypeError && e.message === 'fetch failed';
}

/**
 * The failures a user meets in normal operation, as an exit code and a one-line
 * message: a server that does not answer (exit 1: the system is not in the state
 * the command needs), a path that cannot be read or written (exit 2: fix the
 * command line or the file system). Anything else is a defect and stays exit 70.
 */
export function expectedFailure(e: unknown): ExitError | undefined {
  if (e instanceof ProbeError) return new ExitError(1, `promha: ${e.message}`);
  if (isFetchFailure(e)) return new ExitError(1, `promha: ${describeNetworkError(e, 0)} (is the stack running? \`promha status\`)`);
  const errno = errnoOf(e);
  if (errno && FILE_CODES[errno.code] !== undefined)
    return new ExitError(2, `promha: ${errno.path ? `${errno.path}: ` : ''}${FILE_CODES[errno.code]} (${errno.code})`);
  return undefined;
}
