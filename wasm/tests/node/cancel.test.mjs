// AbortSignal cancels an operation, including its backoff wait, and is never reported as success.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client } from 'ifmatch';
import { env } from '../support/env.mjs';
import { createItem, readItem, rejectsWith, spendToken } from '../support/items.mjs';

test('an already aborted signal rejects with cancelled and sends nothing', async () => {
  const path = await createItem(env.url, { n: 1 });
  const client = new Client({ baseUrl: env.url });
  const error = await rejectsWith(client.put(path, { n: 2 }, { unconditional: true, signal: AbortSignal.abort() }), 'cancelled');
  assert.equal(error.name, 'IfmatchError');
  assert.equal(client.stats().requests, 0);
  assert.deepEqual((await readItem(env.url, path)).value, { n: 1 });
});

test('aborting during a 429 backoff wait stops the wait and sends no retry', async () => {
  const setup = new Client({ baseUrl: env.urlLimited });
  const path = new URL((await setup.create('/items', { n: 1 })).location).pathname;
  const controller = new AbortController();
  const client = new Client({
    baseUrl: env.urlLimited,
    // Abort as soon as the client announces its wait; the wait is 1 s, the abort lands within it.
    onEvent: (event) => event.type === 'throttled' && controller.abort(),
  });
  await spendToken(env.urlLimited, path); // so that the client's GET is throttled
  await rejectsWith(client.get(path, { signal: controller.signal }), 'cancelled');
  assert.equal(client.stats().requests, 1, 'the retry after the wait must not be sent');
});

test('aborting an update rejects it with cancelled, never with a result', async () => {
  const path = await createItem(env.url, { n: 1 });
  const client = new Client({ baseUrl: env.url });
  const controller = new AbortController();
  const pending = client.update(path, (doc) => {
    controller.abort();
    return { n: doc.n + 1 };
  }, { signal: controller.signal });
  await rejectsWith(pending, 'cancelled');
});
