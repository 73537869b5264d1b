#!/usr/bin/env node
// Runs the compiled JavaScript in dist/ (`npm run build`). In a source checkout where a
// file under src/ is newer than the build, it runs the TypeScript sources through tsx
// instead, so an edit never runs stale code. The process wiring lives here alone;
// src/cli/main.ts runs a command line in-process.
import { existsSync, readdirSync, statSync } from 'node:fs';

const root = new URL('..', import.meta.url);
const stamp = new URL('dist/.built', root);
const sources = new URL('src', root);

/** The newest modification time under a directory, in ms. */
function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) t = Math.max(t, statSync(`${e.parentPath}/${e.name}`).mtimeMs);
  return t;
}

const built = existsSync(stamp) && (!existsSync(sources) || newest(sources) <= statSync(stamp).mtimeMs);
let main;
if (built) ({ main } = await import(new URL('dist/cli/main.js', root).href));
else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(new URL('src/cli/main.ts', root).href));
}
process.exitCode = await main(process.argv.slice(2));
