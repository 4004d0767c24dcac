// The exact headers the client sends and the wait hints it reads, against a scripted stub server.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client } from 'ifmatch';
import { rejectsWith } from '../support/items.mjs';
import { startStub } from '../support/stub.mjs';

const DOC = { status: 200, headers: { etag: '"v1"' }, body: { n: 1 } };

test('writes carry If-Match with the ETag they are given, and configured headers go on every request', async (t) => {
  const stub = await startStub((req) => (req.method === 'GET' ? DOC : { status: 200, headers: { etag: '"v2"' }, body: req.body }));
  t.after(stub.close);
  const client = new Client({ baseUrl: stub.url, headers: { authorization: 'Bearer t0ken' } });
  const read = await client.get('/items/1');
  const written = await client.put('/items/1', { n: 2 }, { ifMatch: read.etag });
  assert.equal(written.etag, '"v2"', "a PUT's answer is the document sent, so its ETag is the new version");
  await client.patch('/items/1', { n: 3 }, { ifMatch: written.etag });
  const [get, put, patch] = stub.requests;
  assert.equal(get.headers['if-match'], undefined);
  assert.equal(put.headers['if-match'], '"v1"');
  assert.equal(patch.headers['if-match'], '"v2"');
  assert.equal(patch.headers['content-type'], 'application/merge-patch+json');
  assert.ok(stub.requests.every((r) => r.headers.authorization === 'Bearer t0ken'));
});

test('the If-Match sent is the one given, never the newer ETag in the cache', async (t) => {
  const stub = await startStub((req) => (req.method === 'GET' ? DOC : { status: 200, headers: { etag: '"v2"' }, body: req.body }));
  t.after(stub.close);
  const client = new Client({ baseUrl: stub.url });
  const read = await client.get('/items/1');
  await client.put('/items/1', { n: 2 }, { ifMatch: read.etag }); // the cache now holds "v2"
  await client.put('/items/1', { n: 3 }, { ifMatch: read.etag });
  await client.delete('/items/1', { ifMatch: read.etag });
  assert.deepEqual(stub.requests.slice(1).map((r) => [r.method, r.headers['if-match']]), [['PUT', '"v1"'], ['PUT', '"v1"'], ['DELETE', '"v1"']]);
});

test('createOnly sends If-None-Match: *, unconditional sends no precondition, and nothing is read first', async (t) => {
  const stub = await startStub((req) => ({ status: 201, headers: { etag: '"v1"' }, body: req.body }));
  t.after(stub.close);
  const client = new Client({ baseUrl: stub.url });
  await client.put('/items/a', { n: 1 }, { createOnly: true });
  await client.patch('/items/b', { n: 1 }, { unconditional: true });
  await client.delete('/items/c', { unconditional: true });
  const [createOnly, patch, del] = stub.requests;
  assert.deepEqual(stub.requests.map((r) => r.method), ['PUT', 'PATCH', 'DELETE']);
  assert.equal(createOnly.headers['if-none-match'], '*');
  assert.equal(createOnly.headers['if-match'], undefined);
  for (const request of [patch, del]) {
    assert.equal(request.headers['if-none-match'], undefined);
    assert.equal(request.headers['if-match'], undefined);
  }
});

