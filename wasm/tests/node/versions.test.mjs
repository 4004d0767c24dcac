// Versions against the reference server: history, past versions, restore, diff, API versions
// (Api-Version, /v2 with versionField), the deprecation notice of v1, and the new stats names.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyPatch, Client, diff } from 'ifmatch';
import { env } from '../support/env.mjs';
import { createItem, readItem, rejectsWith, writeBehind } from '../support/items.mjs';

/** A document written three times: `{ title: 'a' }`, then 'b', then 'c'. */
async function threeVersions(client) {
  const path = await createItem(env.url, { title: 'a', tags: ['x'] });
  await client.update(path, (doc) => ({ ...doc, title: 'b' }));
  await client.update(path, (doc) => ({ ...doc, title: 'c', tags: ['x', 'y'] }));
  return path;
}

test('versions lists the history newest first, with the tags the writes answered and the policy', async () => {
  const client = new Client({ baseUrl: env.url });
  const path = await threeVersions(client);
  const { versions, policy } = await client.versions(path);
  assert.equal(versions.length, 3);
  const [newest, , oldest] = versions;
  assert.ok(newest.version > oldest.version, 'newest first');
  assert.equal(newest.etag, (await readItem(env.url, path)).etag);
  for (const v of versions) {
    assert.deepEqual(Object.keys(v).sort(), ['atMs', 'author', 'deleted', 'etag', 'size', 'version']);
    assert.equal(v.deleted, false);
    assert.equal(v.author, null, 'anonymous writes');
    assert.ok(v.size > 0 && v.atMs > 1.7e12);
  }
  assert.equal(typeof policy.maxVersions, 'number');
  assert.ok('maxAgeMs' in policy && 'tombstoneTtlMs' in policy);
});

test('version reads a past version with its own tag and number; an unknown one is version_not_found', async () => {
  const client = new Client({ baseUrl: env.url });
  const path = await threeVersions(client);
  const { versions } = await client.versions(path);
  const oldest = versions[versions.length - 1];
  const old = await client.version(path, oldest.version);
  assert.deepEqual(old.value, { title: 'a', tags: ['x'] });
  assert.equal(old.version, oldest.version);
  assert.equal(old.etag, oldest.etag);
  const current = await client.get(path);
  assert.equal(current.version, versions[0].version, 'reads carry the Version header too');
  const err = await rejectsWith(client.version(path, 1), 'version_not_found');
  assert.equal(err.status, 404);
  assert.equal(err.oldestVersion, oldest.version);
  assert.match(err.message, /client\.versions\(url\)/);
  await rejectsWith(client.version(path, -1), 'invalid_argument');
});

test('restore writes an old version back as a new one; a concurrent change makes it a conflict unless retryConflicts', async () => {
  const client = new Client({ baseUrl: env.url });
  const path = await threeVersions(client);
  const oldest = (await client.versions(path)).versions.at(-1);
  const restored = await client.restore(path, oldest.version);
  assert.deepEqual(restored.value, { title: 'a', tags: ['x'] });
  assert.deepEqual((await readItem(env.url, path)).value, { title: 'a', tags: ['x'] });
  assert.equal((await client.versions(path)).versions.length, 4, 'history is never rewritten');

  // Someone else writes between the restore's read and its write: a fetch that changes the
  // document just before the restore's PUT goes out.
  let interfere = true;
  const racing = new Client({
    baseUrl: env.url,
    fetch: async (url, init) => {
      if (init.method === 'PUT' && interfere) {
        interfere = false;
        await writeBehind(env.url, path, (doc) => ({ ...doc, title: 'theirs' }));
      }
      return fetch(url, init);
    },
  });
  const err = await rejectsWith(racing.restore(path, oldest.version), 'precondition_failed');
  assert.equal(err.status, 412);
  assert.equal((await readItem(env.url, path)).value.title, 'theirs', 'their change is not overwritten');
  interfere = true;
  const forced = await racing.restore(path, oldest.version, { retryConflicts: true });
  assert.equal(forced.value.title, 'a');
  assert.equal(forced.attempts, 2);
});

