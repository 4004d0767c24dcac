// Plain-fetch helpers for test setup and for playing "the other writer" behind a client's back.
// Runs in Node and in the browser suite's page, so it uses no Node modules.

function check(condition, message) {
  if (!condition) throw new Error(message);
}

/** Creates a document with POST and returns its path (e.g. `/items/abc`). */
export async function createItem(base, doc) {
  const res = await fetch(new URL('/items', base), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(doc),
  });
  check(res.status === 201, `POST /items answered ${res.status}: ${await res.text()}`);
  const location = res.headers.get('location');
  check(location, 'POST /items sent no Location header');
  return new URL(location, base).pathname;
}

/** Reads a document with a plain GET: `{ status, etag, value }`. */
export async function readItem(base, path) {
  const res = await fetch(new URL(path, base));
  const text = await res.text();
  return { status: res.status, etag: res.headers.get('etag'), value: text ? JSON.parse(text) : null };
}

/** Changes a document behind the client's back: GET, edit, PUT with If-Match. Returns the new ETag. */
export async function writeBehind(base, path, edit) {
  const { etag, value } = await readItem(base, path);
  const res = await fetch(new URL(path, base), {
    method: 'PUT',
    headers: { 'content-type': 'application/json', 'if-match': etag },
    body: JSON.stringify(edit(value)),
  });
  check(res.ok, `the other writer's PUT ${path} answered ${res.status}: ${await res.text()}`);
  return res.headers.get('etag') ?? (await readItem(base, path)).etag;
}

/** Asserts that `promise` rejects with an ifmatch error of `code`, and returns the error. */
export async function rejectsWith(promise, code) {
  let error;
  try {
    await promise;
  } catch (err) {
    error = err;
  }
  check(error, `expected a rejection with code '${code}', but the operation succeeded`);
  check(error instanceof Error, `rejected with a non-Error: ${String(error)}`);
  check(error.code === code, `expected code '${code}', got '${error.code}': ${error.message}`);
  return error;
}

/**
 * Spends the rate limiter's token with a plain GET that succeeds, so that a request sent right
 * after it is throttled. (A GET that is itself throttled would not do: the token could come back
 * between it and the next request.) Waits out at most 5 throttled answers.
 */
export async function spendToken(base, path) {
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const res = await fetch(new URL(path, base));
    await res.arrayBuffer();
    if (res.ok) return;
    const wait = Number(res.headers.get('retry-after') ?? '1');
    await new Promise((done) => setTimeout(done, Math.min(wait, 2) * 1000));
  }
  throw new Error(`GET ${path} stayed throttled; is another test using the rate-limited server?`);
}

/** The lock on a document as the server shows it (`GET {path}/lock`): `{ status, value }` (404: nobody holds it). */
export async function lockState(base, path) {
  const res = await fetch(new URL(`${path}/lock`, base));
  const text = await res.text();
  return { status: res.status, value: text ? JSON.parse(text) : null };
}

/** Breaks whoever's lock on a document behind the holder's back (`DELETE {path}/lock?break=true`). */
export async function breakLock(base, path) {
  const res = await fetch(new URL(`${path}/lock?break=true`, base), { method: 'DELETE' });
  check(res.status === 204, `DELETE ${path}/lock?break=true answered ${res.status}: ${await res.text()}`);
}
