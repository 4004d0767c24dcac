// Pessimistic locks against the reference server: client.lock() → a Lock whose token the client's
// writes carry, refused writes from others (423 → `locked`), the wait queue, background renewal,
// `await using`, a lost lock (`lockLost` event, `lock_lost` error), tasks sharing one client, and
// what garbage collection of an unreleased Lock does.
//
// TTLs are short on purpose: after release the SDK's renewal timer stays pending until its next
// due time (two thirds of the TTL), which keeps this file's process alive until then.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Client, IfmatchError, Lock } from 'ifmatch';
import { env } from '../support/env.mjs';
import { breakLock, createItem, lockState, readItem, rejectsWith } from '../support/items.mjs';

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

test('lock → put carries the token → another client is refused with locked → release → it may write', async () => {
  const path = await createItem(env.url, { n: 0 });
  const holder = new Client({ baseUrl: env.url });
  const other = new Client({ baseUrl: env.url });
  const lock = await holder.lock(path, { ttl: 3000, owner: 'report-job' });
  assert.ok(lock instanceof Lock);
  assert.equal(lock.url, `${env.url}${path}`);
  assert.equal(typeof lock.token, 'string');
  assert.ok(lock.token.length > 0);
  assert.equal(typeof lock.fencing, 'number');
  assert.equal(lock.owner, 'report-job');
  assert.equal(lock.ttlMs, 3000);
  assert.ok(lock.expiresInMs > 2000 && lock.expiresInMs <= 3000, `expiresInMs ${lock.expiresInMs}`);
  assert.equal(lock.lost, null);
  const server = await lockState(env.url, path);
  assert.equal(server.status, 200);
  assert.equal(server.value.owner, 'report-job');

  // Without the token the server would answer 423: the write succeeding shows the client sent it.
  const read = await holder.get(path);
  const written = await holder.put(path, { n: read.value.n + 1 }, { unconditional: true });
  assert.deepEqual(written.value, { n: 1 });
  await holder.patch(path, { by: 'holder' }, { ifMatch: written.etag });

  const refused = await rejectsWith(other.put(path, { n: 100 }, { unconditional: true }), 'locked');
  assert.ok(refused instanceof IfmatchError);
  assert.equal(refused.status, 423);
  assert.equal(refused.problem.owner, 'report-job');
  assert.equal(typeof refused.retryAfterMs, 'number');
  assert.ok(refused.retryAfterMs > 0 && refused.retryAfterMs <= 3000, `retryAfterMs ${refused.retryAfterMs}`);
  assert.match(refused.hint, /client\.lock\(url, \{ wait: ms \}\)/);
  await rejectsWith(other.update(path, (doc) => ({ ...doc, n: 100 })), 'locked');
  const busy = await rejectsWith(other.lock(path), 'locked');
  assert.match(busy.hint, /queue for it/);

  await lock.release();
  assert.equal(lock.lost, 'it was released');
  assert.equal(lock.expiresInMs, 0);
  assert.equal((await lockState(env.url, path)).status, 404);
  await lock.release(); // idempotent
  await other.put(path, { n: 100 }, { unconditional: true });
  // The holder's own writes no longer carry the released token (it would be refused with 412).
  await holder.patch(path, { after: true }, { unconditional: true });
  assert.deepEqual((await readItem(env.url, path)).value, { n: 100, after: true });
});

test('wait queues for a held lock until its release; without wait the request is refused at once', async () => {
  const path = await createItem(env.url, { n: 0 });
  const first = new Client({ baseUrl: env.url });
  const second = new Client({ baseUrl: env.url });
  const held = await first.lock(path, { ttl: 3000, owner: 'first' });
  const refused = await rejectsWith(second.lock(path, { owner: 'second' }), 'locked');
  assert.equal(refused.problem.owner, 'first');

  const started = Date.now();
  let granted = null;
  const queued = second.lock(path, { ttl: 3000, wait: 5000, owner: 'second' }).then((lock) => {
    granted = Date.now() - started;
    return lock;
  });
  await sleep(300);
  assert.equal(granted, null, 'the second lock waits while the first is held');
  await held.release();
  const lock = await queued;
  assert.ok(granted >= 300, `granted after ${granted} ms`);
  assert.equal(lock.owner, 'second');
  assert.ok(lock.fencing > held.fencing, 'a later lock has a larger fencing number');
  await second.put(path, { n: 1 }, { unconditional: true });
  await lock.release();
});

test('an abort while queued rejects with signal.reason and leaves the queue', async () => {
  const path = await createItem(env.url, { n: 0 });
  const holder = new Client({ baseUrl: env.url });
  const waiter = new Client({ baseUrl: env.url });
  const held = await holder.lock(path, { ttl: 3000 });
  const controller = new AbortController();
  const queued = waiter.lock(path, { wait: 5000, signal: controller.signal });
  await sleep(100);
  controller.abort();
  await assert.rejects(queued, (err) => err instanceof DOMException && err.name === 'AbortError');
  await held.release();
  // The aborted request no longer waits: the lock is free, not handed to it.
  await sleep(50);
  assert.equal((await lockState(env.url, path)).status, 404);
  await waiter.put(path, { n: 1 }, { unconditional: true });
});

