// update() recovery by each strategy, in the reference server's 412 and 409 modes. Every test
// reads first, lets "the other writer" change the document, then updates from the stale cache.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client } from 'ifmatch';
import { env } from '../support/env.mjs';
import { createItem, readItem, rejectsWith, writeBehind } from '../support/items.mjs';

const MODES = [['412', () => env.url], ['409', () => env.url409]];

/** A document read by a fresh client, then changed behind its back by `theirs`. */
async function staleClient(base, doc, theirs) {
  const path = await createItem(base, doc);
  const client = new Client({ baseUrl: base });
  const read = await client.get(path);
  const theirsEtag = await writeBehind(base, path, theirs);
  return { path, client, read, theirsEtag };
}

for (const [mode, base] of MODES) {
  test(`reapply re-runs the change on the fresh document (${mode})`, async () => {
    const { path, client } = await staleClient(base(), { n: 1 }, (doc) => ({ n: doc.n + 10 }));
    const seen = [];
    const updated = await client.update(path, (doc) => {
      seen.push(doc.n);
      return { n: doc.n + 1 };
    }, { strategy: 'reapply' });
    assert.deepEqual(seen, [1, 11], 'first on the cached state, then on the fresh one');
    assert.equal(updated.attempts, 2);
    assert.deepEqual((await readItem(base(), path)).value, { n: 12 });
    assert.equal(client.stats()[`conflicts${mode}`], 1);
  });

  test(`merge combines edits to different members (${mode})`, async () => {
    const { path, client } = await staleClient(base(), { title: 'a', body: 'x' }, (doc) => ({ ...doc, body: 'theirs' }));
    const updated = await client.update(path, (doc) => {
      doc.title = 'mine'; // edited in place; returning nothing keeps the argument
    }, { strategy: 'merge' });
    assert.deepEqual(updated.value, { title: 'mine', body: 'theirs' });
    assert.deepEqual((await readItem(base(), path)).value, { title: 'mine', body: 'theirs' });
    assert.equal(client.stats().merges, 1);
  });

  test(`conflict events name the strategy as the option spells it, with the outcome (${mode})`, async () => {
    const outcomes = {};
    for (const strategy of ['reapply', 'merge', 'lastWriteWins', 'abort']) {
      const path = await createItem(base(), { n: 1 });
      const events = [];
      const client = new Client({ baseUrl: base(), onEvent: (e) => e.type === 'conflict' && events.push(e) });
      await client.get(path);
      await writeBehind(base(), path, () => ({ n: 2 }));
      await client.update(path, (doc) => ({ ...doc, mine: true }), { strategy }).catch(() => {});
      assert.equal(events.length, 1, `${strategy}: one conflict event`);
      assert.equal(events[0].strategy, strategy);
      assert.equal(events[0].status, Number(mode));
      outcomes[strategy] = events[0].outcome;
    }
    assert.deepEqual(outcomes, { reapply: 'reapplied', merge: 'merged', lastWriteWins: 'overwritten', abort: 'aborted' });
  });

  test(`merge without a resolver rejects overlapping edits with merge_conflict and the paths (${mode})`, async () => {
    const { path, client } = await staleClient(base(), { title: 'a', n: 1 }, (doc) => ({ ...doc, title: 'theirs' }));
    const error = await rejectsWith(client.update(path, (doc) => ({ ...doc, title: 'mine' }), { strategy: 'merge' }), 'merge_conflict');
    assert.deepEqual(error.conflictPaths, ['/title']);
    assert.deepEqual((await readItem(base(), path)).value, { title: 'theirs', n: 1 }, 'nothing was written');
  });

  test(`merge hands overlapping edits to resolve with path, base, mine and theirs (${mode})`, async () => {
    const { path, client } = await staleClient(base(), { title: 'a', gone: 1 }, (doc) => ({ title: 'theirs', gone: 2 }));
    const calls = [];
    const updated = await client.update(path, (doc) => ({ title: 'mine' }), {
      strategy: 'merge',
      resolve: (conflict) => {
        calls.push(conflict);
        return conflict.path === '/title' ? `${conflict.theirs}+${conflict.mine}` : conflict.theirs;
      },
    });
    assert.deepEqual(calls, [
      { path: '/gone', base: 1, mine: undefined, theirs: 2 },
      { path: '/title', base: 'a', mine: 'mine', theirs: 'theirs' },
    ]);
    assert.deepEqual(updated.value, { title: 'theirs+mine', gone: 2 });
  });

  test(`a resolver that throws fails the update with merge_conflict and the thrown error as cause (${mode})`, async () => {
    const { path, client } = await staleClient(base(), { title: 'a' }, () => ({ title: 'theirs' }));
    const thrown = new RangeError('cannot decide');
    const error = await rejectsWith(client.update(path, () => ({ title: 'mine' }), {
      strategy: 'merge',
      resolve: () => {
        throw thrown;
      },
    }), 'merge_conflict');
    assert.equal(error.cause, thrown);
  });

  test(`lastWriteWins overwrites the other writer's change (${mode})`, async () => {
    const { path, client } = await staleClient(base(), { title: 'a', body: 'x' }, (doc) => ({ ...doc, body: 'theirs' }));
    const updated = await client.update(path, (doc) => ({ ...doc, title: 'mine' }), { strategy: 'lastWriteWins' });
    assert.equal(updated.attempts, 2);
    assert.deepEqual((await readItem(base(), path)).value, { title: 'mine', body: 'x' }, 'their body edit is lost, by design');
  });

  test(`abort rejects with aborted, carrying the current document and ETag (${mode})`, async () => {
    const { path, client } = await staleClient(base(), { n: 1 }, () => ({ n: 50 }));
    const error = await rejectsWith(client.update(path, (doc) => ({ n: doc.n + 1 }), { strategy: 'abort' }), 'aborted');
    const stored = await readItem(base(), path);
    assert.deepEqual(error.current, { n: 50 });
    assert.equal(error.currentEtag, stored.etag);
    assert.deepEqual(stored.value, { n: 50 });
  });
}

