// Compiled (not run) by `tsc --strict` in wasm/scripts/test.sh: the declarations must describe
// the API precisely enough that typical code type-checks, and misuse must not.
import {
  Client,
  Transaction,
  type BatchOperation,
  type BatchResult,
  type CommitResult,
  type StaleRead,
  type OpResult,
  IfmatchError,
  isIfmatchError,
  Lock,
  type ClientEvent,
  type ErrorCode,
  type Json,
  type LockOptions,
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
  timeout: 10_000,
  credentials: 'include',
  fetch: (url, init) => fetch(url, { ...init, keepalive: false }),
  serverHonoursIdempotencyKeys: false,
  trustWriteBodies: true,
  adaptivePacing: false,
  retry: {
    preset: 'contended',
    maxAttempts: 4,
    maxDelayMs: 2000,
    minDelayMs: 50,
    totalDeadlineMs: null,
    longWait: 'clamp',
    jitter: true,
    seed: 7,
    conflictBackoff: { maxMs: 500 },
    budget: { capacity: 20 },
  },
  onEvent: (event) => events.push(event),
});

export async function example(signal: AbortSignal): Promise<string> {
  const created = await client.create<Todo>('/items', { title: 'write docs', done: false }, { signal });
  const location: string | null = created.location;
  const read = await client.get<Todo>(location ?? '/items/1', { headers: { 'x-request-id': '1' }, timeout: 5000 });
  const title: string = read.value.title;
  const etag: string | null = read.etag;
  const saved = await client.put<Todo>('/items/1', { title, done: true }, { ifMatch: read.etag, signal });
  await client.patch('/items/1', { done: null }, { ifMatch: saved.etag });
  await client.put('/items/2', { title, done: false }, { createOnly: true });
  const blind: WriteOptions = { unconditional: true };
  await client.patch('/items/2', { done: true }, blind);
  await client.delete('/items/2', { unconditional: true, timeout: null, headers: { 'x-reason': 'cleanup' }, signal });
  const updated = await client.update<Todo>(
    '/items/1',
    (doc) => {
      doc.done = true;
    },
    {
      strategy: 'merge',
      resolve: ({ path, theirs }: MergeConflict) => (path === '/title' ? theirs : null),
      signal,
      timeout: 2000,
      headers: { 'x-request-id': '2' },
    },
  );
  const attempts: number = updated.attempts;
  await client.update<Todo>('/items/1', (doc) => ({ ...doc, done: !doc.done }), { strategy: 'reapply' });
  // An async change: the promise of the new document, or of nothing after editing its argument.
  await client.update<Todo>('/items/1', async (doc) => ({ ...doc, done: await Promise.resolve(true) }));
  await client.update<Todo>('/items/1', async (doc) => { doc.done = true; });
  await client.update('/items/1', (doc) => doc, {
    strategy: ({ theirs, attempt }) => (attempt > 3 ? 'abort' : { write: theirs }),
  });
  await client.delete('/items/1', { ifMatch: updated.etag });
  const lockOptions: LockOptions = { ttl: 10_000, wait: 5_000, owner: 'report-job', signal, headers: { 'x-job': '7' }, timeout: null };
  const lock: Lock = await client.lock('/items/1', lockOptions);
  const lockFacts: [string, string, number | null, string | null, number, number, string | null] = [
    lock.url, lock.token, lock.fencing, lock.owner, lock.ttlMs, lock.expiresInMs, lock.lost,
  ];
  await client.put('/items/1', { title, done: true }, { unconditional: true, lock });
  await client.patch('/items/1', { done: false }, { ifMatch: saved.etag, lock, timeout: 1000 });
  await client.update<Todo>('/items/1', (doc) => ({ ...doc, done: true }), { strategy: 'reapply', lock });
  await lock.renew();
  await lock.release();
  await lock[Symbol.asyncDispose]();
  (await client.lock('/items/2'))[Symbol.dispose]();
  for (const event of events) {
    if (event.type === 'lockLost') return `${event.url} ${event.reason} ${lockFacts.join()}`;
  }
  const stats: Stats = client.stats();
  try {
    await client.get('/items/2');
  } catch (err) {
    if (err instanceof IfmatchError) {
      const hint: string | null = err.hint;
      const url: string | null = err.url;
      const cause: unknown = err.cause;
      if (err.code === 'network') return `${url} ${hint} ${String(cause)}`;
    }
    if (isIfmatchError(err)) {
      const code: ErrorCode = err.code;
      if (code === 'timeout' || code === 'outcome_unknown' || code === 'redirected' || code === 'unavailable') return code;
      if (code === 'locked') return `${err.retryAfterMs} ${String(err.problem?.owner)}`;
      if (code === 'lock_lost') return err.hint ?? code;
      const status: number | null = err.status;
      const type: string | undefined = err.problem?.type;
      return `${code} ${status} ${type} ${err.conflictPaths.join()} ${err.retryAfterMs}`;
    }
  }
  client.free();
  const scoped = new Client();
  scoped[Symbol.dispose]();
  return `${etag} ${attempts} ${stats.requests} ${events.length}`;
}

