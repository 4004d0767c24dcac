// Several clients increment one counter at once: every acknowledged increment must survive.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client } from 'ifmatch';
import { env } from '../support/env.mjs';
import { createItem, readItem, rejectsWith } from '../support/items.mjs';

const CLIENTS = 8;
const INCREMENTS = 10;

// 'reapply' re-runs the increment on the fresh document, so all clients share one counter.
// 'merge' merges edits three-way; concurrent edits of one member would overlap, so each client
// counts in its own member and the merge must combine them all.
const CHANGES = {
  reapply: () => (doc) => ({ ...doc, counter: doc.counter + 1 }),
  merge: (id) => (doc) => ({ ...doc, per: { ...doc.per, [id]: (doc.per[id] ?? 0) + 1 } }),
};
const TOTALS = {
  reapply: (doc) => doc.counter,
  merge: (doc) => Object.values(doc.per).reduce((a, b) => a + b, 0),
};

async function race(base, strategy) {
  const path = await createItem(base, { counter: 0, per: {} });
  const clients = Array.from({ length: CLIENTS }, () => new Client({ baseUrl: base, retry: { preset: 'contended' } }));
  await Promise.all(
    clients.map(async (client, id) => {
      for (let i = 0; i < INCREMENTS; i += 1) {
        await client.update(path, CHANGES[strategy](`c${id}`), { strategy });
      }
    }),
  );
  const conflicts = clients.reduce((sum, c) => sum + c.stats().conflicts412 + c.stats().conflicts409, 0);
  return { final: TOTALS[strategy]((await readItem(base, path)).value), conflicts };
}

for (const [mode, base] of [['412', () => env.url], ['409', () => env.url409]]) {
  for (const strategy of ['reapply', 'merge']) {
    test(`${CLIENTS} clients x ${INCREMENTS} increments with '${strategy}' end at exactly ${CLIENTS * INCREMENTS} (${mode} mode)`, async () => {
      const { final, conflicts } = await race(base(), strategy);
      assert.equal(final, CLIENTS * INCREMENTS);
      assert.ok(conflicts > 0, 'the clients should have collided at least once, or the test proves nothing');
    });
  }
}

test(`${CLIENTS} tasks sharing ONE client, each read-then-put with its own ifMatch, lose no increment`, async () => {
  // All tasks share one ETag cache. Each write names the version its own read saw, so a task
  // whose read went stale is refused (and re-reads) even though the cache holds a newer ETag.
  const path = await createItem(env.url, { counter: 0 });
  const client = new Client({ baseUrl: env.url });
  let refused = 0;
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    for (;;) {
      const read = await client.get(path);
      try {
        await client.put(path, { counter: read.value.counter + 1 }, { ifMatch: read.etag });
        return;
      } catch (err) {
        if (err.code !== 'precondition_failed') throw err;
        refused += 1;
      }
    }
  }));
  assert.equal((await readItem(env.url, path)).value.counter, CLIENTS);
  assert.ok(refused > 0, 'the concurrent reads should have gone stale at least once, or the test proves nothing');
});

// Updates of one document through ONE client take turns: each starts from the document the
// previous one wrote, so none of them conflicts with another (issue #18: before, 6-7 of 20 and
// 7 of 50 succeeded with the default settings, the rest ran out of conflict attempts).
for (const tasks of [20, 50]) {
  test(`${tasks} concurrent update() calls on ONE client all succeed, without a conflict`, async () => {
    const path = await createItem(env.url, { counter: 0 });
    const client = new Client({ baseUrl: env.url });
    const results = await Promise.allSettled(
      Array.from({ length: tasks }, () => client.update(path, (doc) => ({ ...doc, counter: doc.counter + 1 }))),
    );
    const failed = results.filter((r) => r.status === 'rejected').map((r) => r.reason.message);
    assert.deepEqual(failed, [], 'every update must succeed');
    assert.deepEqual(results.map((r) => r.value.attempts), Array(tasks).fill(1), 'one write each');
    assert.equal((await readItem(env.url, path)).value.counter, tasks);
    const stats = client.stats();
    assert.equal(stats.conflicts412 + stats.conflicts409, 0);
  });
}

test('an async change function is awaited; its result (or its edited argument) is written', async () => {
  const path = await createItem(env.url, { counter: 0 });
  const client = new Client({ baseUrl: env.url });
  const tick = () => new Promise((ok) => setTimeout(ok, 5));
  const returned = await client.update(path, async (doc) => {
    await tick();
    return { ...doc, counter: doc.counter + 1 };
  });
  assert.equal(returned.value.counter, 1);
  const edited = await client.update(path, async (doc) => {
    await tick();
    doc.counter += 1;
  });
  assert.equal(edited.value.counter, 2);
  // Concurrent async changes of one document still take turns.
  await Promise.all(Array.from({ length: 10 }, () => client.update(path, async (doc) => {
    await tick();
    return { ...doc, counter: doc.counter + 1 };
  })));
  assert.equal((await readItem(env.url, path)).value.counter, 12);
});

test('an async change function that rejects rejects the update with change_failed, the rejection as cause', async () => {
  const path = await createItem(env.url, { counter: 0 });
  const client = new Client({ baseUrl: env.url });
  const reason = new RangeError('the price service is down');
  const error = await rejectsWith(client.update(path, async () => { throw reason; }), 'change_failed');
  assert.equal(error.cause, reason);
  assert.match(error.hint, /^the change function rejected with RangeError: the price service is down/);
  assert.equal((await readItem(env.url, path)).value.counter, 0, 'nothing was written');
  // The turn was released: the next update goes through.
  assert.equal((await client.update(path, (doc) => ({ ...doc, counter: 1 }))).value.counter, 1);
});

test('aborting a queued update rejects it, and the updates queued with it still complete', async () => {
  const path = await createItem(env.url, { counter: 0 });
  const client = new Client({ baseUrl: env.url });
  let release;
  const gate = new Promise((ok) => { release = ok; });
  let started;
  const first = client.update(path, async (doc) => {
    started();
    await gate;
    return { ...doc, counter: doc.counter + 1 };
  });
  await new Promise((ok) => { started = ok; });
  const controller = new AbortController();
  let ranAborted = false;
  const aborted = client.update(path, (doc) => { ranAborted = true; return doc; }, { signal: controller.signal });
  const rest = Array.from({ length: 3 }, () => client.update(path, (doc) => ({ ...doc, counter: doc.counter + 1 })));
  controller.abort(new Error('user left'));
  await assert.rejects(aborted, { message: 'user left' });
  release();
  await first;
  const written = await Promise.all(rest);
  assert.deepEqual(written.map((r) => r.value.counter), [2, 3, 4]);
  assert.equal(ranAborted, false, 'the aborted update never ran its change');
  assert.equal((await readItem(env.url, path)).value.counter, 4);
});
