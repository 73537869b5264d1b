import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { chaosSettings, type ChaosStack } from '../src/commands/chaos.ts';
import { ExitError, ValidationError } from '../src/errors.ts';
import { StateDir, UnusableState } from '../src/runtime/state.ts';
import { prepareSecurity } from '../src/security/material.ts';
import { parseTopology } from '../src/topology/load.ts';
import type { Topology } from '../src/topology/topology.ts';
import { FAST_RULES, fastTopology, inProcess, tempProject } from './helpers.ts';

/*
 * Inputs other than the topology's own keys, each read bounded and checked like the
 * topology: the state file, the files secure mode names, a chaos replay file; and the
 * messages of the topology's path fields and numbers. Unit tier: in-process, no stack,
 * no network (mkfifo makes the FIFOs, as in cli-robustness).
 */

// A bound on a test that would otherwise hang on a FIFO: no timing is asserted.
const TIMEOUT = { timeout: 10_000 };
const mkfifo = (file: string) => promisify(execFile)('mkfifo', [file]);

function assertClean(r: { exitCode: number; stdout: string; stderr: string }, what: string): void {
  const output = `${r.stdout}\n${r.stderr}`;
  assert.doesNotMatch(output, /unexpected error/i, `${what}:\n${output}`);
  assert.doesNotMatch(output, /^\s+at /m, `${what}: stack trace:\n${output}`);
}

/** A state `up` could have written: two members, one process each. */
const STATE = {
  version: 1,
  topologyFile: 'promha.yaml',
  mode: 'netns',
  release: 'bookworm',
  startedAt: '2026-12-04T10:00:00.000Z',
  readyAt: '2026-12-04T10:00:11.000Z',
  network: { bridge: 'promha0', subnet: '10.213.0.0/24', namespaces: ['promha-scraper1-1'], links: ['phv0'] },
  nodes: [
    {
      name: 'scraper1-1',
      role: 'scraper',
      set: 'scraper1',
      backup: false,
      topologyAddress: '10.0.0.1:9090',
      localAddress: '10.213.0.11:9090',
      netns: 'promha-scraper1-1',
      processes: [{ name: 'prometheus', pid: 4242, binary: '/usr/bin/prometheus', args: ['--web.listen-address=10.213.0.11:9090'], log: '.promha/logs/scraper1-1.prometheus.log', netns: 'promha-scraper1-1' }],
    },
  ],
  futureKey: { kept: true },
};
const withNode = (over: Record<string, unknown>) => ({ ...STATE, nodes: [{ ...STATE.nodes[0], ...over }] });
const withProcess = (over: Record<string, unknown>) => withNode({ processes: [{ ...STATE.nodes[0]?.processes[0], ...over }] });

