// Conflict notifications against the reference server with tokens (clients alice and bob, admin
// root): the record a refused write leaves (error.conflictId), list/get, the three resolutions and
// who may resolve, and the live stream as an async iterable that `break` and a signal end.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client } from 'ifmatch';
import { env } from '../support/env.mjs';
import { rejectsWith } from '../support/items.mjs';

const as = (name) => new Client({ baseUrl: env.urlAuth, bearerToken: `${name}-token` });

/** A document, and a conflict `who` caused on it by a PUT with a stale tag: `{ path, error }`. */
async function conflict(who, mine = { title: 'mine' }) {
  const client = as(who);
  const { location } = await client.create('/items', { title: 'base' });
  const path = new URL(location, env.urlAuth).pathname;
  const read = await client.get(path);
  await as('root').put(path, { title: 'theirs' }, { ifMatch: read.etag });
  const error = await rejectsWith(client.put(path, mine, { ifMatch: read.etag }), 'precondition_failed');
  return { path, error, client };
}

/**
 * Whether the server would take one more conflict stream. The server of the test runs with
 * `--max-subscribers 1`, so this says whether a subscription is still connected (the server's
 * `ifmatch_sse_subscribers` gauge would say it too, but the server does not feed it yet).
 */
async function slotFree() {
  const probe = new AbortController();
  const res = await fetch(new URL('/conflicts/stream', env.urlAuth), {
    headers: { authorization: 'Bearer root-token', accept: 'text/event-stream' },
    signal: probe.signal,
  });
  probe.abort();
  return res.status === 200;
}

