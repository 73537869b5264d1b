// `npm run test:unit|test:tools|test:stack`: one tier of test/tiers.json. Unit tests are
// pure and in-process; tools tests run real validators and binaries; stack tests start
// whole stacks. One file runs at a time: stack tests share loopback addresses and ports.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const tiers = JSON.parse(readFileSync(path.join(root, 'test/tiers.json'), 'utf8'));
const tier = process.argv[2];
if (!tiers[tier]) {
  console.error(`usage: test-tier.mjs ${Object.keys(tiers).join('|')}`);
  process.exit(2);
}
const files = tiers[tier].map((name) => `test/${name}.test.ts`);
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...files], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