test("missingEtag decides what update() does when its read finds no resource or no ETag", async (t) => {
  const stub = await startStub((req) => {
    if (req.method === 'GET' && req.url === '/items/missing') return { status: 404, body: { type: 'about:blank', status: 404 } };
    if (req.method === 'GET') return { status: 200, body: { n: 1 } }; // no ETag
    return { status: 201, headers: { etag: '"v1"' }, body: req.body };
  });
  t.after(stub.close);
  const bump = (doc) => ({ n: (doc?.n ?? 0) + 1 });
  await new Client({ baseUrl: stub.url, missingEtag: 'createOnly' }).update('/items/missing', bump);
  await new Client({ baseUrl: stub.url, missingEtag: 'unconditional' }).update('/items/plain', bump);
  const [, created, , unconditional] = stub.requests;
  assert.equal(created.method, 'PUT');
  assert.equal(created.headers['if-none-match'], '*');
  assert.deepEqual(created.body, { n: 1 });
  assert.equal(unconditional.method, 'PUT');
  assert.equal(unconditional.headers['if-match'], undefined);
  assert.equal(unconditional.headers['if-none-match'], undefined);
  const sent = stub.requests.length;
  await rejectsWith(new Client({ baseUrl: stub.url }).update('/items/plain', bump), 'missing_etag');
  const notFound = await rejectsWith(new Client({ baseUrl: stub.url }).update('/items/missing', bump), 'http_status');
  assert.equal(notFound.status, 404);
  assert.deepEqual(stub.requests.slice(sent).map((r) => r.method), ['GET', 'GET'], 'fetchFirst (the default) writes nothing');
});

test('a weak ETag is never sent in If-Match: the write fails with missing_etag instead', async (t) => {
  const stub = await startStub(() => ({ ...DOC, headers: { etag: 'W/"v1"' } }));
  t.after(stub.close);
  const client = new Client({ baseUrl: stub.url });
  const read = await client.get('/items/1');
  assert.equal(read.etag, 'W/"v1"');
  const error = await rejectsWith(client.put('/items/1', { n: 2 }, { ifMatch: read.etag }), 'missing_etag');
  assert.match(error.message, /weak/);
  assert.ok(stub.requests.every((r) => r.method === 'GET'), 'no write was sent');
});

test('a write answered with a redirect is not followed: it rejects with redirected', async (t) => {
  const stub = await startStub((req) => (req.method === 'GET'
    ? DOC
    : { status: 307, headers: { location: '/items/elsewhere' }, body: undefined }));
  t.after(stub.close);
  const client = new Client({ baseUrl: stub.url });
  const error = await rejectsWith(client.put('/items/1', { n: 2 }, { ifMatch: '"v1"' }), 'redirected');
  assert.match(error.message, /307/);
  assert.match(error.message, /\/items\/elsewhere/);
  assert.deepEqual(stub.requests.map((r) => `${r.method} ${r.url}`), ['PUT /items/1'], 'the redirect was not followed');
});

test('a write answered with a body but no Content-Location gets no ETag, unless trustWriteBodies', async (t) => {
  const stub = await startStub(() => ({ status: 200, headers: { etag: '"v2"' }, body: { ok: true } }));
  t.after(stub.close);
  const plain = await new Client({ baseUrl: stub.url }).patch('/items/1', { n: 2 }, { ifMatch: '"v1"' });
  const { headers, ...rest } = plain;
  assert.deepEqual(rest, { value: { ok: true }, etag: null, version: null, location: null, attempts: 1, fromCache: false, status: 200 });
  assert.equal(headers.get('etag'), '"v2"', 'the answer\'s headers, its ETag included, although etag is null');
  const trusting = await new Client({ baseUrl: stub.url, trustWriteBodies: true }).patch('/items/1', { n: 2 }, { ifMatch: '"v1"' });
  assert.equal(trusting.etag, '"v2"');
});

test('timeout ends a request that gets no answer with code timeout, and it is not resent', async (t) => {
  const stub = await startStub(() => null);
  t.after(stub.close);
  const client = new Client({ baseUrl: stub.url, timeout: 50 });
  const error = await rejectsWith(client.put('/items/1', { n: 2 }, { ifMatch: '"v1"' }), 'timeout');
  assert.match(error.message, /50ms/);
  assert.match(error.hint, /raise the timeout option/);
  assert.equal(error.status, null);
  assert.equal(stub.requests.length, 1);
});

