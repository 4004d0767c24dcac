// The live-conflicts page (examples/browser/conflicts.html) in headless Chromium: the page's
// subscription (SSE over fetch, through serve.mjs) shows a conflict as two writers collide, then
// its resolution. Saves a screenshot.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openBrowser } from '../support/browser.mjs';
import { env } from '../support/env.mjs';

let browser;
before(async () => {
  browser = await openBrowser({ api: env.url, path: '/conflicts.html' });
});
after(async () => {
  await browser?.close();
});

const events = () => [...document.querySelectorAll('#events li')].map((li) => [li.className, li.textContent]);

test('the page shows a conflict as it happens, then its resolution, and stops on abort', async () => {
  const { page, problems } = browser;
  await page.waitForFunction(() => document.body.dataset.state === 'listening', { timeout: 15_000 });
  // Let the subscription connect before the writers collide: it sees live events only.
  await new Promise((done) => setTimeout(done, 500));
  await page.click('#collide');
  await page.waitForFunction(() => document.querySelector('#events li.conflict'), { timeout: 15_000 });
  await page.waitForFunction(() => !document.getElementById('resolve').disabled, { timeout: 5_000 });
  await page.click('#resolve');
  await page.waitForFunction(() => document.querySelector('#events li.resolved'), { timeout: 15_000 });
  await page.screenshot({ path: join(env.output, 'browser-conflicts.png'), fullPage: true });
  const shown = await page.evaluate(events);
  const conflict = shown.find(([kind]) => kind === 'conflict');
  const resolved = shown.find(([kind]) => kind === 'resolved');
  assert.match(conflict[1], /PUT \/items\/\S+ refused \(412 precondition-failed\)/);
  const id = conflict[1].match(/(c-\d+)/)[1];
  assert.match(resolved[1], new RegExp(`^${id} resolved: theirs`));
  await page.click('#stop');
  await page.waitForFunction(() => document.body.dataset.state === 'stopped', { timeout: 5_000 });
  assert.deepEqual(problems, []);
});
