import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { ExitError } from '../src/errors.ts';
import { RENDER_MARKER } from '../src/render/render-marker.ts';
import { writeTree, type TreeFile } from '../src/render/write.ts';
import { FAST_RULES, fastTopology, promha, tempProject } from './helpers.ts';

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

/** Everything beside `dir` in its parent: a failed write leaves no temporary tree. */
const siblings = async (dir: string) => (await readdir(path.dirname(dir))).filter((e) => e !== path.basename(dir)).sort();

const hasChattr = (await execa('chattr', ['--help'], { reject: false })).exitCode !== undefined && process.getuid?.() === 0;

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

describe('render --out: write errors end in exit 2, never a hang, never a half-written tree', () => {
  let project: Awaited<ReturnType<typeof tempProject>>;
  before(async () => {
    project = await tempProject({});
  });
  after(() => project.cleanup());

  it('--out "" is refused', async () => {
    await rejectsWithExit(writeTree('', TREE), 2, /^--out is empty\n\s+fix:/);
  });

  // Node's recursive mkdir spun at 100% CPU forever under /proc, where mkdir answers ENOENT.
  for (const [out, why] of [
    ['/proc/promha-out', /does not exist and cannot be created there \[ENOENT\]/],
    ['/proc/self/promha-out', /\[ENOENT\]/],
    ['/sys/promha-out', /operation not permitted.*\[EPERM\]/],
  ] as const)
    it(`${out}: a clear error, at once`, async () => {
      const started = Date.now();
      await rejectsWithExit(writeTree(out, TREE), 2, new RegExp(`^cannot write ${out}: .*${why.source}`));
      assert.ok(Date.now() - started < 2000);
    });

  it('a read-only file system (a tmpfs mounted ro)', async (t) => {
    const mountPoint = path.join(project.dir, 'ro');
    await mkdir(mountPoint);
    const mounted = await execa('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', mountPoint], { reject: false });
    if (mounted.exitCode !== 0) return t.skip(`cannot mount a tmpfs here: ${mounted.stderr}`);
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

  it('an immutable parent directory (chattr +i): exit 2, and its earlier render stays', { skip: !hasChattr && 'needs chattr and root' }, async () => {
    const parent = path.join(project.dir, 'immutable');
    const out = path.join(parent, 'out');
    await mkdir(parent);
    await writeTree(out, TREE);
    const lock = await execa('chattr', ['+i', parent], { reject: false });
    assert.equal(lock.exitCode, 0, lock.stderr);
    try {
      await rejectsWithExit(writeTree(out, TREE.slice(0, 1)), 2, /^cannot write .*operation not permitted.*\[EPERM\]/);
      assert.deepEqual((await readdir(parent)).sort(), ['out']);
      assert.equal(await readFile(path.join(out, 'scraper1-1/install.sh'), 'utf8'), '#!/bin/bash\n');
    } finally {
      await execa('chattr', ['-i', parent]);
    }
  });

  it('an immutable earlier render, which cannot be moved away: exit 2, the temporary tree is removed', { skip: !hasChattr && 'needs chattr and root' }, async () => {
    // The new tree is written beside it; the swap then fails.
    const out = path.join(project.dir, 'locked-out');
    await writeTree(out, TREE);
    const lock = await execa('chattr', ['+i', out], { reject: false });
    assert.equal(lock.exitCode, 0, lock.stderr);
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
  it('exits 2 with one clear line for --out under /proc and for an empty --out, at once and without a stack trace', async () => {
    const project = await tempProject({ 'promha.yaml': fastTopology(), 'rules/demo.yml': FAST_RULES });
    try {
      for (const [out, message] of [
        ['/proc/promha-out', /^cannot write \/proc\/promha-out: /],
        ['', /^--out is empty$/m],
      ] as const) {
        const started = Date.now();
        const r = await promha(['render', '--out', out], project.dir);
        assert.equal(r.exitCode, 2, r.stderr);
        assert.match(r.stderr, message);
        assert.doesNotMatch(r.stderr, /unexpected error|^\s+at /m);
        assert.ok(Date.now() - started < 15_000);
      }
      assert.deepEqual((await readdir(project.dir)).sort(), ['promha.yaml', 'rules']);
    } finally {
      await project.cleanup();
    }
  });
});
