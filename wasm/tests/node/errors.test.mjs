// Error shapes: IfmatchError (a real Error subclass) with a stable code, the HTTP status, the
// parsed problem body, a hint, the URL, and the cause.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { Client, IfmatchError, isIfmatchError } from 'ifmatch';
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
  assert.ok(error instanceof IfmatchError);
  assert.ok(isIfmatchError(error));
  assert.equal(error.name, 'IfmatchError');
  assert.ok(!Object.keys(error).includes('name'), 'name is inherited from the prototype, like Error.prototype.name');
  assert.match(error.stack, /^IfmatchError: GET /);
  assert.equal(error.url, `${env.url}/items/does-not-exist`);
  assert.equal(error.hint, 'the resource does not exist; create it first (create(), or put() with { createOnly: true })');
  assert.ok(error.message.endsWith(`; ${error.hint}`));
  assert.equal(error.status, 404);
  assert.equal(error.problem.status, 404);
  assert.equal(typeof error.problem.type, 'string');
  assert.match(error.message, /404/);
  assert.ok(error.stack, 'errors carry a stack like any Error');
});

test("an unreachable server rejects with an IfmatchError of code network whose cause is fetch's TypeError", async () => {
  const client = new Client({ baseUrl: `http://127.0.0.1:${await closedPort()}`, retry: { maxAttempts: 1 } });
  const error = await rejectsWith(client.get('/items/x'), 'network');
  assert.ok(error instanceof IfmatchError);
  assert.ok(error.cause instanceof TypeError, `cause: ${error.cause}`);
  assert.equal(error.cause.message, 'fetch failed', "Node's fetch rejects with TypeError('fetch failed')");
  assert.match(String(error.cause.cause?.code ?? error.cause.cause), /ECONNREFUSED/, "undici's own cause is kept inside");
  assert.equal(error.status, null);
  assert.equal(error.problem, null);
  assert.match(error.url, /^http:\/\/127\.0\.0\.1:\d+\/items\/x$/);
});

test('invalid arguments reject (or throw) with an IfmatchError of code invalid_argument', async () => {
  const client = new Client({ baseUrl: env.url });
  for (const pending of [client.get(42), client.put('/items/1', { n: 1 }), client.update('/items/1', 'not a function')]) {
    const error = await rejectsWith(pending, 'invalid_argument');
    assert.ok(error instanceof IfmatchError);
    assert.ok(error instanceof Error);
    assert.equal(error.status, null);
    assert.equal(error.url, null);
    assert.equal(error.hint, null);
    assert.deepEqual(error.conflictPaths, []);
  }
  assert.throws(() => new Client({ nope: 1 }), (err) => err instanceof IfmatchError && err.code === 'invalid_argument');
});

test('IfmatchError can be constructed, e.g. by a test double of the client', () => {
  const cause = new Error('root');
  const error = new IfmatchError('PUT /items/1 was refused', { code: 'precondition_failed', status: 412, cause });
  assert.ok(error instanceof Error);
  assert.equal(error.name, 'IfmatchError');
  assert.equal(error.code, 'precondition_failed');
  assert.equal(error.status, 412);
  assert.equal(error.cause, cause);
  assert.equal(error.problem, null);
  assert.deepEqual(error.conflictPaths, []);
  assert.ok(isIfmatchError(error));
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

test('timeout must be a positive number of milliseconds or null; the other options are checked too', () => {
  for (const bad of [0, -5, 0.5, Number.NaN, Infinity, '30000', false]) {
    assert.throws(
      () => new Client({ timeout: bad }),
      (err) => err.code === 'invalid_argument' && /options\.timeout must be a finite number of at least 1, or null for no limit/.test(err.message),
      `timeout: ${String(bad)}`,
    );
  }
  for (const good of [1, 250, 30_000, null, undefined]) assert.doesNotThrow(() => new Client({ timeout: good }));
  assert.throws(
    () => new Client({ attemptTimeoutMs: 1000 }),
    (err) => err.code === 'invalid_argument' && /options\.attemptTimeoutMs is now options\.timeout/.test(err.message),
    'the old name is refused with the new one, never silently ignored',
  );
  assert.throws(() => new Client({ credentials: 'always' }), (err) => err.code === 'invalid_argument' && /'omit', 'same-origin', 'include'/.test(err.message));
  assert.throws(() => new Client({ fetch: {} }), (err) => err.code === 'invalid_argument' && /options\.fetch must be a function/.test(err.message));
  assert.throws(() => new Client({ serverHonoursIdempotencyKeys: 'yes' }), (err) => err.code === 'invalid_argument' && /serverHonoursIdempotencyKeys must be true or false/.test(err.message));
  assert.throws(() => new Client({ trustWriteBodies: 1 }), (err) => err.code === 'invalid_argument' && /trustWriteBodies must be true or false/.test(err.message));
  assert.throws(() => new Client({ retry: { minDelayMs: -1 } }), (err) => err.code === 'invalid_argument' && /retry\.minDelayMs/.test(err.message));
  assert.throws(() => new Client({ retry: { totalDeadlineMs: -1 } }), (err) => err.code === 'invalid_argument' && /or null for no limit/.test(err.message));
  assert.throws(() => new Client({ adaptivePacing: 'off' }), (err) => err.code === 'invalid_argument' && /adaptivePacing must be true or false/.test(err.message));
  assert.doesNotThrow(() => new Client({ adaptivePacing: false }));
  assert.doesNotThrow(() => new Client({ serverHonoursIdempotencyKeys: true, trustWriteBodies: false, retry: { minDelayMs: 0, totalDeadlineMs: null } }));
  // Durations far beyond any timer saturate instead of failing.
  assert.doesNotThrow(() => new Client({ timeout: 1e300, retry: { maxDelayMs: 1e300, totalDeadlineMs: 1e300 } }));
});

test('retry settings that contradict each other fail the constructor with invalid_config naming the JavaScript options', () => {
  const cases = [
    [{ initialDelayMs: 5000, maxDelayMs: 100 }, /options\.retry\.initialDelayMs is longer than options\.retry\.maxDelayMs/],
    [{ maxDelayMs: 10 }, /initialDelayMs is longer than options\.retry\.maxDelayMs \(given, or the preset's\)/],
    [{ conflictBackoff: { initialMs: 5000, maxMs: 100 } }, /conflictBackoff\.initialMs is longer than options\.retry\.conflictBackoff\.maxMs/],
    [{ minDelayMs: 5000, maxRetryAfterMs: 1000 }, /minDelayMs is longer than options\.retry\.maxRetryAfterMs/],
    [{ totalDeadlineMs: 0 }, /totalDeadlineMs must be more than 0/],
  ];
  for (const [retry, message] of cases) {
    assert.throws(() => new Client({ retry }), (err) => err instanceof IfmatchError && err.code === 'invalid_config' && message.test(err.message), JSON.stringify(retry));
  }
  // conflictBackoff and budget take any subset of their fields; the rest come from the preset.
  assert.doesNotThrow(() => new Client({ retry: { conflictBackoff: { maxMs: 5000 }, budget: { capacity: 50 } } }));
  assert.doesNotThrow(() => new Client({ retry: { preset: 'contended', conflictBackoff: { factor: 3 }, budget: { retryCost: 1, successRefund: 1 } } }));
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
  assert.match(error.hint, /^the change function threw TypeError: no n here/);
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
