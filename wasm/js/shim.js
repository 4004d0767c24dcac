// The JavaScript the Rust side of the package imports (wasm-bindgen `module = "/js/shim.js"`):
// the IfmatchError class, the one `fetch` call of the transport, an aborted signal's reason, and a
// promise helper for `lock.release()`.
// wasm-bindgen copies this file into pkg/snippets/; it is an ES module, and wasm/scripts/build.sh
// writes a CommonJS copy next to it (shim.cjs) for the CommonJS glue, and re-exports IfmatchError
// from both glues.

/** The error every operation of the package rejects with (an aborted operation excepted). */
export class IfmatchError extends Error {
  /**
   * @param {string} message
   * @param {object} [options] `code` and the detail fields; `cause` becomes the standard `cause`.
   */
  constructor(message, options = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    // Engines without the `cause` option of Error (before ES2022) still get the field.
    if ('cause' in options && !('cause' in this)) this.cause = options.cause;
    this.code = options.code;
    this.status = options.status ?? null;
    this.problem = options.problem ?? null;
    this.retryAfterMs = options.retryAfterMs ?? null;
    this.currentEtag = options.currentEtag ?? null;
    this.conflictPaths = options.conflictPaths ?? [];
    this.hint = options.hint ?? null;
    this.url = options.url ?? null;
    if (options.current !== undefined) this.current = options.current;
    // A batch operation's error: which operation (index from 0) and what it was.
    if (options.operation !== undefined) this.operation = options.operation;
    if (options.op !== undefined) this.op = options.op;
    // A refused transaction commit: the documents that changed since the transaction read them.
    if (options.staleReads !== undefined) this.staleReads = options.staleReads;
    // A refusal the server recorded as a conflict: its id and URL (client.conflicts.get(id)).
    if (options.conflictId !== undefined) this.conflictId = options.conflictId;
    if (options.conflictUrl !== undefined) this.conflictUrl = options.conflictUrl;
    // version_not_found: the oldest version the server keeps.
    if (options.oldestVersion !== undefined) this.oldestVersion = options.oldestVersion;
  }
}

// On the prototype (not enumerable, like Error.prototype.name), so stacks read "IfmatchError: …".
Object.defineProperty(IfmatchError.prototype, 'name', {
  value: 'IfmatchError',
  writable: true,
  configurable: true,
});

/** What an aborted operation rejects with: the signal's reason, as `fetch` does. */
export function abortReason(signal) {
  if (signal.reason !== undefined) return signal.reason;
  // Runtimes that predate AbortSignal.reason.
  return new DOMException('This operation was aborted', 'AbortError');
}

/** Whether `url` is absolute (parses without a base), by the same WHATWG rules as the SDK. */
export function isAbsoluteUrl(url) {
  try {
    new URL(url); // eslint-disable-line no-new
    return true;
  } catch {
    return false;
  }
}

/**
 * Sends one request with `fetchImpl` (the `fetch` client option) or the global `fetch`, called
 * as `fetch(url, init)`, and reads the whole response. `headers` is a flat [name, value, …] list. Resolves to `{ status, headers, body }`
 * (`headers` as a flat [name, value, …] list, `body` a Uint8Array), or `{ opaqueRedirect: true }`
 * for a write the browser did not follow a redirect for; rejects with what `fetch` threw.
 */
export async function send(fetchImpl, method, url, headers, body, write, credentials, signal) {
  const init = { method, headers: new Headers(), signal };
  for (let i = 0; i < headers.length; i += 2) init.headers.append(headers[i], headers[i + 1]);
  if (body !== undefined) init.body = body;
  // A followed redirect could turn a write into a GET or drop its body. Node answers "manual"
  // with the 3xx itself; browsers with an opaque response.
  if (write) init.redirect = 'manual';
  if (credentials !== undefined) init.credentials = credentials;
  const fetcher = fetchImpl ?? globalThis.fetch;
  if (typeof fetcher !== 'function') {
    throw new TypeError('there is no global fetch here; pass one as the fetch option of new Client()');
  }
  const response = await fetcher(url, init).catch((error) => noteCors(error, url, init));
  if (response === null || typeof response !== 'object' || typeof response.status !== 'number'
      || typeof response.arrayBuffer !== 'function') {
    throw new TypeError(`fetch resolved to ${response === null ? 'null' : typeof response}, not a Response`);
  }
  if (response.type === 'opaqueredirect') return { opaqueRedirect: true };
  const flat = [];
  for (const [name, value] of response.headers) flat.push(name, value);
  return { status: response.status, headers: flat, body: new Uint8Array(await response.arrayBuffer()) };
}

