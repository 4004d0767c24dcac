// Snapshot of the error messages people read, for bad input to the package and the SDK's main
// failures as JavaScript sees them. Review changes in snapshots/messages.json; regenerate with
// UPDATE_SNAPSHOTS=1 node --test tests/node/messages.test.mjs (through wasm/scripts/test.sh's servers).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { createServer } from 'node:net';
import { Client, IfmatchError } from 'ifmatch';
import { env } from '../support/env.mjs';
import { breakLock, createItem, writeBehind } from '../support/items.mjs';
import { startStub } from '../support/stub.mjs';

const SNAPSHOT = new URL('./snapshots/messages.json', import.meta.url);

async function message(operation) {
  try {
    await operation();
  } catch (err) {
    // Every rejection is an IfmatchError whose message ends with its hint, except an abort,
    // which rejects with the signal's reason (shown by its name).
    if (err instanceof IfmatchError) {
      assert.ok(err.hint === null || err.message.endsWith(`; ${err.hint}`), `hint is the end of the message: ${err.message}`);
    }
    return `${err instanceof IfmatchError ? err.code : `(not an IfmatchError) ${err.name}`}: ${err.message}`
      .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:PORT')
      .replace(/\/items\/[A-Za-z0-9_-]+/g, '/items/ID')
      .replace(/"[0-9a-f]+-\d+"/g, '"ETAG"')
      .replace(/tx-[0-9a-f]+-\d+-[0-9a-f]+/g, 'tx-ID')
      .replace(/expires_at_ms \d+/g, 'expires_at_ms TIME');
  }
  return 'no error';
}

/**
 * Runs `operation` as if in a page served from `origin` (the package compares request URLs with
 * `location.origin` to tell a possible CORS refusal), then leaves Node as it was.
 */
async function inPage(origin, operation) {
  globalThis.location = { origin };
  try {
    return await operation();
  } finally {
    delete globalThis.location;
  }
}

/** A loopback port with nothing listening on it. */
async function closedPort() {
  const server = createServer();
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address();
  await new Promise((ok) => server.close(ok));
  return port;
}

