import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { tempProject } from './helpers.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

/*
 * The package as users get it: `npm pack`, installed without dev dependencies into an
 * empty project, run with npx. It runs the bundle in dist/: no TypeScript, no tsx.
 */
describe('the npm package', () => {
  let project: Awaited<ReturnType<typeof tempProject>>;
  let app: string;
  const npx = (...args: string[]) => execa('npx', ['--no-install', 'promha', ...args], { cwd: app, reject: false, env: { NO_COLOR: '1' } });

  before(async () => {
    project = await tempProject({});
    const packed = await execa('npm', ['pack', '--silent', '--pack-destination', project.dir], { cwd: ROOT });
    const tarball = path.join(project.dir, packed.stdout.trim().split('\n').at(-1) ?? '');
    app = path.join(project.dir, 'app');
    await execa('mkdir', ['-p', app]);
    await writeFile(path.join(app, 'package.json'), '{ "name": "app", "private": true }\n');
    await execa('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error', tarball], { cwd: app });
  });
  after(() => project.cleanup());

  it('installs without the TypeScript tool chain and ships no sources', async () => {
    const modules = await readdir(path.join(app, 'node_modules'));
    for (const dev of ['tsx', 'typescript', 'esbuild', 'playwright-core']) assert.ok(!modules.includes(dev), `${dev} installed`);
    const shipped = await readdir(path.join(app, 'node_modules', 'promha'));
    assert.deepEqual(shipped.filter((f) => !['README.md', 'package.json'].includes(f)).sort(), ['bin', 'dist']);
  });

  it('says its version', async () => {
    const r = await npx('--version');
    assert.equal(r.exitCode, 0, r.stderr);
    const { version } = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(r.stdout.trim(), version);
  });

  it('runs init, check and render with npx', async () => {
    const init = await npx('init');
    assert.equal(init.exitCode, 0, init.stderr);
    const check = await npx('check', '--release', 'bookworm');
    assert.equal(check.exitCode, 0, check.stderr);
    assert.match(check.stdout, /promha\.yaml: no problems found for bookworm/);
    const render = await npx('render', '--out', 'out', '--release', 'sid');
    assert.equal(render.exitCode, 0, render.stderr);
    assert.ok((await readdir(path.join(app, 'out'))).includes('federator1-1'));
    const bad = await npx('check', 'missing.yaml');
    assert.equal(bad.exitCode, 2);
    assert.doesNotMatch(bad.stderr, /at .*\.js:\d+/, 'no stack trace');
  });
});