export async function batchExample(signal: AbortSignal, lock: Lock): Promise<string> {
  const a = await client.get<Todo>('/items/a');
  const operations: BatchOperation[] = [
    { op: 'create', lid: 'order', body: { total: 0 } },
    { op: 'put', path: '/items/a', body: { ...a.value, done: true }, ifMatch: a.etag },
    { op: 'patch', ref: 'order', body: { total: 10 }, unconditional: true },
    { op: 'delete', path: '/items/b', ifMatch: '"3"' },
    { op: 'check', path: '/items/c', ifMatch: '"7"' },
    { op: 'check', path: '/items/d' },
    { op: 'put', path: '/items/e', body: null, createOnly: true },
  ];
  const done: BatchResult = await client.batch(operations, { signal, headers: { 'x-request-id': '3' }, timeout: 5000, lock });
  await client.batch([{ op: 'create', body: {} }], { lock: [lock] });
  const order: OpResult | undefined = done.created['order'];
  const first: OpResult | undefined = done.results[0];
  const facts: [string | null, number, string, string, string | null, Json | null, number] = [
    first?.op ?? null, first?.status ?? 0, order?.path ?? '', order?.url ?? '', order?.etag ?? null, order?.value ?? null, done.attempts,
  ];
  await client.put('/items/a', { title: 'x', done: false }, { ifMatch: done.results[1]?.etag ?? null });
  try {
    await client.batch(operations);
  } catch (err) {
    if (err instanceof IfmatchError && err.operation !== undefined) return `${err.operation} ${err.op ?? ''} ${err.code}`;
  }
  return facts.join();
}

interface Account {
  balance: number;
  [member: string]: Json;
}

export async function transfer(from: string, to: string, amount: number, signal: AbortSignal): Promise<boolean> {
  const moved: boolean = await client.transaction(
    async (tx) => {
      const a = await tx.get<Account>(from);
      const b = await tx.get<Account>(to, { timeout: 1000 });
      if (a.value.balance < amount) return false;
      await tx.put(from, { balance: a.value.balance - amount }, { ifMatch: a.etag });
      await tx.patch(to, { balance: b.value.balance + amount }, { ifMatch: b.etag });
      return true;
    },
    { ttl: 10_000, maxAttempts: 5, signal, headers: { 'x-request-id': '4' }, timeout: null },
  );
  const count: number = await client.transaction(() => 3);
  const tx: Transaction = await client.begin({ ttl: 5000, signal });
  const facts: [string, string, number | null, number | null, number | null, boolean] = [
    tx.id, tx.url, tx.expiresAt, tx.ttlMs, tx.expiresInMs, tx.open,
  ];
  const created = await tx.create('/items', { balance: 0 });
  await tx.delete(created.location ?? '/items/x', { unconditional: true });
  try {
    const done: CommitResult = await tx.commit({ timeout: 5000 });
    const etag: string | null = done.results[0]?.etag ?? null;
    return etag !== null && moved && count === 3 && facts.length > 0 && done.attempts > 0;
  } catch (err) {
    if (isIfmatchError(err) && err.code === 'transaction_conflict') {
      const stale: StaleRead[] = err.staleReads ?? [];
      return stale.some((read) => read.currentEtag === read.readEtag);
    }
    if (isIfmatchError(err) && err.code === 'transaction_lost') return false;
    await tx.rollback();
    await tx[Symbol.asyncDispose]();
    throw err;
  }
}

