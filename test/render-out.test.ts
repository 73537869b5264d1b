import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { ExitError } from '../src/errors.ts';
import { RENDER_MARKER } from '../src/render/render-marker.ts';
import { displayName } from '../src/render/display-name.ts';
import { writeTree, type TreeFile } from '../src/render/write.ts';
import { FAST_RULES, fastTopology, promha, requireTool, tempProject } from './helpers.ts';

/*
 * `render --out DIR` replaces DIR only when it holds exactly what an earlier render
 * wrote (its marker lists every file with its SHA-256): it never deletes a file it did
 * not write. A write that fails ends in a clear exit-2 message, never a hang, and leaves
 * nothing half-written beside DIR. Tests run as root, so permissions stop nothing: the
 * write errors come from /proc, /sys, a file in the way and `chattr +i`.
 */

const TREE: TreeFile[] = [
  { path: 'plan.json', content: '{}\n' },
  { path: 'scraper1-1/prometheus.yml', content: 'global: {}\n' },
  { path: 'scraper1-1/install.sh', content: '#!/bin/bash\n', mode: 0o755 },
];

async function rejectsWithExit(p: Promise<unknown>, code: number, message: RegExp): Promise<ExitError> {
  let caught: unknown;
  await p.then(
    () => assert.fail('expected a refusal'),
    (e: unknown) => {
      caught = e;
    },
  );
  assert.ok(caught instanceof ExitError, `not an ExitError: ${String(caught)}`);
  assert.equal(caught.code, code);
  assert.match(caught.message, message);
  return caught;
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Everything beside `dir` in its parent: a failed write leaves no temporary tree. */
const siblings = async (dir: string) => (await readdir(path.dirname(dir))).filter((e) => e !== path.basename(dir)).sort();

/** `chattr +i` on `dir`; a missing chattr or privilege fails the test with the reason. */
async function lockImmutable(dir: string): Promise<void> {
  await requireTool('chattr', 'e2fsprogs');
  const lock = await execa('chattr', ['+i', dir], { reject: false });
  assert.equal(lock.exitCode, 0, `chattr +i needs root (CAP_LINUX_IMMUTABLE) and a file system with the flag: ${lock.stderr}`);
}

describe('render --out: what it replaces', () => {
  let project: Awaited<ReturnType<typeof tempProject>>;
  before(async () => {
    project = await tempProject({});
  });
  after(() => project.cleanup());

  it('writes a new directory with a marker that lists every file and its SHA-256', async () => {
    const out = path.join(project.dir, 'new');
    const written = await writeTree(out, TREE);
    assert.equal(written.length, TREE.length);
    const marker = JSON.parse(await readFile(path.join(out, RENDER_MARKER), 'utf8')) as { generator: string; files: Record<string, string> };
    assert.equal(marker.generator, 'promha render');
    assert.deepEqual(Object.keys(marker.files).sort(), TREE.map((f) => f.path).sort());
    assert.equal(marker.files['plan.json'], createHash('sha256').update('{}\n').digest('hex'));
    assert.equal((await stat(path.join(out, 'scraper1-1/install.sh'))).mode & 0o777, 0o755);
  });

  it('replaces its own earlier render, dropping files the new one no longer has', async () => {
    const out = path.join(project.dir, 'again');
    await writeTree(out, TREE);
    await writeTree(out, TREE.slice(0, 2));
    await assert.rejects(stat(path.join(out, 'scraper1-1/install.sh')));
    assert.deepEqual(await siblings(out), ['new']);
  });

  it('replaces an earlier render from which a file was deleted: nothing is lost', async () => {
    const out = path.join(project.dir, 'deleted');
    await writeTree(out, TREE);
    await rm(path.join(out, 'plan.json'));
    await writeTree(out, TREE);
    assert.equal(await readFile(path.join(out, 'plan.json'), 'utf8'), '{}\n');
  });

  // Any plan.json or kustomization.yaml once counted as proof that promha wrote a directory.
  for (const [what, files] of [
    ['a Terraform folder with a plan.json', { 'plan.json': '{"format_version":"1.2"}', 'main.tf': 'terraform {}\n' }],
    ['a kustomize overlay', { 'kustomization.yaml': 'resources: []\n', 'patch.yaml': 'kind: Deployment\n' }],
    ['a directory with a marker that is no marker of promha', { [RENDER_MARKER]: '{"generator":"something else"}', 'notes.txt': 'x' }],
  ] as const)
    it(`refuses ${what} and deletes nothing`, async () => {
      const out = path.join(project.dir, what.replace(/\W+/g, '-'));
      for (const [name, content] of Object.entries(files)) {
        await mkdir(out, { recursive: true });
        await writeFile(path.join(out, name), content);
      }
      await rejectsWithExit(writeTree(out, TREE), 2, /not written by promha render, and nothing in it is deleted\n\s+fix: choose another --out/);
      assert.deepEqual((await readdir(out)).sort(), Object.keys(files).sort());
    });

  it('refuses an earlier render that now holds a file of someone else, and names it', async () => {
    const out = path.join(project.dir, 'added');
    await writeTree(out, TREE);
    await writeFile(path.join(out, 'scraper1-1/notes.txt'), 'mine\n');
    await mkdir(path.join(out, 'backup/deep'), { recursive: true });
    await writeFile(path.join(out, 'backup/deep/x'), 'mine\n');
    const e = await rejectsWithExit(writeTree(out, TREE), 2, /holds files that render would delete/);
    assert.match(e.message, /not written by promha render:\n\s+backup\/\n\s+scraper1-1\/notes\.txt\n/);
    assert.equal(await readFile(path.join(out, 'scraper1-1/notes.txt'), 'utf8'), 'mine\n');
    assert.equal(await readFile(path.join(out, 'backup/deep/x'), 'utf8'), 'mine\n');
  });

  it('refuses an earlier render with a file edited since, and names it', async () => {
    const out = path.join(project.dir, 'edited');
    await writeTree(out, TREE);
    await writeFile(path.join(out, 'scraper1-1/prometheus.yml'), 'global: {scrape_interval: 1s}\n');
    const e = await rejectsWithExit(writeTree(out, TREE), 2, /changed since promha render wrote them:\n\s+scraper1-1\/prometheus\.yml/);
    assert.match(e.message, /fix: move these files out/);
    assert.match(await readFile(path.join(out, 'scraper1-1/prometheus.yml'), 'utf8'), /1s/);
  });

  it('writes into an empty directory, and a path with a trailing slash', async () => {
    const out = path.join(project.dir, 'empty');
    await mkdir(out);
    await writeTree(`${out}/`, TREE);
    assert.ok((await readdir(out)).includes(RENDER_MARKER));
  });
});

describe('render --out: names of any bytes are listed whole, on one line, with the right reason', () => {
  let project: Awaited<ReturnType<typeof tempProject>>;
  before(async () => {
    project = await tempProject({});
  });
  after(() => project.cleanup());

  // A name is bytes: each must come back as one escaped line that tells the bytes on disk.
  for (const [what, name, shown] of [
    ['a name that is no UTF-8 (once: "a part of the path does not exist")', Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2e, 0x74, 0x78, 0x74]), '"scraper1-1/caf\\xe9.txt"'],
    ['a name with a newline (once listed cut off)', Buffer.from('a\nb.txt'), '"scraper1-1/a\\nb.txt"'],
    ['a name with a tab and a carriage return', Buffer.from('x\ty\r'), '"scraper1-1/x\\ty\\r"'],
    ['a name with a terminal escape sequence', Buffer.from('\x1b[2Jclear'), '"scraper1-1/\\u001b[2Jclear"'],
    ['a name with a bidi override (shown reversed)', Buffer.from('txt.\u202eexe'), '"scraper1-1/txt.\\u202eexe"'],
    ['a name with a quote and a backslash', Buffer.from('say "hi"\\'), '"scraper1-1/say \\"hi\\"\\\\"'],
    ['a name with a trailing space', Buffer.from('notes '), '"scraper1-1/notes "'],
    ['a UTF-8 name with no such character, as it is', Buffer.from('Übersicht.txt'), 'scraper1-1/Übersicht.txt'],
  ] as const)
    it(`${what}: listed as ${shown}, nothing deleted`, async () => {
      const out = path.join(project.dir, what.replace(/\W+/g, '-'));
      await writeTree(out, TREE);
      const file = Buffer.concat([Buffer.from(`${out}/scraper1-1/`), name]);
      await writeFile(file, 'mine\n');
      const e = await rejectsWithExit(writeTree(out, TREE), 2, /holds files that render would delete:\n {2}not written by promha render:\n/);
      const lines = e.message.split('\n');
      // The whole path is quoted, as ls quotes it: one string to copy.
      assert.ok(lines.includes(`    ${shown}`), e.message);
      assert.equal(lines.length, 4, 'one line for the name');
      assert.doesNotMatch(e.message, /ENOENT|does not exist/);
      assert.equal(await readFile(file, 'utf8'), 'mine\n');
    });

  it('a directory whose name is no UTF-8 is named once, with what is inside it kept', async () => {
    const out = path.join(project.dir, 'bad-dir');
    await writeTree(out, TREE);
    const dir = Buffer.concat([Buffer.from(`${out}/`), Buffer.from([0xff, 0x41])]);
    await mkdir(dir);
    await writeFile(Buffer.concat([dir, Buffer.from('/inside')]), 'mine\n');
    const e = await rejectsWithExit(writeTree(out, TREE), 2, /not written by promha render:\n {4}"\\xffA"\/\n\s+fix:/);
    assert.doesNotMatch(e.message, /inside/);
    assert.equal(await readFile(Buffer.concat([dir, Buffer.from('/inside')]), 'utf8'), 'mine\n');
  });

  it('displayName: plain names as they are, every other one quoted and byte-exact', () => {
    for (const [name, shown] of [
      ['plain/name-1.yml', 'plain/name-1.yml'],
      ['ünïcode', 'ünïcode'],
      ['', ''],
      ['a\u2028b', '"a\\u2028b"'],
      ['zero\u200bwidth', '"zero\\u200bwidth"'],
      ['tag\u{e0001}', '"tag\\u{e0001}"'],
      ['\x7f', '"\\u007f"'],
      [' lead', '" lead"'],
    ] as const)
      assert.equal(displayName(name), shown, JSON.stringify(name));
    assert.equal(displayName(Buffer.from([0x80, 0x22, 0x5c, 0x0a, 0x41])), '"\\x80\\"\\\\\\nA"');
    // Valid UTF-8 with a U+FFFD of its own stays as it is: only bytes that are no UTF-8 are escaped.
    assert.equal(displayName(Buffer.from('a\ufffdb')), 'a\ufffdb');
  });
});

