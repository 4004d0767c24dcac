// Atomic batches against the reference server: client.batch() applies every operation or none,
// each judged as the single request would be; a refused operation rejects with its own error
// code and its index (`operation`), and bad input names the operation before anything is sent.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client, IfmatchError } from 'ifmatch';
import { env } from '../support/env.mjs';
import { createItem, readItem, rejectsWith, writeBehind } from '../support/items.mjs';

test('a batch creates with a lid, patches it by ref, puts, deletes and checks, all at once', async () => {
  const client = new Client({ baseUrl: env.url });
  const [a, b, c] = await Promise.all([createItem(env.url, { n: 1 }), createItem(env.url, { gone: false }), createItem(env.url, { c: true })]);
  const [readA, readB, readC] = await Promise.all([client.get(a), client.get(b), client.get(c)]);
  const done = await client.batch([
    { op: 'create', lid: 'order', body: { total: 0 } },
    { op: 'put', path: a, body: { n: 2 }, ifMatch: readA.etag },
    { op: 'patch', ref: 'order', body: { total: 10 }, unconditional: true },
    { op: 'delete', path: b, ifMatch: readB.etag },
    { op: 'check', path: c, ifMatch: readC.etag },
  ]);
  assert.equal(done.attempts, 1);
  assert.deepEqual(done.results.map((r) => [r.op, r.status]), [['create', 201], ['put', 200], ['patch', 200], ['delete', 204], ['check', 200]]);
  const order = done.created.order;
  assert.equal(order, done.results[0], 'created[lid] is the result object of that create');
  assert.deepEqual(Object.keys(done.created), ['order']);
  assert.match(order.path, /^\/items\/[^/]+$/);
  assert.equal(order.url, `${env.url}${order.path}`);
  assert.deepEqual(done.results[2].value, { total: 10 }, 'the patch acted on the document the create made');
  assert.equal(done.results[2].path, order.path);
  assert.equal(done.results[1].url, `${env.url}${a}`);
  assert.deepEqual(done.results[1].value, { n: 2 });
  assert.equal(done.results[3].etag, null);
  assert.equal(done.results[3].value, null);
  assert.equal(done.results[4].etag, readC.etag, 'a check reports the current version');

  const stored = await readItem(env.url, order.path);
  assert.deepEqual(stored.value, { total: 10 });
  assert.equal(stored.etag, done.results[2].etag, 'the last result for a document is its current version');
  assert.deepEqual((await readItem(env.url, a)).value, { n: 2 });
  assert.equal((await readItem(env.url, b)).status, 404);
  // A result's etag is the version to write against next.
  await client.put(a, { n: 3 }, { ifMatch: done.results[1].etag });
});

test('a stale operation rejects the batch with its own code and index, and nothing changes', async () => {
  const client = new Client({ baseUrl: env.url });
  const [a, b] = await Promise.all([createItem(env.url, { n: 1 }), createItem(env.url, { n: 1 })]);
  const [readA, readB] = await Promise.all([client.get(a), client.get(b)]);
  const current = await writeBehind(env.url, b, () => ({ n: 'theirs' }));
  const before = await Promise.all([readItem(env.url, a), readItem(env.url, b)]);

  const err = await rejectsWith(client.batch([
    { op: 'create', body: { never: 'stored' } },
    { op: 'put', path: a, body: { n: 2 }, ifMatch: readA.etag },
    { op: 'patch', path: b, body: { n: 2 }, ifMatch: readB.etag },
  ]), 'precondition_failed');
  assert.ok(err instanceof IfmatchError);
  assert.equal(err.operation, 2);
  assert.equal(err.op, 'patch');
  assert.equal(err.status, 412);
  assert.equal(err.currentEtag, current);
  assert.equal(err.problem.operation, 2);
  assert.match(err.message, /operation 2 \(patch \/items\/[^)]+\), so none of it was applied/);
  assert.match(err.hint, /re-read the documents the batch depends on/);

  const after = await Promise.all([readItem(env.url, a), readItem(env.url, b)]);
  assert.deepEqual(after, before, 'the put of operation 1 was not applied either');
});

test('each operation is judged as the single request: 409 version conflicts, 404, 423', async () => {
  const on409 = new Client({ baseUrl: env.url409 });
  const path = await createItem(env.url409, { n: 1 });
  const read = await on409.get(path);
  await writeBehind(env.url409, path, () => ({ n: 2 }));
  const conflict = await rejectsWith(on409.batch([{ op: 'check', path, ifMatch: read.etag }]), 'conflict');
  assert.equal(conflict.operation, 0);
  assert.equal(conflict.op, 'check');

  const client = new Client({ baseUrl: env.url });
  const missing = await rejectsWith(client.batch([
    { op: 'create', body: {} },
    { op: 'delete', path: '/items/never-made', unconditional: true },
  ]), 'http_status');
  assert.equal(missing.status, 404);
  assert.equal(missing.operation, 1);

  const locked = await createItem(env.url, { n: 0 });
  const other = new Client({ baseUrl: env.url });
  const lock = await other.lock(locked, { ttl: 3000, owner: 'someone' });
  try {
    const refused = await rejectsWith(client.batch([{ op: 'put', path: locked, body: { n: 1 }, unconditional: true }]), 'locked');
    assert.equal(refused.operation, 0);
    assert.equal(refused.problem.owner, 'someone');
    // The holder's own batch carries its token (by itself, and naming the Lock).
    await other.batch([{ op: 'patch', path: locked, body: { by: 'holder' }, unconditional: true }]);
    await other.batch([{ op: 'patch', path: locked, body: { n: 1 }, unconditional: true }], { lock: [lock] });
  } finally {
    await lock.release();
  }
  assert.deepEqual((await readItem(env.url, locked)).value, { n: 1, by: 'holder' });
});

