// Headless Chromium (the system's Debian build) driven over CDP by puppeteer-core, plus the
// example's static server with the API forwarded to a reference server.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';
import { startServer } from '../../../examples/browser/serve.mjs';
import { env } from './env.mjs';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/**
 * Opens one page of headless Chromium on `path` (served with the package's browser build under /ifmatch/).
 * Page errors and console errors are collected in `problems` so a test can assert there were none.
 */
export async function openBrowser({ api, path = '/', mounts = {} }) {
  const site = await startServer({ api, mounts });
  const profile = await mkdtemp(join(tmpdir(), 'ifmatch-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: env.chromium,
    headless: true,
    args: [...CHROMIUM_ARGS, `--user-data-dir=${profile}`],
  });
  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    // Chromium logs every 4xx/5xx fetch as a console error; those statuses are the tests' subject.
    const expectedStatus = /^Failed to load resource: the server responded with a status of \d{3}/.test(msg.text());
    if (msg.type() === 'error' && !expectedStatus) problems.push(`console error: ${msg.text()}`);
  });
  await page.goto(`${site.url}${path}`, { waitUntil: 'load' });
  return {
    page,
    site,
    problems,
    async close() {
      await browser.close();
      await site.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
