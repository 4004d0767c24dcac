// The core behaviours of the Node suite, in headless Chromium, with the optimized release build.
// Each test body runs inside the page (page.evaluate); the page's origin forwards /items to the
// reference server, so `baseUrl` is the page's own origin.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { openBrowser } from '../support/browser.mjs';
import { env } from '../support/env.mjs';

const mounts = {
  '/harness/': fileURLToPath(new URL('./harness', import.meta.url)),
  '/support/': fileURLToPath(new URL('../support', import.meta.url)),
};
let strict;
let limited;

before(async () => {
  strict = await openBrowser({ api: env.url, path: '/harness/', mounts });
  limited = await openBrowser({ api: env.urlLimited, path: '/harness/', mounts });
  for (const { page } of [strict, limited]) await page.waitForFunction(() => document.body.dataset.state === 'ready');
});
after(async () => {
  await strict?.close();
  await limited?.close();
  assert.deepEqual([...(strict?.problems ?? []), ...(limited?.problems ?? [])], [], 'no page or console errors');
});

/** Runs `body` in the page with `window.ifmatch`, `window.items` and the page origin as `base`. */
function inPage(browser, body) {
  return browser.page.evaluate(`(${body})(window.ifmatch, window.items, window.location.origin)`);
}

test('browser: get returns value and ETag, and a second get is answered 304 from the cache', async () => {
  const out = await inPage(strict, async ({ Client }, items, base) => {
    const path = await items.createItem(base, { n: 1 });
    const client = new Client({ baseUrl: base });
    const first = await client.get(path);
    const second = await client.get(path);
    return { first, second, stats: client.stats(), stored: await items.readItem(base, path) };
  });
  assert.deepEqual(out.first.value, { n: 1 });
  assert.equal(out.first.etag, out.stored.etag);
  assert.deepEqual(out.second, { ...out.first, fromCache: true, status: 304 });
  assert.equal(out.first.status, 200);
  assert.equal(out.stats.notModified, 1);
});

test('browser: a stale If-Match is refused with precondition_failed and the state is unchanged', async () => {
  const out = await inPage(strict, async ({ Client }, items, base) => {
    const path = await items.createItem(base, { n: 1 });
    const client = new Client({ baseUrl: base });
    const read = await client.get(path);
    await items.writeBehind(base, path, () => ({ n: 100 }));
    const error = await items.rejectsWith(client.put(path, { n: 2 }, { ifMatch: read.etag }), 'precondition_failed');
    return {
      isError: error instanceof Error,
      name: error.name,
      status: error.status,
      type: error.problem.type,
      stored: (await items.readItem(base, path)).value,
    };
  });
  assert.deepEqual(out, { isError: true, name: 'IfmatchError', status: 412, type: 'urn:ifmatch:problem:precondition-failed', stored: { n: 100 } });
});

test('browser: one client, two reads: the put from the older read is refused after the other put, and its state stays', async () => {
  const out = await inPage(strict, async ({ Client }, items, base) => {
    const path = await items.createItem(base, { title: 'draft', likes: 0 });
    const client = new Client({ baseUrl: base });
    const a = await client.get(path);
    const b = await client.get(path);
    const byB = await client.put(path, { ...b.value, likes: 1 }, { ifMatch: b.etag });
    const refused = await items.rejectsWith(client.put(path, { ...a.value, title: 'final' }, { ifMatch: a.etag }), 'precondition_failed');
    const missing = await items.rejectsWith(client.put(path, { n: 1 }), 'invalid_argument');
    const unversioned = await items.rejectsWith(client.put(path, { n: 1 }, { ifMatch: null }), 'missing_etag');
    const createOnly = await items.rejectsWith(client.put(path, { n: 1 }, { createOnly: true }), 'precondition_failed');
    return {
      refusedStatus: refused.status,
      currentIsB: refused.currentEtag === byB.etag,
      missing: missing.message,
      unversioned: unversioned.code,
      createOnly: createOnly.status,
      stored: (await items.readItem(base, path)).value,
    };
  });
  assert.equal(out.refusedStatus, 412);
  assert.ok(out.currentIsB);
  assert.match(out.missing, /^put\(\) needs the version the document was read at/);
  assert.equal(out.unversioned, 'missing_etag');
  assert.equal(out.createOnly, 412);
  assert.deepEqual(out.stored, { title: 'draft', likes: 1 });
});