test('bad operations are refused before anything is sent, naming the operation', async () => {
  let requests = 0;
  const client = new Client({ baseUrl: env.url, fetch: (url, init) => { requests += 1; return fetch(url, init); } });
  const refused = async (operations, pattern, index) => {
    const err = await rejectsWith(client.batch(operations), 'invalid_argument');
    assert.match(err.message, pattern);
    assert.equal(err.operation, index);
    return err;
  };
  const put = { op: 'put', path: '/items/x', body: { n: 1 }, ifMatch: '"1"' };
  await refused([put, { op: 'upsert', path: '/items/x' }], /^operations\[1\]\.op must be one of 'create', 'put', 'patch', 'delete', 'check', not 'upsert'$/, 1);
  const noOp = await refused([{ path: '/items/x' }], /^operations\[0\] needs op/, 0);
  assert.equal(noOp.op, undefined);
  const noBody = await refused([put, { op: 'put', path: '/items/x', unconditional: true }], /^operations\[1\] \(put\): a put needs body/, 1);
  assert.equal(noBody.op, 'put');
  await refused([{ op: 'patch', path: '/items/x', ref: 'a', body: {}, unconditional: true }], /path and ref exclude each other/, 0);
  await refused([{ op: 'delete', unconditional: true }], /name its document with path/, 0);
  await refused([{ op: 'put', path: '/items/x', body: {}, ifmatch: '"1"' }], /unknown option `ifmatch` in operations\[0\]/, 0);
  await refused([{ op: 'delete', path: '/items/x', body: {}, unconditional: true }], /unknown option `body` in operations\[0\]/, 0);
  await refused([{ op: 'put', path: '/items/x', body: {} }], /^operations\[0\] \(put\): a write in a batch needs the version/, 0);
  await refused([{ op: 'put', path: '/items/x', body: {}, ifMatch: 'v1' }], /^operations\[0\]\.ifMatch must be the etag of a read/, 0);
  await refused([put, 'put'], /^operations\[1\] must be an object, not a string/, 1);
  await refused([{ op: 'create', body: { n: 1n } }], /^operations\[0\]\.body is not JSON/, 0);
  // Checked by the SDK: lids and refs.
  const ref = await rejectsWith(client.batch([{ op: 'patch', ref: 'later', body: {}, unconditional: true }, { op: 'create', lid: 'later', body: {} }]), 'invalid_config');
  assert.equal(ref.operation, 0);
  assert.match(ref.message, /not sent because of operation 0 \(patch ref "later"\): it refers to lid "later", which no earlier create/);
  const weak = await rejectsWith(client.batch([{ op: 'delete', path: '/items/x', ifMatch: 'W/"1"' }]), 'missing_etag');
  assert.equal(weak.operation, 0);
  for (const bad of [[], {}, undefined]) {
    const err = await rejectsWith(client.batch(bad), 'invalid_argument');
    assert.match(err.message, /client\.batch\(\) takes a non-empty array of operations/);
    assert.equal(err.operation, undefined);
  }
  await rejectsWith(client.batch([put], { ifMatch: '"1"' }), 'invalid_argument');
  await rejectsWith(client.batch([put], { lock: {} }), 'invalid_argument');
  await rejectsWith(new Client().batch([put]), 'invalid_url');
  assert.equal(requests, 0, 'nothing was sent');
});

test('a batch takes signal, headers and timeout like every call', async () => {
  const seen = [];
  const client = new Client({ baseUrl: env.url, fetch: (url, init) => { seen.push([init.method, url, init.headers.get('x-request-id')]); return fetch(url, init); } });
  const path = await createItem(env.url, { n: 0 });
  await client.batch([{ op: 'patch', path, body: { n: 1 }, unconditional: true }], { headers: { 'x-request-id': 'b-1' }, timeout: 5000 });
  assert.deepEqual(seen, [['POST', `${env.url}/batch`, 'b-1']]);
  await assert.rejects(
    client.batch([{ op: 'patch', path, body: { n: 2 }, unconditional: true }], { signal: AbortSignal.abort() }),
    (err) => err.name === 'AbortError' && !(err instanceof IfmatchError),
  );
  assert.equal(seen.length, 1, 'an aborted batch is not sent');
  assert.deepEqual((await readItem(env.url, path)).value, { n: 1 });
});