/**
 * The result of a read or write (`versioned` in wasm/src/client.rs), made here in one call from
 * the wasm: `value` and `version` come as JSON texts, absent strings as "" (no ETag, version or
 * URL is empty), the response's headers as a flat [name, value, …] list.
 */
export function versioned(value, etag, version, location, attempts, fromCache, status, headers) {
  return {
    value: JSON.parse(value),
    etag: etag || null,
    version: version ? JSON.parse(version) : null,
    location: location || null,
    attempts,
    fromCache,
    status,
    headers: headersOf(headers),
  };
}

/** `object[name] = value` (plain objects the wasm builds: results, events, error details). */
export function setMember(object, name, value) {
  object[name] = value;
}

/** `object[name]` of a caller's options object; `undefined` if reading it throws (a getter). */
export function getMember(object, name) {
  try {
    return object[name];
  } catch {
    return undefined;
  }
}

/** Resolves (to `undefined`) once `promise` settles, however it settles: a second `lock.release()`. */
export function settled(promise) {
  return promise.then(() => undefined, () => undefined);
}

/**
 * Like `send`, for a response read as it arrives (a conflict stream): resolves once the head has
 * arrived to `{ status, headers, reader }` (`reader` the body's reader, or null), or
 * `{ opaqueRedirect: true }`. Always a GET without a body, so redirects are followed.
 */
export async function openStream(fetchImpl, url, headers, credentials, signal) {
  const init = { method: 'GET', headers: new Headers(), signal };
  for (let i = 0; i < headers.length; i += 2) init.headers.append(headers[i], headers[i + 1]);
  if (credentials !== undefined) init.credentials = credentials;
  const fetcher = fetchImpl ?? globalThis.fetch;
  if (typeof fetcher !== 'function') {
    throw new TypeError('there is no global fetch here; pass one as the fetch option of new Client()');
  }
  const response = await fetcher(url, init).catch((error) => noteCors(error, url, init));
  if (response === null || typeof response !== 'object' || typeof response.status !== 'number') {
    throw new TypeError(`fetch resolved to ${response === null ? 'null' : typeof response}, not a Response`);
  }
  const flat = [];
  for (const [name, value] of response.headers) flat.push(name, value);
  let reader = null;
  if (response.body && typeof response.body.getReader === 'function') reader = response.body.getReader();
  else if (typeof response.arrayBuffer === 'function') {
    // A `fetch` without streamed bodies (a test double): the whole body as one chunk.
    const whole = new Uint8Array(await response.arrayBuffer());
    let done = false;
    reader = { read: async () => (done ? { done: true } : ((done = true), { done: false, value: whole })) };
  }
  return { status: response.status, headers: flat, reader };
}

/** The next chunk of a body (a Uint8Array), or `undefined` at its end; rejects if it failed. */
export async function readChunk(reader) {
  const { done, value } = await reader.read();
  return done ? undefined : value;
}

/**
 * A conflict subscription as an async iterable (`for await (const event of …)`): `next` (a
 * function resolving to the next event, or `undefined` at the end) and `close` (a function that
 * ends it) come from the wasm. `next()` calls are queued, so events come in order whatever the
 * caller does; `return()` (what `break` calls) closes it.
 */