test('browser: update recovers from a conflict with reapply and with merge', async () => {
  const out = await inPage(strict, async ({ Client }, items, base) => {
    const results = {};
    for (const strategy of ['reapply', 'merge']) {
      const path = await items.createItem(base, { n: 1, mine: 0, theirs: 0 });
      const client = new Client({ baseUrl: base });
      await client.get(path);
      await items.writeBehind(base, path, (doc) => ({ ...doc, n: doc.n + 10, theirs: 1 }));
      const resolve = ({ path: at, theirs }) => (at === '/n' ? theirs + 1 : theirs);
      const updated = await client.update(path, (doc) => ({ ...doc, n: doc.n + 1, mine: 1 }), {
        strategy,
        ...(strategy === 'merge' ? { resolve } : {}),
      });
      results[strategy] = { attempts: updated.attempts, stored: (await items.readItem(base, path)).value };
    }
    return results;
  });
  assert.deepEqual(out.reapply, { attempts: 2, stored: { n: 12, mine: 1, theirs: 1 } });
  assert.deepEqual(out.merge, { attempts: 2, stored: { n: 12, mine: 1, theirs: 1 } });
});

test('browser: 4 clients x 5 increments end at exactly 20', async () => {
  const out = await inPage(strict, async ({ Client }, items, base) => {
    const path = await items.createItem(base, { counter: 0 });
    const clients = Array.from({ length: 4 }, () => new Client({ baseUrl: base, retry: { preset: 'contended' } }));
    await Promise.all(clients.map(async (client) => {
      for (let i = 0; i < 5; i += 1) await client.update(path, (doc) => ({ counter: doc.counter + 1 }));
    }));
    return (await items.readItem(base, path)).value.counter;
  });
  assert.equal(out, 20);
});

test('browser: a 429 with Retry-After is waited out, then the read succeeds', async () => {
  const out = await inPage(limited, async ({ Client }, items, base) => {
    const setup = new Client({ baseUrl: base });
    const path = new URL((await setup.create('/items', { n: 1 })).location).pathname;
    const events = [];
    const client = new Client({ baseUrl: base, onEvent: (event) => events.push(event) });
    await items.spendToken(base, path); // so that the client's GET is throttled
    const got = await client.get(path);
    return { value: got.value, throttled: events.filter((e) => e.type === 'throttled'), stats: client.stats() };
  });
  assert.deepEqual(out.value, { n: 1 });
  assert.equal(out.throttled[0].delayMs, 1000);
  assert.ok(out.stats.throttledWaitMs >= 1000);
});

test('browser: errors are IfmatchError instances with code, status and problem; an abort rejects with signal.reason', async () => {
  const out = await inPage(strict, async ({ Client, IfmatchError, isIfmatchError }, items, base) => {
    const client = new Client({ baseUrl: base });
    const missing = await items.rejectsWith(client.get('/items/nope'), 'http_status');
    const invalid = await items.rejectsWith(client.get(42), 'invalid_argument');
    const rejection = (promise) => promise.then(() => 'resolved', (err) => err);
    const signal = AbortSignal.abort();
    const aborted = await rejection(client.get('/items/nope', { signal }));
    const controller = new AbortController();
    const reason = new Error('closed the dialog');
    controller.abort(reason);
    const custom = await rejection(client.get('/items/nope', { signal: controller.signal }));
    return {
      missing: {
        ours: missing instanceof IfmatchError && isIfmatchError(missing),
        isError: missing instanceof Error,
        name: missing.name,
        stack: missing.stack.split('\n')[0].startsWith('IfmatchError: GET'),
        status: missing.status,
        problemStatus: missing.problem.status,
      },
      invalid: invalid instanceof IfmatchError,
      aborted: { isReason: aborted === signal.reason, domException: aborted instanceof DOMException, name: aborted.name, ours: aborted instanceof IfmatchError },
      custom: custom === reason,
    };
  });
  assert.deepEqual(out, {
    missing: { ours: true, isError: true, name: 'IfmatchError', stack: true, status: 404, problemStatus: 404 },
    invalid: true,
    aborted: { isReason: true, domException: true, name: 'AbortError', ours: false },
    custom: true,
  });
});

