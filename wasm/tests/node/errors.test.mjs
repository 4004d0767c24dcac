// Error shapes: real Error objects with a stable code, the HTTP status and the parsed problem body.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { Client, isIfmatchError } from 'ifmatch';
import { env } from '../support/env.mjs';
import { createItem, rejectsWith } from '../support/items.mjs';

/** A loopback port with nothing listening on it (bound, read, then closed again). */
async function closedPort() {
  const server = createServer();
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address();
  await new Promise((ok) => server.close(ok));
  return port;
}

test('a missing document rejects with http_status 404 and the problem body', async () => {
  const client = new Client({ baseUrl: env.url });
  const error = await rejectsWith(client.get('/items/does-not-exist'), 'http_status');
  assert.ok(isIfmatchError(error));
  assert.equal(error.name, 'IfmatchError');
  assert.equal(error.status, 404);
  assert.equal(error.problem.status, 404);
  assert.equal(typeof error.problem.type, 'string');
  assert.match(error.message, /404/);
  assert.ok(error.stack, 'errors carry a stack like any Error');
});

test('an unreachable server rejects with code network and no status', async () => {
  const client = new Client({ baseUrl: `http://127.0.0.1:${await closedPort()}`, retry: { maxAttempts: 1 } });
  const error = await rejectsWith(client.get('/items/x'), 'network');
  assert.equal(error.status, null);
  assert.equal(error.problem, null);
});

test('invalid client options throw synchronously with a code naming the problem', () => {
  assert.throws(() => new Client({ baseUrl: 'not a url' }), (err) => err.code === 'invalid_url' && /not a url/.test(err.message));
  assert.throws(() => new Client({ cacheSize: 'big' }), (err) => err.code === 'invalid_argument' && /cacheSize/.test(err.message));
  assert.throws(
    () => new Client({ retry: { maxAtempts: 3 } }),
    (err) => err.code === 'invalid_argument' && /maxAtempts/.test(err.message),
  );
  assert.throws(() => new Client({ retry: { preset: 'fast' } }), (err) => err.code === 'invalid_argument' && /fast/.test(err.message));
});

test('attemptTimeoutMs must be a positive number of milliseconds or null; the other new options are checked too', () => {
  for (const bad of [0, -5, 0.5, Number.NaN, Infinity, '30000', false]) {
    assert.throws(
      () => new Client({ attemptTimeoutMs: bad }),
      (err) => err.code === 'invalid_argument' && /options\.attemptTimeoutMs must be a finite number of at least 1, or null for no limit/.test(err.message),
      `attemptTimeoutMs: ${String(bad)}`,
    );
  }
  for (const good of [1, 250, 30_000, null, undefined]) assert.doesNotThrow(() => new Client({ attemptTimeoutMs: good }));
  assert.throws(() => new Client({ serverHonoursIdempotencyKeys: 'yes' }), (err) => err.code === 'invalid_argument' && /serverHonoursIdempotencyKeys must be true or false/.test(err.message));
  assert.throws(() => new Client({ trustWriteBodies: 1 }), (err) => err.code === 'invalid_argument' && /trustWriteBodies must be true or false/.test(err.message));
  assert.throws(() => new Client({ retry: { minDelayMs: -1 } }), (err) => err.code === 'invalid_argument' && /retry\.minDelayMs/.test(err.message));
  assert.throws(() => new Client({ retry: { totalDeadlineMs: -1 } }), (err) => err.code === 'invalid_argument' && /or null for no limit/.test(err.message));
  assert.doesNotThrow(() => new Client({ serverHonoursIdempotencyKeys: true, trustWriteBodies: false, retry: { minDelayMs: 0, totalDeadlineMs: null } }));
  // Durations far beyond any timer saturate instead of failing.
  assert.doesNotThrow(() => new Client({ attemptTimeoutMs: 1e300, retry: { maxDelayMs: 1e300, totalDeadlineMs: 1e300 } }));
});

test('a document that is not JSON is rejected before anything is sent', async () => {
  const client = new Client({ baseUrl: env.url });
  await rejectsWith(client.create('/items', { big: 10n }), 'invalid_argument');
  assert.equal(client.stats().requests, 0);
});

test('an unknown strategy is rejected with invalid_argument naming the choices', async () => {
  const path = await createItem(env.url, { n: 1 });
  const client = new Client({ baseUrl: env.url });
  const error = await rejectsWith(client.update(path, (doc) => doc, { strategy: 'newest' }), 'invalid_argument');
  assert.match(error.message, /reapply/);
});

test('a change function that throws rejects with change_failed, keeps the cause and writes nothing', async () => {
  const path = await createItem(env.url, { n: 1 });
  const client = new Client({ baseUrl: env.url });
  const thrown = new TypeError('no n here');
  const error = await rejectsWith(
    client.update(path, () => {
      throw thrown;
    }),
    'change_failed',
  );
  assert.equal(error.cause, thrown);
  assert.match(error.message, /no n here/);
  assert.equal(client.stats().requests, 1, 'only the read, no write');
});

test('a change function that returns a non-JSON value is rejected with change_failed', async () => {
  const path = await createItem(env.url, { n: 1 });
  const client = new Client({ baseUrl: env.url });
  const error = await rejectsWith(client.update(path, () => ({ n: 1n })), 'change_failed');
  assert.match(error.message, /JSON/);
});

test('hosts must be ASCII (the wasm build uses the ASCII-only IDNA adapter); punycode works', () => {
  assert.throws(() => new Client({ baseUrl: 'http://bücher.example' }), (err) => err.code === 'invalid_url');
  assert.doesNotThrow(() => new Client({ baseUrl: 'http://xn--bcher-kva.example' }));
});
