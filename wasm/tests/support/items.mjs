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
