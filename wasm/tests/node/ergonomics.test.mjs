// ky/axios-style ergonomics: per-call searchParams, the hooks option, extend(), response headers
// on results, request() and head(); and the ways people break them. The messages people read are
// snapshotted in snapshots/ergonomics.json (regenerate with UPDATE_SNAPSHOTS=1).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { Client, IfmatchError } from 'ifmatch';
import { env } from '../support/env.mjs';
import { createItem } from '../support/items.mjs';
import { startStub } from '../support/stub.mjs';

const SNAPSHOT = new URL('./snapshots/ergonomics.json', import.meta.url);

/** What `promise` rejects with, checked to be an IfmatchError of `code`. */
async function rejectsWith(promise, code) {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof IfmatchError, `an IfmatchError, not ${err}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  throw new Error(`expected a rejection with ${code}`);
}

function thrown(fn) {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

const shown = (err) => `${err.code}: ${err.message}`.replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:PORT');

/** A stub that answers every GET with `doc` at ETag `"<query>"` and 304 to a matching If-None-Match. */
async function queryStub() {
  return startStub((req) => {
    const etag = `"${new URL(req.url, 'http://x').search || 'none'}"`;
    if (req.headers['if-none-match'] === etag) return { status: 304, headers: { etag, 'x-seen': '304' }, body: undefined };
    return { status: 200, headers: { etag, 'x-seen': '200' }, body: { url: req.url } };
  });
}

test('searchParams: an object, a URLSearchParams or a string is appended to the query, and the cache keys on it', async (t) => {
  const stub = await queryStub();
  t.after(stub.close);
  const client = new Client({ baseUrl: stub.url });
  await client.get('/items', { searchParams: { tag: 'a b', n: 2, on: true, skipped: undefined } });
  await client.get('/items?x=1', { searchParams: new URLSearchParams([['tag', 'a'], ['tag', 'b']]) });
  await client.get('/items', { searchParams: '?q=%C3%A9' });
  assert.deepEqual(stub.requests.map((r) => r.url), ['/items?tag=a+b&n=2&on=true', '/items?x=1&tag=a&tag=b', '/items?q=%C3%A9']);
  // Each query has its own cache entry: the same query again is conditional, another is not.
  const again = await client.get('/items', { searchParams: { tag: 'a b', n: 2, on: true } });
  assert.equal(again.fromCache, true);
  assert.equal(stub.requests[3].headers['if-none-match'], '"?tag=a+b&n=2&on=true"');
  const other = await client.get('/items', { searchParams: { tag: 'c' } });
  assert.equal(other.fromCache, false);
  assert.equal(stub.requests[4].headers['if-none-match'], undefined);
});

test('searchParams on writes and update reach the server', async (t) => {
  const stub = await startStub((req) => (req.method === 'GET'
    ? { status: 200, headers: { etag: '"v1"' }, body: { n: 1 } }
    : { status: 200, headers: { etag: '"v2"' }, body: undefined }));
  t.after(stub.close);
  const client = new Client({ baseUrl: stub.url });
  await client.put('/items/1', { n: 2 }, { ifMatch: '"v1"', searchParams: { dryRun: false } });
  await client.update('/items/1', (doc) => ({ n: doc.n + 1 }), { searchParams: { via: 'update' } });
  assert.deepEqual(stub.requests.map((r) => `${r.method} ${r.url}`), [
    'PUT /items/1?dryRun=false', 'GET /items/1?via=update', 'PUT /items/1?via=update',
  ]);
});

test('hooks: beforeRequest sees the final request and may add headers or return a Request; afterResponse sees every response', async (t) => {
  const stub = await startStub(() => ({ status: 200, headers: { etag: '"v1"', 'x-answer': 'yes' }, body: { n: 1 } }));
  t.after(stub.close);
  const seen = [];
  const client = new Client({
    baseUrl: stub.url,
    headers: { 'x-client': 'c' },
    hooks: {
      beforeRequest: [
        (request) => {
          seen.push(`${request.method} ${request.url} ${request.headers.get('x-client')} ${request.headers.get('if-match')}`);
          request.headers.set('x-signed', 'sig');
        },
        (request) => new Request(request, { headers: { ...Object.fromEntries(request.headers), 'x-second': '2' } }),
      ],
      afterResponse: [(request, response) => { seen.push(`${response.status} ${response.headers.get('x-answer')} ${request.headers.get('x-second')}`); }],
    },
  });
  await client.put('/items/1', { n: 1 }, { ifMatch: '"v0"' });
  assert.deepEqual(seen, [`PUT ${stub.url}/items/1 c "v0"`, '200 yes 2']);
  assert.equal(stub.requests[0].headers['x-signed'], 'sig');
  assert.equal(stub.requests[0].headers['x-second'], '2');
  assert.equal(stub.requests[0].headers['if-match'], '"v0"');
  assert.deepEqual(stub.requests[0].body, { n: 1 }, 'the body survives a returned Request');
});

test('hooks: afterResponse may replace the response', async (t) => {
  const stub = await startStub(() => ({ status: 200, headers: { etag: '"v1"' }, body: { n: 1 } }));
  t.after(stub.close);
  const client = new Client({
    baseUrl: stub.url,
    hooks: { afterResponse: [() => new Response(JSON.stringify({ n: 99 }), { status: 200, headers: { etag: '"v9"' } })] },
  });
  const read = await client.get('/items/1');
  assert.deepEqual(read.value, { n: 99 });
  assert.equal(read.etag, '"v9"');
});

test('hooks: removing or changing the precondition of a write is refused and nothing is sent', async (t) => {
  const stub = await startStub(() => ({ status: 200, body: { ok: true } }));
  t.after(stub.close);
  const remove = new Client({ baseUrl: stub.url, hooks: { beforeRequest: [(r) => { r.headers.delete('if-match'); }] } });
  const removed = await rejectsWith(remove.put('/items/1', { n: 1 }, { ifMatch: '"v1"' }), 'hook_failed');
  const change = new Client({ baseUrl: stub.url, hooks: { beforeRequest: [(r) => { r.headers.set('if-none-match', '"x"'); }] } });
  const changed = await rejectsWith(change.put('/items/1', { n: 1 }, { createOnly: true }), 'hook_failed');
  const method = new Client({ baseUrl: stub.url, hooks: { beforeRequest: [(r) => new Request(r.url, { method: 'POST', headers: r.headers })] } });
  const methodChanged = await rejectsWith(method.delete('/items/1', { ifMatch: '"v1"' }), 'hook_failed');
  assert.equal(stub.requests.length, 0);
  // A read has no precondition of its own to protect: a hook may drop its If-None-Match.
  const read = new Client({ baseUrl: stub.url, hooks: { beforeRequest: [(r) => { r.headers.delete('if-none-match'); }] } });
  await read.get('/items/1');
  assert.equal(stub.requests.length, 1);
  snapshot.removed = shown(removed);
  snapshot.changed = shown(changed);
  snapshot.methodChanged = shown(methodChanged);
});

test('hooks: a throwing hook rejects the call with its error as cause; junk returned is refused', async (t) => {
  const stub = await startStub(() => ({ status: 200, headers: { etag: '"v1"' }, body: { n: 1 } }));
  t.after(stub.close);
  const boom = new Error('no token');
  let calls = 0;
  const throwing = new Client({ baseUrl: stub.url, hooks: { beforeRequest: [() => { calls += 1; throw boom; }] } });
  const threw = await rejectsWith(throwing.get('/items/1'), 'hook_failed');
  assert.equal(threw.cause, boom);
  assert.equal(stub.requests.length, 0);
  assert.equal(calls, 1, "a hook's failure is not resent like a lost connection");
  const junk = new Client({ baseUrl: stub.url, hooks: { beforeRequest: [() => 42] } });
  const junkRequest = await rejectsWith(junk.get('/items/1'), 'hook_failed');
  const junkResponse = new Client({ baseUrl: stub.url, hooks: { afterResponse: [async () => ({ status: 200 })] } });
  const junkAnswer = await rejectsWith(junkResponse.get('/items/1'), 'hook_failed');
  const after = new Client({ baseUrl: stub.url, hooks: { afterResponse: [() => { throw new TypeError('bad'); }] } });
  const afterThrew = await rejectsWith(after.get('/items/1'), 'hook_failed');
  assert.ok(afterThrew.cause instanceof TypeError);
  assert.equal(stub.requests.length, 2, 'one GET each for the two afterResponse clients, none resent');
  snapshot.threw = shown(threw);
  snapshot.junkRequest = shown(junkRequest);
  snapshot.junkResponse = shown(junkAnswer);
  snapshot.afterThrew = shown(afterThrew);
});

test('hooks: beforeRetry runs, awaited, before each resend after 429/503, with the attempt and the wait', async (t) => {
  const stub = await startStub((req, index) => (index < 2
    ? { status: 429, headers: { 'retry-after-ms': '5' }, body: { status: 429 } }
    : { status: 200, headers: { etag: '"v1"' }, body: { n: 1 } }));
  t.after(stub.close);
  const calls = [];
  const client = new Client({
    baseUrl: stub.url,
    retry: { minDelayMs: 0 },
    hooks: {
      beforeRetry: [async ({ request, error, attempt, retryAfterMs, reason }) => {
        await new Promise((ok) => setTimeout(ok, 5));
        calls.push({ url: request.url, code: error.code, status: error.status, attempt, retryAfterMs, reason, sent: stub.requests.length });
      }],
    },
  });
  const read = await client.get('/items/1');
  assert.deepEqual(read.value, { n: 1 });
  assert.deepEqual(calls, [
    { url: `${stub.url}/items/1`, code: 'rate_limited', status: 429, attempt: 2, retryAfterMs: 5, reason: 'throttled', sent: 1 },
    { url: `${stub.url}/items/1`, code: 'rate_limited', status: 429, attempt: 3, retryAfterMs: 5, reason: 'throttled', sent: 2 },
  ]);
});

test('hooks: a throwing beforeRetry ends the call, not retried further, with its error as cause', async (t) => {
  const stub = await startStub(() => ({ status: 503, headers: { 'retry-after-ms': '1' }, body: { status: 503 } }));
  t.after(stub.close);
  const stop = new Error('stop retrying');
  const client = new Client({ baseUrl: stub.url, retry: { minDelayMs: 0 }, hooks: { beforeRetry: [() => { throw stop; }] } });
  const err = await rejectsWith(client.get('/items/1'), 'hook_failed');
  assert.equal(err.cause, stop);
  assert.equal(stub.requests.length, 1);
  snapshot.beforeRetryThrew = shown(err);
});

test('hooks: beforeRetry runs before update writes again after a conflict', async (t) => {
  let version = 1;
  const stub = await startStub((req) => {
    if (req.method === 'GET') {
      version += 1; // someone writes between every read and write
      return { status: 200, headers: { etag: `"v${version}"` }, body: { n: version } };
    }
    if (req.headers['if-match'] === '"v3"') return { status: 200, headers: { etag: '"v4"' }, body: undefined };
    return { status: 412, body: { status: 412 } };
  });
  t.after(stub.close);
  const calls = [];
  const client = new Client({
    baseUrl: stub.url,
    retry: { conflictBackoff: { initialMs: 0 } },
    hooks: { beforeRetry: [({ attempt, reason, error }) => { calls.push(`${attempt} ${reason} ${error.code}`); }] },
  });
  const updated = await client.update('/items/1', (doc) => ({ n: doc.n + 1 }));
  assert.equal(updated.attempts, 2);
  assert.deepEqual(calls, ['2 conflict precondition_failed']);
});

test('hooks option: malformed hooks are refused when the client is made', () => {
  const cases = {
    notObject: { hooks: [() => {}] },
    unknown: { hooks: { beforeError: [] } },
    notArray: { hooks: { beforeRequest: () => {} } },
    notFunction: { hooks: { afterResponse: [() => {}, 'log'] } },
  };
  for (const [name, options] of Object.entries(cases)) {
    const err = thrown(() => new Client(options));
    assert.ok(err instanceof IfmatchError);
    assert.equal(err.code, 'invalid_argument');
    snapshot[`hooks.${name}`] = shown(err);
  }
});

test('searchParams: odd values are refused before anything is sent', async (t) => {
  const stub = await queryStub();
  t.after(stub.close);
  const client = new Client({ baseUrl: stub.url });
  const cases = {
    null: null,
    number: 5,
    nested: { filter: { a: 1 } },
    array: { tag: ['a', 'b'] },
    nan: { n: Number.NaN },
    nullMember: { n: null },
  };
  for (const [name, searchParams] of Object.entries(cases)) {
    const err = await rejectsWith(client.get('/items', { searchParams }), 'invalid_argument');
    snapshot[`searchParams.${name}`] = shown(err);
  }
  assert.equal(stub.requests.length, 0);
});

test('extend: headers merged, hooks concatenated, other options replaced; the original is unchanged', async (t) => {
  const stub = await queryStub();
  t.after(stub.close);
  const order = [];
  const options = {
    baseUrl: stub.url,
    headers: { 'X-Team': 'a', 'x-keep': 'k' },
    hooks: { beforeRequest: [() => { order.push('base'); }] },
    timeout: 5000,
  };
  const base = new Client(options);
  const derived = base.extend({ headers: { 'x-team': 'b', 'x-new': 'n' }, hooks: { beforeRequest: [() => { order.push('derived'); }] } });
  const twice = derived.extend({ headers: { 'x-keep': undefined }, hooks: { beforeRequest: [() => { order.push('twice'); }] } });
  options.headers['x-team'] = 'changed later'; // changing the object afterwards changes no client
  await base.get('/a');
  await derived.get('/b');
  await twice.get('/c');
  const [a, b, c] = stub.requests.map((r) => r.headers);
  assert.deepEqual([a['x-team'], a['x-keep'], a['x-new']], ['a', 'k', undefined]);
  assert.deepEqual([b['x-team'], b['x-keep'], b['x-new']], ['b', 'k', 'n']);
  assert.deepEqual([c['x-team'], c['x-keep'], c['x-new']], ['b', undefined, 'n']);
  assert.deepEqual(order, ['base', 'base', 'derived', 'base', 'derived', 'twice']);
  // Its own cache: the derived client's first read of /a is not conditional.
  await derived.get('/a');
  assert.equal(stub.requests[3].headers['if-none-match'], undefined);
  assert.equal(derived.stats().requests, 2);
  // A replaced option is checked as in the constructor.
  const bad = thrown(() => base.extend({ timeout: 0 }));
  assert.equal(bad.code, 'invalid_argument');
  const notObject = thrown(() => base.extend('https://example.com'));
  assert.equal(notObject.code, 'invalid_argument');
  snapshot['extend.notObject'] = shown(notObject);
});

test('results carry the response headers and status; a 304 from the cache has the 304s', async (t) => {
  const stub = await queryStub();
  t.after(stub.close);
  const client = new Client({ baseUrl: stub.url });
  const first = await client.get('/items/1');
  assert.ok(first.headers instanceof Headers);
  assert.equal(first.status, 200);
  assert.equal(first.headers.get('x-seen'), '200');
  assert.equal(first.headers.get('etag'), '"none"');
  const second = await client.get('/items/1');
  assert.equal(second.fromCache, true);
  assert.equal(second.status, 304);
  assert.equal(second.headers.get('x-seen'), '304');
});

test('results of writes and update carry the headers of the write answer (reference server)', async () => {
  const client = new Client({ baseUrl: env.url });
  const created = await client.create('/items', { n: 1 });
  assert.equal(created.status, 201);
  assert.equal(created.headers.get('location') !== null, true);
  const path = new URL(created.location).pathname;
  const read = await client.get(path);
  const put = await client.put(path, { n: 2 }, { ifMatch: read.etag });
  assert.equal(put.headers.get('etag'), put.etag);
  const updated = await client.update(path, (doc) => ({ n: doc.n + 1 }));
  assert.equal(updated.headers.get('etag'), updated.etag);
  assert.ok([200, 204].includes(updated.status));
});

test('request(): GET through the cache, writes with the precondition given (reference server)', async () => {
  const client = new Client({ baseUrl: env.url });
  const path = await createItem(env.url, { n: 1 });
  const first = await client.request('get', path);
  assert.deepEqual(first.value, { n: 1 });
  assert.equal(first.status, 200);
  const second = await client.request('GET', path);
  assert.equal(second.fromCache, true);
  const written = await client.request('PUT', path, { json: { n: 2 }, ifMatch: first.etag });
  assert.ok(written.headers instanceof Headers);
  assert.equal(written.etag, written.headers.get('etag'));
  // The version read is stale now: the write is refused, never sent unconditionally.
  await rejectsWith(client.request('PUT', path, { json: { n: 3 }, ifMatch: first.etag }), 'precondition_failed');
  const gone = await rejectsWith(client.head('/items/does-not-exist'), 'http_status');
  assert.equal(gone.status, 404);
});

test('request(): mistakes are refused before anything is sent', async (t) => {
  const stub = await queryStub();
  t.after(stub.close);
  const client = new Client({ baseUrl: stub.url });
  const cases = {
    getWithBody: () => client.request('GET', '/items/1', { json: { n: 1 } }),
    getWithPrecondition: () => client.request('GET', '/items/1', { ifMatch: '"v1"' }),
    writeWithout: () => client.request('POST', '/items/1/archive', { json: {} }),
    head: () => client.request('HEAD', '/items/1'),
    options: () => client.request('OPTIONS', '/items/1'),
    badName: () => client.request('GE T', '/items/1'),
    notString: () => client.request(1, '/items/1'),
    body: () => client.request('POST', '/items', { body: 'text', unconditional: true }),
  };
  for (const [name, call] of Object.entries(cases)) {
    const err = await rejectsWith(call(), 'invalid_argument');
    snapshot[`request.${name}`] = shown(err);
  }
  assert.equal(stub.requests.length, 0);
});

test('head(): status, etag and headers, no body; a 404 rejects; the cache is neither read nor changed', async (t) => {
  const stub = await startStub((req) => (req.url === '/gone'
    ? { status: 404, body: undefined }
    : { status: 200, headers: { etag: '"h1"', 'x-size': '7' }, body: undefined }));
  t.after(stub.close);
  const client = new Client({ baseUrl: stub.url });
  const head = await client.head('/items/1', { searchParams: { v: 1 } });
  assert.deepEqual({ ...head, headers: head.headers.get('x-size') }, { status: 200, etag: '"h1"', version: null, headers: '7', attempts: 1 });
  assert.equal('value' in head, false);
  await client.get('/items/1?v=1');
  assert.equal(stub.requests[1].headers['if-none-match'], undefined, 'head stored no validator');
  const gone = await rejectsWith(client.head('/gone'), 'http_status');
  assert.equal(gone.status, 404);
  assert.deepEqual(stub.requests.map((r) => `${r.method} ${r.url}`), ['HEAD /items/1?v=1', 'GET /items/1?v=1', 'HEAD /gone']);
});

const snapshot = {};

test('the messages above match snapshots/ergonomics.json', () => {
  const actual = Object.fromEntries(Object.entries(snapshot).sort(([a], [b]) => a.localeCompare(b)));
  if (process.env.UPDATE_SNAPSHOTS || !existsSync(SNAPSHOT)) {
    writeFileSync(SNAPSHOT, `${JSON.stringify(actual, null, 2)}\n`);
  }
  assert.deepEqual(actual, JSON.parse(readFileSync(SNAPSHOT, 'utf8')));
});