test('error messages name what was wrong and what to do', async (t) => {
  const client = new Client({ baseUrl: env.url });
  const throttling = await startStub(() => ({ status: 429, headers: { 'retry-after': '100' }, body: { type: 'about:blank', status: 429 } }));
  const weak = await startStub(() => ({ status: 200, headers: { etag: 'W/"1"' }, body: { n: 1 } }));
  const hanging = await startStub(() => null);
  const unavailable = await startStub(() => ({ status: 503, body: { type: 'about:blank', status: 503 } }));
  const redirecting = await startStub(() => ({ status: 308, headers: { location: '/items/moved' }, body: undefined }));
  const ambiguous = await startStub((req, index) => [
    { status: 503, headers: { 'retry-after-ms': '1' }, body: { status: 503 } },
    { status: 412, headers: { etag: '"v9"' }, body: { status: 412 } },
  ][index] ?? { status: 200, headers: { etag: '"v9"' }, body: { n: 'theirs' } });
  const notJson = await startStub(() => ({ status: 200, headers: { 'content-type': 'text/html' }, body: undefined, raw: '<html>' }));
  const unauthorized = await startStub(() => ({ status: 401, body: { type: 'about:blank', title: 'Unauthorized', status: 401 } }));
  const queueFull = await startStub(() => ({
    status: 503,
    headers: { 'retry-after': '3', 'content-type': 'application/problem+json' },
    body: { type: 'urn:ifmatch:problem:lock-queue-full', title: 'Lock queue full', status: 503 },
  }));
  for (const stub of [throttling, weak, hanging, unavailable, redirecting, ambiguous, notJson, unauthorized, queueFull]) t.after(stub.close);
  const closed = `http://127.0.0.1:${await closedPort()}`;
  // A client whose cached copy is stale; `retry` decides whether update() may recover.
  const stale = async (retry = { maxConflictAttempts: 1 }) => {
    const path = await createItem(env.url, { title: 'a' });
    const reader = new Client({ baseUrl: env.url, retry });
    const read = await reader.get(path);
    await writeBehind(env.url, path, () => ({ title: 'theirs' }));
    return { path, reader, read };
  };
  // A document locked by another client ("someone") for a short while.
  const lockedByOther = async () => {
    const path = await createItem(env.url, { n: 0 });
    const lock = await new Client({ baseUrl: env.url }).lock(path, { ttl: 1000, owner: 'someone' });
    return { path, lock };
  };
  // A lock of `client` on a new document, broken behind its back.
  const broken = async () => {
    const path = await createItem(env.url, { n: 0 });
    const lock = await client.lock(path, { ttl: 1000 });
    await breakLock(env.url, path);
    return { path, lock };
  };
  const cases = {
    'options not an object': () => new Client('http://x'),
    'unknown option': () => new Client({ baseURL: 'http://x' }),
    'bad baseUrl': () => new Client({ baseUrl: 'ftp://x' }),
    'cacheSize not a number': () => new Client({ cacheSize: '10' }),
    'negative maxAttempts': () => new Client({ retry: { maxAttempts: 0 } }),
    'unknown preset': () => new Client({ retry: { preset: 'fast' } }),
    'conflictBackoff.initialMs above its maxMs': () => new Client({ retry: { conflictBackoff: { initialMs: 5000, maxMs: 100 } } }),
    'initialDelayMs above maxDelayMs': () => new Client({ retry: { initialDelayMs: 5000, maxDelayMs: 100 } }),
    'minDelayMs above maxRetryAfterMs': () => new Client({ retry: { minDelayMs: 5000, maxRetryAfterMs: 1000 } }),
    'totalDeadlineMs zero': () => new Client({ retry: { totalDeadlineMs: 0 } }),
    'header value not a string': () => new Client({ headers: { 'x-n': 1 } }),
    'header name invalid': () => new Client({ headers: { 'bad name': 'x' } }),
    'timeout zero': () => new Client({ timeout: 0 }),
    'attemptTimeoutMs (renamed)': () => new Client({ attemptTimeoutMs: 1000 }),
    'credentials unknown': () => new Client({ credentials: 'same' }),
    'fetch not a function': () => new Client({ fetch: 'https://example.com' }),
    'trustWriteBodies not a boolean': () => new Client({ trustWriteBodies: 'yes' }),
    'minDelayMs negative': () => new Client({ retry: { minDelayMs: -1 } }),
    'url not a string': () => client.get(42),
    'document not JSON': () => client.put('/items/x', { n: 1n }, { ifMatch: '"1"' }),
    'document undefined': () => client.put('/items/x', undefined, { unconditional: true }),
    'put without a precondition': () => client.put('/items/x', { n: 1 }),
    'patch without a precondition': () => client.patch('/items/x', { n: 1 }, { signal: new AbortController().signal }),
    'delete without a precondition': () => client.delete('/items/x'),
    'two preconditions': () => client.put('/items/x', { n: 1 }, { ifMatch: '"1"', createOnly: true }),
    'ifMatch not an entity tag': () => client.put('/items/x', { n: 1 }, { ifMatch: 'v1' }),
    'ifMatch not a string': () => client.put('/items/x', { n: 1 }, { ifMatch: 1 }),
    'createOnly false': () => client.put('/items/x', { n: 1 }, { createOnly: false }),
    'ifMatch null': () => client.delete('/items/x', { ifMatch: null }),
    'signal not an AbortSignal': () => client.get('/items/x', { signal: {} }),
    'call header not a string': () => client.get('/items/x', { headers: { 'x-n': 1 } }),
    'call header name invalid': () => client.get('/items/x', { headers: { 'bad name': 'x' } }),
    'call timeout negative': () => client.get('/items/x', { timeout: -1 }),
    'unknown call option': () => client.get('/items/x', { ifMatch: '"1"' }),
    'change not a function': () => client.update('/items/x', { n: 1 }),
    'unknown strategy': () => client.update('/items/x', (d) => d, { strategy: 'newest' }),
    'resolve without merge': () => client.update('/items/x', (d) => d, { resolve: () => 1 }),
    'missing document': () => client.get('/items/none'),
    'stale put': async () => { const { path, reader, read } = await stale(); await reader.put(path, { title: 'mine' }, { ifMatch: read.etag }); },
    'create-only put of an existing item': async () => {
      const path = await createItem(env.url, { title: 'a' });
      await client.put(path, { title: 'b' }, { createOnly: true });
    },
    'async change rejects': async () => {
      const { path, reader } = await stale();
      await reader.update(path, async () => { throw new RangeError('the price service is down'); });
    },
    'update out of conflict attempts': async () => {
      // Another writer changes the document between every read and write of this update.
      const { path, reader } = await stale({ maxConflictAttempts: 2 });
      await reader.update(path, async (doc) => {
        await writeBehind(env.url, path, (d) => ({ ...d, title: 'theirs' }));
        return { ...doc, title: 'mine' };
      });
    },
    'merge conflict': async () => {
      const { path, reader } = await stale({});
      await reader.update(path, () => ({ title: 'mine' }), { strategy: 'merge' });
    },
    'abort strategy': async () => {
      const { path, reader } = await stale({});
      await reader.update(path, () => ({ title: 'mine' }), { strategy: 'abort' });
    },
    'aborted (signal.reason)': () => client.get('/items/x', { signal: AbortSignal.abort() }),
    'network failure (read)': () => new Client({ baseUrl: closed, retry: { maxAttempts: 1 } }).get('/items/x'),
    'network failure (write)': () => new Client({ baseUrl: closed, retry: { maxAttempts: 1 } }).put('/items/x', { n: 1 }, { ifMatch: '"1"' }),
    'network failure in a page, cross-origin read (CORS?)': () => inPage('http://app.example', () => new Client({
      baseUrl: closed, headers: { 'x-request-id': '7', accept: 'application/json' }, bearerToken: 't0ken', retry: { maxAttempts: 1 },
    }).get('/items/x')),
    'network failure in a page, cross-origin write with credentials (CORS?)': () => inPage('http://app.example', () => new Client({
      baseUrl: closed, credentials: 'include', retry: { maxAttempts: 1 },
    }).put('/items/x', { n: 1 }, { ifMatch: '"1"', apiVersion: '2' })),
    'network failure in a page, same origin': () => inPage(closed, () => new Client({ baseUrl: closed, retry: { maxAttempts: 1 } }).get('/items/x')),
    'no etag in a page, cross-origin (Access-Control-Expose-Headers?)': () => inPage('http://app.example', () => client.put('/items/x', { n: 1 }, { ifMatch: null })),
    'If-Match in the client headers': () => new Client({ baseUrl: env.url, headers: { 'If-Match': '"1"' } }),
    'If-None-Match in a call\'s headers': () => client.get('/items/x', { headers: { 'if-none-match': '*' } }),
    'fetch resolves to no Response': () => new Client({ baseUrl: 'http://127.0.0.1:9', fetch: async () => ({ ok: true }) }).get('/items/x'),
    'not JSON': () => new Client({ baseUrl: notJson.url }).get('/items/x'),
    'unauthorized': () => new Client({ baseUrl: unauthorized.url }).get('/items/x'),
    'relative path without baseUrl': () => new Client().get('/items/x'),
    'rate limited': () => new Client({ baseUrl: throttling.url, retry: { maxAttempts: 1 } }).get('/items/x'),
    'retry-after too long': () => new Client({ baseUrl: throttling.url }).get('/items/x'),
    'only a weak etag': async () => {
      const weakClient = new Client({ baseUrl: weak.url });
      const read = await weakClient.get('/items/x');
      await weakClient.put('/items/x', { n: 2 }, { ifMatch: read.etag });
    },
    'request timed out': () => new Client({ baseUrl: hanging.url, timeout: 20 }).get('/items/x'),
    'write timed out (call timeout)': () => new Client({ baseUrl: hanging.url }).put('/items/x', { n: 1 }, { ifMatch: '"1"', timeout: 20 }),
    'operation timed out': () => new Client({ baseUrl: hanging.url, timeout: null, retry: { totalDeadlineMs: 30 } }).get('/items/x'),
    'write operation timed out': () => new Client({ baseUrl: hanging.url, timeout: null, retry: { totalDeadlineMs: 30 } }).delete('/items/x', { unconditional: true }),
    'unavailable': () => new Client({ baseUrl: unavailable.url, retry: { maxAttempts: 1 } }).get('/items/x'),
    'unavailable create (not resent)': () => new Client({ baseUrl: unavailable.url }).create('/items', { n: 1 }),
    'redirected write': () => new Client({ baseUrl: redirecting.url }).delete('/items/x', { ifMatch: '"1"' }),
    'outcome unknown': () => new Client({ baseUrl: ambiguous.url }).put('/items/x', { n: 2 }, { ifMatch: '"1"' }),
    'lock ttl zero': () => client.lock('/items/x', { ttl: 0 }),
    'lock option ttlMs (renamed)': () => client.lock('/items/x', { ttlMs: 1000 }),
    'lock option not a Lock': () => client.put('/items/x', { n: 1 }, { unconditional: true, lock: {} }),
    'write under a lock without a precondition': () => client.put('/items/x', { n: 1 }, { lock: null }),
    'lock held by another client': async () => {
      const { path, lock } = await lockedByOther();
      try { await client.lock(path); } finally { await lock.release(); }
    },
    'write to a resource locked by another client': async () => {
      const { path, lock } = await lockedByOther();
      try { await client.put(path, { n: 1 }, { unconditional: true }); } finally { await lock.release(); }
    },
    'lock wait queue full': () => new Client({ baseUrl: queueFull.url }).lock('/items/x', { wait: 1000 }),
    'write under a broken lock': async () => {
      const { path, lock } = await broken();
      try { await client.put(path, { n: 1 }, { unconditional: true }); } finally { await lock.release().catch(() => {}); }
    },
    'release of a broken lock': async () => { const { lock } = await broken(); await lock.release(); },
    'renew of a broken lock': async () => {
      const { lock } = await broken();
      try { await lock.renew(); } finally { await lock.release().catch(() => {}); }
    },
    'write under a released lock': async () => {
      const path = await createItem(env.url, { n: 0 });
      const lock = await client.lock(path, { ttl: 1000 });
      await lock.release();
      await client.put(path, { n: 1 }, { unconditional: true, lock });
    },
    'renew after release': async () => {
      const path = await createItem(env.url, { n: 0 });
      const lock = await client.lock(path, { ttl: 1000 });
      await lock.release();
      await lock.renew();
    },
    'write with two locks of the client on the resource': async () => {
      const { path, lock } = await broken();
      const current = await client.lock(path, { ttl: 1000 });
      try {
        await client.put(path, { n: 1 }, { unconditional: true });
      } finally {
        await lock.release().catch(() => {});
        await current.release();
      }
    },
    'batch not an array': () => client.batch({ op: 'put' }),
    'batch operation with an unknown op': () => client.batch([{ op: 'upsert', path: '/items/x' }]),
    'batch put without a body': () => client.batch([{ op: 'put', path: '/items/x', unconditional: true }]),
    'batch put without a precondition': () => client.batch([{ op: 'put', path: '/items/x', body: {} }]),
    'batch operation with path and ref': () => client.batch([{ op: 'delete', path: '/items/x', ref: 'a', unconditional: true }]),
    'batch operation with an unknown member': () => client.batch([{ op: 'check', path: '/items/x', if_match: '"1"' }]),
    'batch ref to a later lid': () => client.batch([{ op: 'patch', ref: 'order', body: {}, unconditional: true }, { op: 'create', lid: 'order', body: {} }]),
    'batch without baseUrl': () => new Client().batch([{ op: 'create', body: {} }]),
    'stale batch operation': async () => {
      const { path, reader, read } = await stale();
      await reader.batch([{ op: 'create', body: {} }, { op: 'put', path, body: { title: 'mine' }, ifMatch: read.etag }]);
    },
    'batch operation on a missing document': () => client.batch([{ op: 'check', path: '/items/none' }]),
    'transaction function not a function': () => client.transaction('tx'),
    'transaction option unknown': () => client.transaction(() => 1, { retries: 2 }),
    'transaction commit conflict': async () => {
      const path = await createItem(env.url, { n: 0 });
      const tx = await client.begin();
      await tx.get(path);
      await writeBehind(env.url, path, () => ({ n: 1 }));
      await tx.commit();
    },
    'transaction conflicts until maxAttempts': async () => {
      const path = await createItem(env.url, { n: 0 });
      await client.transaction(async (tx) => {
        await tx.get(path);
        await writeBehind(env.url, path, (doc) => ({ n: doc.n + 1 }));
      }, { maxAttempts: 2 });
    },
    'transaction expired': async () => {
      const tx = await client.begin({ ttl: 20 });
      await new Promise((done) => setTimeout(done, 80));
      await tx.get('/items/x');
    },
    'request in a committed transaction': async () => {
      const tx = await client.begin();
      await tx.commit();
      await tx.get('/items/x');
    },
    'rollback of a committed transaction': async () => {
      const tx = await client.begin();
      await tx.commit();
      await tx.rollback();
    },
    'transaction without baseUrl': () => new Client().transaction(() => 1),
  };
  const actual = {};
  for (const [name, operation] of Object.entries(cases)) actual[name] = await message(operation);
  // JavaScript users get JavaScript names: no Rust paths, builder methods or Option values.
  const rustisms = Object.entries(actual).filter(([, text]) => /::|\bwith_[a-z]|(?<!-)\bNone\b(?!-)|\bSome\(|\b[a-z]+_[a-z_]+\(|\(\.\.\.\)|\(\)\.|&[a-z]|\bretry\.[a-z]+_|\b(?:attempt_timeout|total_deadline|max_attempts|max_delay|initial_delay|min_delay|missing_etag|base_url|trust_write_bodies|server_honours_idempotency_keys)\b/.test(text.slice(text.indexOf(': ') + 2)));
  assert.deepEqual(rustisms, [], 'messages must not name Rust API items');
  if (process.env.UPDATE_SNAPSHOTS || !existsSync(SNAPSHOT)) {
    writeFileSync(SNAPSHOT, `${JSON.stringify(actual, null, 2)}\n`);
  }
  assert.deepEqual(actual, JSON.parse(readFileSync(SNAPSHOT, 'utf8')));
});