describe('state.json: read bounded, checked against what `up` writes', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['null', 'null', /holds null, not the JSON object `up` writes/],
    ['an empty object', '{}', /not a state promha wrote: version: .*; topologyFile: .*; mode: .* \(and 2 more\)/],
    ['nodes that are a number', JSON.stringify({ ...STATE, nodes: 5 }), /not a state promha wrote: nodes: .*expected array/],
    ['a list', '[]', /holds a list, not the JSON object/],
    ['a string', '"x"', /holds a string, not the JSON object/],
    ['text cut short', JSON.stringify(STATE).slice(0, 40), /not JSON \([^\n]*\): a write cut short/],
    ['another file format version', JSON.stringify({ ...STATE, version: 2 }), /version: /],
    ['pid 0 (would signal promha\'s own group)', JSON.stringify(withProcess({ pid: 0 })), /nodes\[0\]\.processes\[0\]\.pid: not the pid of a process promha started/],
    ['pid 1 (kill(-1) signals everything)', JSON.stringify(withProcess({ pid: 1 })), /nodes\[0\]\.processes\[0\]\.pid: not the pid/],
    ['a pid that is no integer', JSON.stringify(withProcess({ pid: 12.5 })), /processes\[0\]\.pid: /],
    ['a member name that is a path (down deletes its data dir)', JSON.stringify(withNode({ name: '../../home' })), /nodes\[0\]\.name: not a name `up` records/],
    ['a namespace promha never creates', JSON.stringify({ ...STATE, network: { ...STATE.network, namespaces: ['default'] } }), /network\.namespaces\[0\]: not a namespace promha creates/],
    ['a link promha never creates', JSON.stringify({ ...STATE, network: { ...STATE.network, links: ['eth0'] } }), /network\.links\[0\]: not a link promha creates/],
    ['an unknown role', JSON.stringify(withNode({ role: 'database' })), /nodes\[0\]\.role: /],
    // Found by the fuzzer: the drills parse it (Address.parse threw, exit 70).
    ['a local address that is no host:port', JSON.stringify(withNode({ localAddress: 'eth0;PWNED' })), /nodes\[0\]\.localAddress: not an address `up` records/],
  ];
  for (const [name, text, message] of cases)
    it(`refuses ${name}: exit 2, the file named, the fix`, async () => {
      const p = await tempProject({ 'st/state.json': text });
      try {
        const dir = new StateDir(path.join(p.dir, 'st'));
        await assert.rejects(dir.read(), (e: unknown) => {
          assert.ok(e instanceof UnusableState && e instanceof ExitError, String(e));
          assert.equal(e.code, 2);
          assert.match(e.message, message);
          assert.ok(e.message.startsWith(`promha: ${dir.stateFile}: `), e.message);
          assert.match(e.message, /fix: if a stack still runs from .*, `promha down --state-dir .*` stops it and removes the file, then `promha up`; if nothing runs, remove .*state\.json$/);
          assert.equal(e.message.split('\n').length, 2, 'one line and the fix');
          return true;
        });
      } finally {
        await p.cleanup();
      }
    });

  it('reads a state `up` wrote, keeping keys of a newer promha', async () => {
    const p = await tempProject({ 'st/state.json': JSON.stringify(STATE) });
    try {
      const state = await new StateDir(path.join(p.dir, 'st')).read();
      assert.equal(state?.nodes[0]?.processes[0]?.pid, 4242);
      assert.deepEqual((state as unknown as Record<string, unknown>)['futureKey'], { kept: true });
    } finally {
      await p.cleanup();
    }
  });

  it('no state file is no stack', async () => {
    const p = await tempProject({});
    try {
      assert.equal(await new StateDir(path.join(p.dir, 'st')).read(), undefined);
    } finally {
      await p.cleanup();
    }
  });

  it('a FIFO as state.json is refused without blocking', TIMEOUT, async () => {
    const p = await tempProject({});
    try {
      await mkdir(path.join(p.dir, 'st'));
      await mkfifo(path.join(p.dir, 'st', 'state.json'));
      await assert.rejects(new StateDir(path.join(p.dir, 'st')).read(), (e: unknown) => e instanceof UnusableState && e.code === 2 && /state\.json: a FIFO \(named pipe\), not a regular file/.test(e.message));
    } finally {
      await p.cleanup();
    }
  });

  // The commands the issue names, in-process: each fails at the state, before anything runs.
  for (const [name, args] of [
    ['status', ['status', '--state-dir', 'st']],
    ['status --json', ['status', '--json', '--state-dir', 'st']],
    ['apply --dry-run', ['apply', '--dry-run', '--state-dir', 'st']],
    ['drill chaos', ['drill', 'chaos', '--state-dir', 'st']],
    ['drill', ['drill', 'scraper-killed', '--state-dir', 'st']],
    ['stop', ['stop', 'scraper1-1', '--state-dir', 'st']],
  ] as const)
    for (const [what, make] of [
      ['null', async (file: string) => writeFile(file, 'null')],
      ['{"nodes":5}', async (file: string) => writeFile(file, '{"nodes":5}')],
      ['a FIFO', mkfifo],
    ] as const)
      it(`${name} with ${what} as state.json: exit 2 with the fix`, TIMEOUT, async () => {
        const p = await tempProject({ 'promha.yaml': fastTopology(), 'rules/demo.yml': FAST_RULES });
        try {
          await mkdir(path.join(p.dir, 'st'));
          await make(path.join(p.dir, 'st', 'state.json'));
          const r = await inProcess([...args], p.dir);
          assertClean(r, `${name} ${what}`);
          assert.equal(r.exitCode, 2, r.stdout + r.stderr);
          assert.match(r.stderr, /^promha: st\/state\.json: .*\n\s+fix: .*`promha down --state-dir st`/);
          if ((args as readonly string[]).includes('--json')) assert.equal((JSON.parse(r.stdout) as { error: { exitCode: number } }).error.exitCode, 2);
        } finally {
          await p.cleanup();
        }
      });

  it('`down` removes an unusable state file (the fix the message gives)', TIMEOUT, async () => {
    const p = await tempProject({ 'st/state.json': '{"nodes":5}' });
    try {
      const r = await inProcess(['down', '--state-dir', 'st'], p.dir);
      assertClean(r, 'down');
      assert.equal(r.exitCode, 0, r.stderr);
      assert.match(r.stdout, /removed the unusable state file \(not a state promha wrote: /);
      await assert.rejects(stat(path.join(p.dir, 'st', 'state.json')), /ENOENT/);
      assert.equal((await inProcess(['status', '--state-dir', 'st'], p.dir)).exitCode, 1, 'then nothing runs');
    } finally {
      await p.cleanup();
    }
  });
});

