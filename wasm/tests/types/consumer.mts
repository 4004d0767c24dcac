// Compiled (not run) by `tsc --strict` in wasm/scripts/test.sh: the declarations must describe
// the API precisely enough that typical code type-checks, and misuse must not.
import {
  Client,
  isIfmatchError,
  type ClientEvent,
  type ErrorCode,
  type Json,
  type MergeConflict,
  type Stats,
  type WriteOptions,
} from 'ifmatch';

interface Todo {
  title: string;
  done: boolean;
  [member: string]: Json;
}

const events: ClientEvent[] = [];
const client = new Client({
  baseUrl: 'http://127.0.0.1:8080',
  cacheSize: 256,
  partition: 'user-1',
  headers: { authorization: 'Bearer t0ken' },
  missingEtag: 'fetchFirst',
  attemptTimeoutMs: 10_000,
  serverHonoursIdempotencyKeys: false,
  trustWriteBodies: true,
  retry: { preset: 'contended', maxAttempts: 4, maxDelayMs: 2000, minDelayMs: 50, totalDeadlineMs: null, longWait: 'clamp', jitter: true, seed: 7 },
  onEvent: (event) => events.push(event),
});

export async function example(signal: AbortSignal): Promise<string> {
  const created = await client.create<Todo>('/items', { title: 'write docs', done: false }, { signal });
  const location: string | null = created.location;
  const read = await client.get<Todo>(location ?? '/items/1');
  const title: string = read.value.title;
  const etag: string | null = read.etag;
  const saved = await client.put<Todo>('/items/1', { title, done: true }, { ifMatch: read.etag, signal });
  await client.patch('/items/1', { done: null }, { ifMatch: saved.etag });
  await client.put('/items/2', { title, done: false }, { createOnly: true });
  const blind: WriteOptions = { unconditional: true };
  await client.patch('/items/2', { done: true }, blind);
  const updated = await client.update<Todo>(
    '/items/1',
    (doc) => {
      doc.done = true;
    },
    {
      strategy: 'merge',
      resolve: ({ path, theirs }: MergeConflict) => (path === '/title' ? theirs : null),
      signal,
    },
  );
  const attempts: number = updated.attempts;
  await client.update<Todo>('/items/1', (doc) => ({ ...doc, done: !doc.done }), { strategy: 'reapply' });
  await client.update('/items/1', (doc) => doc, {
    strategy: ({ theirs, attempt }) => (attempt > 3 ? 'abort' : { write: theirs }),
  });
  await client.delete('/items/1', { ifMatch: updated.etag });
  const stats: Stats = client.stats();
  try {
    await client.get('/items/2');
  } catch (err) {
    if (isIfmatchError(err)) {
      const code: ErrorCode = err.code;
      if (code === 'timeout' || code === 'outcome_unknown' || code === 'redirected' || code === 'unavailable') return code;
      const status: number | null = err.status;
      const type: string | undefined = err.problem?.type;
      return `${code} ${status} ${type} ${err.conflictPaths.join()} ${err.retryAfterMs}`;
    }
  }
  client.free();
  return `${etag} ${attempts} ${stats.requests} ${events.length}`;
}

// @ts-expect-error: strategies are a closed set
await client.update('/items/1', (doc) => doc, { strategy: 'newest' });
// @ts-expect-error: a strategy function answers 'reapply', 'abort' or { write }
await client.update('/items/1', (doc) => doc, { strategy: () => 'merge' });
// @ts-expect-error: documents are JSON
await client.put('/items/1', { when: new Date() }, { unconditional: true });
// @ts-expect-error: every write names the version it is conditional on
await client.put('/items/1', { n: 1 });
// @ts-expect-error: ... in its options
await client.delete('/items/1', {});
// @ts-expect-error: exactly one precondition
await client.put('/items/1', { n: 1 }, { ifMatch: '"1"', unconditional: true });
// @ts-expect-error: createOnly is `true` or absent
await client.patch('/items/1', { n: 1 }, { createOnly: false });
// @ts-expect-error: attemptTimeoutMs is a number of milliseconds or null
new Client({ attemptTimeoutMs: '30s' });
// @ts-expect-error: the option is cacheSize
new Client({ cacheCapacity: 5 });
