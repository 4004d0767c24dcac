// An AbortSignal aborts an operation, including its backoff wait and the request in flight; the
// operation rejects with `signal.reason`, as fetch does, and is never reported as a success.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client, IfmatchError } from 'ifmatch';
import { env } from '../support/env.mjs';
import { createItem, readItem, spendToken } from '../support/items.mjs';
import { startStub } from '../support/stub.mjs';

/** The value `promise` rejects with (fails if it resolves). */
async function rejection(promise) {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  assert.fail('expected a rejection, but the operation succeeded');
}

function assertAbortError(error) {
  assert.ok(error instanceof DOMException, `rejected with ${error}`);
  assert.equal(error.name, 'AbortError');
  assert.ok(!(error instanceof IfmatchError));
}

test('an already aborted signal rejects with its reason (an AbortError DOMException) and sends nothing', async () => {
  const path = await createItem(env.url, { n: 1 });
  const client = new Client({ baseUrl: env.url });
  const signal = AbortSignal.abort();
  const error = await rejection(client.put(path, { n: 2 }, { unconditional: true, signal }));
  assertAbortError(error);
  assert.equal(error, signal.reason, 'the very reason object, as fetch rejects with');
  assert.equal(client.stats().requests, 0);
  assert.deepEqual((await readItem(env.url, path)).value, { n: 1 });
});

test('abort(reason) rejects with that reason, whatever it is', async () => {
  const client = new Client({ baseUrl: env.url });
  const path = await createItem(env.url, { n: 1 });
  for (const reason of [new Error('user navigated away'), 'stop', { why: 'timeout' }]) {
    const controller = new AbortController();
    controller.abort(reason);
    assert.equal(await rejection(client.get(path, { signal: controller.signal })), reason);
  }
  // AbortSignal.timeout() aborts with a TimeoutError DOMException, as fetch would reject with.
  const stub = await startStub(() => null);
  try {
    const error = await rejection(new Client({ baseUrl: stub.url }).get('/items/1', { signal: AbortSignal.timeout(30) }));
    assert.ok(error instanceof DOMException);
    assert.equal(error.name, 'TimeoutError');
  } finally {
    await stub.close();
  }
});

test('arguments are checked before the signal: a bad call with an aborted signal is an invalid_argument', async () => {
  const client = new Client({ baseUrl: env.url });
  const error = await rejection(client.put('/items/1', { n: 1 }, { signal: AbortSignal.abort() }));
  assert.ok(error instanceof IfmatchError);
  assert.equal(error.code, 'invalid_argument');
});

test('aborting during a 429 backoff wait stops the wait, sends no retry and rejects with the reason', async () => {
  const setup = new Client({ baseUrl: env.urlLimited });
  const path = new URL((await setup.create('/items', { n: 1 })).location).pathname;
  const controller = new AbortController();
  const client = new Client({
    baseUrl: env.urlLimited,
    // Abort as soon as the client announces its wait; the wait is 1 s, the abort lands within it.
    onEvent: (event) => event.type === 'throttled' && controller.abort(),
  });
  await spendToken(env.urlLimited, path); // so that the client's GET is throttled
  assertAbortError(await rejection(client.get(path, { signal: controller.signal })));
  assert.equal(client.stats().requests, 1, 'the retry after the wait must not be sent');
});

test('aborting an update rejects it with the reason, never with a result', async () => {
  const path = await createItem(env.url, { n: 1 });
  const client = new Client({ baseUrl: env.url });
  const controller = new AbortController();
  const pending = client.update(path, (doc) => {
    controller.abort();
    return { n: doc.n + 1 };
  }, { signal: controller.signal });
  assertAbortError(await rejection(pending));
});

test('aborting while the response is outstanding aborts the request and rejects with the reason', async (t) => {
  const stub = await startStub(() => null);
  t.after(stub.close);
  let fetchSignal;
  const client = new Client({
    baseUrl: stub.url,
    fetch: (url, init) => {
      fetchSignal = init.signal;
      return fetch(url, init);
    },
  });
  const controller = new AbortController();
  const pending = client.get('/items/1', { signal: controller.signal });
  for (let i = 0; i < 400 && stub.requests.length === 0; i += 1) await new Promise((ok) => setTimeout(ok, 5));
  assert.equal(stub.requests.length, 1, 'the request reached the stub');
  assert.equal(fetchSignal.aborted, false);
  controller.abort(new Error('enough'));
  const error = await rejection(pending);
  assert.equal(error.message, 'enough');
  assert.equal(fetchSignal.aborted, true, "the request's own signal was aborted, so fetch stops");
});
