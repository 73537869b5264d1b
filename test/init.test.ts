import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { promha, tempProject } from './helpers.ts';

describe('promha init', () => {
  it("writes the seed's exact topology, referencing the JSON Schema on its first line", async () => {
    const p = await tempProject({});
    try {
      const r = await promha(['init'], p.dir);
      assert.equal(r.exitCode, 0, r.stderr);
      const text = await readFile(path.join(p.dir, 'promha.yaml'), 'utf8');
      assert.equal(text.split('\n')[0], '# yaml-language-server: $schema=promha.schema.json');
      const t = parse(text);
      assert.deepEqual(t.scrapers.map((s: any) => s.members.map((m: any) => m.name)), [
        ['scraper1-1', 'scraper1-2'], ['scraper2-1', 'scraper2-2'], ['scraper3-1', 'scraper3-2'], ['scraper4-1', 'scraper4-2'],
      ]);
      assert.deepEqual(t.pushgateways.map((s: any) => s.members.map((m: any) => m.name)), [
        ['pushgateway1-1', 'pushgateway1-2'], ['pushgateway2-1', 'pushgateway2-2'],
      ]);
      assert.deepEqual(t.federators.members.map((m: any) => m.name), ['federator1-1', 'federator1-2']);
      assert.deepEqual(t.alertmanagers.members.map((m: any) => m.name), ['alertmanager1-1', 'alertmanager1-2']);
      assert.equal(t.alertmanagers.backup.name, 'alertmanager1-3');
      const check = await promha(['check'], p.dir);
      assert.equal(check.exitCode, 0, check.stdout + check.stderr);
      assert.match(check.stdout, /no problems found/);
    } finally {
      await p.cleanup();
    }
  });

  it('never overwrites an existing file', async () => {
    const p = await tempProject({ 'promha.yaml': '# mine\n' });
    try {
      const r = await promha(['init'], p.dir);
      assert.equal(r.exitCode, 1);
      assert.match(r.stderr, /already exists/);
      assert.equal(await readFile(path.join(p.dir, 'promha.yaml'), 'utf8'), '# mine\n');
    } finally {
      await p.cleanup();
    }
  });

  it('exports a draft-7 JSON Schema that knows the seed vocabulary', async () => {
    const p = await tempProject({});
    try {
      const r = await promha(['schema', '--out', 'promha.schema.json'], p.dir);
      assert.equal(r.exitCode, 0, r.stderr);
      const schema = JSON.parse(await readFile(path.join(p.dir, 'promha.schema.json'), 'utf8'));
      assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
      assert.deepEqual(Object.keys(schema.properties).sort(), ['$schema', 'alertmanagers', 'exporters', 'federators', 'intervals', 'lookback_delta', 'pushgateways', 'release', 'scrapers', 'security', 'version']);
      assert.deepEqual(schema.properties.release.enum, ['bookworm', 'trixie', 'sid']);
      assert.equal(schema.properties.alertmanagers.additionalProperties, false);
      assert.ok(schema.properties.alertmanagers.required.includes('backup'));
    } finally {
      await p.cleanup();
    }
  });
});

describe('promha render', () => {
  it('refuses to write into a directory it did not create, and leaves it untouched', async () => {
    const p = await tempProject({ 'out/notes.txt': 'keep me' });
    try {
      await promha(['init'], p.dir);
      const r = await promha(['render', '--out', 'out'], p.dir);
      assert.equal(r.exitCode, 2);
      assert.match(r.stderr, /not written by promha render/);
      assert.equal(await readFile(path.join(p.dir, 'out/notes.txt'), 'utf8'), 'keep me');
    } finally {
      await p.cleanup();
    }
  });

  it('re-renders over its own output, and refuses a topology with errors', async () => {
    const p = await tempProject({});
    try {
      await promha(['init'], p.dir);
      assert.equal((await promha(['render', '--out', 'out'], p.dir)).exitCode, 0);
      assert.equal((await promha(['render', '--out', 'out'], p.dir)).exitCode, 0);
      const file = path.join(p.dir, 'promha.yaml');
      await writeFile(file, (await readFile(file, 'utf8')).replace('scrape: 30s', 'scrape: 3m'));
      const r = await promha(['render', '--out', 'out2'], p.dir);
      assert.equal(r.exitCode, 1);
      assert.match(r.stderr, /PH201/);
    } finally {
      await p.cleanup();
    }
  });
});
