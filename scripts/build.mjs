// `npm run build`: compiles src/ to dist/ and copies the dashboard's static files. The
// stamp tells bin/promha.js that dist/ is at least as new as every source file.
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
rmSync(path.join(root, 'dist'), { recursive: true, force: true });
execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
cpSync(path.join(root, 'src/dashboard/assets'), path.join(root, 'dist/dashboard/assets'), { recursive: true });
writeFileSync(path.join(root, 'dist/.built'), `${new Date().toISOString()}\n`);