// @ts-expect-error: a Transaction comes from client.begin()
new Transaction();
// @ts-expect-error: transaction durations are milliseconds, named like timeout
await client.begin({ ttlMs: 1000 });
// @ts-expect-error: the function gets the transaction
await client.transaction(async (tx: Client) => tx);
// @ts-expect-error: a transaction's id is read-only
(await client.begin()).id = 'tx-1';
// @ts-expect-error: a batch write names its version
await client.batch([{ op: 'put', path: '/items/a', body: {} }]);
// @ts-expect-error: path and ref exclude each other
await client.batch([{ op: 'delete', path: '/items/a', ref: 'order', unconditional: true }]);
// @ts-expect-error: a create names no document
await client.batch([{ op: 'create', path: '/items/a', body: {} }]);
// @ts-expect-error: a delete has no body
await client.batch([{ op: 'delete', path: '/items/a', body: {}, unconditional: true }]);
// @ts-expect-error: the batch's shape is the package's (ifMatch), not the wire's (if_match)
await client.batch([{ op: 'check', path: '/items/a', if_match: '"1"' }]);
// @ts-expect-error: ops are a closed set
await client.batch([{ op: 'upsert', path: '/items/a', body: {}, unconditional: true }]);
// @ts-expect-error: an async change resolves to the document's type
await client.update<{ n: number }>('/items/1', async () => ({ n: 'one' }));
// @ts-expect-error: strategies are a closed set
await client.update('/items/1', (doc) => doc, { strategy: 'newest' });
// @ts-expect-error: a strategy function answers 'reapply', 'abort' or { write }
await client.update('/items/1', (doc) => doc, { strategy: () => 'merge' });
// Documents are what JSON.stringify takes: a Date is sent as its ISO string (documents.mts has more).
await client.put('/items/1', { when: new Date() }, { unconditional: true });
// @ts-expect-error: but not a function
await client.put('/items/1', { n: 1 } && (() => 1), { unconditional: true });
// @ts-expect-error: every write names the version it is conditional on
await client.put('/items/1', { n: 1 });
// @ts-expect-error: ... in its options
await client.delete('/items/1', {});
// @ts-expect-error: exactly one precondition
await client.put('/items/1', { n: 1 }, { ifMatch: '"1"', unconditional: true });
// @ts-expect-error: createOnly is `true` or absent
await client.patch('/items/1', { n: 1 }, { createOnly: false });
// @ts-expect-error: timeout is a number of milliseconds or null
new Client({ timeout: '30s' });
// @ts-expect-error: the option is cacheSize
new Client({ cacheCapacity: 5 });
// @ts-expect-error: attemptTimeoutMs is now timeout
new Client({ attemptTimeoutMs: 1000 });
// @ts-expect-error: credentials is fetch's RequestCredentials
new Client({ credentials: 'always' });
// @ts-expect-error: per-call headers are strings
await client.get('/items/1', { headers: { 'x-n': 1 } });
// @ts-expect-error: a Lock comes from client.lock()
new Lock();
// @ts-expect-error: lock durations are milliseconds
await client.lock('/items/1', { ttl: '10s' });
// @ts-expect-error: the lock option is spelled ttl
await client.lock('/items/1', { ttlMs: 10_000 });
// @ts-expect-error: reads take no lock
await client.get('/items/1', { lock: await client.lock('/items/1') });
// @ts-expect-error: the lock option takes a Lock, not its token
await client.put('/items/1', { n: 1 }, { unconditional: true, lock: 'lock-1' });
// @ts-expect-error: a Lock's facts are read-only
(await client.lock('/items/1')).token = 'x';
// @ts-expect-error: an IfmatchError needs a code
export const made = new IfmatchError('x', {});
export const ok = new IfmatchError('PUT refused', { code: 'precondition_failed', status: 412, cause: new Error('x') });
export function notCancelled(err: IfmatchError): boolean {
  // @ts-expect-error: an abort rejects with signal.reason, so 'cancelled' is no code of this package
  return err.code === 'cancelled';
}

// searchParams, hooks, extend(), result headers, request() and head().
const hooked = new Client({
  baseUrl: 'http://127.0.0.1:8080',
  hooks: {
    beforeRequest: [(request: Request) => { request.headers.set('x-signed', 'sig'); }, async (request) => new Request(request)],
    afterResponse: [(_request, response) => (response.status === 204 ? new Response('null') : undefined)],
    beforeRetry: [async ({ attempt, error, reason, retryAfterMs, delayMs, request }) => {
      const code: ErrorCode = error.code;
      const why: 'throttled' | 'conflict' | 'network' = reason;
      void [attempt + 1, code, why, retryAfterMs ?? 0, delayMs ?? 0, request.url];
    }],
  },
});
const derived: Client = hooked.extend({ headers: { 'x-team': 'a', 'x-old': undefined }, timeout: undefined, hooks: { beforeRetry: [] } });
async function ergonomics(): Promise<void> {
  const listed = await derived.get<Todo[]>('/items', { searchParams: { page: 2, done: false, tag: 'a', skip: undefined } });
  const total: string | null = listed.headers.get('x-total-count');
  const status: number = listed.status;
  await derived.get('/items', { searchParams: new URLSearchParams([['tag', 'a'], ['tag', 'b']]) });
  await derived.put('/items/1', { title: 't', done: true }, { ifMatch: listed.etag, searchParams: 'dryRun=1' });
  await derived.update<Todo>('/items/1', (doc) => ({ ...doc, done: true }), { searchParams: { via: 'ui' } });
  const archived = await derived.request('POST', '/items/1/archive', { json: { reason: 'done' }, ifMatch: listed.etag });
  const raw = await derived.request<Todo[]>('GET', '/items', { searchParams: { page: 1 } });
  const head = await derived.head('/items/1');
  const etag: string | null = head.etag;
  void [total, status, archived.status, raw.value.length, etag, head.headers.get('content-length'), head.attempts];
  // @ts-expect-error: searchParams values are strings, numbers or booleans
  await derived.get('/items', { searchParams: { filter: { done: true } } });
  // @ts-expect-error: hooks are arrays of functions
  new Client({ hooks: { beforeRequest: (request: Request) => request } });
  // @ts-expect-error: there is no beforeError hook
  new Client({ hooks: { beforeError: [] } });
  // @ts-expect-error: head() has no body to return
  void head.value;
  // @ts-expect-error: lock() takes no searchParams
  await derived.lock('/items/1', { searchParams: { a: 1 } });
}
void ergonomics;