test('a strategy function decides: it sees base, mine, theirs and writes what it returns', async () => {
  const { path, client, theirsEtag } = await staleClient(env.url, { n: 1, by: [] }, () => ({ n: 5, by: ['them'] }));
  const seen = [];
  const updated = await client.update(path, (doc) => ({ ...doc, n: doc.n + 1, by: [...doc.by, 'me'] }), {
    strategy: (conflict) => {
      seen.push(conflict);
      return { write: { n: conflict.theirs.n + 1, by: [...conflict.theirs.by, 'me'] } };
    },
  });
  assert.equal(seen.length, 1);
  assert.deepEqual(seen[0].base, { n: 1, by: [] });
  assert.deepEqual(seen[0].mine, { n: 2, by: ['me'] });
  assert.deepEqual(seen[0].theirs, { n: 5, by: ['them'] });
  assert.equal(seen[0].status, 412);
  assert.equal(seen[0].attempt, 1);
  assert.equal(seen[0].theirsEtag, theirsEtag);
  assert.deepEqual(updated.value, { n: 6, by: ['them', 'me'] });
});

test("a strategy function answering 'reapply' or 'abort' gets that behaviour; a bad answer aborts with the reason as cause", async () => {
  const reapply = await staleClient(env.url, { n: 1 }, () => ({ n: 5 }));
  const reapplied = await reapply.client.update(reapply.path, (doc) => ({ n: doc.n + 1 }), { strategy: () => 'reapply' });
  assert.deepEqual(reapplied.value, { n: 6 });

  const abort = await staleClient(env.url, { n: 1 }, () => ({ n: 5 }));
  const aborted = await rejectsWith(abort.client.update(abort.path, (doc) => ({ n: doc.n + 1 }), { strategy: () => 'abort' }), 'aborted');
  assert.deepEqual(aborted.current, { n: 5 });

  const bad = await staleClient(env.url, { n: 1 }, () => ({ n: 5 }));
  const error = await rejectsWith(bad.client.update(bad.path, (doc) => doc, { strategy: () => 'merge' }), 'aborted');
  assert.ok(error.cause instanceof TypeError);
  assert.match(error.cause.message, /'reapply', 'abort' or \{ write: doc \}/);
});

test('a plain put against the 409 server rejects with conflict (status 409) and the version-conflict problem', async () => {
  const { path, client, read } = await staleClient(env.url409, { n: 1 }, () => ({ n: 2 }));
  const error = await rejectsWith(client.put(path, { n: 3 }, { ifMatch: read.etag }), 'conflict');
  assert.equal(error.status, 409);
  assert.equal(error.problem.type, 'urn:ifmatch:problem:version-conflict');
  assert.equal(error.currentEtag, (await readItem(env.url409, path)).etag);
});

test('recovery gives up after maxConflictAttempts writes; a 412 keeps code precondition_failed', async () => {
  const path = await createItem(env.url, { n: 1 });
  const client = new Client({ baseUrl: env.url, retry: { maxConflictAttempts: 1 } });
  await client.get(path);
  await writeBehind(env.url, path, (doc) => ({ n: doc.n + 1 }));
  const error = await rejectsWith(client.update(path, (doc) => ({ n: doc.n + 1 })), 'precondition_failed');
  assert.equal(error.status, 412);
  assert.deepEqual((await readItem(env.url, path)).value, { n: 2 });
});