export function iterable(next, close) {
  let last = Promise.resolve();
  let done = false;
  const finish = () => {
    if (!done) {
      done = true;
      close();
    }
    return { value: undefined, done: true };
  };
  return {
    next() {
      const step = last.then(async () => {
        if (done) return { value: undefined, done: true };
        try {
          const value = await next();
          return value === undefined ? finish() : { value, done: false };
        } catch (error) {
          finish();
          throw error;
        }
      });
      last = step.catch(() => {});
      return step;
    },
    async return(value) {
      finish();
      return { value, done: true };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

// CORS. A browser refuses a cross-origin request the server does not allow with a bare
// `TypeError` (the reason is only in its console), which would read as "the server is down".
// `send` notes such a failure here with what the server must allow; the wasm asks `corsAdvice`
// for it when it words the `network` error.

/** Advice for the errors `fetch` threw that CORS may explain, by error. */
const corsSuspects = new WeakMap();

/** The request headers the package itself may send that are not CORS-safelisted. */
const SENT = ['If-Match', 'If-None-Match', 'Idempotency-Key', 'Content-Type'];

/** Safelisted request headers: a server need not allow them. */
const SAFELISTED = ['accept', 'accept-language', 'content-language'];

/**
 * The response headers the package reads that a cross-origin server must expose (the safelisted
 * ones, such as `Last-Modified`, excepted).
 */
const READ = ['ETag', 'Location', 'Content-Location', 'Retry-After', 'Retry-After-Ms', 'RateLimit',
  'Version', 'Deprecation', 'Sunset', 'Link'];

/** `x-request-id` as `X-Request-Id`. */
const titleCase = (name) => name.replace(/(^|-)([a-z])/g, (_, dash, c) => dash + c.toUpperCase());

/** This page's origin when `url` is on another one (only a page has an origin); else `undefined`. */
export function crossOrigin(url) {
  const page = globalThis.location?.origin;
  if (typeof page !== 'string') return undefined;
  try {
    return new URL(url).origin === page ? undefined : page;
  } catch {
    return undefined;
  }
}

/** Notes what `fetch` threw for `url` (with `init`) when CORS may explain it, then throws it on. */
function noteCors(error, url, init) {
  const page = crossOrigin(url);
  if (error instanceof TypeError && page !== undefined) {
    const allow = [...SENT];
    for (const [name] of init.headers) {
      const shown = titleCase(name);
      if (!SAFELISTED.includes(name) && !allow.includes(shown)) allow.push(shown);
    }
    const credentials = init.credentials === 'include' ? ' and Access-Control-Allow-Credentials: true' : '';
    corsSuspects.set(error, `this page (${page}) called another origin (${new URL(url).origin}), so CORS may be the cause `
      + '(the browser says why only in its console): the server must answer the preflight (OPTIONS) and every response '
      + `with Access-Control-Allow-Origin: ${page}${credentials}, allow the methods PUT, PATCH and DELETE `
      + `(Access-Control-Allow-Methods) and the request headers ${allow.join(', ')} (Access-Control-Allow-Headers), `
      + `and expose ${READ.join(', ')} (Access-Control-Expose-Headers); otherwise check that the server is reachable; `
      + 'error.cause is what fetch threw');
  }
  throw error;
}

/**
 * The advice `send` noted for `error` (what `fetch` threw), or `undefined`; `write`: the request
 * may have been applied (the refusal may be of the answer only).
 */
export function corsAdvice(error, write) {
  const advice = error !== null && typeof error === 'object' ? corsSuspects.get(error) : undefined;
  return advice && write ? `${advice}; the write may or may not have been applied, so read the resource before retrying it` : advice;
}

/** The start of a `missing_etag` hint when `url` is on another origin than this page's. */
export function exposeNote(url) {
  const page = crossOrigin(url);
  return page === undefined ? undefined : 'in a browser, an ETag from another origin is visible only if the server lists it in '
    + `Access-Control-Expose-Headers (this page is ${page}), so check that first; otherwise `;
}

/** `read.etag` when `value` is a read (what `get` or a write resolved to), else `value`: `ifMatch: read`. */
export function versionOf(value) {
  return value !== null && typeof value === 'object' && 'value' in value && 'etag' in value ? value.etag : value;
}

/** Why header `name` may not be set with the `headers` option (the client's or a call's), or `undefined`. */
export function refusedHeader(name) {
  switch (name.toLowerCase()) {
    case 'if-match':
      return `options.headers must not set ${name}: pass the version a write is conditional on as its ifMatch option `
        + '({ ifMatch: read.etag }), which put(), patch() and delete() take; reads and creates send no If-Match';
    case 'if-none-match':
      return `options.headers must not set ${name}: the client sends it itself, on reads from its ETag cache and on writes with { createOnly: true }`;
    default:
      return undefined;
  }
}

// ---- Per-call searchParams, client hooks and extend() (docs/javascript.md, "Hooks" and
// "Deriving a client"). Plain JavaScript: none of it needs the SDK, and each line in Rust would
// cost wasm bytes.

const describeValue = (value) => {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  return /^[aeiou]/.test(typeof value) ? `an ${typeof value}` : `a ${typeof value}`;
};

/**
 * The `searchParams` option as a flat [name, value, …] list: an object of string, number or
 * boolean values (`undefined` members are left out, as ky does), a `URLSearchParams`, or a query
 * string (a leading `?` is allowed). Returns a string (the error message) for anything else.
 */
export function searchPairs(value) {
  const flat = [];
  if (typeof value === 'string' || value instanceof URLSearchParams) {
    for (const [name, item] of new URLSearchParams(value)) flat.push(name, item);
    return flat;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return `options.searchParams must be an object of string, number or boolean values, a URLSearchParams or a query string, not ${describeValue(value)}`;
  }
  for (const [name, item] of Object.entries(value)) {
    if (item === undefined) continue;
    if (typeof item === 'number' && !Number.isFinite(item)) {
      return `options.searchParams.${name} must be a finite number, not ${item}`;
    }
    if (typeof item !== 'string' && typeof item !== 'number' && typeof item !== 'boolean') {
      const advice = Array.isArray(item)
        ? `; for a repeated parameter pass a URLSearchParams (new URLSearchParams([['${name}', 'a'], ['${name}', 'b']]))`
        : item !== null && typeof item === 'object' ? '; a query is flat: encode it yourself (e.g. JSON.stringify) or spread its members' : '';
      return `options.searchParams.${name} must be a string, a number or a boolean, not ${describeValue(item)}${advice}`;
    }
    flat.push(name, String(item));
  }
  return flat;
}

const HOOK_NAMES = ['beforeRequest', 'afterResponse', 'beforeRetry'];
/** The request headers a hook may not remove or change: they are what makes a write safe. */
/** The outcomes of an update's conflict after which it writes again. */
const RESENT = ['reapplied', 'merged', 'overwritten', 'replaced'];
/** The reason of a resend that no 429/503 or conflict preceded: the previous attempt got no answer. */
const LOST = { type: 'lost' };
const PRECONDITIONS = ['if-match', 'if-none-match', 'if-unmodified-since'];

function hookFailure(message, ...cause) {
  const options = { code: 'hook_failed', hint: cause.length ? 'fix the hook; error.cause is what it threw' : 'fix the hook' };
  if (cause.length) options.cause = cause[0];
  return new IfmatchError(`${message}; ${options.hint}`, options);
}

function thrownText(error) {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  try {
    return String(error);
  } catch {
    return typeof error;
  }
}

function isResponse(value) {
  return value !== null && typeof value === 'object' && typeof value.status === 'number'
    && typeof value.arrayBuffer === 'function' && value.headers !== undefined;
}

function isRequest(value) {
  return value !== null && typeof value === 'object' && typeof value.url === 'string'
    && typeof value.method === 'string' && typeof value.headers?.get === 'function';
}

/** What a retried request failed with, as the error it would have rejected with. */
function retryError(reason, method, url) {
  if (reason.type === 'lost') {
    return new IfmatchError(`${method} ${url} got no answer: the connection failed or the attempt timed out`, {
      code: 'network',
      status: null,
      url,
      retryAfterMs: null,
    });
  }
  const status = reason?.status ?? null;
  const code = { 429: 'rate_limited', 503: 'unavailable', 412: 'precondition_failed', 409: 'conflict' }[status] ?? 'http_status';
  const what = reason?.type === 'conflict' ? `the write to ${url} was refused (${status}): the resource changed since it was read`
    : `${method} ${url} was answered ${status}`;
  return new IfmatchError(what, {
    code,
    status,
    url,
    retryAfterMs: reason?.hintMs ?? null,
  });
}

/**
 * The `hooks` client option around `fetchImpl` (the `fetch` option or undefined) and `onEvent`
 * (the `onEvent` option or undefined). Returns [fetch, onEvent] to give the transport and the
 * SDK instead, or a string (the error message) for a malformed `hooks`.
 */
export function hooked(fetchImpl, onEvent, hooks) {
  if (hooks === null || typeof hooks !== 'object' || Array.isArray(hooks)) {
    return `options.hooks must be an object ({ beforeRequest: [fn], afterResponse: [fn], beforeRetry: [fn] }), not ${describeValue(hooks)}`;
  }
  const lists = {};
  for (const name of Object.keys(hooks)) {
    if (!HOOK_NAMES.includes(name)) return `unknown hook \`${name}\` in options.hooks; the hooks are: ${HOOK_NAMES.join(', ')}`;
  }
  for (const name of HOOK_NAMES) {
    const list = hooks[name] ?? [];
    if (!Array.isArray(list)) {
      return `options.hooks.${name} must be an array of functions (as in ky), not ${describeValue(list)}; wrap it: [${name}]`;
    }
    const bad = list.findIndex((fn) => typeof fn !== 'function');
    if (bad !== -1) return `options.hooks.${name}[${bad}] must be a function, not ${describeValue(list[bad])}`;
    lists[name] = [...list];
  }
  // Why a request about to be sent is a retry: the SDK's `attempt` event comes just before the
  // resend, after the `throttled` (429/503) or `conflict` (update) event that caused it.
  const reasons = new Map();
  const retries = new Map();
  const keyOf = (method, url) => {
    try {
      return `${method} ${new URL(url).href}`;
    } catch {
      return `${method} ${url}`;
    }
  };
  const listener = (event) => {
    // An operation that ended meanwhile (aborted mid-wait) leaves its entry: keep the maps small.
    if (reasons.size > 256) reasons.clear();
    if (retries.size > 256) retries.clear();
    if (event.type === 'throttled') reasons.set(keyOf(event.method, event.url), event);
    else if (event.type === 'conflict' && RESENT.includes(event.outcome)) reasons.set(keyOf('PUT', event.url), event);
    else if (event.type === 'attempt') {
      const key = keyOf(event.method, event.url);
      retries.set(key, { attempt: event.attempt, reason: reasons.get(key) ?? LOST });
      reasons.delete(key);
    }
    if (onEvent !== undefined) onEvent(event);
  };
  const fetcher = async (url, init) => {
    const realFetch = fetchImpl ?? globalThis.fetch;
    if (typeof realFetch !== 'function') {
      throw new TypeError('there is no global fetch here; pass one as the fetch option of new Client()');
    }
    const key = keyOf(init.method, url);
    const retry = retries.get(key);
    retries.delete(key);
    let request = new Request(url, { method: init.method, headers: init.headers, body: init.body });
    if (retry !== undefined) {
      const reason = retry.reason;
      const details = {
        request,
        error: retryError(reason, init.method, url),
        attempt: retry.attempt,
        retryAfterMs: reason?.hintMs ?? null,
        delayMs: reason?.delayMs ?? null,
        reason: { conflict: 'conflict', lost: 'network' }[reason.type] ?? 'throttled',
      };
      for (const hook of lists.beforeRetry) {
        try {
          await hook(details);
        } catch (error) {
          throw hookFailure(`a beforeRetry hook threw before attempt ${retry.attempt} of ${init.method} ${url} (${thrownText(error)}), so it was not retried`, error);
        }
      }
    }
    const original = request;
    for (const hook of lists.beforeRequest) {
      let returned;
      try {
        returned = await hook(request);
      } catch (error) {
        throw hookFailure(`a beforeRequest hook threw for ${init.method} ${url} (${thrownText(error)}), so it was not sent`, error);
      }
      if (returned === undefined) continue;
      if (!isRequest(returned)) {
        throw hookFailure(`a beforeRequest hook for ${init.method} ${url} returned ${describeValue(returned)}, not a Request (it may return a Request or nothing), so it was not sent`);
      }
      request = returned;
    }
    if (request.method.toUpperCase() !== init.method) {
      throw hookFailure(`a beforeRequest hook changed ${init.method} ${url} into a ${request.method}, which this call cannot interpret; it was not sent`);
    }
    for (const name of PRECONDITIONS) {
      const before = init.headers.get(name);
      const after = request.headers.get(name);
      if (before !== null && before !== after) {
        throw hookFailure(`a beforeRequest hook ${after === null ? 'removed' : 'changed'} the ${name} header of ${init.method} ${url}, the precondition that keeps the write from overwriting a change it never saw, so it was not sent`);
      }
    }
    const sent = { ...init, method: init.method, headers: request.headers };
    if (request !== original && init.body !== undefined) sent.body = new Uint8Array(await request.arrayBuffer());
    let response = await realFetch(request.url, sent);
    for (const hook of lists.afterResponse) {
      let returned;
      try {
        returned = await hook(request, response);
      } catch (error) {
        throw hookFailure(`an afterResponse hook threw for ${init.method} ${url} (${thrownText(error)}), after the request was sent`, error);
      }
      if (returned === undefined) continue;
      if (!isResponse(returned)) {
        throw hookFailure(`an afterResponse hook for ${init.method} ${url} returned ${describeValue(returned)}, not a Response (it may return a Response or nothing)`);
      }
      response = returned;
    }
    return response;
  };
  return [fetcher, listener];
}

/** Whether `value` is a plain object (not an array, a Headers, a function…). */
function isPlain(value) {
  return value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype;
}

/**
 * `client.extend(extra)`: the options of the new client, `base` (the options it was made with)
 * with `extra` on top: `headers` merged (names compared without case; an `undefined` value
 * removes one), `hooks` concatenated per hook, any other option replaced (`undefined` removes it).
 * Returns a string (the error message) when `extra` is not an object.
 */
export function extendOptions(base, extra) {
  if (extra === undefined) extra = {};
  if (!isPlain(extra)) return `the options of extend() must be an object, not ${describeValue(extra)}`;
  const merged = { ...base };
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) {
      delete merged[name];
    } else if (name === 'headers' && isPlain(merged.headers) && isPlain(value)) {
      const headers = { ...merged.headers };
      for (const [header, item] of Object.entries(value)) {
        for (const old of Object.keys(headers)) if (old.toLowerCase() === header.toLowerCase()) delete headers[old];
        if (item !== undefined) headers[header] = item;
      }
      merged.headers = headers;
    } else if (name === 'hooks' && isPlain(merged.hooks) && isPlain(value)) {
      const hooks = { ...merged.hooks };
      for (const [hook, list] of Object.entries(value)) {
        hooks[hook] = Array.isArray(hooks[hook]) && Array.isArray(list) ? [...hooks[hook], ...list] : list;
      }
      merged.hooks = hooks;
    } else {
      merged[name] = value;
    }
  }
  return merged;
}

/** Response headers for a result: a `Headers` from a flat [name, value, …] list. */
export function headersOf(flat) {
  const headers = new Headers();
  for (let i = 0; i < flat.length; i += 2) headers.append(flat[i], flat[i + 1]);
  return headers;
}

/** The request options a GET may not have: it sends no body, and the cache makes it conditional. */
const WRITE_ONLY = ['json', 'ifMatch', 'createOnly', 'unconditional', 'lock'];

/**
 * The method of `client.request(method, url, options)`: the standard ones in upper case, any
 * other valid method name as given. Throws an `invalid_argument` IfmatchError for HEAD (that is
 * `head()`), OPTIONS, TRACE, CONNECT, a name that is not a method, or a GET with write options.
 */
export function requestMethod(method, options) {
  const refuse = (message) => new IfmatchError(message, { code: 'invalid_argument' });
  if (typeof method !== 'string') throw refuse(`the method must be a string such as 'POST', not ${describeValue(method)}`);
  const upper = method.toUpperCase();
  const name = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE', 'CONNECT'].includes(upper) ? upper : method;
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw refuse(`${JSON.stringify(method)} is not an HTTP method name`);
  if (name === 'HEAD') throw refuse('request() does not send HEAD, which has no body to return: use client.head(url)');
  if (['OPTIONS', 'TRACE', 'CONNECT'].includes(name)) throw refuse(`request() does not send ${name}: it reads (GET) or writes JSON resources`);
  const given = name === 'GET' && options !== null && typeof options === 'object'
    ? WRITE_ONLY.find((option) => options[option] !== undefined) : undefined;
  if (given !== undefined) {
    throw refuse(`request('GET', …) sends no body and no precondition (the cache makes a GET conditional by itself); leave out options.${given}, or use another method`);
  }
  return name;
}