test('a lock renews itself in the background: held after more than twice its TTL', async () => {
  const path = await createItem(env.url, { n: 0 });
  const holder = new Client({ baseUrl: env.url });
  const other = new Client({ baseUrl: env.url });
  const lock = await holder.lock(path, { ttl: 800 });
  await sleep(1700);
  assert.equal(lock.lost, null);
  assert.ok(lock.expiresInMs > 0, `expiresInMs ${lock.expiresInMs}`);
  await holder.put(path, { n: 1 }, { unconditional: true });
  await rejectsWith(other.put(path, { n: 2 }, { unconditional: true }), 'locked');
  await lock.renew();
  assert.ok(lock.expiresInMs > 700, `renew() starts a new lease: ${lock.expiresInMs}`);
  // A release while a renewal is in flight waits for it, then releases.
  const renewing = lock.renew();
  await lock.release();
  await renewing;
  assert.equal((await lockState(env.url, path)).status, 404);
  assert.deepEqual((await readItem(env.url, path)).value, { n: 1 });
});

test('[Symbol.asyncDispose]() releases the lock (await using where the runtime has it)', async () => {
  assert.equal(typeof Symbol.asyncDispose, 'symbol', 'Node 18.18+/20.4+ define Symbol.asyncDispose');
  assert.equal(typeof Lock.prototype[Symbol.asyncDispose], 'function');
  const path = await createItem(env.url, { n: 0 });
  const client = new Client({ baseUrl: env.url });
  let awaitUsing = true;
  try {
    // eslint-disable-next-line no-new-func
    new Function('async function f(lock) { await using held = lock; }');
  } catch {
    awaitUsing = false; // Node 20 parses no `await using`; the browser suite runs the syntax.
  }
  if (awaitUsing) {
    const body = new Function('client', 'path', `return (async () => {
      await using lock = await client.lock(path, { ttl: 2000 });
      await client.put(path, { n: 1 }, { unconditional: true });
      return lock;
    })();`);
    const lock = await body(client, path);
    assert.equal(lock.lost, 'it was released');
  } else {
    const lock = await client.lock(path, { ttl: 2000 });
    await client.put(path, { n: 1 }, { unconditional: true });
    const disposed = lock[Symbol.asyncDispose]();
    assert.ok(disposed instanceof Promise);
    assert.equal(await disposed, undefined);
    assert.equal(lock.lost, 'it was released');
    await lock.release(); // a release after dispose resolves
  }
  assert.equal((await lockState(env.url, path)).status, 404);
  await new Client({ baseUrl: env.url }).put(path, { n: 2 }, { unconditional: true });
});

test('a broken lock: the next write rejects with lock_lost, onEvent gets lockLost once, release reports it', async () => {
  const path = await createItem(env.url, { n: 0 });
  const events = [];
  const client = new Client({ baseUrl: env.url, onEvent: (event) => events.push(event) });
  const lock = await client.lock(path, { ttl: 3000 });
  await client.put(path, { n: 1 }, { unconditional: true });
  await breakLock(env.url, path);

  // The server refuses the stale token with 412 lock-token-invalid: a lost lock, not a version race.
  const lost = await rejectsWith(client.put(path, { n: 2 }, { unconditional: true }), 'lock_lost');
  assert.ok(lost instanceof IfmatchError);
  assert.equal(lost.url, `${env.url}${path}`);
  assert.match(lost.hint, /take the lock again \(client\.lock\(\)\) and re-read the resource/);
  assert.equal(typeof lock.lost, 'string');
  const lockLost = events.filter((e) => e.type === 'lockLost');
  assert.deepEqual(lockLost, [{ type: 'lockLost', url: `${env.url}${path}`, reason: lock.lost }]);
  // Known lost: later writes are not even sent.
  const requests = client.stats().requests;
  await rejectsWith(client.patch(path, { n: 3 }, { unconditional: true }), 'lock_lost');
  await rejectsWith(client.put(path, { n: 3 }, { unconditional: true, lock }), 'lock_lost');
  assert.equal(client.stats().requests, requests);
  await rejectsWith(lock.renew(), 'lock_lost');
  assert.equal(events.filter((e) => e.type === 'lockLost').length, 1, 'lockLost is emitted once');

  const released = await rejectsWith(lock.release(), 'lock_lost');
  assert.match(released.message, /had been lost before release\(\)/);
  await lock.release(); // the second release resolves
  await client.put(path, { n: 4 }, { unconditional: true }); // no lock any more: written without a token
  assert.deepEqual((await readItem(env.url, path)).value, { n: 4 });
});

