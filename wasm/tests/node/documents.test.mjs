// Documents and the version a write is based on, as JavaScript gives them: a Date or an object with
// toJSON is sent as JSON.stringify sends it; `ifMatch` takes a read itself; and If-Match /
// If-None-Match cannot be smuggled in through the headers options. Against a scripted stub server.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client } from 'ifmatch';
import { rejectsWith } from '../support/items.mjs';
import { startStub } from '../support/stub.mjs';

const DOC = { status: 200, headers: { etag: '"v1"' }, body: { n: 1 } };

/** A stub that answers reads with DOC and echoes writes (a create with a Location). */
async function echoStub(t) {
  const stub = await startStub((req) => {
    if (req.method === 'GET') return DOC;
    if (req.method === 'POST' && req.url === '/batch') {
      return { status: 200, body: { results: req.body.operations.map((op, i) => ({ status: 201, path: `/items/b${i}`, etag: '"b"', body: op.body })) } };
    }
    if (req.method === 'POST') return { status: 201, headers: { etag: '"c1"', location: '/items/new' }, body: req.body };
    return { status: 200, headers: { etag: '"v2"' }, body: req.body };
  });
  t.after(stub.close);
  return stub;
}

test('a Date, an object with toJSON, and a class instance are sent as JSON.stringify sends them', async (t) => {
  const stub = await echoStub(t);
  const client = new Client({ baseUrl: stub.url });
  class Money {
    constructor(cents) {
      this.cents = cents;
    }
    toJSON() {
      return `${(this.cents / 100).toFixed(2)} EUR`;
    }
    double() {
      return new Money(this.cents * 2);
    }
  }
  const due = new Date(Date.UTC(2026, 11, 2, 15, 30));
  const doc = { title: 'pay', due, price: new Money(1250), skipped: undefined, when: [due] };
  const expected = JSON.parse(JSON.stringify(doc));
  assert.deepEqual(expected, { title: 'pay', due: '2026-12-02T15:30:00.000Z', price: '12.50 EUR', when: ['2026-12-02T15:30:00.000Z'] });

  await client.create('/items', doc);
  await client.put('/items/1', doc, { unconditional: true });
  await client.patch('/items/1', { due }, { ifMatch: '"v2"' });
  await client.put('/items/2', due, { createOnly: true });
  await client.update('/items/1', (read) => ({ ...read, due, price: new Money(99) }));
  await client.batch([{ op: 'create', body: doc }]);
  const bodies = stub.requests.filter((r) => r.method !== 'GET').map((r) => r.body);
  assert.deepEqual(bodies, [
    expected,
    expected,
    { due: expected.due },
    expected.due,
    { n: 1, due: expected.due, price: '0.99 EUR' },
    { operations: [{ op: 'create', body: expected }] },
  ]);
});

test('ifMatch takes the read itself: its etag is the version the write is based on', async (t) => {
  const stub = await echoStub(t);
  const client = new Client({ baseUrl: stub.url });
  const read = await client.get('/items/1');
  const written = await client.put('/items/1', { n: 2 }, { ifMatch: read });
  await client.patch('/items/1', { n: 3 }, { ifMatch: written });
  await client.delete('/items/1', { ifMatch: read });
  assert.deepEqual(stub.requests.slice(1).map((r) => [r.method, r.headers['if-match']]), [['PUT', '"v1"'], ['PATCH', '"v2"'], ['DELETE', '"v1"']]);
  // So does a batch operation's ifMatch, and a batch result is a read too.
  const batched = await client.batch([{ op: 'put', path: '/items/1', body: { n: 5 }, ifMatch: read }]);
  await client.put('/items/1', { n: 6 }, { ifMatch: batched.results[0] });
  assert.equal(stub.requests[4].body.operations[0].if_match, '"v1"');
  assert.equal(stub.requests[5].headers['if-match'], '"b"');
  // A read without an ETag is refused as ifMatch: null is, before anything is sent.
  await rejectsWith(client.put('/items/1', { n: 4 }, { ifMatch: { value: { n: 1 }, etag: null } }), 'missing_etag');
  // An object that is not a read is not taken for one.
  const wrong = await rejectsWith(client.put('/items/1', { n: 4 }, { ifMatch: { etag: '"v1"' } }), 'invalid_argument');
  assert.match(wrong.message, /^options\.ifMatch must be a read \(or its etag, read\.etag\)/);
  assert.equal(stub.requests.length, 6);
});

test('If-Match and If-None-Match in the client headers are refused, naming the option to use', async (t) => {
  const stub = await echoStub(t);
  for (const name of ['If-Match', 'if-match']) {
    assert.throws(() => new Client({ baseUrl: stub.url, headers: { [name]: '"v1"' } }), (err) => {
      assert.equal(err.code, 'invalid_argument');
      assert.equal(err.message, `options.headers must not set ${name}: pass the version a write is conditional on as its ifMatch option ({ ifMatch: read.etag }), which put(), patch() and delete() take; reads and creates send no If-Match`);
      return true;
    });
  }
  assert.throws(() => new Client({ baseUrl: stub.url, headers: { 'If-None-Match': '*' } }), (err) => {
    assert.equal(err.code, 'invalid_argument');
    assert.match(err.message, /^options\.headers must not set If-None-Match: the client sends it itself, on reads from its ETag cache and on writes with \{ createOnly: true \}$/);
    return true;
  });
  assert.equal(stub.requests.length, 0);
});

test('If-Match and If-None-Match in a call’s headers are refused before anything is sent', async (t) => {
  const stub = await echoStub(t);
  const client = new Client({ baseUrl: stub.url });
  const calls = {
    get: () => client.get('/items/1', { headers: { 'if-none-match': '"v1"' } }),
    create: () => client.create('/items', { n: 1 }, { headers: { 'If-Match': '"v1"' } }),
    put: () => client.put('/items/1', { n: 1 }, { unconditional: true, headers: { 'IF-MATCH': '"v1"' } }),
    update: () => client.update('/items/1', (doc) => doc, { headers: { 'if-match': '*' } }),
    delete: () => client.delete('/items/1', { ifMatch: '"v1"', headers: { 'if-none-match': '*' } }),
  };
  for (const [name, call] of Object.entries(calls)) {
    const err = await rejectsWith(call(), 'invalid_argument');
    assert.match(err.message, /^options\.headers must not set (if-match|If-Match|IF-MATCH|if-none-match): /i, name);
    assert.match(err.message, /ifMatch option|createOnly/, name);
  }
  assert.equal(stub.requests.length, 0);
});
