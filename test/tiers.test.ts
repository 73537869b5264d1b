import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';

describe('test tiers', () => {
  it('every test file belongs to exactly one tier of test/tiers.json', async () => {
    const { fastTools, ...tiers } = JSON.parse(await readFile(path.join(import.meta.dirname, 'tiers.json'), 'utf8')) as Record<string, string[]>;
    assert.deepEqual(Object.keys(tiers), ['unit', 'tools', 'stack']);
    const listed = Object.values(tiers).flat();
    const files = (await readdir(import.meta.dirname)).filter((f) => f.endsWith('.test.ts')).map((f) => f.slice(0, -'.test.ts'.length));
    assert.deepEqual([...listed].sort(), [...files].sort());
    assert.equal(new Set(listed).size, listed.length);
    // test:fast adds these to the unit tier: tools files only.
    for (const f of fastTools ?? []) assert.ok(tiers['tools']?.includes(f), `fastTools: ${f} is not a tools file`);
    assert.ok((fastTools ?? []).length > 0);
  });

  it('every suite of a stack file names its lane (the lanes run at once and must not share addresses)', async () => {
    const tiers = JSON.parse(await readFile(path.join(import.meta.dirname, 'tiers.json'), 'utf8')) as Record<string, string[]>;
    for (const name of tiers['stack'] ?? []) {
      const text = await readFile(path.join(import.meta.dirname, `${name}.test.ts`), 'utf8');
      // Top-level suites: at the margin, or the body of a top-level `for` over stacks or modes.
      const lines = text.split('\n');
      const suites = lines.filter((l, i) => /^describe\(/.test(l) || (/^ {2}describe\(/.test(l) && /^for \(/.test(lines[i - 1] ?? '')));
      assert.ok(suites.length > 0, `${name}: no suite`);
      for (const l of suites) assert.match(l, /skip: stackSkip\(/, `${name}: ${l.trim()}`);
    }
  });
});
