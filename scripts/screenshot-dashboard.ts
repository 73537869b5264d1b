// Takes the README's dashboard screenshot from a running stack of the seed's topology
// (1 s test profile, loopback): one drill run, one scraper member stopped and selected.
// Starts a stack, so run it under the machine-wide lock:
//   flock /tmp/promha-stack.lock node --import tsx scripts/screenshot-dashboard.ts [docs/dashboard.png]
import path from 'node:path';
import { execa } from 'execa';
import { FAST_RULES, fastSeed, tempProject } from '../test/helpers.ts';
import { launchChromium } from './chromium.ts';

const out = path.resolve(process.argv[2] ?? 'docs/dashboard.png');
const bin = path.resolve(import.meta.dirname, '../bin/promha.js');
const listen = '127.0.0.1:9797';
const stopped = 'scraper4-2';

const project = await tempProject({ 'promha.yaml': fastSeed(), 'rules/demo.yml': FAST_RULES });
const promha = (...args: string[]) => execa('node', [bin, ...args, '--state-dir', '.promha'], { cwd: project.dir, stdio: 'inherit' });
try {
  await promha('up', '--network', 'loopback', '--detach', '--dashboard', listen);
  await promha('drill', 'scraper-killed');
  await promha('stop', stopped);
  const browser = await launchChromium({ width: 1440, height: 900 });
  try {
    const page = await browser.context.newPage();
    await page.goto(`http://${listen}/`);
    await page.waitForSelector(`g.node[data-id="${stopped}"][data-health="down"]`, { timeout: 30_000 });
    await page.waitForFunction(() => document.querySelector('#notifications tbody')?.textContent?.includes('PromhaScraperMemberDown'), undefined, { timeout: 60_000 });
    await page.click(`g.node[data-id="${stopped}"]`);
    await page.waitForTimeout(2000);
    await page.screenshot({ path: out, fullPage: true });
    process.stdout.write(`wrote ${out}\n`);
  } finally {
    await browser.close();
  }
} finally {
  await promha('down').catch(() => undefined);
  await project.cleanup();
}
