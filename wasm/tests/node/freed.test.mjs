// Using a freed object (after `free()` or the end of its `using` block) throws, or rejects for a
// method that returns a promise, an IfmatchError of code `invalid_state` saying what happened and
// what to do, in both module systems; never wasm-bindgen's "null pointer passed to rust".
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { Client, IfmatchError, init, initSync } from 'ifmatch';
import { env } from '../support/env.mjs';
import { createItem } from '../support/items.mjs';

const require = createRequire(import.meta.url);

const freedClient = /^this Client was freed \(client\.free\(\) or the end of its `using` block\); create a new Client$/;

function thrown(fn) {
  try {
    fn();
  } catch (error) {
    return error;
  }
  assert.fail('did not throw');
}

for (const [system, api] of [['import', { Client, IfmatchError }], ['require', require('ifmatch')]]) {
  test(`${system}: a freed Client rejects its requests and throws from stats() with invalid_state; a second free() does nothing`, async () => {
    const client = new api.Client({ baseUrl: env.url });
    client.free();
    const rejected = await client.get('/items/x').catch((error) => error);
    assert.ok(rejected instanceof api.IfmatchError, String(rejected));
    assert.equal(rejected.code, 'invalid_state');
    assert.match(rejected.message, freedClient);
    const sync = thrown(() => client.stats());
    assert.ok(sync instanceof api.IfmatchError);
    assert.equal(sync.code, 'invalid_state');
    assert.equal(thrown(() => client.conflicts).code, 'invalid_state');
    client.free();
    client[Symbol.dispose]();
  });
}

test('a Client used after its `using` block rejects with invalid_state', async () => {
  // What the end of `using client = new Client(…)` calls (Node 20 has no `using` syntax yet).
  const client = new Client({ baseUrl: env.url });
  client[Symbol.dispose]();
  const error = await client.update('/items/x', (doc) => doc).catch((err) => err);
  assert.equal(error.code, 'invalid_state');
  assert.match(error.message, freedClient);
  assert.doesNotMatch(error.message, /null pointer/);
});

test('a freed Lock and a freed Transaction say so and what to do instead', async () => {
  const path = await createItem(env.url, { n: 0 });
  const client = new Client({ baseUrl: env.url });
  const lock = await client.lock(path, { ttl: 1000 });
  lock.free();
  const renew = await lock.renew().catch((err) => err);
  assert.equal(renew.code, 'invalid_state');
  assert.equal(renew.message, 'this Lock was freed (lock.free() or the end of its `using` block); take a new lock with client.lock()');
  assert.equal(thrown(() => lock.token).code, 'invalid_state');
  // `await using` after a free() does nothing rather than throw.
  await lock[Symbol.asyncDispose]();

  const tx = await client.begin();
  tx.free();
  const commit = await tx.commit().catch((err) => err);
  assert.equal(commit.code, 'invalid_state');
  assert.equal(commit.message, 'this Transaction was freed (transaction.free() or the end of its `using` block); begin a new one with client.begin()');
  assert.equal(thrown(() => tx.open).code, 'invalid_state');
  await tx[Symbol.asyncDispose]();
});

test('in Node the wasm is ready at import: init() resolves at once and initSync() does nothing', async () => {
  assert.equal(await init(), undefined);
  assert.equal(initSync({ module: new Uint8Array() }), undefined);
  assert.equal(await require('ifmatch').init(), undefined);
  // Options are still validated at construction.
  assert.equal(thrown(() => new Client({ nope: true })).code, thrown(() => new (require('ifmatch').Client)({ nope: true })).code);
});