describe('render --out through a symbolic link: the directory behind it, never the link', () => {
  let project: Awaited<ReturnType<typeof tempProject>>;
  before(async () => {
    project = await tempProject({});
  });
  after(() => project.cleanup());

  for (const [what, prepare] of [
    ['an earlier render', (target: string) => writeTree(target, TREE.slice(0, 1))],
    ['an empty directory', (target: string) => mkdir(target)],
  ] as const)
    it(`a link to ${what}: the new tree is swapped in behind the link, and the link stays`, async () => {
      const base = path.join(project.dir, what.replace(/\W+/g, '-'));
      const target = path.join(base, 'real');
      const link = path.join(base, 'current');
      await mkdir(base);
      await prepare(target);
      await symlink('real', link);
      const written = await writeTree(`${link}/`, TREE);
      assert.ok((await lstat(link)).isSymbolicLink(), 'the link is still a link');
      assert.equal(await readlink(link), 'real');
      assert.equal(await readFile(path.join(target, 'scraper1-1/prometheus.yml'), 'utf8'), 'global: {}\n');
      assert.ok(written.every((f) => f.startsWith(`${link}/`)), written.join(' '));
      assert.deepEqual((await readdir(base)).sort(), ['current', 'real'], 'no temporary tree left');
    });

  it('a link to nothing: exit 2 naming the link and where it points, and the link stays', async () => {
    const link = path.join(project.dir, 'dangling');
    await symlink('nowhere', link);
    await rejectsWithExit(writeTree(link, TREE), 2, /^\S+dangling is a symbolic link to nowhere, which does not exist: render writes into the directory a link points to, and replaces no link\n\s+fix: create the directory/);
    assert.equal(await readlink(link), 'nowhere');
    assert.deepEqual((await readdir(project.dir)).filter((e) => e.startsWith('dangling')), ['dangling']);
  });

  it('a link to a directory of someone else: refused as that directory is, both named, nothing deleted', async () => {
    const theirs = path.join(project.dir, 'theirs');
    await mkdir(theirs);
    await writeFile(path.join(theirs, 'main.tf'), 'terraform {}\n');
    const link = path.join(project.dir, 'to-theirs');
    await symlink(theirs, link);
    await rejectsWithExit(writeTree(link, TREE), 2, new RegExp(`^${escape(link)} \\(a link to ${escape(theirs)}\\) is not empty and holds no \\.promha-render`));
    assert.deepEqual(await readdir(theirs), ['main.tf']);
    assert.ok((await lstat(link)).isSymbolicLink());
  });

  it('a link to a file: exit 2, not a directory', async () => {
    const file = path.join(project.dir, 'a-file');
    await writeFile(file, 'x');
    const link = path.join(project.dir, 'to-file');
    await symlink(file, link);
    await rejectsWithExit(writeTree(link, TREE), 2, /\(a link to \S+a-file\) exists and is not a directory/);
    assert.equal(await readFile(file, 'utf8'), 'x');
  });
});

