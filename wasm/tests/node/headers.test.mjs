// The exact headers the client sends and the wait hints it reads, against a scripted stub server.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client } from 'ifmatch';
import { rejectsWith } from '../support/items.mjs';
import { startStub } from '../support/stub.mjs';

const DOC = { status: 200, headers: { etag: '"v1"' }, body: { n: 1 } };

test('writes carry If-Match with the ETag from the last read, and configured headers go on every request', async (t) => {
  const stub = await startStub((req) => (req.method === 'GET' ? DOC : { status: 200, headers: { etag: '"v2"' }, body: req.body }));
  t.after(stub.close);
  const client = new Client({ baseUrl: stub.url, headers: { authorization: 'Bearer t0ken' } });
  await client.get('/items/1');
  await client.put('/items/1', { n: 2 });
  await client.patch('/items/1', { n: 3 });
  const [get, put, patch] = stub.requests;
  assert.equal(get.headers['if-match'], undefined);
  assert.equal(put.headers['if-match'], '"v1"');
  assert.equal(patch.headers['if-match'], '"v2"', 'the PUT response\'s ETag replaced the cached one');
  assert.equal(patch.headers['content-type'], 'application/merge-patch+json');
  assert.ok(stub.requests.every((r) => r.headers.authorization === 'Bearer t0ken'));
});

test('missingEtag chooses what a write without a cached ETag sends', async (t) => {
  const stub = await startStub((req) => ({ status: 201, headers: { etag: '"v1"' }, body: req.body }));
  t.after(stub.close);
  await new Client({ baseUrl: stub.url, missingEtag: 'createOnly' }).put('/items/a', { n: 1 });
  await new Client({ baseUrl: stub.url, missingEtag: 'unconditional' }).put('/items/b', { n: 1 });
  const [createOnly, unconditional] = stub.requests;
  assert.equal(createOnly.method, 'PUT');
  assert.equal(createOnly.headers['if-none-match'], '*');
  assert.equal(createOnly.headers['if-match'], undefined);
  assert.equal(unconditional.method, 'PUT');
  assert.equal(unconditional.headers['if-none-match'], undefined);
  assert.equal(unconditional.headers['if-match'], undefined);
});

test('a weak ETag is never sent in If-Match: the write fails with missing_etag instead', async (t) => {
  const stub = await startStub(() => ({ ...DOC, headers: { etag: 'W/"v1"' } }));
  t.after(stub.close);
  const client = new Client({ baseUrl: stub.url });
  await client.get('/items/1');
  const error = await rejectsWith(client.put('/items/1', { n: 2 }), 'missing_etag');
  assert.match(error.message, /weak/);
  assert.ok(stub.requests.every((r) => r.method === 'GET'), 'no write was sent');
});

test('create sends an Idempotency-Key when retries are on, so a throttled POST can be retried', async (t) => {
  const stub = await startStub((req, index) => (index === 0
    ? { status: 429, headers: { 'retry-after-ms': '5' }, body: { type: 'about:blank', status: 429 } }
    : { status: 201, headers: { etag: '"v1"', location: '/items/9' }, body: req.body }));
  t.after(stub.close);
  const client = new Client({ baseUrl: stub.url });
  const created = await client.create('/items', { n: 1 });
  assert.equal(created.location, `${stub.url}/items/9`);
  assert.equal(stub.requests.length, 2);
  const [first, second] = stub.requests;
  assert.ok(first.headers['idempotency-key'], 'the POST carries an Idempotency-Key');
  assert.equal(second.headers['idempotency-key'], first.headers['idempotency-key'], 'the retry reuses the key');
});

test('Retry-After as an HTTP-date and retry-after-ms are both honoured, and reported by source', async (t) => {
  for (const [headers, source] of [
    [{ 'retry-after': new Date(Date.now() + 2000).toUTCString() }, 'retryAfterDate'], // whole seconds: 1-2 s ahead
    [{ 'retry-after-ms': '20' }, 'retryAfterMs'],
  ]) {
    const stub = await startStub((req, index) => (index === 0 ? { status: 429, headers, body: { status: 429 } } : DOC));
    t.after(stub.close);
    const events = [];
    const client = new Client({ baseUrl: stub.url, onEvent: (e) => events.push(e) });
    assert.deepEqual((await client.get('/items/1')).value, { n: 1 });
    const throttled = events.find((e) => e.type === 'throttled');
    assert.equal(throttled.hintSource, source);
    assert.equal(throttled.delayMs, throttled.hintMs, 'no jitter is added to a server hint');
  }
});

test('aborting while the response is outstanding rejects with cancelled', async (t) => {
  const stub = await startStub(() => null);
  t.after(stub.close);
  const client = new Client({ baseUrl: stub.url });
  const controller = new AbortController();
  const pending = client.get('/items/1', { signal: controller.signal });
  for (let i = 0; i < 400 && stub.requests.length === 0; i += 1) await new Promise((ok) => setTimeout(ok, 5));
  assert.equal(stub.requests.length, 1, 'the request reached the stub');
  controller.abort();
  await rejectsWith(pending, 'cancelled');
});