test("a call's timeout overrides the client's: a stalled server ends it with code timeout", async (t) => {
  const stub = await startStub((req) => (req.url === '/items/slow' ? null : DOC));
  t.after(stub.close);
  // Two attempts, quickly: a read that got no answer is sent once more before it fails.
  const client = new Client({ baseUrl: stub.url, timeout: null, retry: { maxAttempts: 2, initialDelayMs: 1, minDelayMs: 0 } });
  const started = Date.now();
  const error = await rejectsWith(client.get('/items/slow', { timeout: 40 }), 'timeout');
  assert.ok(Date.now() - started < 5000, 'ended by the call timeout, not by any other limit');
  assert.match(error.message, /timed out after 40ms \(no response to one request\)/);
  assert.match(error.hint, /^nothing was changed/);
  assert.equal(stub.requests.length, 2, 'the read was sent again once');
  for (const [call, start] of [
    ['put', () => client.put('/items/slow', { n: 1 }, { ifMatch: '"v1"', timeout: 30 })],
    ['delete', () => client.delete('/items/slow', { unconditional: true, timeout: 30 })],
    ['update', () => client.update('/items/slow', (doc) => doc, { timeout: 30 })],
    ['create', () => client.create('/items/slow', { n: 1 }, { timeout: 30 })],
  ]) {
    const failed = await rejectsWith(start(), 'timeout');
    assert.match(failed.message, /30ms/, call);
  }
  // `timeout: null` lifts the client's limit for one call.
  const quick = new Client({ baseUrl: stub.url, timeout: 1 });
  assert.deepEqual((await quick.get('/items/fast', { timeout: null })).value, { n: 1 });
});

test('per-call headers arrive at the server, after the client\'s, replacing one of the same name', async (t) => {
  const stub = await startStub((req) => (req.method === 'GET' ? DOC : { status: 200, headers: { etag: '"v2"' }, body: req.body }));
  t.after(stub.close);
  const client = new Client({ baseUrl: stub.url, headers: { authorization: 'Bearer client', 'x-app': 'demo' } });
  await client.get('/items/1', { headers: { 'x-request-id': 'r1' } });
  await client.put('/items/1', { n: 2 }, { ifMatch: '"v1"', headers: { authorization: 'Bearer call', 'x-request-id': 'r2' } });
  await client.update('/items/2', (doc) => ({ n: doc.n + 1 }), { headers: { 'x-request-id': 'r3' } });
  await client.create('/items', { n: 1 }, { headers: { 'x-request-id': 'r4' } });
  await client.delete('/items/1', { unconditional: true, headers: { 'x-request-id': 'r5' } });
  await client.patch('/items/1', { n: 3 }, { unconditional: true, headers: { 'x-request-id': 'r6' } });
  const seen = stub.requests.map((r) => [r.method, r.headers['x-request-id'], r.headers.authorization, r.headers['x-app']]);
  assert.deepEqual(seen, [
    ['GET', 'r1', 'Bearer client', 'demo'],
    ['PUT', 'r2', 'Bearer call', 'demo'],
    ['GET', 'r3', 'Bearer client', 'demo'],
    ['PUT', 'r3', 'Bearer client', 'demo'],
    ['POST', 'r4', 'Bearer client', 'demo'],
    ['DELETE', 'r5', 'Bearer client', 'demo'],
    ['PATCH', 'r6', 'Bearer client', 'demo'],
  ]);
  const bad = await rejectsWith(client.get('/items/1', { headers: { 'bad name': 'x' } }), 'invalid_config');
  assert.match(bad.message, /^options\.headers: invalid header name "bad name"/);
  await rejectsWith(client.get('/items/1', { headers: ['x-a', 'b'] }), 'invalid_argument');
  assert.equal(stub.requests.length, 7, 'a call with bad headers sends nothing');
});

test('retry.totalDeadlineMs bounds the whole call: it rejects with timeout', async (t) => {
  const stub = await startStub(() => null);
  t.after(stub.close);
  const client = new Client({ baseUrl: stub.url, timeout: null, retry: { totalDeadlineMs: 80 } });
  const error = await rejectsWith(client.get('/items/1'), 'timeout');
  assert.match(error.message, /the whole operation/);
  assert.match(error.message, /retry\.totalDeadlineMs/);
});