test('browser: an injected fetch carries the requests and gets credentials; a call timeout aborts its request', async () => {
  const out = await inPage(strict, async ({ Client }, items, base) => {
    const path = await items.createItem(base, { n: 1 });
    const inits = [];
    const client = new Client({
      baseUrl: base,
      credentials: 'include',
      fetch: (url, init) => {
        inits.push(init);
        return window.fetch(url, init);
      },
    });
    const read = await client.get(path);
    await client.put(path, { n: 2 }, { ifMatch: read.etag, headers: { 'x-request-id': 'abc' } });
    let stalledSignal;
    const stalled = new Client({
      baseUrl: base,
      fetch: (url, init) => new Promise((resolve, reject) => {
        stalledSignal = init.signal;
        init.signal.addEventListener('abort', () => reject(init.signal.reason));
      }),
    });
    const timedOut = await items.rejectsWith(stalled.get(path, { timeout: 50 }), 'timeout');
    return {
      methods: inits.map((init) => init.method),
      credentials: inits.map((init) => new Request(base, init).credentials),
      redirect: inits.map((init) => init.redirect ?? 'follow'),
      header: inits[1].headers.get('x-request-id'),
      stored: (await items.readItem(base, path)).value,
      timedOut: { message: timedOut.message.includes('timed out after 50ms'), fetchAborted: stalledSignal.aborted },
    };
  });
  assert.deepEqual(out, {
    methods: ['GET', 'PUT'],
    credentials: ['include', 'include'],
    redirect: ['follow', 'manual'],
    header: 'abc',
    stored: { n: 2 },
    timedOut: { message: true, fetchAborted: true },
  });
});

test('browser: await using a Lock: writes carry its token, others get locked, it renews itself and is released at the end of the block', async () => {
  // A string, not a function: the Node that runs this file cannot parse `await using`; Chromium can.
  const out = await inPage(strict, `async ({ Client, Lock }, items, base) => {
    const path = await items.createItem(base, { n: 0 });
    const events = [];
    // The reference server's v1 answers also announce their deprecation (one 'deprecated' event).
    const holder = new Client({ baseUrl: base, onEvent: (event) => event.type !== 'deprecated' && events.push(event.type) });
    const other = new Client({ baseUrl: base });
    let facts;
    let refused;
    let heldInside;
    {
      await using lock = await holder.lock(path, { ttl: 900, owner: 'page' });
      facts = { isLock: lock instanceof Lock, owner: lock.owner, ttlMs: lock.ttlMs, lost: lock.lost, url: lock.url };
      await holder.put(path, { n: 1 }, { unconditional: true });
      refused = await items.rejectsWith(other.put(path, { n: 100 }, { unconditional: true }), 'locked');
      await new Promise((done) => setTimeout(done, 1900)); // more than twice the TTL: renewed meanwhile
      await holder.put(path, { n: 2 }, { unconditional: true, lock });
      heldInside = (await items.lockState(base, path)).status;
      facts.lostAfterWait = lock.lost;
    }
    const afterBlock = (await items.lockState(base, path)).status;
    await other.put(path, { n: 3 }, { unconditional: true });
    return {
      facts,
      refused: { status: refused.status, owner: refused.problem.owner, retryAfter: typeof refused.retryAfterMs },
      heldInside,
      afterBlock,
      events,
      stored: (await items.readItem(base, path)).value,
      base,
      path,
    };
  }`);
  assert.deepEqual(out.facts, { isLock: true, owner: 'page', ttlMs: 900, lost: null, url: `${out.base}${out.path}`, lostAfterWait: null });
  assert.deepEqual(out.refused, { status: 423, owner: 'page', retryAfter: 'number' });
  assert.equal(out.heldInside, 200);
  assert.equal(out.afterBlock, 404, 'the end of the block released the lock');
  assert.deepEqual(out.events, [], 'no lockLost');
  assert.deepEqual(out.stored, { n: 3 });
});

