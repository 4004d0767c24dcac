// Compiled (not run) by `tsc --strict` (both configs in wasm/scripts/test.sh): writes take the
// caller's own document types (interfaces without an index signature, optional members, `Date`,
// class instances, readonly arrays), reads return them, and what JSON cannot carry stays an error.
import {
  Client,
  type BatchOperation,
  type BatchResult,
  type Json,
  type JsonInput,
  type OpResult,
  type StrategyFunction,
  type Versioned,
} from 'ifmatch';

interface Todo {
  title: string;
  done: boolean;
  due?: Date;
  tags?: readonly string[];
  owner?: { name: string; email?: string };
}

class Note {
  constructor(
    public text: string,
    public readonly at: Date,
  ) {}
  shout(): string {
    return this.text.toUpperCase();
  }
}

const client = new Client({ baseUrl: 'http://127.0.0.1:8080' });

export async function interfaces(): Promise<string> {
  const todo: Todo = { title: 'write docs', done: false, due: new Date(), tags: ['docs'] };
  const created: Versioned<Todo> = await client.create('/items', todo);
  const read = await client.get<Todo>(created.location ?? '/items/1');
  const title: string = read.value.title;
  const saved: Versioned<Todo> = await client.put('/items/1', { ...read.value, done: true }, { ifMatch: read.etag });
  await client.put<Todo>('/items/1', { title, done: false, owner: { name: 'ann' } }, { ifMatch: saved.etag });
  await client.patch<Todo>('/items/1', { done: true, due: null }, { ifMatch: saved.etag });
  const updated = await client.update<Todo>('/items/1', (doc) => {
    doc.done = !doc.done;
  });
  await client.update<Todo>('/items/1', (doc) => ({ ...doc, tags: [...(doc.tags ?? []), 'late'] }), {
    strategy: ({ theirs, mine }) => (theirs.done ? 'abort' : { write: { ...theirs, title: mine.title } }),
  });
  const keepTheirs: StrategyFunction<Todo> = ({ theirs }) => ({ write: theirs });
  await client.update<Todo>('/items/1', (doc) => doc, { strategy: keepTheirs });
  return `${title} ${updated.value.done}`;
}

export async function classesDatesAndArrays(): Promise<number> {
  const note = await client.create('/notes', new Note('hello', new Date(0)));
  const text: string = note.value.text;
  await client.put('/dates/1', new Date(), { unconditional: true });
  const list: readonly Todo[] = [{ title: 'a', done: false }];
  await client.put('/lists/1', list, { createOnly: true });
  await client.put('/lists/2', [1, 'two', null] as const, { createOnly: true });
  const untyped: Json = { any: ['json', 1, true, null] };
  await client.put('/items/3', untyped, { unconditional: true });
  const input: JsonInput = new Note('also', new Date());
  await client.create('/notes', input);
  return text.length;
}

export async function batchesAndTransactions(todo: Todo): Promise<number> {
  const operations: readonly BatchOperation[] = [
    { op: 'create', lid: 'n', body: new Note('x', new Date()) },
    { op: 'put', path: '/items/a', body: todo, ifMatch: '"1"' },
    { op: 'patch', ref: 'n', body: { due: new Date() }, unconditional: true },
  ];
  const done: BatchResult<Todo> = await client.batch<Todo>(operations);
  const first: OpResult<Todo> | undefined = done.results[0];
  const stored: string | undefined = first?.value?.title;
  await client.transaction(async (tx) => {
    const read = await tx.get<Todo>('/items/a');
    await tx.put('/items/a', { ...read.value, due: new Date() }, { ifMatch: read.etag });
    await tx.create<Todo>('/items', { title: 'in tx', done: false });
    await tx.patch('/items/a', { tags: ['tx'] }, { ifMatch: read.etag });
  });
  return stored?.length ?? 0;
}

// What JSON cannot carry, or what is not the caller's type, stays an error.
// @ts-expect-error: a function is not a document
await client.put('/items/1', () => 1, { unconditional: true });
// @ts-expect-error: nor is a class
await client.create('/items', Note);
// @ts-expect-error: nor undefined
await client.create('/items', undefined);
// @ts-expect-error: nor a symbol
await client.create('/items', Symbol('doc'));
// @ts-expect-error: nor a bigint (JSON.stringify throws on one)
await client.create('/items', 10n);
// @ts-expect-error: an unknown value must be narrowed first
await client.create('/items', JSON.parse('{}') as unknown);
// @ts-expect-error: the document must be a Todo when the type is given
await client.put<Todo>('/items/1', { title: 'no done' }, { unconditional: true });
// @ts-expect-error: Todo.due is a Date, not a number
await client.create<Todo>('/items', { title: 't', done: false, due: 5 });
// @ts-expect-error: a misspelt option name
await client.put<Todo>('/items/1', { title: 't', done: false }, { ifmatch: '"1"' });
// @ts-expect-error: a batch body is a document too
await client.batch([{ op: 'create', body: () => 1 }]);
// @ts-expect-error: the change gets (and returns) the document type
await client.update<Todo>('/items/1', (doc) => ({ ...doc, done: 'yes' }));
// @ts-expect-error: a strategy writes the document type
await client.update<Todo>('/items/1', (doc) => doc, { strategy: () => ({ write: { title: 1 } }) });

export async function readAsIfMatch(): Promise<string | null> {
  const read = await client.get<Todo>('/items/1');
  const written = await client.put('/items/1', { ...read.value, done: true }, { ifMatch: read });
  await client.patch('/items/1', { done: false }, { ifMatch: written });
  const done = await client.batch([{ op: 'put', path: '/items/1', body: read.value, ifMatch: read }]);
  const first = done.results[0];
  if (first) await client.delete('/items/1', { ifMatch: first });
  return written.etag;
}
// @ts-expect-error: ifMatch is a read or its etag, not the document
await client.put('/items/1', { n: 1 }, { ifMatch: { n: 1 } });