/** The topology text with `security`, and the line of the first occurrence of `needle`. */
function secureText(security: Record<string, unknown>): string {
  return stringify(fastTopology({ security }));
}
const lineOf = (text: string, needle: string) => text.slice(0, text.indexOf(needle)).split('\n').length;

function problemsOf(file: string, text: string): ValidationError['problems'] {
  try {
    parseTopology(file, text);
  } catch (e) {
    if (e instanceof ValidationError) return e.problems;
    throw e;
  }
  return [];
}

describe('path fields of the topology: located, bounded', () => {
  const cases: Array<[string, Record<string, unknown>, string, RegExp]> = [
    ['ca_dir with a NUL byte', { tls: { ca_dir: 'ca\0dir' } }, 'ca_dir', /^security\.tls\.ca_dir: holds a NUL byte, which no file name can contain$/],
    ['ca_dir of 5,000 characters', { tls: { ca_dir: 'c'.repeat(5_000) } }, 'ca_dir', /^security\.tls\.ca_dir: is 5000 characters long; a path here is at most 1024$/],
    ['ca_dir with a 300-byte name', { tls: { ca_dir: `ca/${'n'.repeat(300)}` } }, 'ca_dir', /^security\.tls\.ca_dir: "n{40}…" is 300 bytes long; a file or directory name is at most 255$/],
    ['an empty ca_dir', { tls: { ca_dir: '' } }, 'ca_dir', /^security\.tls\.ca_dir: is empty$/],
    ['password_file with a newline', { tls: {}, basic_auth: { password_file: 'pw\nx' } }, 'password_file', /^security\.basic_auth\.password_file: "pw\\nx" holds control characters/],
    ['cert_file with an escape', { tls: { ca: { ca_file: 'ca.crt', cert_file: 'a\u001b[31m', key_file: 'k' } } }, 'cert_file', /^security\.tls\.ca\.cert_file: .* holds control characters/],
    ['key_file with a NUL byte', { tls: { ca: { ca_file: 'ca.crt', cert_file: 'c', key_file: 'k\0' } } }, 'key_file', /^security\.tls\.ca\.key_file: holds a NUL byte/],
    ['ca_file of 2,000 characters', { tls: { ca: { ca_file: `/${'d/'.repeat(1_000)}`, cert_file: 'c', key_file: 'k' } } }, 'ca_file', /^security\.tls\.ca\.ca_file: is 2001 characters long/],
  ];
  for (const [name, security, key, message] of cases)
    it(name, () => {
      const text = secureText(security);
      const problems = problemsOf('promha.yaml', text);
      assert.equal(problems.length, 1, JSON.stringify(problems));
      assert.match(problems[0]?.message ?? '', message);
      assert.equal(problems[0]?.location.line, lineOf(text, `${key}:`));
    });

  it('paths with spaces and non-ASCII letters are fine (read by promha only)', () => {
    assert.deepEqual(problemsOf('promha.yaml', secureText({ tls: { ca_dir: 'my CA/ünïcode' }, basic_auth: { password_file: '/run/secrets/promha password' } })), []);
  });

  it('check and render: exit 2 located, never 70', TIMEOUT, async () => {
    const text = secureText({ tls: { ca_dir: 'a\0b' }, basic_auth: { password_file: 'pw' } });
    for (const args of [['check'], ['render', '--out', 'out']]) {
      const p = await tempProject({ 'promha.yaml': text });
      try {
        const r = await inProcess([...args, 'promha.yaml'], p.dir);
        assertClean(r, args[0] as string);
        assert.equal(r.exitCode, 2, r.stderr);
        assert.match(r.stderr, new RegExp(`^promha\\.yaml:${lineOf(text, 'ca_dir:')}:\\d+: error security\\.tls\\.ca_dir: holds a NUL byte`, 'm'));
      } finally {
        await p.cleanup();
      }
    }
  });
});

