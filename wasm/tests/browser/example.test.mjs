// The browser example (examples/browser/) in headless Chromium against the reference server:
// two editors race, the page shows the conflict and the merged result. Saves a screenshot.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openBrowser } from '../support/browser.mjs';
import { env } from '../support/env.mjs';

let browser;
before(async () => {
  browser = await openBrowser({ api: env.url, path: '/' });
});
after(async () => {
  await browser?.close();
});

test('two editors race; the page shows one refused write, the conflict and the merged document', async () => {
  const { page, problems } = browser;
  await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state), { timeout: 15_000 });
  await page.click('#race');
  await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state), { timeout: 15_000 });
  await page.screenshot({ path: join(env.output, 'browser-example.png'), fullPage: true });

  const dom = await page.evaluate(() => ({
    state: document.body.dataset.state,
    status: document.getElementById('status').textContent,
    title: document.getElementById('result-title').textContent,
    body: document.getElementById('result-body').textContent,
    tags: document.getElementById('result-tags').textContent,
    conflictShown: !document.getElementById('conflict').hidden,
    conflictRows: [...document.querySelectorAll('#conflict-paths tr')].map((tr) => [...tr.cells].map((td) => td.textContent)),
    refused: [...document.querySelectorAll('.log .refused')].map((li) => li.closest('section').id),
  }));
  assert.equal(dom.state, 'done', `the page reported: ${dom.status}`);
  assert.equal(dom.title, 'Release notes (final) + Release notes 1.2', 'the overlapping title edit goes through the resolver');
  assert.equal(dom.body, 'Fixes the lost-update bug.', "Bob's body edit survives");
  assert.equal(dom.tags, 'draft, reviewed', "Alice's tag edit survives");
  assert.ok(dom.conflictShown, 'the conflict section is shown');
  assert.equal(dom.conflictRows.length, 1);
  assert.equal(dom.conflictRows[0][0], '/title');
  assert.equal(dom.refused.length, 1, `exactly one editor's write is refused, got ${JSON.stringify(dom.refused)}`);
  assert.deepEqual(problems, []);
});
