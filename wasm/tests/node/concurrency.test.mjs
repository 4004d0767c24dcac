// Several clients increment one counter at once: every acknowledged increment must survive.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client } from 'ifmatch';
import { env } from '../support/env.mjs';
import { createItem, readItem } from '../support/items.mjs';

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
