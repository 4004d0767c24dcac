// Reading, caching and conditional writes against the reference server (412 mode).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client } from 'ifmatch';
import { env } from '../support/env.mjs';
import { createItem, readItem, rejectsWith, writeBehind } from '../support/items.mjs';

test('get returns the value with the strong ETag the server sent', async () => {
  const path = await createItem(env.url, { title: 'first' });
  const client = new Client({ baseUrl: env.url });
  const got = await client.get(path);
  assert.deepEqual(got.value, { title: 'first' });
  assert.equal(got.etag, (await readItem(env.url, path)).etag);
  assert.match(got.etag, /^"/, 'the reference server sends strong ETags');
});

test('a second get is conditional and reuses the cached body on 304', async () => {
  const path = await createItem(env.url, { n: 1 });
  const client = new Client({ baseUrl: env.url });
  const first = await client.get(path);
  const second = await client.get(path);
  assert.equal(first.fromCache, false);
  assert.equal(second.fromCache, true);
  assert.deepEqual(second.value, first.value);
  assert.equal(second.etag, first.etag);
  assert.equal(client.stats().notModified, 1);
  assert.equal(client.stats().requests, 2);
});

test('create posts the document and returns its location, value and ETag', async () => {
  const client = new Client({ baseUrl: env.url });
  const created = await client.create('/items', { title: 'new' });
  assert.ok(created.location, 'create should return the Location');
  const stored = await readItem(env.url, new URL(created.location).pathname);
  assert.deepEqual(stored.value, { title: 'new' });
  assert.equal(created.etag, stored.etag);
});

test('put with ifMatch from a read sends that ETag and succeeds when nobody else wrote', async () => {
  const path = await createItem(env.url, { n: 1 });
  const client = new Client({ baseUrl: env.url });
  const read = await client.get(path);
  const written = await client.put(path, { n: 2 }, { ifMatch: read.etag });
  const stored = await readItem(env.url, path);
  assert.deepEqual(stored.value, { n: 2 });
  assert.deepEqual(written.value, { n: 2 });
  assert.equal(written.etag, stored.etag, 'the PUT answer is the stored document, so its ETag is the new version');
  assert.equal(client.stats().requests, 2, 'one GET, one PUT: nothing is fetched before a write');
});

test('put with the ETag of a read that is stale now is refused with precondition_failed and changes nothing', async () => {
  const path = await createItem(env.url, { n: 1 });
  const client = new Client({ baseUrl: env.url });
  const read = await client.get(path);
  await writeBehind(env.url, path, () => ({ n: 100 }));
  const error = await rejectsWith(client.put(path, { n: 2 }, { ifMatch: read.etag }), 'precondition_failed');
  assert.equal(error.status, 412);
  assert.equal(error.problem.type, 'urn:ifmatch:problem:precondition-failed');
  assert.equal(error.currentEtag, (await readItem(env.url, path)).etag);
  assert.deepEqual((await readItem(env.url, path)).value, { n: 100 }, 'the refused write must not change the state');
});

test('one client, two reads: a put from the older read is refused even after the other put refreshed the cache', async () => {
  // The lost update this API prevents: both callers share one client (one ETag cache). B writes
  // first, which updates the cache; A's write must still be conditional on what A read.
  const path = await createItem(env.url, { title: 'draft', likes: 0 });
  const client = new Client({ baseUrl: env.url });
  const a = await client.get(path);
  const b = await client.get(path);
  const byB = await client.put(path, { ...b.value, likes: b.value.likes + 1 }, { ifMatch: b.etag });
  assert.equal(byB.etag, (await readItem(env.url, path)).etag);
  const error = await rejectsWith(client.put(path, { ...a.value, title: 'final' }, { ifMatch: a.etag }), 'precondition_failed');
  assert.equal(error.currentEtag, byB.etag);
  assert.deepEqual((await readItem(env.url, path)).value, { title: 'draft', likes: 1 }, "B's write survives; A's stale copy did not overwrite it");
});

test('createOnly creates a missing resource with PUT and is refused with precondition_failed once it exists', async () => {
  const path = `/items/create-only-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  const client = new Client({ baseUrl: env.url });
  const created = await client.put(path, { n: 1 }, { createOnly: true });
  assert.equal(created.etag, (await readItem(env.url, path)).etag);
  const error = await rejectsWith(client.put(path, { n: 2 }, { createOnly: true }), 'precondition_failed');
  assert.equal(error.status, 412);
  const existing = await createItem(env.url, { n: 1 });
  await rejectsWith(client.put(existing, { n: 2 }, { createOnly: true }), 'precondition_failed');
  assert.deepEqual((await readItem(env.url, path)).value, { n: 1 });
  assert.deepEqual((await readItem(env.url, existing)).value, { n: 1 });
});

test('unconditional overwrites whatever is stored (last write wins, by explicit choice)', async () => {
  const path = await createItem(env.url, { n: 1 });
  const client = new Client({ baseUrl: env.url });
  await client.get(path);
  await writeBehind(env.url, path, () => ({ n: 100 }));
  await client.put(path, { n: 2 }, { unconditional: true });
  assert.deepEqual((await readItem(env.url, path)).value, { n: 2 });
});

test('a write without a precondition is an invalid_argument that says what to pass, and sends nothing', async () => {
  const path = await createItem(env.url, { n: 1 });
  const client = new Client({ baseUrl: env.url });
  const put = await rejectsWith(client.put(path, { n: 2 }), 'invalid_argument');
  assert.match(put.message, /put\(\) needs the version the document was read at/);
  assert.match(put.message, /\{ ifMatch: read\.etag \}/);
  assert.match(put.message, /\{ createOnly: true \} \/ \{ unconditional: true \}/);
  assert.match((await rejectsWith(client.patch(path, { n: 2 }, {}), 'invalid_argument')).message, /^patch\(\) needs/);
  assert.match((await rejectsWith(client.delete(path), 'invalid_argument')).message, /^delete\(\) needs .*\{ ifMatch: read\.etag \}/);
  // Only `undefined` counts as absent.
  await rejectsWith(client.put(path, { n: 2 }, { ifMatch: undefined }), 'invalid_argument');
  assert.equal(client.stats().requests, 0);
  assert.deepEqual((await readItem(env.url, path)).value, { n: 1 });
});

test('more than one precondition, or a bad one, is an invalid_argument naming it', async () => {
  const path = await createItem(env.url, { n: 1 });
  const client = new Client({ baseUrl: env.url });
  const read = await client.get(path);
  const both = await rejectsWith(client.put(path, { n: 2 }, { ifMatch: read.etag, unconditional: true }), 'invalid_argument');
  assert.match(both.message, /exclude each other.*ifMatch and unconditional/);
  const unquoted = await rejectsWith(client.put(path, { n: 2 }, { ifMatch: read.etag.replaceAll('"', '') }), 'invalid_argument');
  assert.match(unquoted.message, /options\.ifMatch/);
  assert.match(unquoted.message, /quoted/);
  assert.match((await rejectsWith(client.put(path, { n: 2 }, { ifMatch: 3 }), 'invalid_argument')).message, /options\.ifMatch .*a number \(3\)/);
  assert.match((await rejectsWith(client.put(path, { n: 2 }, { createOnly: false }), 'invalid_argument')).message, /options\.createOnly must be true/);
  assert.match((await rejectsWith(client.put(path, { n: 2 }, { ifmatch: read.etag }), 'invalid_argument')).message, /unknown option `ifmatch`.*ifMatch/);
  assert.equal(client.stats().requests, 1, 'only the read');
});

test('ifMatch: null (the etag of a read that had none) rejects with missing_etag before anything is sent', async () => {
  const path = await createItem(env.url, { n: 1 });
  const client = new Client({ baseUrl: env.url });
  for (const write of [
    () => client.put(path, { n: 2 }, { ifMatch: null }),
    () => client.patch(path, { n: 2 }, { ifMatch: null }),
    () => client.delete(path, { ifMatch: null }),
  ]) {
    const error = await rejectsWith(write(), 'missing_etag');
    assert.match(error.message, /no strong ETag/);
    assert.doesNotMatch(error.message, /weak/, 'no weak tag was involved');
    assert.match(error.message, /\{ unconditional: true \}/);
  }
  assert.equal(client.stats().requests, 0);
  assert.deepEqual((await readItem(env.url, path)).value, { n: 1 });
});

test('patch applies a JSON merge patch conditionally', async () => {
  const path = await createItem(env.url, { title: 't', tags: ['a'], gone: 1 });
  const client = new Client({ baseUrl: env.url });
  const read = await client.get(path);
  const patched = await client.patch(path, { tags: ['b'], gone: null }, { ifMatch: read.etag });
  const stored = await readItem(env.url, path);
  assert.deepEqual(patched.value, { title: 't', tags: ['b'] });
  assert.deepEqual(stored.value, { title: 't', tags: ['b'] });
  assert.equal(patched.etag, stored.etag, 'the reference server names the answer the resource (Content-Location)');
  await rejectsWith(client.patch(path, { title: 'x' }, { ifMatch: read.etag }), 'precondition_failed');
});

test('delete removes the document and its cache entry', async () => {
  const path = await createItem(env.url, { n: 1 });
  const client = new Client({ baseUrl: env.url });
  const read = await client.get(path);
  assert.equal(await client.delete(path, { ifMatch: read.etag }), undefined);
  assert.equal((await readItem(env.url, path)).status, 404);
  const error = await rejectsWith(client.get(path), 'http_status');
  assert.equal(error.status, 404);
});

test('delete with the ETag of a stale read is refused and deletes nothing', async () => {
  const path = await createItem(env.url, { n: 1 });
  const client = new Client({ baseUrl: env.url });
  const read = await client.get(path);
  await writeBehind(env.url, path, () => ({ n: 2 }));
  await rejectsWith(client.delete(path, { ifMatch: read.etag }), 'precondition_failed');
  assert.deepEqual((await readItem(env.url, path)).value, { n: 2 });
});

test('cacheSize bounds the ETag cache: the least recently used entry is evicted', async () => {
  const first = await createItem(env.url, { n: 1 });
  const second = await createItem(env.url, { n: 2 });
  const client = new Client({ baseUrl: env.url, cacheSize: 1 });
  await client.get(first);
  await client.get(second);
  await client.get(first);
  assert.equal(client.stats().notModified, 0, 'the first entry was evicted, so its third GET is unconditional');
  await client.get(first);
  assert.equal(client.stats().notModified, 1);
});

test('documents are sent as JSON.stringify writes them: a Date as its ISO string, toJSON honoured', async () => {
  const at = new Date('2026-01-02T03:04:05.678Z');
  const money = { amount: 1250, toJSON: () => '12.50 EUR' };
  const client = new Client({ baseUrl: env.url });
  const created = await client.create('/items', { at, money, nested: [{ at }] });
  const path = new URL(created.location).pathname;
  const expected = { at: '2026-01-02T03:04:05.678Z', money: '12.50 EUR', nested: [{ at: '2026-01-02T03:04:05.678Z' }] };
  assert.deepEqual((await readItem(env.url, path)).value, expected);
  assert.deepEqual(created.value, expected, 'the result holds what was sent, not the Date object');
  const put = await client.put(path, { at: new Date(0) }, { ifMatch: created.etag });
  assert.deepEqual(put.value, { at: '1970-01-01T00:00:00.000Z' });
  assert.deepEqual((await readItem(env.url, path)).value, { at: '1970-01-01T00:00:00.000Z' });
  const patched = await client.patch(path, { when: { toJSON: () => at.toJSON() } }, { ifMatch: put.etag });
  assert.deepEqual(patched.value, { at: '1970-01-01T00:00:00.000Z', when: '2026-01-02T03:04:05.678Z' });
});

test('values JSON cannot hold are refused before anything is sent, with invalid_argument', async () => {
  const requests = [];
  const client = new Client({ baseUrl: env.url, fetch: (url, init) => { requests.push(url); return fetch(url, init); } });
  const cyclic = { n: 1 };
  cyclic.self = cyclic;
  for (const [doc, message] of [
    [cyclic, /the document is not JSON: .*circular/i],
    [{ n: 1n }, /the document is not JSON: .*BigInt/i],
    [undefined, /the document must be a JSON value, not undefined/],
    [() => 1, /the document must be a JSON value, not a function/],
  ]) {
    const error = await rejectsWith(client.put('/items/never', doc, { unconditional: true }), 'invalid_argument');
    assert.match(error.message, message);
  }
  assert.deepEqual(requests, []);
});
