// The `fetch` and `credentials` client options: an injected fetch carries every request, gets
// `credentials` and `redirect: 'manual'` for writes in its init, and what it throws is the cause.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client, IfmatchError } from 'ifmatch';
import { env } from '../support/env.mjs';
import { createItem, rejectsWith } from '../support/items.mjs';

/** A fetch that records each call and passes it on to the global fetch. */
function countingFetch() {
  const calls = [];
  const fetcher = (url, init) => {
    calls.push({ url, init });
    return fetch(url, init);
  };
  return { calls, fetcher };
}

test('an injected fetch carries every request, against the reference server', async () => {
  const { calls, fetcher } = countingFetch();
  const client = new Client({ baseUrl: env.url, fetch: fetcher });
  const path = await createItem(env.url, { n: 1 });
  const read = await client.get(path);
  await client.put(path, { n: 2 }, { ifMatch: read.etag });
  await client.update(path, (doc) => ({ n: doc.n + 1 }));
  assert.equal(calls.length, 3, 'GET, PUT, and the update\'s PUT from the cached copy');
  assert.equal(client.stats().requests, calls.length);
  assert.deepEqual(calls.map((c) => c.init.method), ['GET', 'PUT', 'PUT']);
  assert.equal(calls[0].url, `${env.url}${path}`);
  assert.equal(typeof calls[0].url, 'string');
  assert.ok(calls[1].init.headers instanceof Headers);
  assert.equal(calls[1].init.headers.get('if-match'), read.etag);
  assert.ok(calls[1].init.body instanceof Uint8Array);
  assert.deepEqual(JSON.parse(new TextDecoder().decode(calls[1].init.body)), { n: 2 });
  assert.ok(calls[1].init.signal instanceof AbortSignal);
  assert.equal(calls[0].init.redirect, undefined, 'reads follow redirects');
  assert.equal(calls[1].init.redirect, 'manual', 'writes never follow redirects');
  assert.ok(!('credentials' in calls[0].init), "unset: fetch's own default");
});

test('a fake fetch returning a Response is all the client needs (no server)', async () => {
  const calls = [];
  const client = new Client({
    baseUrl: 'https://api.invalid',
    fetch: async (url, init) => {
      calls.push([init.method, url, init.headers.get('if-match')]);
      if (init.method === 'GET') return new Response(JSON.stringify({ n: 1 }), { status: 200, headers: { etag: '"v1"', 'content-type': 'application/json' } });
      return new Response(null, { status: 412, headers: { etag: '"v2"' } });
    },
  });
  const read = await client.get('/items/1');
  assert.deepEqual(read.value, { n: 1 });
  assert.equal(read.etag, '"v1"');
  const refused = await rejectsWith(client.put('/items/1', { n: 2 }, { ifMatch: read.etag }), 'precondition_failed');
  assert.equal(refused.status, 412);
  assert.deepEqual(calls, [['GET', 'https://api.invalid/items/1', null], ['PUT', 'https://api.invalid/items/1', '"v1"']]);
});

test('credentials reaches fetch in the init of every request', async () => {
  for (const credentials of ['omit', 'same-origin', 'include']) {
    const inits = [];
    const client = new Client({
      baseUrl: 'https://api.invalid',
      credentials,
      fetch: async (url, init) => {
        inits.push(init);
        return new Response(JSON.stringify({ n: 1 }), { status: 200, headers: { etag: '"v1"' } });
      },
    });
    await client.get('/items/1');
    await client.put('/items/1', { n: 2 }, { unconditional: true });
    assert.deepEqual(inits.map((init) => init.credentials), [credentials, credentials]);
    // The init is one that fetch itself accepts.
    assert.equal(new Request('https://api.invalid/', inits[1]).credentials, credentials);
  }
  // Node's own fetch takes it too (cookies are a browser matter; Node sends none by itself).
  const path = await createItem(env.url, { n: 1 });
  assert.deepEqual((await new Client({ baseUrl: env.url, credentials: 'include' }).get(path)).value, { n: 1 });
});

test("what an injected fetch throws is the network error's cause; a non-Response is a TypeError cause", async () => {
  const thrown = new TypeError('offline');
  const throwing = new Client({ baseUrl: 'https://api.invalid', retry: { maxAttempts: 1 }, fetch: () => { throw thrown; } });
  const error = await rejectsWith(throwing.get('/items/1'), 'network');
  assert.ok(error instanceof IfmatchError);
  assert.equal(error.cause, thrown);
  const rejecting = new Client({ baseUrl: 'https://api.invalid', retry: { maxAttempts: 1 }, fetch: () => Promise.reject(thrown) });
  assert.equal((await rejectsWith(rejecting.put('/items/1', { n: 1 }, { unconditional: true }), 'network')).cause, thrown);
  const wrong = new Client({ baseUrl: 'https://api.invalid', fetch: async () => ({ status: 200 }) });
  const shape = await rejectsWith(wrong.get('/items/1'), 'network');
  assert.ok(shape.cause instanceof TypeError);
  assert.match(shape.cause.message, /not a Response/);
});

test('a read whose fetch failed is resent (beforeRetry says network); a write is not', async () => {
  let sent = 0;
  const calls = [];
  const fetcher = async (url, init) => {
    sent += 1;
    if (sent === 1 || init.method !== 'GET') throw new TypeError('fetch failed');
    return new Response(JSON.stringify({ n: 1 }), { status: 200, headers: { etag: '"v1"', 'content-type': 'application/json' } });
  };
  const client = new Client({
    baseUrl: 'https://api.invalid',
    retry: { initialDelayMs: 1, minDelayMs: 0 },
    fetch: fetcher,
    hooks: { beforeRetry: [({ error, attempt, reason, retryAfterMs }) => { calls.push({ code: error.code, status: error.status, attempt, reason, retryAfterMs }); }] },
  });
  assert.deepEqual((await client.get('/items/1')).value, { n: 1 });
  assert.equal(sent, 2, 'the failed GET and its resend');
  assert.deepEqual(calls, [{ code: 'network', status: null, attempt: 2, reason: 'network', retryAfterMs: null }]);
  await rejectsWith(client.put('/items/1', { n: 2 }, { ifMatch: '"v1"' }), 'network');
  assert.equal(sent, 3, 'a write whose fetch failed is not resent');
});

test('a response with headers fetch would never produce fails as network, not as a crash', async () => {
  const client = new Client({
    baseUrl: 'https://api.invalid',
    retry: { maxAttempts: 1 },
    fetch: async () => ({ status: 200, headers: [['bad name', 'x']], arrayBuffer: async () => new ArrayBuffer(0) }),
  });
  await rejectsWith(client.get('/items/1'), 'network');
});

test("a write whose redirect the browser hid (an opaque redirect) rejects with redirected and no status", async () => {
  const client = new Client({
    baseUrl: 'https://api.invalid',
    // What a browser's fetch resolves to for `redirect: 'manual'` (a test cannot construct one).
    fetch: async () => ({ type: 'opaqueredirect', status: 0, headers: new Headers(), arrayBuffer: async () => new ArrayBuffer(0) }),
  });
  const error = await rejectsWith(client.put('/items/1', { n: 2 }, { ifMatch: '"v1"' }), 'redirected');
  assert.equal(error.status, null);
  assert.equal(error.message, 'PUT https://api.invalid/items/1 was redirected (the browser hides the status and where to); nothing was written there; writes never follow redirects: send the write to the new location yourself');
});
