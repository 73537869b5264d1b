import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { stringify } from 'yaml';
import { parseTopology } from '../src/topology/load.ts';
import { launchChromium } from '../scripts/chromium.ts';
import { FAST_RULES, fastTopology, promha, tempProject, stackSkip } from './helpers.ts';

/*
 * The dashboard of a real `promha up --detach` stack (loopback, 1 s test profile), in
 * Debian's headless Chromium: every member drawn, coloured live from doctor's checks,
 * a stopped member red, and stop/start from the page.
 */

/** A loopback port nothing listens on right now. */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

// Generous bounds: these wait for something to happen; they measure nothing.
const LIVE_MS = 20_000;
const box = (id: string, health?: string) => `g.node[data-id="${id}"]${health ? `[data-health="${health}"]` : ''}`;

describe('dashboard on a live stack (loopback)', { skip: stackSkip('loopback') }, () => {
  const spec = fastTopology();
  const topo = parseTopology('promha.yaml', stringify(spec)).spec;
  const members = [
    ...topo.scrapers.flatMap((s) => s.members),
    ...topo.pushgateways.flatMap((s) => s.members),
    ...topo.federators.members,
    ...topo.alertmanagers.members,
    topo.alertmanagers.backup,
  ].map((m) => m.name);
  let project: Awaited<ReturnType<typeof tempProject>>;
  let stateDir: string;
  let url: string;
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
  let page: Page;
  const run = (...args: string[]) => promha([...args, '--state-dir', stateDir], project.dir);

  before(async () => {
    project = await tempProject({ 'promha.yaml': spec, 'rules/demo.yml': FAST_RULES });
    stateDir = path.join(project.dir, '.promha');
    const listen = `127.0.0.1:${await freePort()}`;
    const up = await run('up', '--network', 'loopback', '--detach', '--dashboard', listen);
    assert.equal(up.exitCode, 0, up.stdout + up.stderr);
    url = `http://${listen}/`;
    assert.ok(up.stdout.includes(`dashboard ${url}`), up.stdout);
    browser = await launchChromium();
    page = await browser.context.newPage();
    await page.goto(url);
  });
  after(async () => {
    await browser?.close();
    await run('down');
    await project.cleanup();
  });

  it('shows every member, each green once doctor passes it', async () => {
    for (const m of members) await page.waitForSelector(box(m, 'ok'), { timeout: LIVE_MS });
    assert.equal(await page.locator('g.node.kind-scraper, g.node.kind-pushgateway, g.node.kind-federator, g.node.kind-alertmanager').count(), members.length);
    for (const m of members) assert.equal(await page.locator(box(m)).locator('text.label').textContent(), m);
    assert.equal(await page.locator('#where').textContent(), 'local stack (loopback)');
  });

  it('marks the VIP holder, the backup and the peer positions', async () => {
    await page.waitForSelector('g.node.kind-pushgateway.vip-holder', { timeout: LIVE_MS });
    assert.equal(await page.locator('g.node.kind-pushgateway.vip-holder').count(), 1);
    const backup = page.locator(box(topo.alertmanagers.backup.name));
    assert.match((await backup.getAttribute('class')) ?? '', /\bbackup\b/);
    // Started last, the backup holds the last of the 3 positions.
    await page.waitForFunction((id) => document.querySelector(`g.node[data-id="${id}"] text.badge`)?.textContent?.includes('position 2'), topo.alertmanagers.backup.name, { timeout: LIVE_MS });
  });

  it('lists the notifications the receiver got', async () => {
    // The always-firing watchdog reaches the receiver once the cluster settles.
    await page.waitForFunction(() => document.querySelector('#notifications tbody')?.textContent?.includes('PromhaWatchdog firing'), undefined, { timeout: 60_000 });
  });

  it('turns a stopped member red within seconds, and starts it again from the page', async () => {
    const victim = 'scraper1-2';
    const stop = await run('stop', victim);
    assert.equal(stop.exitCode, 0, stop.stderr);
    await page.waitForSelector(box(victim, 'down'), { timeout: LIVE_MS });
    const stroke = await page.locator(box(victim)).locator('rect.box').evaluate((r) => getComputedStyle(r).stroke);
    assert.equal(stroke, 'rgb(201, 42, 42)');
    // Its federators saw the fault; it is the scraper's, so they stay green.
    await page.waitForSelector(box('federator1-1', 'ok'), { timeout: LIVE_MS });

    await page.click(box(victim));
    await page.getByRole('button', { name: 'Start' }).click();
    await page.waitForSelector(box(victim, 'ok'), { timeout: LIVE_MS });

    await page.getByRole('button', { name: 'Stop' }).click();
    await page.waitForSelector(box(victim, 'down'), { timeout: LIVE_MS });
    const status = await run('status', '--json');
    assert.equal((JSON.parse(status.stdout) as { members: Array<{ name: string; state: string }> }).members.find((m) => m.name === victim)?.state, 'stopped');
    await page.getByRole('button', { name: 'Start' }).click();
    await page.waitForSelector(box(victim, 'ok'), { timeout: LIVE_MS });
  });

  it('shows the latest drill results', async () => {
    const drill = await run('drill', 'scraper-killed', '-f', 'promha.yaml', '--json');
    assert.equal(drill.exitCode, 0, drill.stdout + drill.stderr);
    await page.waitForFunction(() => document.querySelector('#drills tbody')?.textContent?.includes('scraper-killed (loopback)pass'), undefined, { timeout: LIVE_MS });
  });

  it('shows a chaos campaign while it runs, its active faults, and its outcome', async () => {
    const campaign = run('drill', 'chaos', '-f', 'promha.yaml', '--duration', '1m', '--seed', '5', '--faults', 'kill,pause', '--json');
    await page.waitForFunction(() => /^running \(loopback, seed 5\): \d+ of 60 s, \d+ of \d+ faults injected$/.test(document.querySelector('#chaos-summary')?.textContent ?? ''), undefined, { timeout: 3 * 60_000 });
    await page.waitForFunction(() => /^#\d+ (kill|pause) \S+ since \+\d+ s$/.test(document.querySelector('#chaos-active li')?.textContent ?? ''), undefined, { timeout: 60_000 });
    const r = await campaign;
    const report = JSON.parse(r.stdout) as { schedule: unknown[]; episodes: number; violations: unknown[] };
    assert.equal(r.exitCode, report.violations.length > 0 ? 1 : 0, r.stderr);
    const ended = `${report.schedule.length} faults, ${report.episodes} alert episodes, ${report.violations.length} violation(s)`;
    await page.waitForFunction((text) => document.querySelector('#chaos-summary')?.textContent?.endsWith(text), ended, { timeout: LIVE_MS });
    assert.equal(await page.locator('#chaos-active li').count(), 0);
  });
});