test('browser: a batch applies all or nothing; a transaction runs again after a conflict and rolls back on a throw', async () => {
  const out = await inPage(strict, async ({ Client, IfmatchError }, items, base) => {
    const [a, b] = [await items.createItem(base, { balance: 10 }), await items.createItem(base, { balance: 0 })];
    const events = [];
    const client = new Client({ baseUrl: base, onEvent: (e) => events.push(e.type), retry: { conflictBackoff: { initialMs: 1, maxMs: 5 } } });
    const readA = await client.get(a);
    const done = await client.batch([
      { op: 'create', lid: 'log', body: { entries: [] } },
      { op: 'patch', ref: 'log', body: { entries: ['opened'] }, unconditional: true },
      { op: 'check', path: a, ifMatch: readA.etag },
    ]);
    await items.writeBehind(base, a, (doc) => ({ balance: doc.balance + 1 }));
    const stale = await items.rejectsWith(client.batch([
      { op: 'patch', path: b, body: { balance: 99 }, unconditional: true },
      { op: 'check', path: a, ifMatch: readA.etag },
    ]), 'precondition_failed');
    let runs = 0;
    const moved = await client.transaction(async (tx) => {
      runs += 1;
      const from = await tx.get(a);
      const to = await tx.get(b);
      if (runs === 1) await items.writeBehind(base, a, (doc) => ({ balance: doc.balance + 1 }));
      await tx.put(a, { balance: from.value.balance - 5 }, { ifMatch: from.etag });
      await tx.put(b, { balance: to.value.balance + 5 }, { ifMatch: to.etag });
      return from.value.balance;
    });
    const thrown = new Error('changed my mind');
    const rejected = await client.transaction(async (tx) => {
      await tx.put(b, { balance: 1000 }, { unconditional: true });
      throw thrown;
    }).catch((e) => e);
    return {
      created: done.created.log === done.results[0],
      log: (await items.readItem(base, done.created.log.path)).value,
      stale: { operation: stale.operation, op: stale.op, isIfmatchError: stale instanceof IfmatchError },
      moved,
      runs,
      sameThrown: rejected === thrown,
      balances: [(await items.readItem(base, a)).value.balance, (await items.readItem(base, b)).value.balance],
      events: events.filter((type) => type === 'transactionConflict').length,
    };
  });
  assert.equal(out.created, true);
  assert.deepEqual(out.log, { entries: ['opened'] });
  assert.deepEqual(out.stale, { operation: 1, op: 'check', isIfmatchError: true });
  assert.deepEqual([out.moved, out.runs, out.events], [12, 2, 1]);
  assert.equal(out.sameThrown, true);
  assert.deepEqual(out.balances, [7, 5], 'the batch refused at its check changed nothing; the thrown transaction was rolled back');
});

test("browser: init() loads the wasm from an explicit URL; 'ifmatch/web' is the same module", async () => {
  // A fresh page, so the module has not been initialised by the harness.
  const page = await strict.page.browser().newPage();
  try {
    await page.goto(`${strict.site.url}/harness/blank.html`);
    const out = await page.evaluate(async () => {
      const web = await import('/ifmatch/index.js');
      // wasm-bindgen's form ({ module_or_path }) is accepted as well as the URL itself.
      await web.default({ module_or_path: '/ifmatch/ifmatch_wasm_bg.wasm' });
      await web.init('/ifmatch/ifmatch_wasm_bg.wasm');
      const client = new web.Client({ baseUrl: window.location.origin });
      const error = await client.get(1).catch((err) => err);
      return {
        version: web.version(),
        stats: client.stats().requests,
        instance: error instanceof web.IfmatchError,
        sameInit: web.default === web.init,
      };
    });
    assert.match(out.version, /^\d+\.\d+\.\d+/);
    assert.equal(out.stats, 0);
    assert.equal(out.instance, true);
    assert.equal(out.sameInit, true);
  } finally {
    await page.close();
  }
});

test('browser: without init(), a Client loads the wasm at its first request, and bad options reject there', async () => {
  const page = await strict.page.browser().newPage();
  try {
    await page.goto(`${strict.site.url}/harness/blank.html`);
    const out = await page.evaluate(async () => {
      const { Client, IfmatchError, version } = await import('/ifmatch/index.js');
      const early = (fn) => {
        try {
          fn();
          return 'no error';
        } catch (err) {
          return `${err instanceof IfmatchError} ${err.code} ${err.message}`;
        }
      };
      const bad = new Client({ nope: true });
      const before = { stats: early(() => bad.stats()), version: early(() => version()) };
      // extend() of a deferred client is a deferred client, made at its first request.
      const derived = new Client({ baseUrl: window.location.origin }).extend({ headers: { 'x-derived': '1' } });
      const derivedIsClient = derived instanceof Client;
      // A subscription of a deferred client starts (and makes the client) at its first next().
      const subscription = new Client({ nope: true }).conflicts.subscribe();
      const rejected = await bad.get('/items/x').catch((err) => `${err instanceof IfmatchError} ${err.code}`);
      const subscribed = await subscription.next().catch((err) => `${err instanceof IfmatchError} ${err.code}`);
      const client = new Client({ baseUrl: window.location.origin });
      const conflicts = new Client({ baseUrl: window.location.origin }).conflicts;
      const created = await client.create('/items', { n: 1 });
      const updated = await client.update(created.location, (doc) => ({ n: doc.n + 1 }));
      const derivedRead = await derived.get(new URL(created.location).pathname);
      return {
        before, rejected, subscribed, value: updated.value, list: Array.isArray((await conflicts.list()).conflicts),
        derivedIsClient, derivedValue: derivedRead.value,
      };
    });
    assert.match(out.before.stats, /^true invalid_state client\.stats\(\) needs the ifmatch wasm, which is not loaded yet; `await init\(\)` first/);
    assert.match(out.before.version, /^true invalid_state version\(\) needs the ifmatch wasm/);
    assert.equal(out.rejected, 'true invalid_argument');
    assert.equal(out.subscribed, 'true invalid_argument');
    assert.deepEqual(out.value, { n: 2 });
    assert.equal(out.list, true);
    assert.equal(out.derivedIsClient, true);
    assert.deepEqual(out.derivedValue, { n: 2 });
  } finally {
    await page.close();
  }
});

