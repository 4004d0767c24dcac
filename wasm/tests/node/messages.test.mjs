// Snapshot of the error messages people read, for bad input to the package and the SDK's main
// failures as JavaScript sees them. Review changes in snapshots/messages.json; regenerate with
// UPDATE_SNAPSHOTS=1 node --test tests/node/messages.test.mjs (through wasm/scripts/test.sh's servers).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { Client } from 'ifmatch';
import { env } from '../support/env.mjs';
import { createItem, writeBehind } from '../support/items.mjs';
import { startStub } from '../support/stub.mjs';

const SNAPSHOT = new URL('./snapshots/messages.json', import.meta.url);

async function message(operation) {
  try {
    await operation();
  } catch (err) {
    return `${err.code}: ${err.message}`
      .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:PORT')
      .replace(/\/items\/[A-Za-z0-9_-]+/g, '/items/ID')
      .replace(/"[0-9a-f]+-\d+"/g, '"ETAG"');
  }
  return 'no error';
}

test('error messages name what was wrong and what to do', async (t) => {
  const client = new Client({ baseUrl: env.url });
  const throttling = await startStub(() => ({ status: 429, headers: { 'retry-after': '100' }, body: { type: 'about:blank', status: 429 } }));
  const weak = await startStub(() => ({ status: 200, headers: { etag: 'W/"1"' }, body: { n: 1 } }));
  t.after(throttling.close);
  t.after(weak.close);
  // A client whose cached copy is stale; `retry` decides whether update() may recover.
  const stale = async (retry = { maxConflictAttempts: 1 }) => {
    const path = await createItem(env.url, { title: 'a' });
    const reader = new Client({ baseUrl: env.url, retry });
    await reader.get(path);
    await writeBehind(env.url, path, () => ({ title: 'theirs' }));
    return { path, reader };
  };
  const cases = {
    'options not an object': () => new Client('http://x'),
    'unknown option': () => new Client({ baseURL: 'http://x' }),
    'bad baseUrl': () => new Client({ baseUrl: 'ftp://x' }),
    'cacheSize not a number': () => new Client({ cacheSize: '10' }),
    'negative maxAttempts': () => new Client({ retry: { maxAttempts: 0 } }),
    'unknown preset': () => new Client({ retry: { preset: 'fast' } }),
    'conflictBackoff incomplete': () => new Client({ retry: { conflictBackoff: { initialMs: 1 } } }),
    'header value not a string': () => new Client({ headers: { 'x-n': 1 } }),
    'url not a string': () => client.get(42),
    'document not JSON': () => client.put('/items/x', { n: 1n }),
    'document undefined': () => client.put('/items/x', undefined),
    'signal not an AbortSignal': () => client.get('/items/x', { signal: {} }),
    'change not a function': () => client.update('/items/x', { n: 1 }),
    'unknown strategy': () => client.update('/items/x', (d) => d, { strategy: 'newest' }),
    'resolve without merge': () => client.update('/items/x', (d) => d, { resolve: () => 1 }),
    'missing document': () => client.get('/items/none'),
    'stale put': async () => { const { path, reader } = await stale(); await reader.put(path, { title: 'mine' }); },
    'change returns a Promise': async () => { const { path, reader } = await stale(); await reader.update(path, async (d) => d); },
    'merge conflict': async () => {
      const { path, reader } = await stale({});
      await reader.update(path, () => ({ title: 'mine' }), { strategy: 'merge' });
    },
    'abort strategy': async () => {
      const { path, reader } = await stale({});
      await reader.update(path, () => ({ title: 'mine' }), { strategy: 'abort' });
    },
    'cancelled': () => client.get('/items/x', { signal: AbortSignal.abort() }),
    'relative path without baseUrl': () => new Client().get('/items/x'),
    'rate limited': () => new Client({ baseUrl: throttling.url, retry: { maxAttempts: 1 } }).get('/items/x'),
    'retry-after too long': () => new Client({ baseUrl: throttling.url }).get('/items/x'),
    'only a weak etag': async () => {
      const weakClient = new Client({ baseUrl: weak.url });
      await weakClient.get('/items/x');
      await weakClient.put('/items/x', { n: 2 });
    },
  };
  const actual = {};
  for (const [name, operation] of Object.entries(cases)) actual[name] = await message(operation);
  if (process.env.UPDATE_SNAPSHOTS || !existsSync(SNAPSHOT)) {
    writeFileSync(SNAPSHOT, `${JSON.stringify(actual, null, 2)}\n`);
  }
  assert.deepEqual(actual, JSON.parse(readFileSync(SNAPSHOT, 'utf8')));
});
