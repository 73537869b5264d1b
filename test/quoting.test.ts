import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { ExitError } from '../src/errors.ts';
import type { Layout } from '../src/plan/node-spec.ts';
import { plan } from '../src/plan/plan.ts';
import { shellQuote } from '../src/render/command-line.ts';
import { haproxyQuote } from '../src/render/haproxy-quote.ts';
import { keepalivedWord } from '../src/render/keepalived-word.ts';
import { parseSystemdCommand, systemdQuote } from '../src/render/systemd.ts';
import { writeRender } from '../src/render/write.ts';
import { loadTopology } from '../src/topology/load.ts';
import { FAST_RULES, fastTopology, requireTool, tempProject } from './helpers.ts';

/*
 * One quoting function per target file: shellQuote (install.sh, the keepalived scripts,
 * *.cmdline), systemdQuote (unit command lines), haproxyQuote (haproxy.cfg) and
 * keepalivedWord (keepalived.conf, which has no quoting that covers `$`, `#`, spaces and
 * newlines: it refuses). Each is fed hostile values and judged by the real parser.
 */

const CANARY = '/tmp/promha-quoting-canary';

/** Values that break a naive template: each must come back exactly, and run nothing. */
const HOSTILE: readonly string[] = [
  '',
  'plain',
  'two words',
  ' leading and trailing ',
  'new\nline',
  'tab\there',
  'cr\rhere',
  `$(touch ${CANARY})`,
  `\`touch ${CANARY}\``,
  "single'quote",
  'double"quote',
  "'",
  '"',
  '100%',
  '%h%n%%',
  '$HOME',
  '${HOME}',
  '$$',
  'semi;colon && rm -rf x',
  'back\\slash\\',
  '\\n',
  '# not a comment',
  '!bang',
  '-leading-dash',
  '*glob?[x]',
  '~tilde',
  'a|b>c<d&e',
  'ünïcödé ✓',
  '\x01control\x7f',
];

describe('shellQuote: POSIX sh reads every word back exactly, and runs nothing', () => {
  it('sh -c printf of every hostile word', async () => {
    const script = `printf '%s\\0' ${HOSTILE.map(shellQuote).join(' ')}`;
    for (const shell of ['sh', 'bash']) {
      const r = await execa(shell, ['-c', script], { stripFinalNewline: false });
      assert.deepEqual(r.stdout.split('\0').slice(0, -1), HOSTILE, shell);
    }
    await assert.rejects(stat(CANARY), 'a quoted word ran a command');
  });

  it('leaves plain words bare and quotes the empty word', () => {
    assert.equal(shellQuote('/etc/promha/scraper1-1/prometheus.yml'), '/etc/promha/scraper1-1/prometheus.yml');
    assert.equal(shellQuote(''), "''");
  });
});

describe('systemdQuote: a unit command line keeps every word', () => {
  it('round-trips every hostile word through the splitter', () => {
    const words = ['/usr/bin/prometheus', ...HOSTILE.map((w) => `--x=${w}`), ...HOSTILE];
    const line = words.map(systemdQuote).join(' ');
    assert.deepEqual(parseSystemdCommand(line), words);
    assert.ok(!line.includes('\n') && !line.includes('\r'), 'a newline would end the ExecStart= line');
    // Outside quotes systemd would expand %h and $HOME.
    assert.equal(systemdQuote('100%'), '"100%%"');
    assert.equal(systemdQuote('$HOME'), '"$$HOME"');
    assert.equal(systemdQuote('new\nline'), '"new\\nline"');
  });

  it('refuses a NUL, which no command line can carry', () => {
    assert.throws(() => systemdQuote('a\0b'), RangeError);
  });

  // systemd-analyze verify checks that the executable exists: it finds the file only if
  // systemd unquoted its name (spaces, %, non-ASCII, shell syntax) as systemdQuote meant.
  // systemd refuses quotes, backslashes and control characters in an executable's name
  // outright, and expands no $ there; the splitter above covers those for arguments.
  it('systemd-analyze verify finds an executable whose name needs quoting', async () => {
    await requireTool('systemd-analyze', 'systemd');
    const project = await tempProject({});
    try {
      for (const name of ['two words', '100%', '%h%n', 'semi;colon', 'tick`x`', 'ünïcödé ✓', 'a|b>c<d&e']) {
        const exe = path.join(project.dir, name);
        await writeFile(exe, '#!/bin/sh\n');
        await chmod(exe, 0o755);
        const unit = path.join(project.dir, 'quoting.service');
        await writeFile(unit, `[Service]\nExecStart=${systemdQuote(exe)} ${HOSTILE.filter((w) => !w.includes('\0')).map(systemdQuote).join(' ')}\n`);
        const r = await execa('systemd-analyze', ['verify', unit], { reject: false });
        assert.equal(r.exitCode, 0, `${JSON.stringify(name)}: ${r.stderr}`);
        assert.doesNotMatch(r.stderr, /not executable|Specifier/, name);
      }
    } finally {
      await project.cleanup();
    }
  });
});

