// How `promha apply` reaches a host: the OpenSSH client, with the operator's own
// configuration (keys, jump hosts, known hosts) and batch mode, so that a prompt never
// hangs a rollout. Every remote command is one bash script, quoted here for the
// remote shell by the one tested quoting function.
import { execa } from 'execa';
import { ExitError } from '../errors.ts';
import { shellQuote } from '../render/command-line.ts';

export interface SshOptions {
  /** `ssh -F`: the client configuration to use. @default ssh's own (~/.ssh/config) */
  readonly configFile?: string;
  /** The remote user. @default what the configuration says, else ssh's default */
  readonly user?: string;
  /** How long one remote command may take. @default 10 minutes */
  readonly timeoutMs?: number;
}

export interface RemoteResult {
  readonly exitCode: number;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** A user name as useradd accepts it: never an option, never shell syntax. */
const USER = /^[a-z_][a-z0-9_-]{0,31}$/;
/** A host name or IP literal, as the topology's addresses hold them. */
const HOST = /^[A-Za-z0-9][A-Za-z0-9.:-]*$/;

/** Refuses a user name ssh would read as an option or the remote side as syntax. */
export function assertSshUser(user: string): void {
  if (!USER.test(user)) throw new ExitError(2, `--ssh-user "${user}" is not a user name\n    fix: lower-case letters, digits, "_" and "-", starting with a letter or "_"`);
}

/** The ssh command line that runs `script` with bash on `host`. */
export function sshArgs(host: string, script: string, o: SshOptions): string[] {
  if (!HOST.test(host)) throw new ExitError(2, `"${host}" is not a host name or address ssh can be given`);
  if (o.user !== undefined) assertSshUser(o.user);
  return [
    ...(o.configFile ? ['-F', o.configFile] : []),
    ...(o.user ? ['-l', o.user] : []),
    '-o',
    'BatchMode=yes',
    '--',
    host,
    // The remote side joins the words and hands them to the user's shell: one quoted word.
    `bash -c ${shellQuote(script)}`,
  ];
}

/** Runs `script` on `host`, `input` on its stdin. A failure to connect is exit 255, as ssh says. */
export async function runOnHost(host: string, script: string, o: SshOptions, input?: Buffer): Promise<RemoteResult> {
  const r = await execa('ssh', sshArgs(host, script, o), {
    reject: false,
    encoding: 'buffer',
    timeout: o.timeoutMs ?? 600_000,
    ...(input ? { input } : { stdin: 'ignore' }),
  });
  return { exitCode: r.exitCode ?? 255, stdout: Buffer.from(r.stdout), stderr: Buffer.from(r.stderr).toString('utf8').trim() };
}