async function eventually(check, what) {
  for (let i = 0; i < 150; i += 1) {
    if (await check()) return;
    await new Promise((done) => setTimeout(done, 20));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('a refused write names its conflict record; get and list return it with camelCase members', async () => {
  const { path, error, client } = await conflict('alice');
  assert.match(error.conflictId, /^c-\d+$/);
  assert.equal(error.conflictUrl, `/conflicts/${error.conflictId}`);
  const record = await client.conflicts.get(error.conflictId);
  assert.equal(record.id, error.conflictId);
  assert.equal(record.resource, path);
  assert.equal(record.client, 'alice');
  assert.equal(record.kind, 'precondition-failed');
  assert.equal(record.status, 412);
  assert.equal(record.method, 'PUT');
  assert.equal(record.state, 'open');
  assert.equal(record.resolution, null);
  assert.deepEqual(record.rejected, { contentType: 'application/json', body: { title: 'mine' }, truncated: false });
  assert.equal(typeof record.basedOn.version, 'number');
  assert.equal(record.current.etag, error.currentEtag);
  const page = await client.conflicts.list({ resources: [path] });
  assert.deepEqual(page.conflicts.map((c) => c.id), [error.conflictId]);
  assert.equal(page.nextAfter, null);
  const open = await client.conflicts.list({ prefixes: ['/items/'], state: 'open', all: true });
  assert.ok(open.conflicts.some((c) => c.id === error.conflictId));
  const missing = await rejectsWith(client.conflicts.get('c-999999999'), 'http_status');
  assert.equal(missing.status, 404);
});

test('resolve mine writes the refused body, theirs writes nothing, merged writes the document', async () => {
  const mine = await conflict('alice');
  const resolved = await mine.client.conflicts.resolve(mine.error.conflictId, { resolution: 'mine' });
  assert.equal(resolved.state, 'resolved');
  assert.equal(resolved.resolution.choice, 'mine');
  assert.equal(resolved.resolution.by, 'alice');
  assert.deepEqual((await mine.client.get(mine.path)).value, { title: 'mine' });

  const theirs = await conflict('alice');
  const kept = await theirs.client.conflicts.resolve(theirs.error.conflictId, { resolution: 'theirs' });
  assert.equal(kept.resolution.choice, 'theirs');
  assert.deepEqual((await theirs.client.get(theirs.path)).value, { title: 'theirs' });

  const merged = await conflict('alice');
  await merged.client.conflicts.resolve(merged.error.conflictId, { resolution: 'merged', document: { title: 'both' } });
  assert.deepEqual((await merged.client.get(merged.path)).value, { title: 'both' });

  const again = await rejectsWith(merged.client.conflicts.resolve(merged.error.conflictId, { resolution: 'theirs' }), 'conflict_resolved');
  assert.equal(again.status, 409);
  assert.match(again.message, /client\.conflicts\.get\(id\)/);
  await rejectsWith(merged.client.conflicts.resolve(merged.error.conflictId, { resolution: 'merged' }), 'invalid_argument');
});

test('only the client that caused a conflict, or an admin, may resolve it', async () => {
  const { error } = await conflict('alice');
  const forbidden = await rejectsWith(as('bob').conflicts.resolve(error.conflictId, { resolution: 'theirs' }), 'forbidden');
  assert.equal(forbidden.status, 403);
  const anonymous = new Client({ baseUrl: env.urlAuth });
  await rejectsWith(anonymous.conflicts.resolve(error.conflictId, { resolution: 'theirs' }), 'unauthorized');
  await rejectsWith(new Client({ baseUrl: env.urlAuth, bearerToken: 'nobody' }).conflicts.get(error.conflictId), 'unauthorized');
  assert.throws(() => new Client({ bearerToken: 'two words' }), (e) => e.code === 'invalid_argument' && !e.message.includes('words'));
  const admin = await as('root').conflicts.resolve(error.conflictId, { resolution: 'theirs' });
  assert.equal(admin.resolution.by, 'root');
});

test('subscribe delivers conflicts and resolutions in order; break closes the stream on the server', async () => {
  const watcher = as('root');
  const prefix = `/items/`;
  await eventually(slotFree, 'no stream to be open');
  const events = watcher.conflicts.subscribe({ prefixes: [prefix] });
  const seen = [];
  const done = (async () => {
    for await (const event of events) {
      seen.push(event);
      if (seen.length === 3) break;
    }
  })();
  await eventually(async () => !(await slotFree()), 'the subscription to connect');
  const first = await conflict('alice');
  const second = await conflict('bob');
  await first.client.conflicts.resolve(first.error.conflictId, { resolution: 'theirs' });
  await done;
  assert.deepEqual(seen.map((e) => [e.type, e.record.id]), [
    ['conflict', first.error.conflictId],
    ['conflict', second.error.conflictId],
    ['resolved', first.error.conflictId],
  ]);
  assert.ok(seen[0].record.seq < seen[1].record.seq);
  assert.equal(seen[2].record.resolution.choice, 'theirs');
  await eventually(slotFree, 'the stream to close after break');
  assert.deepEqual(await events.next(), { value: undefined, done: true });
  assert.equal(watcher.stats().conflictStreamConnects, 1);
});

test('an aborted signal ends the iteration cleanly; a filter keeps other documents out', async () => {
  const watcher = as('root');
  const { path } = await conflict('alice');
  await eventually(slotFree, 'no stream to be open');
  const controller = new AbortController();
  const events = watcher.conflicts.subscribe({ resources: [path], after: 0, signal: controller.signal });
  const first = await events.next();
  assert.equal(first.value.type, 'conflict');
  assert.equal(first.value.record.resource, path, 'replayed from the log after seq 0');
  const pending = events.next();
  await conflict('bob'); // another document: not delivered
  assert.equal(await slotFree(), false, 'still connected while iterating');
  controller.abort();
  assert.deepEqual(await pending, { value: undefined, done: true });
  await eventually(slotFree, 'the stream to close after abort');
});

test('a stream refused for its credentials ends with unauthorized, without reconnecting', async () => {
  const events = new Client({ baseUrl: env.urlAuth, bearerToken: 'nobody' }).conflicts.subscribe({});
  await rejectsWith(events.next(), 'unauthorized');
  assert.deepEqual(await events.next(), { value: undefined, done: true });
  assert.throws(() => new Client({}).conflicts.subscribe({}), (e) => e.code === 'invalid_url');
  assert.throws(() => as('root').conflicts.subscribe({ resources: '/items/x' }), (e) => e.code === 'invalid_argument');
});
