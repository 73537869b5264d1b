import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';

describe('test tiers', () => {
  it('every test file belongs to exactly one tier of test/tiers.json', async () => {
    const tiers = JSON.parse(await readFile(path.join(import.meta.dirname, 'tiers.json'), 'utf8')) as Record<string, string[]>;
    const listed = Object.values(tiers).flat();
    const files = (await readdir(import.meta.dirname)).filter((f) => f.endsWith('.test.ts')).map((f) => f.slice(0, -'.test.ts'.length));
    assert.deepEqual([...listed].sort(), [...files].sort());
    assert.equal(new Set(listed).size, listed.length);
  });
});