describe('numbers in the topology: one message each, out of range said so', () => {
  const vrid = (value: string) => stringify(fastTopology()).replace('vip:\n      address: 127.0.0.100:9091', `vip:\n      address: 127.0.0.100:9091\n      virtual_router_id: ${value}`);
  const cases: Array<[string, string, RegExp]> = [
    ['1e400', '1e400', /^pushgateways\[0\]\.vip\.virtual_router_id: out of range: not a finite number \(beyond a 64-bit float, such as 1e400, or \.inf\)$/],
    ['-1e400', '-1e400', /out of range: not a finite number/],
    ['.inf', '.inf', /out of range: not a finite number/],
    ['.nan', '.nan', /^pushgateways\[0\]\.vip\.virtual_router_id: not a number \(\.nan\)$/],
    ['past the safe integers (once, not twice)', '99999999999999999999', /^pushgateways\[0\]\.vip\.virtual_router_id must be at most 255, got 100000000000000000000$/],
    ['300', '300', /^pushgateways\[0\]\.vip\.virtual_router_id must be at most 255, got 300$/],
    ['0', '0', /^pushgateways\[0\]\.vip\.virtual_router_id must be at least 1, got 0$/],
    ['1.5', '1.5', /^pushgateways\[0\]\.vip\.virtual_router_id must be a whole number, got number 1\.5$/],
  ];
  for (const [name, value, message] of cases)
    it(name, () => {
      const text = vrid(value);
      assert.ok(text.includes(`virtual_router_id: ${value}`), 'the value is in the text');
      const problems = problemsOf('promha.yaml', text);
      assert.equal(problems.length, 1, JSON.stringify(problems));
      assert.match(problems[0]?.message ?? '', message);
      assert.equal(problems[0]?.location.line, lineOf(text, 'virtual_router_id:'));
    });

  it('a non-finite number where a string belongs: the type, not "null"', () => {
    const text = stringify(fastTopology()).replace('scrape: 1s', 'scrape: 1e400');
    const problems = problemsOf('promha.yaml', text);
    assert.equal(problems.length, 1, JSON.stringify(problems));
    assert.match(problems[0]?.message ?? '', /^intervals\.scrape must be a string, got a number out of range: not a finite number/);
    assert.doesNotMatch(problems[0]?.message ?? '', /null/);
  });
});

