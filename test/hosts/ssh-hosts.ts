// Hosts for the SSH path of `promha apply`: one network namespace per member on the
// promha0 bridge, each running Debian 12's real sshd. A host sees this machine's files
// through overlays: what it writes to /etc and /var lands in its own directory here
// (install.sh writes /etc/promha, /etc/systemd/system, /var/lib/promha as on a real
// host), /run is its own, and its `systemctl` is test/hosts/systemctl.ts (no systemd in
// a namespace). Nothing a host writes reaches this machine's /etc, /var or /run.
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { shellQuote } from '../../src/render/command-line.ts';
import { BRIDGE, createBridge, createHost, destroyNetwork, type NetworkRecord } from '../../src/runtime/netns.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
export const SSHD = path.join(ROOT, '.test-cache/openssh-server/usr/sbin/sshd');

export interface SshHost {
  readonly member: string;
  readonly address: string;
  readonly netns: string;
  /** What the host wrote to its /etc and /var, seen from here. */
  readonly etc: string;
  readonly var: string;
}

export interface SshHosts {
  /** For `ssh -F`: the client key, the hosts' known keys, root, batch mode. */
  readonly sshConfig: string;
  readonly hosts: readonly SshHost[];
  /** Runs a shell command on a member's host over SSH. */
  ssh(member: string, command: string): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  /** Stops every host: whatever runs in its namespace, its namespace, the bridge, the files. */
  close(): Promise<void>;
}

/**
 * Starts one host per member at its address (`10.213.0.x`, in `subnet`, the bridge at
 * `gatewayCidr`): a namespace, an sshd listening on port 22 there, root's key authorized.
 * A failure undoes what was made.
 */
export async function startSshHosts(members: ReadonlyArray<{ readonly name: string; readonly address: string }>, o: { readonly subnet: string; readonly gatewayCidr: string }): Promise<SshHosts> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'promha-ssh-hosts-'));
  // The servers run as `prometheus`: they must traverse to their overlays' directories.
  await chmod(dir, 0o755);
  const record: NetworkRecord = { bridge: BRIDGE, subnet: o.subnet, namespaces: [], links: [] };
  const hosts: SshHost[] = [];
  const close = async () => {
    await destroyNetwork(record);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const key = path.join(dir, 'id_ed25519');
    const hostKey = path.join(dir, 'host_ed25519');
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
    await writeFile(path.join(dir, 'authorized_keys'), await readFile(`${key}.pub`));
    const hostPub = (await readFile(`${hostKey}.pub`, 'utf8')).trim().split(' ').slice(0, 2).join(' ');
    await writeFile(path.join(dir, 'known_hosts'), members.map((m) => `${m.address} ${hostPub}\n`).join(''));
    const sshConfig = path.join(dir, 'ssh_config');
    await writeFile(
      sshConfig,
      ['Host *', '  User root', `  IdentityFile ${key}`, '  IdentitiesOnly yes', `  UserKnownHostsFile ${path.join(dir, 'known_hosts')}`, '  StrictHostKeyChecking yes', '  BatchMode yes', '  ConnectTimeout 5', '  LogLevel ERROR', ''].join('\n'),
    );
    // sshd drops privileges to its own user, which this machine has not (the package is not installed).
    const passwd = `${(await readFile('/etc/passwd', 'utf8')).trimEnd()}\nsshd:x:64999:65534::/run/sshd:/usr/sbin/nologin\n`;
    const tsxLoader = path.join(ROOT, 'node_modules/tsx/dist/loader.mjs');
    const systemctl = `#!/bin/sh\nexec ${shellQuote(process.execPath)} --import ${shellQuote(`file://${tsxLoader}`)} ${shellQuote(path.join(ROOT, 'test/hosts/systemctl.ts'))} "$@"\n`;
    await createBridge(record, o.gatewayCidr);
    for (const [i, m] of members.entries()) {
      const h = path.join(dir, m.name);
      const host: SshHost = { member: m.name, address: m.address, netns: `promha-${m.name}`, etc: path.join(h, 'etc'), var: path.join(h, 'var') };
      for (const d of ['etc', 'etc.work', 'var', 'var.work', 'sbin']) await mkdir(path.join(h, d), { recursive: true });
      await writeFile(path.join(host.etc, 'passwd'), passwd);
      await writeFile(path.join(h, 'sbin', 'systemctl'), systemctl, { mode: 0o755 });
      await writeFile(
        path.join(h, 'sshd_config'),
        [`ListenAddress ${m.address}:22`, `HostKey ${hostKey}`, 'PidFile none', `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`, 'PermitRootLogin prohibit-password', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'UsePAM no', 'StrictModes no', 'PrintMotd no', 'LogLevel ERROR', ''].join('\n'),
      );
      const q = shellQuote;
      const boot = [
        'set -e',
        // `ip netns exec` gave this shell its own mount namespace, slave to this machine's: nothing mounted here goes back.
        `mount -t overlay overlay -o lowerdir=/etc,upperdir=${q(host.etc)},workdir=${q(`${h}/etc.work`)} /etc`,
        `mount -t overlay overlay -o lowerdir=/var,upperdir=${q(host.var)},workdir=${q(`${h}/var.work`)} /var`,
        'mount -t tmpfs -o mode=755 tmpfs /run',
        'mkdir -p -m 755 /run/sshd',
        `mount --bind ${q(`${h}/sbin`)} /usr/local/sbin`,
        `exec ${q(SSHD)} -D -e -f ${q(`${h}/sshd_config`)}`,
      ].join('\n');
      await writeFile(path.join(h, 'boot.sh'), `${boot}\n`);
      await createHost(record, m.name, i, `${m.address}/${o.subnet.split('/')[1]}`);
      const log = openSync(path.join(h, 'sshd.log'), 'a');
      spawn('ip', ['netns', 'exec', host.netns, 'bash', path.join(h, 'boot.sh')], { detached: true, stdio: ['ignore', log, log] }).unref();
      hosts.push(host);
    }
    const ssh = async (member: string, command: string) => {
      const host = hosts.find((x) => x.member === member);
      if (!host) throw new Error(`no host ${member}`);
      const r = await execa('ssh', ['-F', sshConfig, host.address, command], { reject: false, timeout: 120_000 });
      return { exitCode: r.exitCode ?? 1, stdout: r.stdout, stderr: r.stderr };
    };
    for (const host of hosts) {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const r = await ssh(host.member, 'true');
        if (r.exitCode === 0) break;
        if (Date.now() > deadline) throw new Error(`sshd of ${host.member} does not answer: ${r.stderr}\n${await readFile(path.join(dir, host.member, 'sshd.log'), 'utf8').catch(() => '')}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    return { sshConfig, hosts, ssh, close };
  } catch (e) {
    await close();
    throw e;
  }
}
