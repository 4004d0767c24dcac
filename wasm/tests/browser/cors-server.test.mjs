// The reference server with --cors-origin, called directly from pages on another origin (another
// port) in headless Chromium: no proxy on the page's origin. Reads see the ETag (exposed), writes
// pass the preflight (If-Match, Content-Type), and the browser example works in its direct mode
// (`?api=`, examples/browser/api.js).
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { openBrowser } from '../support/browser.mjs';
import { env } from '../support/env.mjs';

const mounts = {
  '/harness/': fileURLToPath(new URL('./harness', import.meta.url)),
  '/support/': fileURLToPath(new URL('../support', import.meta.url)),
};
let harness;
let example;

before(async () => {
  harness = await openBrowser({ api: env.url, path: '/harness/', mounts });
  await harness.page.waitForFunction(() => document.body.dataset.state === 'ready');
  // The example's own server forwards to nowhere: the page must call the CORS server itself.
  example = await openBrowser({ api: 'http://127.0.0.1:9', path: `/?api=${encodeURIComponent(env.urlCors)}` });
});
after(async () => {
  await harness?.close();
  await example?.close();
  assert.deepEqual([...(harness?.problems ?? []), ...(example?.problems ?? [])], [], 'no page or console errors (no CORS refusal)');
});

test('browser: get and update against a cross-origin reference server with --cors-origin', async () => {
  const out = await harness.page.evaluate(async (api) => {
    const { Client } = window.ifmatch;
    const client = new Client({ baseUrl: api, retry: { maxAttempts: 1 } });
    const { location: url } = await client.create('/items', { n: 1 });
    const read = await client.get(url);
    const updated = await client.update(url, (doc) => ({ ...doc, n: doc.n + 1 }));
    const after = await client.get(url);
    return { origin: location.origin, url, etag: read.etag, updatedEtag: updated.etag, value: after.value };
  }, env.urlCors);
  assert.notEqual(out.origin, new URL(env.urlCors).origin, 'the page and the server are different origins');
  assert.ok(out.url?.startsWith(`${new URL(env.urlCors).origin}/items/`), `Location is exposed: ${out.url}`);
  assert.match(out.etag ?? '', /^".+"$/, 'the ETag is exposed');
  assert.notEqual(out.updatedEtag, out.etag);
  assert.deepEqual(out.value, { n: 2 });
});

test('browser: the example in its direct mode (?api=) races two editors against the server itself', async () => {
  const { page } = example;
  await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state), { timeout: 15_000 });
  await page.click('#race');
  await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state), { timeout: 15_000 });
  const dom = await page.evaluate(() => ({
    state: document.body.dataset.state,
    status: document.getElementById('status').textContent,
    title: document.getElementById('result-title').textContent,
    refused: document.querySelectorAll('.log .refused').length,
    link: document.getElementById('conflicts-link').getAttribute('href'),
  }));
  assert.equal(dom.state, 'done', `the page reported: ${dom.status}`);
  assert.equal(dom.title, 'Release notes (final) + Release notes 1.2');
  assert.equal(dom.refused, 1);
  assert.equal(dom.link, `conflicts.html?api=${encodeURIComponent(env.urlCors)}`, 'the other page keeps the choice');
});