describe('files secure mode reads: bounded, never blocking, located at their key', () => {
  /** A project with a password file (mode 0600) and `security`; the Topology as render would load it. */
  async function secureProject(security: Record<string, unknown>) {
    const p = await tempProject({ pw: 'long-enough-password\n' });
    await chmod(path.join(p.dir, 'pw'), 0o600);
    const file = path.join(p.dir, 'promha.yaml');
    const text = secureText(security);
    await writeFile(file, text);
    const topology: Topology = { ...parseTopology(file, text), ruleFiles: [] };
    return { ...p, file, text, topology };
  }
  const supplied = (over: Record<string, string>) => ({ tls: { ca: { ca_file: 'ca.crt', cert_file: 'member.crt', key_file: 'member.key', ...over } }, basic_auth: { password_file: 'pw' } });
  const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

  const cases: Array<{ name: string; security: Record<string, unknown>; key: string; prepare: (dir: string) => Promise<unknown>; message: RegExp }> = [
    { name: 'a FIFO as password_file (mode 0600)', security: { tls: {}, basic_auth: { password_file: 'fifo' } }, key: 'password_file:', prepare: async (d) => mkfifo(path.join(d, 'fifo')).then(() => chmod(path.join(d, 'fifo'), 0o600)), message: /^password file "fifo" cannot be read: a FIFO \(named pipe\), not a regular file$/ },
    { name: 'a FIFO as cert_file', security: supplied({ cert_file: 'fifo' }), key: 'cert_file:', prepare: (d) => mkfifo(path.join(d, 'fifo')), message: /^certificate "fifo" cannot be read: a FIFO/ },
    { name: 'a FIFO as key_file', security: supplied({ key_file: 'fifo' }), key: 'key_file:', prepare: async (d) => writeFile(path.join(d, 'member.crt'), PEM).then(() => mkfifo(path.join(d, 'fifo'))), message: /^key "fifo" cannot be read: a FIFO/ },
    { name: 'a FIFO as ca_file', security: supplied({ ca_file: 'fifo' }), key: 'ca_file:', prepare: async (d) => {
      await writeFile(path.join(d, 'member.crt'), PEM);
      await writeFile(path.join(d, 'member.key'), PEM, { mode: 0o600 });
      await mkfifo(path.join(d, 'fifo'));
    }, message: /^CA certificate "fifo" cannot be read: a FIFO/ },
    { name: '/dev/zero as cert_file (refused before any read)', security: supplied({ cert_file: '/dev/zero' }), key: 'cert_file:', prepare: async () => undefined, message: /^certificate "\/dev\/zero" cannot be read: a device, not a regular file$/ },
    { name: 'a 2 MiB cert_file', security: supplied({ cert_file: 'big.crt' }), key: 'cert_file:', prepare: (d) => writeFile(path.join(d, 'big.crt'), 'A'.repeat(2 * 1024 * 1024)), message: /^certificate "big\.crt" cannot be read: larger than 1 MiB$/ },
    { name: 'a missing cert_file', security: supplied({}), key: 'cert_file:', prepare: async () => undefined, message: /^certificate "member\.crt" does not exist$/ },
    { name: 'a FIFO as the generated CA\'s ca.crt', security: { tls: { ca_dir: 'ca' }, basic_auth: { password_file: 'pw' } }, key: 'ca_dir:', prepare: async (d) => {
      await mkdir(path.join(d, 'ca'));
      await writeFile(path.join(d, 'ca', 'ca.key'), PEM, { mode: 0o600 });
      await mkfifo(path.join(d, 'ca', 'ca.crt'));
    }, message: /^ca_dir "ca": ca\.crt: a FIFO \(named pipe\), not a regular file$/ },
    { name: 'a ca_dir below a file', security: { tls: { ca_dir: 'pw/ca' }, basic_auth: { password_file: 'pw' } }, key: 'ca_dir:', prepare: async () => undefined, message: /^ca_dir "pw\/ca": cannot keep a CA there \(ENOTDIR\)$/ },
  ];
  for (const c of cases)
    it(c.name, TIMEOUT, async () => {
      const p = await secureProject(c.security);
      try {
        await c.prepare(p.dir);
        await assert.rejects(prepareSecurity(p.topology), (e: unknown) => {
          assert.ok(e instanceof ValidationError, String(e));
          assert.equal(e.problems.length, 1);
          assert.match(e.problems[0]?.message ?? '', c.message);
          assert.equal(e.problems[0]?.location.line, lineOf(p.text, c.key));
          assert.ok(e.problems[0]?.hint, 'a fix');
          return true;
        });
      } finally {
        await p.cleanup();
      }
    });

  // Supplied PEM files are parsed as what they are (found by the fuzzer: damaged ones passed render, HAProxy refused them).
  const TLS = path.join(import.meta.dirname, 'fixtures/hostile/tls');
  const pems = async (d: string, over: { cert?: string; key?: string; ca?: string } = {}) => {
    await writeFile(path.join(d, 'member.crt'), over.cert ?? (await readFile(path.join(TLS, 'cert.pem'), 'utf8')));
    await writeFile(path.join(d, 'member.key'), over.key ?? (await readFile(path.join(TLS, 'key.pem'), 'utf8')), { mode: 0o600 });
    await writeFile(path.join(d, 'ca.crt'), over.ca ?? (await readFile(path.join(TLS, 'ca.crt'), 'utf8')));
  };
  const pemCases: Array<[string, (d: string) => Promise<unknown>, string, RegExp | undefined]> = [
    ['valid supplied files', (d) => pems(d), 'cert_file:', undefined],
    ['a certificate whose base64 is damaged', (d) => pems(d, { cert: PEM }), 'cert_file:', /^"member\.crt" is not a PEM certificate/],
    ['a CA file that is no certificate', (d) => pems(d, { ca: 'not a certificate\n' }), 'ca_file:', /^"ca\.crt" is not a PEM certificate/],
    ['a key that is no key', (d) => pems(d, { key: PEM }), 'key_file:', /^"member\.key" is not a PEM private key/],
    ['the CA\'s key instead of the member\'s', async (d) => pems(d, { key: await readFile(path.join(TLS, 'ca.key'), 'utf8') }), 'key_file:', /^"member\.key" is not the key of "member\.crt"$/],
  ];
  for (const [name, prepare, key, message] of pemCases)
    it(`supplied TLS: ${name}`, TIMEOUT, async () => {
      const p = await secureProject(supplied({}));
      try {
        await prepare(p.dir);
        if (message === undefined) {
          assert.ok(await prepareSecurity(p.topology));
          return;
        }
        await assert.rejects(prepareSecurity(p.topology), (e: unknown) => {
          assert.ok(e instanceof ValidationError, String(e));
          assert.match(e.problems[0]?.message ?? '', message);
          assert.equal(e.problems[0]?.location.line, lineOf(p.text, key));
          return true;
        });
      } finally {
        await p.cleanup();
      }
    });

  it('a password file readable by others is still refused, with the chmod', async () => {
    const p = await secureProject({ tls: {}, basic_auth: { password_file: 'pw' } });
    try {
      await chmod(path.join(p.dir, 'pw'), 0o644);
      await assert.rejects(prepareSecurity(p.topology), (e: unknown) => e instanceof ValidationError && /password file "pw" is readable by others \(mode 0644\)/.test(e.problems[0]?.message ?? '') && /^chmod 600 /.test(e.problems[0]?.hint ?? ''));
    } finally {
      await p.cleanup();
    }
  });
});