test('a renewal refused in the background emits lockLost without any write', async () => {
  const path = await createItem(env.url, { n: 0 });
  const events = [];
  // The reference server's v1 answers also announce their deprecation (one `deprecated` event).
  const client = new Client({ baseUrl: env.url, onEvent: (event) => event.type !== 'deprecated' && events.push(event) });
  const lock = await client.lock(path, { ttl: 300 });
  await breakLock(env.url, path);
  await sleep(600);
  assert.deepEqual(events.map((e) => e.type), ['lockLost']);
  assert.equal(events[0].url, `${env.url}${path}`);
  assert.equal(typeof lock.lost, 'string');
  await rejectsWith(client.put(path, { n: 1 }, { unconditional: true }), 'lock_lost');
  await rejectsWith(lock.release(), 'lock_lost');
});

test('8 tasks sharing ONE client: lock → read → unconditional put under { lock } → release; no increment lost', async () => {
  const TASKS = 8;
  const ROUNDS = 3;
  const path = await createItem(env.url, { n: 0, holder: null });
  const client = new Client({ baseUrl: env.url });
  await Promise.all(Array.from({ length: TASKS }, async (_, task) => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const lock = await client.lock(path, { ttl: 2000, wait: 20_000, owner: `task ${task}` });
      try {
        const read = await client.get(path);
        assert.equal(read.value.holder, null, 'two holders at once');
        // Pessimistic: no If-Match needed, the lock makes the write exclusive.
        await client.put(path, { ...read.value, holder: task }, { unconditional: true, lock });
        await client.put(path, { n: read.value.n + 1, holder: null }, { unconditional: true, lock });
      } finally {
        await lock.release();
      }
    }
  }));
  assert.deepEqual((await readItem(env.url, path)).value, { n: TASKS * ROUNDS, holder: null });
});

test('two live Locks on one resource in one client: a write must name its lock', async () => {
  const path = await createItem(env.url, { n: 0 });
  const client = new Client({ baseUrl: env.url });
  const old = await client.lock(path, { ttl: 3000 });
  await breakLock(env.url, path); // behind the client's back: `old` does not know yet
  const current = await client.lock(path, { ttl: 3000 });
  const ambiguous = await rejectsWith(client.put(path, { n: 1 }, { unconditional: true }), 'invalid_config');
  assert.match(ambiguous.message, /several locks on .* say which lock a write is made under with its lock option: \{ lock \}$/);
  await client.put(path, { n: 1 }, { unconditional: true, lock: current });
  await client.update(path, (doc) => ({ n: doc.n + 1 }), { lock: current });
  await rejectsWith(client.put(path, { n: 9 }, { unconditional: true, lock: old }), 'lock_lost');
  await rejectsWith(old.release(), 'lock_lost');
  await client.patch(path, { done: true }, { unconditional: true }); // `current` is the only lock now
  await current.release();
  assert.deepEqual((await readItem(env.url, path)).value, { n: 2, done: true });
});

test('lock options are checked like the others, naming the option', async () => {
  const client = new Client({ baseUrl: env.url });
  const checks = [
    [{ ttl: 0 }, 'options.ttl must be a finite number of at least 1, not a number (0)'],
    [{ wait: -1 }, 'options.wait must be a finite number of at least 0, not a number (-1)'],
    [{ ttl: '10s' }, 'options.ttl must be a finite number of at least 1, not a string ("10s")'],
    [{ owner: 7 }, 'options.owner must be a string, not a number (7)'],
    [{ ttlMs: 1000 }, 'options.ttlMs is spelled options.ttl (milliseconds, like timeout); rename it'],
    [{ waitMs: 1000 }, 'options.waitMs is spelled options.wait (milliseconds, like timeout); rename it'],
    [{ ifMatch: '"1"' }, 'unknown option `ifMatch` in options; the options are: ttl, wait, owner, signal, headers, timeout'],
  ];
  for (const [options, message] of checks) {
    const error = await rejectsWith(client.lock('/items/x', options), 'invalid_argument');
    assert.equal(error.message, message);
  }
  const notALock = await rejectsWith(client.put('/items/x', {}, { unconditional: true, lock: { token: 'x' } }), 'invalid_argument');
  assert.equal(notALock.message, 'options.lock must be a Lock from client.lock(), not an object');
  const noPrecondition = await rejectsWith(client.patch('/items/x', {}, { lock: null }), 'invalid_argument');
  assert.match(noPrecondition.message, /under a lock, \{ unconditional: true \} is safe/);
  await rejectsWith(client.lock('/items/does-not-exist'), 'http_status');
});

test('a Lock garbage-collected without release() is released in the background (wasm-bindgen finalizer → guard drop)', async () => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc');
  const path = await createItem(env.url, { n: 0 });
  const client = new Client({ baseUrl: env.url });
  // Nothing keeps the Lock after this function returns.
  const take = async () => (await client.lock(path, { ttl: 4000 })).token.length;
  assert.ok(await take() > 0);
  assert.equal((await lockState(env.url, path)).status, 200);
  const started = Date.now();
  let released = false;
  while (!released && Date.now() - started < 2500) {
    gc();
    await sleep(25);
    released = (await lockState(env.url, path)).status === 404;
  }
  // Well before the 4 s expiry: the finalizer freed the Rust guard, whose drop sent the release.
  assert.ok(released, 'the lock was released after garbage collection');
  await new Client({ baseUrl: env.url }).put(path, { n: 1 }, { unconditional: true });
});
