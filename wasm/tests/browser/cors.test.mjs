// CORS as a page sees it, in headless Chromium: the page (served from one origin) calls a server on
// another port directly. The reference server sends no CORS headers, so the browser refuses every
// request with a bare TypeError; the package's `network` error must say that CORS may be the
// cause and what the server must allow and expose. A server that allows the origin but does not
// expose ETag leaves reads without a version; the write that follows must say why.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { openBrowser } from '../support/browser.mjs';
import { env } from '../support/env.mjs';
import { startStub } from '../support/stub.mjs';

const mounts = {
  '/harness/': fileURLToPath(new URL('./harness', import.meta.url)),
  '/support/': fileURLToPath(new URL('../support', import.meta.url)),
};
let browser;
let hidden;

before(async () => {
  browser = await openBrowser({ api: env.url, path: '/harness/', mounts });
  await browser.page.waitForFunction(() => document.body.dataset.state === 'ready');
  // Allows any origin, but exposes no header: JavaScript cannot see the ETag it sends.
  hidden = await startStub(() => ({ status: 200, headers: { etag: '"v1"', 'access-control-allow-origin': '*' }, body: { n: 1 } }));
});
after(async () => {
  await browser?.close();
  await hidden?.close();
  // Chromium reports each refusal in the console (the only place it says why); nothing else may appear.
  const other = (browser?.problems ?? []).filter((p) => !/CORS policy|net::ERR_FAILED/.test(p));
  assert.deepEqual(other, [], 'no page or console errors but the CORS refusals');
});

/** Runs `body` in the page with `window.ifmatch`, `window.items` and `api`, a URL on another origin. */
function inPage(body, api) {
  return browser.page.evaluate(`(${body})(window.ifmatch, window.items, ${JSON.stringify(api)})`);
}

/** What the server must allow and expose, as the message lists it. */
const EXPOSE = 'expose ETag, Location, Content-Location, Retry-After, Retry-After-Ms, RateLimit, Version, Deprecation, Sunset, Link (Access-Control-Expose-Headers)';

test('browser: a read refused by CORS is a network error that says CORS may be the cause and what to allow', async () => {
  const out = await inPage(async ({ Client }, items, api) => {
    const client = new Client({ baseUrl: api, headers: { 'x-request-id': '7' }, retry: { maxAttempts: 1 } });
    const error = await items.rejectsWith(client.get('/items/anything'), 'network');
    return { message: error.message, hint: error.hint, cause: error.cause instanceof TypeError, origin: location.origin };
  }, env.url);
  const api = new URL(env.url).origin;
  assert.ok(out.cause, "the cause is the browser's TypeError");
  assert.ok(out.message.endsWith(`; ${out.hint}`), out.message);
  assert.ok(out.message.startsWith(`GET ${api}/items/anything failed before a response arrived; this page (${out.origin}) called another origin (${api}), so CORS may be the cause`), out.message);
  assert.ok(out.message.includes(`every response with Access-Control-Allow-Origin: ${out.origin}, allow the methods PUT, PATCH and DELETE (Access-Control-Allow-Methods)`), out.message);
  assert.ok(out.message.includes('the request headers If-Match, If-None-Match, Idempotency-Key, Content-Type, X-Request-Id (Access-Control-Allow-Headers)'), out.message);
  assert.ok(out.message.includes(EXPOSE), out.message);
});

test('browser: a write refused by CORS says so too, and that it may or may not have been applied', async () => {
  const out = await inPage(async ({ Client }, items, api) => {
    const client = new Client({ baseUrl: api, bearerToken: 't0ken', apiVersion: '2', retry: { maxAttempts: 1 } });
    const error = await items.rejectsWith(client.put('/items/anything', { n: 1 }, { ifMatch: '"1"' }), 'network');
    return error.message;
  }, env.url);
  assert.match(out, /^PUT \S+ failed before a response arrived; this page \(\S+\) called another origin \(\S+\), so CORS may be the cause/);
  assert.ok(out.includes('the request headers If-Match, If-None-Match, Idempotency-Key, Content-Type, Api-Version, Authorization (Access-Control-Allow-Headers)'), out);
  assert.ok(out.includes(EXPOSE), out);
  assert.ok(out.endsWith('; the write may or may not have been applied, so read the resource before retrying it'), out);
});

test('browser: an ETag the server does not expose reads as null, and the write after it says to expose it', async () => {
  const out = await inPage(async ({ Client }, items, api) => {
    const client = new Client({ baseUrl: api });
    const read = await client.get('/items/1');
    const put = await items.rejectsWith(client.put('/items/1', { n: 2 }, { ifMatch: read.etag }), 'missing_etag');
    const update = await items.rejectsWith(client.update('/items/1', (doc) => ({ ...doc, n: 2 })), 'missing_etag');
    return { value: read.value, etag: read.etag, put: put.hint, update: update.hint, origin: location.origin };
  }, hidden.url);
  assert.deepEqual(out.value, { n: 1 });
  assert.equal(out.etag, null, 'the browser hides an ETag that is not exposed');
  for (const hint of [out.put, out.update]) {
    assert.ok(hint.startsWith(`in a browser, an ETag from another origin is visible only if the server lists it in Access-Control-Expose-Headers (this page is ${out.origin})`), hint);
  }
  assert.equal(hidden.requests.filter((r) => r.method !== 'GET').length, 0, 'nothing was written');
});