describe('haproxyQuote: haproxy -c reads the path back exactly', () => {
  let project: Awaited<ReturnType<typeof tempProject>>;
  let pem: string;
  before(async () => {
    project = await tempProject({});
    const key = path.join(project.dir, 'k.pem');
    const crt = path.join(project.dir, 'c.pem');
    await execa('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', crt, '-subj', '/CN=quoting', '-days', '1']);
    pem = `${await readFile(crt, 'utf8')}${await readFile(key, 'utf8')}`;
  });
  after(() => project.cleanup());

  // A certificate under a hostile directory: haproxy -c fails unless it opens that exact file.
  for (const word of HOSTILE.filter((w) => w !== '' && !w.includes('\0') && !['.', '..'].includes(w)))
    it(`crt in a directory named ${JSON.stringify(word)}`, async () => {
      const dir = path.join(project.dir, word.replace(/\//g, '_'));
      await mkdir(dir, { recursive: true });
      const file = path.join(dir, 'm.pem');
      await writeFile(file, pem);
      const cfg = path.join(project.dir, 'haproxy.cfg');
      await writeFile(
        cfg,
        [
          'global',
          '    maxconn 8',
          'defaults',
          '    mode http',
          '    timeout connect 1s',
          '    timeout client 1s',
          '    timeout server 1s',
          `frontend ${haproxyQuote('quoting_vip')}`,
          `    bind 127.0.0.1:1 ssl crt ${haproxyQuote(file)}`,
          '    default_backend b',
          'backend b',
          '    server s 127.0.0.1:2',
          '',
        ].join('\n'),
      );
      const r = await execa('haproxy', ['-c', '-f', cfg], { reject: false });
      assert.equal(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
    });
});

describe('keepalivedWord: plain values pass, anything keepalived would read as syntax is refused', () => {
  for (const ok of ['eth0', 'v-1_a.b@c', '/etc/promha/pushgateway1-1/check-pushgateway.sh', '/srv/a+b@c_d.e-f', '10.0.0.100/32', 'fe80::1/128'])
    it(`keeps ${ok}`, () => assert.equal(keepalivedWord(ok, 'x'), ok));
  for (const bad of HOSTILE.filter((w) => !/^[A-Za-z0-9_.@+:/-]+$/.test(w)))
    it(`refuses ${JSON.stringify(bad)} with exit 2`, () => {
      assert.throws(
        () => keepalivedWord(bad, 'the script path'),
        (e: unknown) => e instanceof ExitError && e.code === 2 && e.message.startsWith('keepalived.conf cannot hold the script path'),
      );
    });
});

describe('install.sh and the units with config and data paths full of shell syntax', () => {
  // The render flags refuse such roots; the quoting must hold on its own (defence in depth).
  const hostile = `/opt/pro mha/$(touch ${CANARY})/\`touch ${CANARY}\`/it's "q" 100%h $HOME;x/ünï\\b`;
  const layout: Layout = {
    configDir: (m) => `${hostile}/etc/${m}`,
    dataDir: (m) => `${hostile}/data/${m}`,
    // A socket path holds at most 107 bytes: a shorter one, as hostile.
    runDir: (m) => `/run/p q'"$(id)\`id\`%h\\ü/${m}`,
  };
  let project: Awaited<ReturnType<typeof tempProject>>;
  let out: string;
  before(async () => {
    project = await tempProject({ 'promha.yaml': fastTopology(), 'rules/demo.yml': FAST_RULES });
    const topology = await loadTopology(path.join(project.dir, 'promha.yaml'));
    // keepalived.conf cannot take such a path (keepalivedWord refuses it): plan with the HAProxy stand-in.
    const nodes = plan(topology, { layout, vip: 'haproxy' });
    out = path.join(project.dir, 'out');
    await writeRender(out, nodes, layout);
  });
  after(() => project.cleanup());

  it('install.sh puts every file at its exact path and runs nothing', async () => {
    const root = path.join(project.dir, 'root');
    const r = await execa('bash', [path.join(out, 'scraper1-1', 'install.sh')], { env: { DESTDIR: root }, reject: false });
    assert.equal(r.exitCode, 0, r.stderr);
    const config = path.join(root, layout.configDir('scraper1-1'));
    assert.equal(await readFile(path.join(config, 'prometheus.yml'), 'utf8'), await readFile(path.join(out, 'scraper1-1', 'prometheus.yml'), 'utf8'));
    assert.ok((await stat(path.join(root, layout.dataDir('scraper1-1')))).isDirectory());
    assert.ok((await stat(path.join(root, 'etc/systemd/system/promha-scraper1-1-prometheus.service'))).isFile());
    await assert.rejects(stat(CANARY), 'install.sh ran a command from a path');
    const again = await execa('bash', [path.join(out, 'scraper1-1', 'install.sh')], { env: { DESTDIR: root }, reject: false });
    assert.equal(again.stdout.trim(), 'scraper1-1: 0 file(s) changed');
  });

  it('the *.cmdline runs in sh with exactly the planned words', async () => {
    const line = (await readFile(path.join(out, 'scraper1-1', 'prometheus.cmdline'), 'utf8')).trim();
    const words = (await execa('sh', ['-c', `set -- ${line}; printf '%s\\0' "$@"`], { stripFinalNewline: false })).stdout.split('\0').slice(0, -1);
    assert.ok(words.includes(`--storage.tsdb.path=${layout.dataDir('scraper1-1')}`), words.join('\n'));
    assert.ok(words.includes(`--config.file=${layout.configDir('scraper1-1')}/prometheus.yml`), words.join('\n'));
  });

  it('systemd-analyze verify accepts the units', async () => {
    await requireTool('systemd-analyze', 'systemd');
    for (const unit of ['scraper1-1/systemd/promha-scraper1-1-prometheus.service', 'pushgateway1-vip/systemd/promha-pushgateway1-vip-haproxy.service']) {
      const r = await execa('systemd-analyze', ['verify', path.join(out, unit)], { reject: false });
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal(r.stderr.trim(), '');
    }
  });

  it('makes such a runtime directory with mkdir, not RuntimeDirectory= (a list without quoting)', async () => {
    const unit = await readFile(path.join(out, 'pushgateway1-vip/systemd/promha-pushgateway1-vip-haproxy.service'), 'utf8');
    assert.doesNotMatch(unit, /^RuntimeDirectory=/m);
    const pre = /^ExecStartPre=(.*)$/m.exec(unit)?.[1] ?? '';
    assert.deepEqual(parseSystemdCommand(pre), ['/usr/bin/mkdir', '-p', layout.runDir('pushgateway1-vip')]);
  });

  it('haproxy -c accepts the stand-in config, whose stats socket lies under such a path', async () => {
    const r = await execa('haproxy', ['-c', '-f', path.join(out, 'pushgateway1-vip/haproxy.cfg')], { reject: false });
    assert.equal(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
  });
});