test('a 503 the client gives up on rejects with unavailable (429 stays rate_limited)', async (t) => {
  const stub = await startStub(() => ({ status: 503, headers: { 'retry-after': '7' }, body: { type: 'about:blank', status: 503 } }));
  t.after(stub.close);
  const error = await rejectsWith(new Client({ baseUrl: stub.url, retry: { maxAttempts: 1 } }).get('/items/1'), 'unavailable');
  assert.equal(error.status, 503);
  assert.equal(error.retryAfterMs, 7000);
  assert.equal(error.problem.status, 503);
});

test('a POST answered 503 is resent only when serverHonoursIdempotencyKeys says the key makes that safe', async (t) => {
  const answers = (req, index) => (index % 2 === 0
    ? { status: 503, headers: { 'retry-after-ms': '1' }, body: { status: 503 } }
    : { status: 201, headers: { etag: '"v1"', location: '/items/9' }, body: req.body });
  const wary = await startStub(answers);
  t.after(wary.close);
  await rejectsWith(new Client({ baseUrl: wary.url }).create('/items', { n: 1 }), 'unavailable');
  assert.equal(wary.requests.length, 1, 'not resent: a proxy may have answered 503 after the origin created it');

  const trusting = await startStub(answers);
  t.after(trusting.close);
  const created = await new Client({ baseUrl: trusting.url, serverHonoursIdempotencyKeys: true }).create('/items', { n: 1 });
  assert.equal(created.location, `${trusting.url}/items/9`);
  assert.equal(trusting.requests.length, 2);
  assert.equal(trusting.requests[1].headers['idempotency-key'], trusting.requests[0].headers['idempotency-key']);
});

test('a conditional write resent after a 503 and then refused is outcome_unknown unless a re-read shows it landed', async (t) => {
  for (const [stored, expected] of [[{ n: 'someone else' }, 'outcome_unknown'], [{ n: 2 }, 'landed']]) {
    const stub = await startStub((req, index) => [
      { status: 503, headers: { 'retry-after-ms': '1' }, body: { status: 503 } },
      { status: 412, headers: { etag: '"v9"' }, body: { type: 'urn:ifmatch:problem:precondition-failed', status: 412 } },
      { status: 200, headers: { etag: '"v9"' }, body: stored },
    ][index] ?? { status: 500, body: { detail: 'unexpected request' } });
    t.after(stub.close);
    const client = new Client({ baseUrl: stub.url });
    const write = client.put('/items/1', { n: 2 }, { ifMatch: '"v1"' });
    if (expected === 'landed') {
      const written = await write;
      assert.deepEqual(written.value, { n: 2 });
      assert.equal(written.etag, '"v9"');
    } else {
      const error = await rejectsWith(write, 'outcome_unknown');
      assert.equal(error.status, 412);
      assert.match(error.message, /may or may not have been applied/);
    }
    assert.deepEqual(stub.requests.map((r) => r.method), ['PUT', 'PUT', 'GET']);
  }
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
    [{ 'retry-after-ms': '150' }, 'retryAfterMs'],
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

test('retry.minDelayMs (default 100) is the floor of every wait, a shorter server hint included', async (t) => {
  for (const [retry, delayMs] of [[undefined, 100], [{ minDelayMs: 0 }, 20], [{ minDelayMs: 250 }, 250]]) {
    const stub = await startStub((req, index) => (index === 0 ? { status: 429, headers: { 'retry-after-ms': '20' }, body: { status: 429 } } : DOC));
    t.after(stub.close);
    const events = [];
    const client = new Client({ baseUrl: stub.url, onEvent: (e) => events.push(e), ...(retry ? { retry } : {}) });
    await client.get('/items/1');
    const throttled = events.find((e) => e.type === 'throttled');
    assert.equal(throttled.hintMs, 20);
    assert.equal(throttled.delayMs, delayMs, `retry: ${JSON.stringify(retry)}`);
  }
});
