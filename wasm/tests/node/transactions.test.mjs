// Interactive transactions against the reference server: client.begin() → Transaction (reads and
// writes inside it, commit, rollback, asyncDispose), and client.transaction(fn), which runs fn
// again in a new transaction after a commit conflict, rolls back when fn throws and rejects with
// what it threw, and stops at an abort.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client, IfmatchError, Transaction } from 'ifmatch';
import { env } from '../support/env.mjs';
import { createItem, readItem, rejectsWith, writeBehind } from '../support/items.mjs';

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/** The server's view of a transaction: 200 while open, 404 once rolled back or unknown. */
async function txStatus(url) {
  const res = await fetch(url);
  await res.arrayBuffer();
  return res.status;
}

test('begin → reads and writes inside → commit applies them together', async () => {
  const client = new Client({ baseUrl: env.url });
  const [a, b] = await Promise.all([createItem(env.url, { balance: 100 }), createItem(env.url, { balance: 0 })]);
  const tx = await client.begin({ ttl: 5000 });
  assert.ok(tx instanceof Transaction);
  assert.match(tx.id, /^tx-/);
  assert.equal(tx.url, `${env.url}/transactions/${tx.id}`);
  assert.equal(tx.ttlMs, 5000);
  assert.ok(Math.abs(tx.expiresAt - (Date.now() + 5000)) < 2000, `expiresAt ${tx.expiresAt}`);
  assert.ok(tx.expiresInMs > 4000 && tx.expiresInMs <= 5000, `expiresInMs ${tx.expiresInMs}`);
  assert.equal(tx.open, true);

  const readA = await tx.get(a);
  const readB = await tx.get(b);
  const staged = await tx.put(a, { balance: readA.value.balance - 30 }, { ifMatch: readA.etag });
  assert.match(staged.etag, /^"tx-/, 'a staged write answers with a provisional tag');
  await tx.patch(b, { balance: readB.value.balance + 30 }, { ifMatch: readB.etag });
  const created = await tx.create('/items', { note: 'transfer' });
  assert.deepEqual((await tx.get(a)).value, { balance: 70 }, 'a read inside sees the staged write');
  assert.deepEqual((await readItem(env.url, a)).value, { balance: 100 }, 'nothing is visible outside before the commit');
  assert.equal((await readItem(env.url, created.location)).status, 404);

  const done = await tx.commit();
  assert.equal(done.id, tx.id);
  assert.equal(done.attempts, 1);
  assert.deepEqual(done.results.map((r) => [r.path, r.status, r.op]), [[a, 200, null], [b, 200, null], [new URL(created.location).pathname, 201, null]]);
  assert.equal(tx.open, false);
  const storedA = await readItem(env.url, a);
  assert.deepEqual(storedA.value, { balance: 70 });
  assert.equal(storedA.etag, done.results[0].etag, 'the results carry the real tags');
  assert.deepEqual((await readItem(env.url, b)).value, { balance: 30 });
  assert.deepEqual((await readItem(env.url, created.location)).value, { note: 'transfer' });
  assert.deepEqual(await tx.commit(), done, 'committing again returns the same result');
  const over = await rejectsWith(tx.get(a), 'invalid_config');
  assert.match(over.message, /is over \(.*\); begin a new one/);
  assert.equal(client.stats().transactionsCommitted, 1);
});

test('a commit refused because a read changed rejects with transaction_conflict and staleReads', async () => {
  const client = new Client({ baseUrl: env.url });
  const path = await createItem(env.url, { n: 1 });
  const tx = await client.begin();
  const read = await tx.get(path);
  await tx.put(path, { n: read.value.n + 1 }, { ifMatch: read.etag });
  const current = await writeBehind(env.url, path, () => ({ n: 'theirs' }));
  const err = await rejectsWith(tx.commit(), 'transaction_conflict');
  assert.ok(err instanceof IfmatchError);
  assert.equal(err.status, 409);
  assert.deepEqual(err.staleReads, [{ path, url: `${env.url}${path}`, readEtag: read.etag, currentEtag: current }]);
  assert.match(err.hint, /client\.transaction\(fn\) does so by itself/);
  assert.equal(tx.open, false);
  assert.deepEqual((await readItem(env.url, path)).value, { n: 'theirs' });
});

test('client.transaction runs the function again after a conflict, then commits', async () => {
  const events = [];
  const client = new Client({ baseUrl: env.url, onEvent: (e) => events.push(e), retry: { conflictBackoff: { initialMs: 1, maxMs: 5 } } });
  const [from, to] = await Promise.all([createItem(env.url, { balance: 100 }), createItem(env.url, { balance: 0 })]);
  let runs = 0;
  const ids = [];
  const moved = await client.transaction(async (tx) => {
    runs += 1;
    ids.push(tx.id);
    const a = await tx.get(from);
    const b = await tx.get(to);
    // Another writer changes `from` after this run read it, once: the first commit is refused.
    if (runs === 1) await writeBehind(env.url, from, (doc) => ({ balance: doc.balance + 5 }));
    await tx.patch(from, { balance: a.value.balance - 10 }, { ifMatch: a.etag });
    await tx.patch(to, { balance: b.value.balance + 10 }, { ifMatch: b.etag });
    return { runs, seen: a.value.balance };
  }, { ttl: 5000 });
  assert.deepEqual(moved, { runs: 2, seen: 105 }, 'resolves to what the last run returned');
  assert.notEqual(ids[0], ids[1], 'each run has its own transaction');
  assert.deepEqual((await readItem(env.url, from)).value, { balance: 95 });
  assert.deepEqual((await readItem(env.url, to)).value, { balance: 10 });
  const conflicts = events.filter((e) => e.type === 'transactionConflict');
  assert.deepEqual(conflicts.map((e) => [e.paths, e.outcome, e.attempt]), [[[from], 'reapplied', 1]]);
  assert.equal(conflicts[0].url, `${env.url}/transactions/${ids[0]}`);
  const stats = client.stats();
  assert.equal(stats.transactionConflicts, 1);
  assert.equal(stats.transactionsCommitted, 1);
});

test('maxAttempts bounds the runs: the last conflict rejects with transaction_conflict', async () => {
  const client = new Client({ baseUrl: env.url, retry: { conflictBackoff: { initialMs: 1, maxMs: 5 } } });
  const path = await createItem(env.url, { n: 0 });
  let runs = 0;
  const err = await rejectsWith(client.transaction(async (tx) => {
    runs += 1;
    const read = await tx.get(path);
    await writeBehind(env.url, path, (doc) => ({ n: doc.n + 100 }));
    await tx.put(path, { n: read.value.n + 1 }, { unconditional: true });
  }, { maxAttempts: 2 }), 'transaction_conflict');
  assert.equal(runs, 2);
  assert.match(err.message, /after 2 attempts/);
  assert.deepEqual((await readItem(env.url, path)).value, { n: 200 });
});

test('a throwing function rolls its transaction back and rejects with what it threw', async () => {
  const client = new Client({ baseUrl: env.url });
  const path = await createItem(env.url, { n: 0 });
  const thrown = new RangeError('insufficient funds');
  let seen;
  const err = await client.transaction(async (tx) => {
    seen = tx;
    await tx.put(path, { n: 1 }, { unconditional: true });
    throw thrown;
  }).then(() => null, (e) => e);
  assert.equal(err, thrown, 'the rejection is the thrown value itself');
  assert.equal(seen.open, false);
  assert.equal(await txStatus(seen.url), 404, 'rolled back on the server');
  assert.deepEqual((await readItem(env.url, path)).value, { n: 0 });
  // A synchronous throw, and an error of a request inside, end the run the same way.
  assert.equal(await client.transaction(() => { throw thrown; }).catch((e) => e), thrown);
  const inside = await rejectsWith(client.transaction(async (tx) => {
    await tx.put(path, { n: 2 }, { ifMatch: '"stale"' });
  }), 'precondition_failed');
  assert.equal(inside.status, 412);
  // A value that is not a Promise is returned as it is.
  assert.equal(await client.transaction(() => 42), 42);
});

test('[Symbol.asyncDispose] rolls an open transaction back, and does nothing after a commit', async () => {
  const client = new Client({ baseUrl: env.url });
  const path = await createItem(env.url, { n: 0 });
  const tx = await client.begin();
  await tx.put(path, { n: 1 }, { unconditional: true });
  assert.equal(typeof tx[Symbol.asyncDispose], 'function');
  await tx[Symbol.asyncDispose]();
  assert.equal(tx.open, false);
  assert.equal(await txStatus(tx.url), 404);
  assert.deepEqual((await readItem(env.url, path)).value, { n: 0 });
  await tx[Symbol.asyncDispose](); // again: nothing to do

  const committed = await client.begin();
  await committed.put(path, { n: 2 }, { unconditional: true });
  await committed.commit();
  const requests = client.stats().requests;
  await committed[Symbol.asyncDispose]();
  assert.equal(client.stats().requests, requests, 'a committed transaction is not rolled back');
  assert.deepEqual((await readItem(env.url, path)).value, { n: 2 });
  const rolledBack = await client.begin();
  await rolledBack.rollback();
  await rejectsWith(rolledBack.commit(), 'invalid_config');
});

test('an abort rejects with signal.reason and rolls the running transaction back', async () => {
  const client = new Client({ baseUrl: env.url });
  const path = await createItem(env.url, { n: 0 });
  const controller = new AbortController();
  let seen;
  const running = client.transaction(async (tx) => {
    seen = tx;
    await tx.put(path, { n: 1 }, { unconditional: true });
    controller.abort();
    await sleep(50);
    return 'not committed';
  }, { signal: controller.signal });
  await assert.rejects(running, (err) => err.name === 'AbortError' && !(err instanceof IfmatchError));
  for (let i = 0; i < 20 && (await txStatus(seen.url)) !== 404; i += 1) await sleep(10);
  assert.equal(await txStatus(seen.url), 404, 'rolled back');
  assert.deepEqual((await readItem(env.url, path)).value, { n: 0 });
  await assert.rejects(client.begin({ signal: AbortSignal.abort() }), (err) => err.name === 'AbortError');
});

test('an expired transaction is transaction_lost', async () => {
  const client = new Client({ baseUrl: env.url });
  const path = await createItem(env.url, { n: 0 });
  const tx = await client.begin({ ttl: 50 });
  await tx.put(path, { n: 1 }, { unconditional: true });
  await sleep(150);
  const lost = await rejectsWith(tx.commit(), 'transaction_lost');
  assert.equal(lost.status, 404);
  assert.match(lost.hint, /begin a new transaction/);
});

test('bad arguments are refused before anything is sent', async () => {
  const client = new Client({ baseUrl: env.url });
  const notFunction = await rejectsWith(client.transaction({}), 'invalid_argument');
  assert.match(notFunction.message, /client\.transaction\(\) takes a function/);
  await rejectsWith(client.transaction(async () => {}, { retries: 3 }), 'invalid_argument');
  await rejectsWith(client.transaction(async () => {}, { maxAttempts: 0 }), 'invalid_argument');
  await rejectsWith(client.begin({ ttl: 0 }), 'invalid_argument');
  await rejectsWith(client.begin({ ttlMs: 1000 }), 'invalid_argument');
  await rejectsWith(new Client().begin(), 'invalid_url');
  await rejectsWith(new Client().transaction(async () => {}), 'invalid_url');
  const tx = await client.begin();
  await rejectsWith(tx.commit({ ifMatch: '"1"' }), 'invalid_argument');
  await tx.rollback();
});

test('concurrent transfers between accounts conserve the total', async () => {
  const accounts = await Promise.all([0, 1, 2, 3].map(() => createItem(env.url, { balance: 100 })));
  const retry = { maxConflictAttempts: 50, conflictBackoff: { initialMs: 1, maxMs: 20 } };
  const shared = new Client({ baseUrl: env.url, retry });
  let committed = 0;
  const worker = async (id, client) => {
    for (let round = 0; round < 5; round += 1) {
      const from = accounts[(id + round) % accounts.length];
      const to = accounts[(id + round + 1 + (round % 3)) % accounts.length];
      if (from === to) continue;
      const amount = 1 + ((id * 7 + round) % 9);
      const moved = await client.transaction(async (tx) => {
        const a = await tx.get(from);
        const b = await tx.get(to);
        if (a.value.balance < amount) return false;
        await tx.put(from, { balance: a.value.balance - amount }, { ifMatch: a.etag });
        await tx.put(to, { balance: b.value.balance + amount }, { ifMatch: b.etag });
        return true;
      });
      if (moved) committed += 1;
    }
  };
  // Six workers: three with their own client, three sharing one.
  await Promise.all([0, 1, 2, 3, 4, 5].map((id) => worker(id, id < 3 ? new Client({ baseUrl: env.url, retry }) : shared)));
  const balances = await Promise.all(accounts.map(async (path) => (await readItem(env.url, path)).value.balance));
  assert.equal(balances.reduce((sum, n) => sum + n, 0), 400, `balances ${balances}`);
  assert.ok(committed > 0);
  assert.ok(shared.stats().transactionsCommitted >= 1);
});
