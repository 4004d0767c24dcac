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

test('put sends If-Match with the cached ETag and succeeds when nobody else wrote', async () => {
  const path = await createItem(env.url, { n: 1 });
  const client = new Client({ baseUrl: env.url });
  await client.get(path);
  const written = await client.put(path, { n: 2 });
  const stored = await readItem(env.url, path);
  assert.deepEqual(stored.value, { n: 2 });
  assert.equal(written.etag, stored.etag);
});

test('put with a stale cached ETag is refused with precondition_failed and changes nothing', async () => {
  const path = await createItem(env.url, { n: 1 });
  const client = new Client({ baseUrl: env.url });
  await client.get(path);
  await writeBehind(env.url, path, () => ({ n: 100 }));
  const error = await rejectsWith(client.put(path, { n: 2 }), 'precondition_failed');
  assert.equal(error.status, 412);
  assert.equal(error.problem.type, 'urn:ifmatch:problem:precondition-failed');
  assert.equal(error.currentEtag, (await readItem(env.url, path)).etag);
  assert.deepEqual((await readItem(env.url, path)).value, { n: 100 }, 'the refused write must not change the state');
});

test('a write without a cached ETag fetches it first (fetchFirst, the default)', async () => {
  const path = await createItem(env.url, { n: 1 });
  const client = new Client({ baseUrl: env.url });
  await client.put(path, { n: 5 });
  assert.deepEqual((await readItem(env.url, path)).value, { n: 5 });
  assert.equal(client.stats().requests, 2, 'one GET for the ETag, one PUT');
});

test('patch applies a JSON merge patch conditionally', async () => {
  const path = await createItem(env.url, { title: 't', tags: ['a'], gone: 1 });
  const client = new Client({ baseUrl: env.url });
  await client.get(path);
  const patched = await client.patch(path, { tags: ['b'], gone: null });
  assert.deepEqual(patched.value, { title: 't', tags: ['b'] });
  assert.deepEqual((await readItem(env.url, path)).value, { title: 't', tags: ['b'] });
});

test('delete removes the document and its cache entry', async () => {
  const path = await createItem(env.url, { n: 1 });
  const client = new Client({ baseUrl: env.url });
  await client.get(path);
  assert.equal(await client.delete(path), undefined);
  assert.equal((await readItem(env.url, path)).status, 404);
  const error = await rejectsWith(client.get(path), 'http_status');
  assert.equal(error.status, 404);
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
