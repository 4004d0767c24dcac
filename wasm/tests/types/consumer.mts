// Compiled (not run) by `tsc --strict` in wasm/scripts/test.sh: the declarations must describe
// the API precisely enough that typical code type-checks, and misuse must not.
import { Client, isIfmatchError, type ClientEvent, type Json, type MergeConflict, type Stats } from 'ifmatch';

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
  retry: { preset: 'contended', maxAttempts: 4, maxDelayMs: 2000, longWait: 'clamp', jitter: true, seed: 7 },
  onEvent: (event) => events.push(event),
});

export async function example(signal: AbortSignal): Promise<string> {
  const created = await client.create<Todo>('/items', { title: 'write docs', done: false }, { signal });
  const location: string | null = created.location;
  const read = await client.get<Todo>(location ?? '/items/1');
  const title: string = read.value.title;
  const etag: string | null = read.etag;
  await client.put('/items/1', { title, done: true });
  await client.patch('/items/1', { done: null });
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
  await client.delete('/items/1');
  const stats: Stats = client.stats();
  try {
    await client.get('/items/2');
  } catch (err) {
    if (isIfmatchError(err)) {
      const code: 'conflict' | string = err.code;
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
await client.put('/items/1', { when: new Date() });
// @ts-expect-error: the option is cacheSize
new Client({ cacheCapacity: 5 });
