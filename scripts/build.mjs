// `npm run build`: bundles src/ into dist/ with esbuild and copies the dashboard's static
// files. One bundle with a chunk per lazily loaded command starts far faster than one
// module per source file (Node resolves, reads and compiles each file separately). Every
// chunk lands in dist/cli/, one level below the package root as the sources are, so
// paths relative to import.meta.dirname hold in both. The stamp tells bin/promha.js that
// dist/ is at least as new as every source file.
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const root = path.resolve(import.meta.dirname, '..');
const dist = path.join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: { 'cli/main': 'src/cli/main.ts' },
  outdir: dist,
  chunkNames: 'cli/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node18',
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
  // Bundled CommonJS packages call require() for Node's built-in modules.
  banner: { js: "import { createRequire as __promhaRequire } from 'node:module'; const require = __promhaRequire(import.meta.url);" },
});
cpSync(path.join(root, 'src/dashboard/assets'), path.join(dist, 'dashboard/assets'), { recursive: true });
writeFileSync(path.join(dist, '.built'), `${new Date().toISOString()}\n`);