describe('render --out: write errors end in exit 2, never a hang, never a half-written tree', () => {
  let project: Awaited<ReturnType<typeof tempProject>>;
  before(async () => {
    project = await tempProject({});
  });
  after(() => project.cleanup());

  it('--out "" is refused', async () => {
    await rejectsWithExit(writeTree('', TREE), 2, /^--out is empty\n\s+fix:/);
  });

  // Node's recursive mkdir spun at 100% CPU forever under /proc, where mkdir answers ENOENT:
  // the test's timeout stands for "never a hang" (how fast the error comes is bench/'s).
  for (const [out, why] of [
    ['/proc/promha-out', /does not exist and cannot be created there \[ENOENT\]/],
    ['/proc/self/promha-out', /\[ENOENT\]/],
    ['/sys/promha-out', /operation not permitted.*\[EPERM\]/],
  ] as const)
    it(`${out}: a clear error, never a hang`, { timeout: 30_000 }, async () => {
      await rejectsWithExit(writeTree(out, TREE), 2, new RegExp(`^cannot write ${out}: .*${why.source}`));
    });

  it('a read-only file system (a tmpfs mounted ro)', async () => {
    const mountPoint = path.join(project.dir, 'ro');
    await mkdir(mountPoint);
    await requireTool('mount', 'mount');
    const mounted = await execa('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', mountPoint], { reject: false });
    assert.equal(mounted.exitCode, 0, `mounting a tmpfs needs root (CAP_SYS_ADMIN): ${mounted.stderr}`);
    try {
      await rejectsWithExit(writeTree(path.join(mountPoint, 'out'), TREE), 2, /^cannot write .*: read-only file system \[EROFS\]/);
    } finally {
      await execa('umount', [mountPoint]);
    }
  });

  it('a file in place of a parent directory', async () => {
    const file = path.join(project.dir, 'a-file');
    await writeFile(file, 'x');
    await rejectsWithExit(writeTree(path.join(file, 'out'), TREE), 2, /a part of the path is a file, not a directory \[ENOTDIR\]/);
  });

  it('a file in place of the directory', async () => {
    const file = path.join(project.dir, 'file-out');
    await writeFile(file, 'x');
    await rejectsWithExit(writeTree(file, TREE), 2, /exists and is not a directory/);
    assert.equal(await readFile(file, 'utf8'), 'x');
  });

  it('an immutable parent directory (chattr +i): exit 2, and its earlier render stays', async () => {
    const parent = path.join(project.dir, 'immutable');
    const out = path.join(parent, 'out');
    await mkdir(parent);
    await writeTree(out, TREE);
    await lockImmutable(parent);
    try {
      await rejectsWithExit(writeTree(out, TREE.slice(0, 1)), 2, /^cannot write .*operation not permitted.*\[EPERM\]/);
      assert.deepEqual((await readdir(parent)).sort(), ['out']);
      assert.equal(await readFile(path.join(out, 'scraper1-1/install.sh'), 'utf8'), '#!/bin/bash\n');
    } finally {
      await execa('chattr', ['-i', parent]);
    }
  });

  it('an immutable earlier render, which cannot be moved away: exit 2, the temporary tree is removed', async () => {
    // The new tree is written beside it; the swap then fails.
    const out = path.join(project.dir, 'locked-out');
    await writeTree(out, TREE);
    await lockImmutable(out);
    try {
      await rejectsWithExit(writeTree(out, TREE.slice(0, 1)), 2, /^cannot write /);
      assert.deepEqual((await siblings(out)).filter((e) => e.includes('promha-tmp')), [], 'the temporary tree is removed');
      assert.equal(await readFile(path.join(out, 'scraper1-1/install.sh'), 'utf8'), '#!/bin/bash\n');
    } finally {
      await execa('chattr', ['-i', out]);
    }
  });
});

describe('promha render at the process boundary', () => {
  // The timeout stands for "never a hang"; how fast is bench/'s.
  it('exits 2 with one clear line for --out under /proc and for an empty --out, never a hang and without a stack trace', { timeout: 120_000 }, async () => {
    const project = await tempProject({ 'promha.yaml': fastTopology(), 'rules/demo.yml': FAST_RULES });
    try {
      for (const [out, message] of [
        ['/proc/promha-out', /^cannot write \/proc\/promha-out: /],
        ['', /^--out is empty$/m],
      ] as const) {
        const r = await promha(['render', '--out', out], project.dir);
        assert.equal(r.exitCode, 2, r.stderr);
        assert.match(r.stderr, message);
        assert.doesNotMatch(r.stderr, /unexpected error|^\s+at /m);
      }
      assert.deepEqual((await readdir(project.dir)).sort(), ['promha.yaml', 'rules']);
    } finally {
      await project.cleanup();
    }
  });
});
