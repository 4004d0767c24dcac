// 429 handling against the reference server limited to 1 request per second (burst 1).
// Each test first spends the bucket's token with a plain request, so the client's request is throttled.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { Client } from 'ifmatch';
import { env } from '../support/env.mjs';
import { rejectsWith, spendToken } from '../support/items.mjs';

let path;

before(async () => {
  // The client retries 429 by itself, so it can create the fixture whatever the bucket holds.
  const setup = new Client({ baseUrl: env.urlLimited });
  path = new URL((await setup.create('/items', { n: 1 })).location).pathname;
});

async function drainBucket() {
  await spendToken(env.urlLimited, path);
}

test('a 429 with Retry-After is honoured: the client waits the hinted time, then succeeds', async () => {
  const events = [];
  const client = new Client({ baseUrl: env.urlLimited, onEvent: (event) => events.push(event) });
  await drainBucket();
  const got = await client.get(path);
  assert.deepEqual(got.value, { n: 1 });
  const throttled = events.filter((e) => e.type === 'throttled');
  assert.ok(throttled.length >= 1, `expected a throttled event, got ${JSON.stringify(events)}`);
  assert.equal(throttled[0].status, 429);
  assert.equal(throttled[0].delayMs, 1000, 'the wait is the server\'s Retry-After: 1, without jitter');
  assert.equal(throttled[0].hintMs, 1000);
  assert.equal(throttled[0].hintSource, 'retryAfterSeconds');
  const stats = client.stats();
  assert.ok(stats.throttled >= 1);
  assert.ok(stats.throttledWaitMs >= 1000);
});

test('with maxAttempts 1 a 429 rejects with rate_limited, the status, the hint and the problem body', async () => {
  const client = new Client({ baseUrl: env.urlLimited, retry: { maxAttempts: 1 } });
  await drainBucket();
  const error = await rejectsWith(client.get(path), 'rate_limited');
  assert.equal(error.status, 429);
  assert.equal(error.retryAfterMs, 1000);
  assert.equal(error.problem.status, 429);
  assert.equal(error.problem.type, 'urn:ifmatch:problem:rate-limited');
});

test('a Retry-After above maxRetryAfterMs fails at once with retry_after_too_long', async () => {
  const client = new Client({ baseUrl: env.urlLimited, retry: { maxRetryAfterMs: 200, longWait: 'fail' } });
  await drainBucket();
  const error = await rejectsWith(client.get(path), 'retry_after_too_long');
  assert.equal(error.retryAfterMs, 1000);
  assert.equal(client.stats().requests, 1, 'no retry was sent');
});