describe('drill chaos --replay FILE: read bounded, every line of the message bounded', () => {
  const stack: ChaosStack = {
    mode: 'loopback',
    members: [1, 2, 3, 4].flatMap((i) => [1, 2].map((m) => ({ name: `scraper${i}-${m}`, role: 'scraper' as const, set: `scraper${i}`, backup: false }))),
    exporterGroups: ['demo1'],
    pushgatewaySets: [],
  };
  const envelope = { seed: 1, durationMs: 600_000, maxConcurrent: 2, faults: ['kill'], mode: 'loopback' };
  const refuses = async (file: string, check: (message: string) => void) =>
    assert.rejects(chaosSettings({ replay: file }, stack), (e: unknown) => {
      assert.ok(e instanceof ExitError && e.code === 2, String(e));
      check(e.message);
      return true;
    });

  it('a FIFO is refused without blocking', TIMEOUT, async () => {
    const p = await tempProject({});
    try {
      await mkfifo(path.join(p.dir, 'replay.json'));
      await refuses(path.join(p.dir, 'replay.json'), (m) => assert.match(m, /replay\.json: a FIFO \(named pipe\), not a regular file\n\s+fix: name a regular file/));
    } finally {
      await p.cleanup();
    }
  });

  it('a device is refused before any read', TIMEOUT, async () => {
    await refuses('/dev/zero', (m) => assert.match(m, /^--replay \/dev\/zero: a device, not a regular file/));
  });

  it('a file past 4 MiB is refused', TIMEOUT, async () => {
    const p = await tempProject({ 'replay.json': `${JSON.stringify(envelope).slice(0, -1)}, "pad": "${'x'.repeat(5 * 1024 * 1024)}"}` });
    try {
      await refuses(path.join(p.dir, 'replay.json'), (m) => assert.match(m, /replay\.json: larger than 4 MiB/));
    } finally {
      await p.cleanup();
    }
  });

  it('9,000 overlapping faults: 20 lines and a count, not 18,000', TIMEOUT, async () => {
    const schedule = Array.from({ length: 9_000 }, (_, i) => ({ id: i + 1, kind: 'kill', target: `scraper${(i % 4) + 1}-1`, at: 1_000 + i, durationMs: 100_000 }));
    const p = await tempProject({ 'replay.json': JSON.stringify({ ...envelope, durationMs: 100_000_000, schedule }) });
    try {
      await refuses(path.join(p.dir, 'replay.json'), (m) => {
        const lines = m.split('\n');
        assert.equal(lines.length, 1 + 20 + 1 + 1, m);
        assert.match(lines[0] ?? '', /breaks the campaign's bounds:$/);
        assert.match(lines[21] ?? '', /^\s+… and \d+ more$/);
        assert.match(lines[22] ?? '', /^\s+fix: /);
      });
    } finally {
      await p.cleanup();
    }
  });

  it('5,000 malformed faults: 20 lines and a count', TIMEOUT, async () => {
    const schedule = Array.from({ length: 5_000 }, (_, i) => ({ id: -i, kind: 'explode', target: '', at: -1, durationMs: 0 }));
    const p = await tempProject({ 'replay.json': JSON.stringify({ ...envelope, durationMs: 100_000_000, schedule }) });
    try {
      await refuses(path.join(p.dir, 'replay.json'), (m) => {
        assert.match(m, /^--replay .*: not a chaos report:\n\s+schedule\[0\]\.id: /);
        assert.equal(m.split('\n').length, 23, m);
      });
    } finally {
      await p.cleanup();
    }
  });

  it('more faults than the campaign has time for: one line, before any work per fault', TIMEOUT, async () => {
    // Each fault is malformed: a message about them would mean they were looked at.
    const schedule = Array.from({ length: 40_000 }, () => ({ kind: 'explode' }));
    const p = await tempProject({ 'replay.json': JSON.stringify({ ...envelope, schedule }) });
    try {
      await refuses(path.join(p.dir, 'replay.json'), (m) => {
        assert.match(m, /^--replay .*: the schedule breaks the campaign's bounds:\n\s+40000 faults; a campaign of 600 s takes at most 300 \(one per 2 s/);
        assert.doesNotMatch(m, /explode/);
      });
    } finally {
      await p.cleanup();
    }
  });

  it('a free set does not sidestep one fault per set; the set is derived', async () => {
    const schedule = [
      { id: 1, kind: 'kill', target: 'scraper1-1', set: 'mine', at: 1_000, durationMs: 10_000 },
      { id: 2, kind: 'kill', target: 'scraper1-2', set: 'yours', at: 2_000, durationMs: 10_000 },
    ];
    const p = await tempProject({ 'replay.json': JSON.stringify({ ...envelope, schedule }) });
    try {
      await refuses(path.join(p.dir, 'replay.json'), (m) => assert.match(m, /fault 2: scraper1-2 and fault 1 \(scraper1-1\) weaken scraper1 at once/));
      // Without the sets, the same faults one after the other replay with the sets of their targets.
      await writeFile(path.join(p.dir, 'replay.json'), JSON.stringify({ ...envelope, schedule: schedule.map(({ set: _set, ...f }, i) => ({ ...f, at: 1_000 + i * 20_000 })) }));
      const s = await chaosSettings({ replay: path.join(p.dir, 'replay.json') }, stack);
      assert.deepEqual(s.replay?.map((f) => f.set), ['scraper1', 'scraper1']);
      assert.ok((await readFile(path.join(p.dir, 'replay.json'), 'utf8')).length > 0);
    } finally {
      await p.cleanup();
    }
  });
});