test('browser: a wasm URL that answers 404 rejects init() with a catchable wasm_unavailable, and init can be retried', async () => {
  const page = await strict.page.browser().newPage();
  try {
    await page.goto(`${strict.site.url}/harness/blank.html`);
    const out = await page.evaluate(async () => {
      const { Client, IfmatchError, init } = await import('/ifmatch/index.js');
      const missing = await init('/nowhere/ifmatch_wasm_bg.wasm').catch((err) => ({
        ours: err instanceof IfmatchError, code: err.code, message: err.message, url: err.url,
      }));
      await init();
      const client = new Client({ baseUrl: window.location.origin });
      return { missing, requests: client.stats().requests };
    });
    assert.equal(out.missing.ours, true);
    assert.equal(out.missing.code, 'wasm_unavailable');
    assert.match(out.missing.message, /answered 404; call `await init\(url\)` with the URL you serve ifmatch_wasm_bg\.wasm at/);
    assert.match(out.missing.url, /\/nowhere\/ifmatch_wasm_bg\.wasm$/);
    assert.equal(out.requests, 0);
  } finally {
    await page.close();
  }
});

test('browser: a cross-origin server without CORS headers rejects with code network and no status', async () => {
  // A fresh page: Chromium logs the CORS refusal as a console error, which the suite's pages forbid.
  const page = await strict.page.browser().newPage();
  try {
    await page.goto(`${strict.site.url}/harness/blank.html`);
    // The reference server itself is another origin (another port) and sends no CORS headers.
    const out = await page.evaluate(async (api) => {
      const web = await import('/ifmatch/index.js');
      await web.init();
      const client = new web.Client({ baseUrl: api, retry: { maxAttempts: 1 } });
      try {
        await client.get('/items/x');
        return { resolved: true };
      } catch (error) {
        return {
          code: error.code,
          status: error.status,
          ours: error instanceof web.IfmatchError && web.isIfmatchError(error),
          cause: error.cause instanceof TypeError ? 'TypeError' : String(error.cause),
        };
      }
    }, env.url);
    assert.deepEqual(out, { code: 'network', status: null, ours: true, cause: 'TypeError' });
  } finally {
    await page.close();
  }
});

test('browser: hooks see real Requests and Responses, searchParams reach the URL, results carry headers', async () => {
  const out = await inPage(strict, async ({ Client }, items, base) => {
    const path = await items.createItem(base, { n: 1 });
    const seen = [];
    const client = new Client({
      baseUrl: base,
      hooks: {
        beforeRequest: [(request) => { seen.push(`${request.method} ${new URL(request.url).search}`); request.headers.set('x-trace', '1'); }],
        afterResponse: [(request, response) => { seen.push(`${response.status} ${request.headers.get('x-trace')}`); }],
      },
    });
    const read = await client.get(path, { searchParams: { a: 1 } });
    const dropping = new Client({ baseUrl: base, hooks: { beforeRequest: [(request) => { request.headers.delete('if-match'); }] } });
    let code = null;
    try {
      await dropping.put(path, { n: 2 }, { ifMatch: read.etag });
    } catch (err) {
      code = err.code;
    }
    return { seen, etag: read.etag, headerEtag: read.headers.get('etag'), status: read.status, code, stored: await items.readItem(base, path) };
  });
  assert.deepEqual(out.seen, ['GET ?a=1', '200 1']);
  assert.equal(out.headerEtag, out.etag);
  assert.equal(out.status, 200);
  assert.equal(out.code, 'hook_failed');
  assert.deepEqual(out.stored.value, { n: 1 }, 'the write without its precondition was not sent');
});