test('diff gives the RFC 6902 patch between two versions, and the pure diff/applyPatch agree', async () => {
  const client = new Client({ baseUrl: env.url });
  const path = await threeVersions(client);
  const [newest, , oldest] = (await client.versions(path)).versions;
  const patch = await client.diff(path, oldest.version, newest.version);
  assert.deepEqual(patch, [
    { op: 'add', path: '/tags/1', value: 'y' },
    { op: 'replace', path: '/title', value: 'c' },
  ]);
  const from = { title: 'a', tags: ['x'], 'a/b': 1 };
  const to = { title: 'b', tags: ['x', 'y'] };
  const local = diff(from, to);
  assert.deepEqual(local[0], { op: 'remove', path: '/a~1b' });
  assert.deepEqual(applyPatch(from, local), to);
  assert.deepEqual(from, { title: 'a', tags: ['x'], 'a/b': 1 }, 'applyPatch does not change its argument');
  const bad = assert.throws(() => applyPatch(from, [{ op: 'remove', path: '/nope' }]), /operation 0/);
  assert.equal(bad, undefined);
  assert.throws(() => applyPatch(from, [{ op: 'move', from: '/a', path: '/b' }]), (e) => e.code === 'invalid_argument');
});

test('apiVersion 2 (client or call) reads the v2 envelope of the same document', async () => {
  const path = await createItem(env.url, { n: 1 });
  const v2 = new Client({ baseUrl: env.url, apiVersion: '2' });
  const read = await v2.get(path);
  assert.deepEqual(read.value.data, { n: 1 });
  assert.equal(typeof read.value.version, 'number');
  assert.match(read.etag, /\.v2"$/);
  const v1 = await v2.get(path, { apiVersion: '1' });
  assert.deepEqual(v1.value, { n: 1 });
  await rejectsWith(new Client({ baseUrl: env.url, apiVersion: '9' }).get(path), 'http_status');
});

test('versionField: update() against /v2/items carries the version in the body, and concurrent updates lose nothing', async () => {
  const path = await createItem(env.url, { n: 0 });
  const id = path.split('/').pop();
  const v2 = new Client({
    baseUrl: env.url,
    versionField: { pointer: '/version', documentAt: '/data' },
    retry: { maxConflictAttempts: 20, conflictBackoff: { initialMs: 1, maxMs: 20 } },
  });
  const read = await v2.get(`/v2/items/${id}`);
  assert.equal(read.version, read.value.version);
  const bump = (doc) => ({ ...doc, data: { n: doc.data.n + 1 } });
  await Promise.all(Array.from({ length: 4 }, () => v2.update(`/v2/items/${id}`, bump)));
  assert.deepEqual((await readItem(env.url, path)).value, { n: 4 });
  assert.throws(() => new Client({ baseUrl: env.url, versionField: { pointer: 'version' } }), (e) => e.code === 'invalid_config' && /options\.versionField/.test(e.message));
  assert.throws(() => new Client({ versionField: {} }), (e) => e.code === 'invalid_argument' && /pointer is required/.test(e.message));
});

test('a v1 answer announcing Deprecation/Sunset fires one deprecated event per notice and is counted in stats', async () => {
  const events = [];
  const client = new Client({ baseUrl: env.url, onEvent: (e) => events.push(e) });
  const path = await createItem(env.url, { n: 1 });
  await client.get(path);
  await client.get(path);
  await client.get(`/v1${path}`);
  const deprecated = events.filter((e) => e.type === 'deprecated');
  assert.equal(deprecated.length, 1, 'once per client for each distinct notice');
  const [event] = deprecated;
  assert.ok(event.deprecationMs > 0 && event.sunsetMs > event.deprecationMs);
  assert.match(event.successor, /\/v2\/items\//);
  assert.deepEqual(event.malformed, []);
  const { type, ...notice } = event;
  assert.equal(type, 'deprecated');
  assert.deepEqual(client.deprecations(), [notice]);
  const stats = client.stats();
  assert.equal(stats.deprecatedResponses, 3);
  assert.equal(stats.earliestSunsetMs, event.sunsetMs);
  for (const name of ['conflictStreamConnects', 'conflictStreamReconnects', 'notModifiedHits', 'throttleWaits', 'throttleWaitTotalMs']) {
    assert.equal(typeof stats[name], 'number', name);
  }
  assert.equal(stats.notModifiedHits, stats.notModified);
  assert.equal(stats.throttleWaits, stats.throttled);
});
