import assert from 'node:assert/strict';
import { constants } from 'node:fs';
import { access, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
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
  const npx = (...args: string[]) => execa('npx', ['--no-install', 'promha', ...args], { cwd: app, reject: false, timeout: 120_000, env: { NO_COLOR: '1' } });

  before(async () => {
    project = await tempProject({});
    // --ignore-scripts: prepack would rebuild dist/ while the stack lanes run bin/promha.js
    // from it; the build ran once before the tests (npm test's pretest).
    const packed = await execa('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', project.dir], { cwd: ROOT, timeout: 120_000 });
    const tarball = path.join(project.dir, packed.stdout.trim().split('\n').at(-1) ?? '');
    app = path.join(project.dir, 'app');
    await execa('mkdir', ['-p', app]);
    await writeFile(path.join(app, 'package.json'), '{ "name": "app", "private": true }\n');
    // --offline: the dependencies come from npm's cache, which the install step's `npm ci` filled; tests never fetch.
    const install = await execa('npm', ['install', '--offline', '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error', tarball], { cwd: app, reject: false, timeout: 180_000 });
    assert.equal(install.exitCode, 0, `npm install --offline of the packed tarball failed (is npm's cache filled? run \`bash scripts/install-deps.sh\`):\n${install.stderr}`);
  });
  after(() => project.cleanup());

  it('packs the dist/ the build made, not a stale or missing one', async () => {
    const built = await readdir(path.join(ROOT, 'dist'));
    assert.deepEqual((await readdir(path.join(app, 'node_modules', 'promha', 'dist'))).sort(), built.sort());
  });

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

  /*
   * Debian's own nodejs of each release, fetched with its libraries by install-deps
   * (scripts/fetch-node.sh) and run through that release's loader: the bundle targets the
   * oldest (Debian 12's 18), and none of them needs anything but what Debian ships.
   */
  for (const [release, major] of [['bookworm', 18], ['trixie', 20], ['sid', 24]] as const)
    it(`runs check and render under ${release}'s nodejs ${major}`, async () => {
      const node = path.join(ROOT, '.test-cache', `node-${release}`, 'node');
      await access(node, constants.X_OK).catch(() => assert.fail(`no ${release} nodejs at ${node}: run \`bash scripts/install-deps.sh\` (as root: it runs in a mount namespace of its own)`));
      const cli = path.join(app, 'node_modules', 'promha', 'bin', 'promha.js');
      const dir = await mkdtemp(path.join(project.dir, `${release}-`));
      const run = (...args: string[]) => execa(node, [cli, ...args], { cwd: dir, reject: false, timeout: 120_000, env: { NO_COLOR: '1' } });
      const version = await execa(node, ['-p', 'process.versions.node'], { reject: false, timeout: 60_000 });
      assert.equal(version.exitCode, 0, version.stderr);
      assert.match(version.stdout.trim(), new RegExp(`^${major}\\.`));
      const init = await run('init');
      assert.equal(init.exitCode, 0, init.stderr);
      const check = await run('check', '--release', 'sid');
      assert.equal(check.exitCode, 0, check.stdout + check.stderr);
      assert.match(check.stdout, /promha\.yaml: no problems found for sid$/);
      const render = await run('render', '--out', 'out', '--release', 'bookworm');
      assert.equal(render.exitCode, 0, render.stderr);
      assert.ok((await readdir(path.join(dir, 'out'))).includes('federator1-1'));
      const bad = await run('check', 'missing.yaml');
      assert.equal(bad.exitCode, 2);
      assert.doesNotMatch(bad.stderr, /at .*\.js:\d+|unexpected error/, 'a clear error, no stack trace');
    });
});
