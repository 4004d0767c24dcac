// Type declarations for the `ifmatch` npm package (Node and browsers). Written by hand so that the
// whole public surface is typed precisely; wasm/tests/node/surface.test.mjs checks that every name
// declared here exists at run time and vice versa.

/** Any JSON value, as sent to and received from the server: the type of untyped documents. */
export type Json = null | boolean | number | string | Json[] | { [member: string]: Json };

/**
 * What a write accepts as a document: anything `JSON.stringify` turns into JSON, sent as it
 * would send it. That includes your own interfaces and classes (`interface Todo { title: string;
 * due?: Date }`), readonly arrays, and a `Date` (sent as its ISO string; it reads back as that
 * string) or any object with `toJSON`. Not a function, `undefined`, a symbol or a bigint. Writes
 * are generic over it: `client.put<Todo>(url, todo, …)` checks `todo` against `Todo`, and the
 * type of the document is inferred when not given.
 */
export type JsonInput = null | boolean | number | string | NotCallable;

/**
 * Any object but a function or a class (which have `call`, `apply` and `bind`). The second member,
 * with an index signature, lets object literals carry members the first does not name.
 */
type NotCallable =
  | (object & { call?: never; apply?: never; bind?: never })
  | { readonly [member: string]: unknown; call?: never; apply?: never; bind?: never };

/** What every read and write resolves to: the document with its version. */
export interface Versioned<T = Json> {
  /**
   * Reads and `update`: the representation. Writes: the document as stored when the answer is
   * known to be it (a PUT's document, or a body the server names with `Content-Location`; see
   * `trustWriteBodies`), otherwise the server's answer as sent (then `etag` is `null`).
   */
  value: T;
  /**
   * The `ETag` of `value` as sent, e.g. `"\"3\""` or `"W/\"3\""`: pass it as `ifMatch` to write
   * `value` back. `null` when the server sent none, or when a write's answer is not known to be
   * the stored resource (read it before writing again).
   */
  etag: string | null;
  /**
   * The version it is at, when the server named it: the reference server's `Version` header, the
   * body's version with `versionField` (a number or a string, as the body has it), the `n` of
   * `client.version(url, n)`; otherwise `null`.
   */
  version: number | string | null;
  /** `create` only: the `Location` of the new resource as an absolute URL; otherwise `null`. */
  location: string | null;
  /** `update`: writes sent (1 when there was no conflict); other methods: HTTP requests sent. */
  attempts: number;
  /** Whether the value came from the cache after a `304 Not Modified`. */
  fromCache: boolean;
  /**
   * The status of the response the result came from: `304` for a read served from the cache;
   * `update`: its successful write's. (`version`/`restore` results, whose answers are read
   * inside the SDK: `200`.)
   */
  status: number;
  /**
   * The headers of that response, as a `Headers` (names without case: `headers.get('x-total')`).
   * For a read served from the cache they are the `304`'s own (the cache keeps no headers to
   * merge them with); for `update` those of its successful write. Empty for `version`/`restore`.
   */
  headers: Headers;
}

/**
 * Query parameters appended to the URL: an object of string, number or boolean values
 * (`undefined` members are left out), a `URLSearchParams` (for repeated names), or a query
 * string such as `'a=1&b=2'` (a leading `?` is allowed).
 */
export type SearchParams = Record<string, string | number | boolean | undefined> | URLSearchParams | string;

/** The `searchParams` option of the calls on resources. */
export interface SearchParamsOption {
  /**
   * Appended to the URL's query (after any the URL has). The cache keys on the whole URL, so
   * each query has its own cached version. Anything else (`null`, a nested object, an array,
   * `NaN`) is an `invalid_argument`.
   */
  searchParams?: SearchParams;
}

/** The options of `get`, `create` and `head`. */
export interface ReadOptions extends RequestOptions, SearchParamsOption {}

/** Options every operation accepts. */
export interface RequestOptions {
  /**
   * Aborts the operation, including a backoff wait and the request in flight; it then rejects
   * with `signal.reason` (an `AbortError` `DOMException` unless `abort(reason)` was given
   * another), as `fetch` does. An aborted write may or may not have reached the server.
   */
  signal?: AbortSignal;
  /**
   * Headers for this call only, sent after the client's `headers` (replacing one of the same
   * name), e.g. `{ 'x-request-id': id }`.
   */
  headers?: Record<string, string>;
  /**
   * Milliseconds each HTTP request of this call may take to be answered completely, instead of
   * the client's `timeout`; `null` for no limit. Running out rejects with code `timeout`.
   */
  timeout?: number | null;
  /**
   * `Api-Version` of this call only, instead of the client's `apiVersion` (reads, writes,
   * `update`, versions; not locks, batches or transaction control).
   */
  apiVersion?: string;
}

/** The `lock` option of writes and `update`. */
export interface UnderLockOptions {
  /**
   * The {@link Lock} this write is made under: it carries that lock's token. Needed only when
   * tasks sharing the client each hold a `Lock` on the resource (then a write without it is
   * refused with `invalid_config`); otherwise the client's one `Lock` on the resource is used by
   * itself. A released or freed `Lock` rejects with `lock_lost` before anything is sent.
   */
  lock?: Lock;
}

/**
 * What `ifMatch` takes: the `etag` of a read (`null` when it had none), or the read itself, what
 * `get`, a write or a batch operation resolved to (a {@link Versioned} or an {@link OpResult}),
 * whose `etag` is used.
 */
export type IfMatch = string | null | { readonly value: unknown; readonly etag: string | null };

/**
 * The version a `put`, `patch` or `delete` is conditional on; give exactly one of `ifMatch`,
 * `createOnly` and `unconditional`. The client never takes it from its cache: another caller
 * sharing the client may have written since your read, and that write must not be overwritten.
 * Under a {@link Lock}, `{ unconditional: true }` is safe for a document read after the lock was
 * taken.
 */
export type WriteOptions = RequestOptions &
  UnderLockOptions &
  SearchParamsOption &
  (
    | {
        /**
         * `If-Match`: write only if the resource is still at the version you read, e.g.
         * `read.etag`, or `read` itself; otherwise reject with `precondition_failed` (or `conflict`).
         * A string that is not an entity tag is an `invalid_argument`; `null` (a read without an
         * ETag) and a weak tag reject with `missing_etag` before anything is sent.
         */
        ifMatch: IfMatch;
        createOnly?: never;
        unconditional?: never;
      }
    | {
        /** `If-None-Match: *`: create the resource; reject with `precondition_failed` if it exists. */
        createOnly: true;
        ifMatch?: never;
        unconditional?: never;
      }
    | {
        /** No precondition: replace whatever is stored (last write wins; loses concurrent changes). */
        unconditional: true;
        ifMatch?: never;
        createOnly?: never;
      }
  );

/**
 * How `update` recovers when the resource changed since it was read (412, or a version 409):
 * - `reapply`: re-run the change function on the fresh state and write again (the default);
 * - `merge`: three-way JSON merge of base (last read), mine and theirs (fresh); overlapping
 *   edits go to `resolve`, or fail with code `merge_conflict`;
 * - `lastWriteWins`: overwrite with mine using the fresh ETag (loses the other writer's change);
 * - `abort`: stop and reject with code `aborted`, carrying the current state.
 */
export type Strategy = 'reapply' | 'merge' | 'lastWriteWins' | 'abort';

/** One overlapping edit found by the `merge` strategy. A side is `undefined` where the member is absent. */
export interface MergeConflict {
  /** JSON Pointer (RFC 6901) of the member, e.g. `/title`. */
  path: string;
  /** The member as last read by this client. */
  base: Json | undefined;
  /** The member as this client's change left it. */
  mine: Json | undefined;
  /** The member as the server holds it now. */
  theirs: Json | undefined;
}

/**
 * Decides one overlapping edit, synchronously: return the value to keep at that path, or
 * `undefined` to leave it unresolved (the update then rejects with code `merge_conflict`
 * listing the path; if the resolver threw, the error is its `cause`).
 */
export type Resolver = (conflict: MergeConflict) => JsonInput | undefined;

/** What a strategy function is asked to decide about after a refused write (`T`: the document's type). */
export interface StrategyConflict<T = Json> {
  /** The state the refused write was computed from. */
  base: T;
  /** The refused document. */
  mine: T;
  /** The server's current document. */
  theirs: T;
  /** The server's current ETag. */
  theirsEtag: string | null;
  /** 412 or 409. */
  status: number;
  /** Writes sent so far in this update. */
  attempt: number;
}

/** A strategy function's answer: run the change again on `theirs`, stop, or write this document. */
export type StrategyDecision<T = Json> = 'reapply' | 'abort' | { write: T };

/**
 * A custom conflict strategy, called synchronously (unlike the change, it may not be async).
 * Throwing, or answering anything else than a {@link StrategyDecision}, stops the update with
 * code `aborted` and the problem as `cause`.
 */
export type StrategyFunction<T = Json> = (conflict: StrategyConflict<T>) => StrategyDecision<T>;

/** Options of `update` (`T`: the document's type). */
export interface UpdateOptions<T = Json> extends RequestOptions, UnderLockOptions, SearchParamsOption {
  /** Conflict recovery: a built-in strategy or a function; default `reapply`. */
  strategy?: Strategy | StrategyFunction<T>;
  /** Decides overlapping edits for `strategy: 'merge'`; with another strategy it is an `invalid_argument`. */
  resolve?: Resolver;
}

/**
 * The change an `update` applies. It receives a fresh copy of the current document and either
 * returns the new document or changes the argument in place and returns nothing. It may be an
 * async function (a returned Promise is awaited; a rejection is handled like a throw: code
 * `change_failed`, the reason as `cause`), and may run more than once (once per attempt).
 * Updates of one URL through one client take turns, so it must not await another `update` of
 * the same URL through the same client (that one waits for this one to finish).
 */
export type Change<T = Json> = (doc: T) => T | void | Promise<T | void>;

/**
 * Options of `lock`. Durations are milliseconds, named like `timeout` (`ttl`, not `ttlMs`).
 * `timeout` bounds the acquisition's request on top of `wait`.
 */
export interface LockOptions extends RequestOptions {
  /**
   * The lease to ask for, in milliseconds (at least 1; default 30000). The server may grant less
   * (the reference server caps it at `--max-lock-ttl`, 300000 by default): `lock.ttlMs` is what
   * it granted. The lock renews itself in the background a third of the lease before it ends.
   */
  ttl?: number;
  /**
   * How long to wait in the server's first-come-first-served queue while another client holds
   * the lock, in milliseconds (default 0: reject at once with code `locked`).
   */
  wait?: number;
  /** A name for the holder, shown to clients the lock refuses (`error.problem.owner`). */
  owner?: string;
}

/** What one operation of a batch does. */
export type BatchOpName = 'create' | 'put' | 'patch' | 'delete' | 'check';

/**
 * The document a batch operation acts on: `path` (resolved against `baseUrl`, e.g. `'/items/a'`)
 * or `ref`, the `lid` of a `create` earlier in the same batch; exactly one of the two.
 */
export type BatchTarget = { path: string; ref?: never } | { ref: string; path?: never };

/** The version a batch write is conditional on: exactly one, as for `put`, `patch` and `delete`. */
export type BatchPrecondition =
  | { ifMatch: IfMatch; createOnly?: never; unconditional?: never }
  | { createOnly: true; ifMatch?: never; unconditional?: never }
  | { unconditional: true; ifMatch?: never; createOnly?: never };

/**
 * One operation of `client.batch()`. Members are checked: an unknown one (a misspelt `ifmatch`)
 * rejects with `invalid_argument` naming the operation's index, before anything is sent.
 */
export type BatchOperation =
  | {
      /** A new document under a server-chosen id, as `create` (`POST /items`) would make it. */
      op: 'create';
      /**
       * A name for it within the batch (1 to 64 of `A-Z a-z 0-9 _ . -`, unique in the batch):
       * later operations act on it with `ref`, and `result.created[lid]` is its result.
       */
      lid?: string;
      body: JsonInput;
    }
  | (BatchTarget & BatchPrecondition & { op: 'put'; /** The document to store. */ body: JsonInput })
  | (BatchTarget & BatchPrecondition & { op: 'patch'; /** A JSON Merge Patch (RFC 7396). */ body: JsonInput })
  | (BatchTarget &
      (
        | { ifMatch: IfMatch; unconditional?: never }
        | { unconditional: true; ifMatch?: never }
      ) & { op: 'delete' })
  | (BatchTarget & {
      /** Writes nothing; fails the batch unless the document exists (and is still at `ifMatch`, when given). */
      op: 'check';
      ifMatch?: IfMatch;
    });

/** Options of `batch`. */
export interface BatchOptions extends RequestOptions {
  /**
   * The {@link Lock} (or one per locked document) the batch's writes are made under, as the
   * `lock` option of a write. Needed only when tasks sharing the client each hold a `Lock` on one
   * document; otherwise a write to a document this client holds a lock on carries its token by itself.
   */
  lock?: Lock | Lock[];
}

/** What the server answered for one operation of a batch (or one document a transaction wrote). */
export interface OpResult<T = Json> {
  /** The operation; `null` in a transaction commit's results, where the server does not say. */
  op: BatchOpName | null;
  /** What the single request would have answered: 201 (created), 200, or 204 (deleted). */
  status: number;
  /** The document's path as the server names it, e.g. `/items/k3j0c2…`. */
  path: string;
  /** The document's absolute URL, ready for `client.get(result.url)`. */
  url: string;
  /** The document's new version (for `check`: its current one); `null` after a delete. Pass it as `ifMatch`. */
  etag: string | null;
  /** The stored document (`create`, `put`, `patch` of a batch); `null` otherwise. */
  value: T | null;
}

/** What `client.batch()` resolves to once the server applied every operation (`T`: the stored documents' type). */
export interface BatchResult<T = Json> {
  /** One result per operation, in order. */
  results: OpResult<T>[];
  /** The results of the creates that had a `lid`, by that lid (the same objects as in `results`). */
  created: Record<string, OpResult<T>>;
  /** How many times the batch was sent (resends after 429/503 included). */
  attempts: number;
}

/** Options of `begin`. */
export interface BeginOptions extends RequestOptions {
  /**
   * How long the transaction may stay open before the server rolls it back, in milliseconds (at
   * least 1); default: the server's (the reference server: 30000, at most 60000). `transaction.ttlMs`
   * is what the server granted.
   */
  ttl?: number;
}

/** Options of `transaction`; `signal`, `headers` and `timeout` apply to its begin, commit and rollback requests. */
export interface TransactionOptions extends BeginOptions {
  /**
   * How many times the function may run (refused commits plus one), at least 1; default the
   * client's `retry.maxConflictAttempts`.
   */
  maxAttempts?: number;
}

/** What a commit resolves to. */
export interface CommitResult {
  /** The transaction's id. */
  id: string;
  /** One result per document the transaction wrote, in first-write order; `op` and `value` are `null`. */
  results: OpResult[];
  /** How many times the commit was sent (resends after 429/503 or a lost answer included). */
  attempts: number;
}

/** A document whose change refused a transaction's commit (`transaction_conflict`). */
export interface StaleRead {
  /** The document's path as the server named it. */
  path: string;
  /** Its absolute URL. */
  url: string;
  /** The version the transaction saw; `null` when it saw the document absent. */
  readEtag: string | null;
  /** The version now; `null` when the document no longer exists. */
  currentEtag: string | null;
}

/** Retry and backoff settings; every field is optional and defaults to the chosen preset. */
export interface RetryOptions {
  /**
   * Starting point: `default` (the SDK's documented defaults), `contended` (a hot resource with
   * many writers), `backgroundSync` (may wait long) or `disabled` (one attempt, no recovery).
   */
  preset?: 'default' | 'contended' | 'backgroundSync' | 'disabled';
  /** Attempts for a throttled (429/503) request in total, the first included (at least 1). */
  maxAttempts?: number;
  /** First backoff delay when the server gives no hint. */
  initialDelayMs?: number;
  /** Upper bound of a single computed backoff delay. */
  maxDelayMs?: number;
  /** Growth of the backoff delay per retry (at least 1). */
  factor?: number;
  /** Full jitter on computed backoff delays (never on a server's hint). */
  jitter?: boolean;
  /** Seed for the jitter, for reproducible delays. */
  seed?: number;
  /** Floor of every throttle wait, a server hint included (`Retry-After: 0` must not loop); default 100. */
  minDelayMs?: number;
  /**
   * Time one call may take in total (requests, waits, conflict retries; default 60000): a wait
   * that would pass it is not started, and a call still running then rejects with code `timeout`.
   * `null` for no limit.
   */
  totalDeadlineMs?: number | null;
  /** Longest server-requested wait (`Retry-After`, `retry-after-ms`, `RateLimit` t) honoured. */
  maxRetryAfterMs?: number;
  /** A longer hint is clamped to `maxRetryAfterMs` (`clamp`) or fails at once (`fail`). */
  longWait?: 'clamp' | 'fail';
  /** Writes one `update` sends before a version conflict is returned (at least 1). */
  maxConflictAttempts?: number;
  /**
   * Pause between conflict retries: first delay, growth factor (at least 1) and cap; each unset
   * field comes from the preset. A first delay above the cap is an `invalid_config`.
   */
  conflictBackoff?: { initialMs?: number; factor?: number; maxMs?: number };
  /**
   * The per-host retry budget (token bucket): capacity, cost of a throttle retry, refund per
   * success; each unset field comes from the preset.
   */
  budget?: { capacity?: number; retryCost?: number; successRefund?: number };
}

/**
 * What `update` does when its read finds no strong ETag or no resource: `fetchFirst` rejects
 * (`missing_etag`, or the 404), `createOnly` creates a missing resource with `If-None-Match: *`,
 * `unconditional` writes without a precondition (lossy, explicit opt-in).
 */
export type MissingEtagPolicy = 'fetchFirst' | 'createOnly' | 'unconditional';

/** Options of `new Client(...)`. */
export interface ClientOptions {
  /** Base URL that relative paths resolve against, e.g. `http://127.0.0.1:8080`. Required in Node. */
  baseUrl?: string;
  /** Entries in the ETag cache (LRU); default 1024, 0 disables the cache. */
  cacheSize?: number;
  /** Cache partition (e.g. a user id), so one user's data never becomes another's merge base. */
  partition?: string;
  /** Headers sent with every request, e.g. `{ authorization: 'Bearer …' }`. */
  headers?: Record<string, string>;
  /**
   * `RequestInit.credentials` of every request: whether a browser sends cookies and HTTP
   * authentication (`include` for a cross-origin API that uses cookies). Unset: fetch's default,
   * `same-origin`.
   */
  credentials?: 'omit' | 'same-origin' | 'include';
  /**
   * The `fetch` to send requests with, instead of the global one (tests, instrumentation, a
   * runtime with its own). Called as `fetch(url, init)` with `init.method`, `init.headers` (a
   * `Headers`), `init.body` (a `Uint8Array`, for writes), `init.signal`, `init.redirect`
   * (`'manual'` for writes) and `init.credentials` (when set); it must resolve to a `Response`.
   * What it throws or rejects with is the `cause` of a `network` error.
   */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
  /** What `update` does without a strong ETag or a resource; default `fetchFirst`. */
  missingEtag?: MissingEtagPolicy;
  /**
   * Milliseconds one HTTP request may take to be answered completely, at least 1; default
   * 30000; `null` for no limit. A request that runs out rejects with code `timeout` and is not
   * resent. A call's own `timeout` overrides it. (Formerly `attemptTimeoutMs`.)
   */
  timeout?: number | null;
  /**
   * The server replays a request repeated with the same `Idempotency-Key` instead of applying it
   * twice; only then is a `create` or an unconditional `patch` answered 503 resent (a proxy may
   * answer 503 after the server applied it). Default `false`.
   */
  serverHonoursIdempotencyKeys?: boolean;
  /**
   * The server answers every successful PUT, PATCH and POST with the stored resource, even
   * without `Content-Location`, so the answer and its ETag may be used as the new version.
   * Default `false`.
   */
  trustWriteBodies?: boolean;
  /**
   * Pace requests to a host after it answered 429 or reported a low `RateLimit` remaining: a
   * client-side token bucket whose rate adapts (as the AWS SDKs' adaptive retry mode), so
   * clients sharing one quota do not all drain it and wait out `Retry-After`. A client never
   * throttled never waits. Default `true`.
   */
  adaptivePacing?: boolean;
  /** Retry and backoff for conflicts, 429 and 503. */
  retry?: RetryOptions;
  /** Called synchronously for every retry- and lock-related event. Errors thrown here are ignored. */
  onEvent?: (event: ClientEvent) => void;
  /**
   * `Authorization: Bearer <token>` on every request (marked sensitive: never in messages). A
   * token that is not visible ASCII without spaces is an `invalid_argument`.
   */
  bearerToken?: string;
  /** `Api-Version` on every request, e.g. `'2'`; a call's `apiVersion` overrides it. */
  apiVersion?: string;
  /**
   * For servers that keep the version in the JSON body (our v2, Kubernetes, CouchDB, GitHub,
   * GCS). A stale write answered 409 with Kubernetes' `Status` (reason `Conflict`), CouchDB's
   * `{"error":"conflict"}`, GitHub's "does not match" or S3's `ConditionalRequestConflict` is a
   * version conflict (`update()` recovers); any other 409 is not retried.
   */
  versionField?: VersionFieldOptions;
  /**
   * What `update()` does when the server offers only a weak ETag (which `If-Match` never
   * matches) and no version in the body. Default: read again 3 times, after 250, 500 and 1000 ms
   * (1750 ms in all), for a strong one, then reject with code `weak_validator`; never write unconditionally.
   */
  weakValidators?: WeakValidatorsOptions;
  /** Functions run around every request, as in ky; see {@link Hooks}. */
  hooks?: Hooks;
}

/**
 * `client.extend(options)`: any client option; a `headers` member set to `undefined` removes
 * that header, an option set to `undefined` goes back to its default.
 */
export type ExtendOptions = {
  [K in keyof ClientOptions]?: K extends 'headers' ? Record<string, string | undefined> : ClientOptions[K] | undefined;
};

/** What `beforeRetry` hooks are given. */
export interface BeforeRetryState {
  /** The request about to be sent again (a `Request`; its body is the one that will be sent). */
  request: Request;
  /**
   * Why: the error the call would reject with if it were not retried (`rate_limited`,
   * `unavailable`, or for `update` `precondition_failed` / `conflict`, with `status`; `network`,
   * without, when the previous attempt got no answer).
   */
  error: IfmatchError;
  /** The number of the attempt about to be made (2 for the first retry). */
  attempt: number;
  /**
   * `throttled`: a `429`/`503` waited out; `conflict`: `update` writes again after a version
   * conflict; `network`: the previous attempt got no answer (a read, or a keyed write to a server
   * that honours keys, is resent).
   */
  reason: 'throttled' | 'conflict' | 'network';
  /** The wait the server asked for (`Retry-After` and similar), or `null`. */
  retryAfterMs: number | null;
  /** The wait the client chose before this attempt (`throttled`), or `null`. */
  delayMs: number | null;
}

/**
 * The `hooks` client option: arrays of functions, run in order and awaited. A hook that throws, or
 * returns anything but what it may, ends the call with code `hook_failed` (`cause`: what it
 * threw) and nothing more is sent for it.
 */
export interface Hooks {
  /**
   * Before each request is sent (retries included), with the final method, URL, headers and body
   * as a `Request`: change its headers, or return another `Request` (same method). Removing or
   * changing a write's `If-Match` / `If-None-Match` / `If-Unmodified-Since` is refused.
   */
  beforeRequest?: Array<(request: Request) => Request | void | Promise<Request | void>>;
  /** After each response (a `429` waited out included): return a `Response` to use instead. */
  afterResponse?: Array<(request: Request, response: Response) => Response | void | Promise<Response | void>>;
  /** Before each retry of a request (after the wait), awaited; throwing stops the retries. */
  beforeRetry?: Array<(state: BeforeRetryState) => void | Promise<void>>;
}

/** The options of `request()`: for `GET`, the call options only. */
export type RawRequestOptions = RequestOptions &
  SearchParamsOption &
  UnderLockOptions & {
    /** The JSON body of a write. */
    json?: Json;
    /** `If-Match`, as for `put`. */
    ifMatch?: string | null;
    /** `If-None-Match: *`, as for `put`. */
    createOnly?: true;
    /** No precondition (explicitly lossy), as for `put`. */
    unconditional?: true;
  };

/** What `head()` resolves to. */
export interface HeadResult {
  /** The status (2xx; other statuses reject as for `get`). */
  status: number;
  /** The `ETag` the answer carried, or `null`. */
  etag: string | null;
  /** The `Version` the answer named, or `null`. */
  version: number | string | null;
  /** The answer's headers. */
  headers: Headers;
  /** HTTP requests sent (a `429` waited out counts). */
  attempts: number;
}

/** `versionField`: where the version is in bodies, and how a write sends it back. */
export interface VersionFieldOptions {
  /** JSON Pointer (RFC 6901) of the version in bodies, e.g. `'/version'`, `'/metadata/resourceVersion'`. */
  pointer: string;
  /** Also send `If-Match` with the read's strong ETag (both must hold); default `false`, body only. */
  ifMatch?: boolean;
  /** Send only this member of what was read, plus the version, e.g. `'/data'` for our v2. */
  documentAt?: string;
  /** Writes put the version at this pointer instead of `pointer`. */
  sentAt?: string;
  /**
   * Writes send the version as this query parameter instead of in the body: `'rev'` for
   * CouchDB's `?rev=`, `'ifGenerationMatch'` for GCS.
   */
  query?: string;
}

/** `weakValidators`: the weak-ETag policy of `update()`. */
export interface WeakValidatorsOptions {
  /** Reads again, at most this many times, for a strong ETag (Apache mod_dav's turns strong a second after a write); default 3. */
  rereads?: number;
  /** Milliseconds the re-reads are spread over, with doubling pauses; default 1750 (250, 500, 1000). */
  withinMs?: number;
  /**
   * When the tag is still weak and the read had `Last-Modified`, write with
   * `If-Unmodified-Since`. One-second resolution: a change made by someone else within the same
   * second is not seen. Default `false`.
   */
  unmodifiedSince?: boolean;
  /**
   * Send the weak tag in `If-Match` as it is: only for servers that compare weakly on purpose
   * (FHIR). Default `false`.
   */
  sendAsIs?: boolean;
}

/** Which header a server's wait hint came from. */
export type HintSource = 'retryAfterMs' | 'retryAfterSeconds' | 'retryAfterDate' | 'rateLimit';

/** What conflict recovery did after a refused write. */
export type ConflictOutcome = 'reapplied' | 'merged' | 'overwritten' | 'replaced' | 'mergeFailed' | 'aborted' | 'gaveUp' | 'other';

/** Events fired when the client retries or gives up retrying, and when it loses a lock. */
export type ClientEvent =
  | { type: 'attempt'; method: string; url: string; attempt: number }
  | {
      type: 'conflict';
      url: string;
      status: number;
      /** The strategy in force; `custom` for a strategy function. */
      strategy: Strategy | 'custom';
      outcome: ConflictOutcome;
      attempt: number;
    }
  | {
      type: 'throttled';
      method: string;
      url: string;
      status: number;
      /** The wait the client chose. */
      delayMs: number;
      /** The server's hint, if it sent a usable one. */
      hintMs: number | null;
      hintSource: HintSource | null;
    }
  | { type: 'budgetExhausted'; method: string; url: string; host: string }
  | {
      /**
       * A transaction's commit was refused because documents it read changed: `client.transaction`
       * runs its function again (`reapplied`) or gives up (`gaveUp`).
       */
      type: 'transactionConflict';
      /** The transaction's absolute URL. */
      url: string;
      /** The paths of the documents that changed. */
      paths: string[];
      outcome: 'reapplied' | 'gaveUp';
      /** Runs so far, this one included. */
      attempt: number;
    }
  | {
      /**
       * A {@link Lock} was lost: its renewal (or a write under it) was refused, or it expired
       * unrenewed. Writes under it now reject with code `lock_lost`.
       */
      type: 'lockLost';
      /** The locked resource's absolute URL. */
      url: string;
      /** What happened, e.g. the server's refusal. */
      reason: string;
    }
  | ({ type: 'deprecated' } & DeprecationNotice)
  | {
      /** A conflict subscription lost its connection (or could not connect) and reconnects after `delayMs`. */
      type: 'conflictStreamReconnect';
      url: string;
      /** Failed or ended connections in a row, this one included. */
      attempt: number;
      delayMs: number;
    };

/**
 * An answer carried `Deprecation` (RFC 9745) or `Sunset` (RFC 8594): reported once per client for
 * each distinct notice (the `deprecated` event), and listed by `client.deprecations()`.
 */
export interface DeprecationNotice {
  /** The URL whose answer carried it. */
  url: string;
  /** When the API was (or will be) deprecated, in Unix milliseconds, or `null`. */
  deprecationMs: number | null;
  /** When it goes away, in Unix milliseconds, or `null`. */
  sunsetMs: number | null;
  /** The `Link rel="successor-version"` target (absolute), or `null`. */
  successor: string | null;
  /** The `Link rel="deprecation"` target (a policy page), or `null`. */
  policy: string | null;
  /** `Name: value` of each malformed header (the notice is reported anyway). */
  malformed: string[];
}

/** Counters since the client was made. */
export interface Stats {
  /** HTTP requests sent (every attempt counts). */
  requests: number;
  /** Conditional GETs answered 304 and served from the cache. */
  notModified: number;
  /** Writes refused with 412 Precondition Failed. */
  conflicts412: number;
  /** Writes refused with a version-conflict 409. */
  conflicts409: number;
  /** Requests sent again (throttle retries plus conflict re-writes). */
  retries: number;
  /** Successful three-way merges. */
  merges: number;
  /** Throttled responses (429/503) the client waited after. */
  throttled: number;
  /** Total time spent waiting after throttled responses. */
  throttledWaitMs: number;
  /** Retries refused by the per-host retry budget. */
  budgetExhausted: number;
  /** Rate-limit or ETag headers that were present but malformed (and so ignored). */
  malformedHeaders: number;
  /** Transactions committed. */
  transactionsCommitted: number;
  /** Transaction commits refused because a document read had changed (`client.transaction` runs again after one). */
  transactionConflicts: number;
  /** Conflict-stream connections opened (first and reconnections). */
  conflictStreamConnects: number;
  /** Conflict-stream reconnections after an error, the server closing, or a stall. */
  conflictStreamReconnects: number;
  /** Answers that carried `Deprecation` or `Sunset`. */
  deprecatedResponses: number;
  /** The earliest `Sunset` any answer announced, in Unix milliseconds, or `null`. */
  earliestSunsetMs: number | null;
  /** The same as `notModified`, under the SDK's (and Prometheus') name. */
  notModifiedHits: number;
  /** The same as `throttled`, under the SDK's (and Prometheus') name. */
  throttleWaits: number;
  /** The same as `throttledWaitMs`, under the SDK's (and Prometheus') name. */
  throttleWaitTotalMs: number;
}

/** Stable error codes; `code` on every error this package rejects with. */
export type ErrorCode =
  | 'invalid_argument'
  | 'invalid_url'
  | 'invalid_config'
  | 'invalid_etag'
  | 'network'
  | 'http_status'
  | 'precondition_failed'
  | 'conflict'
  | 'merge_conflict'
  | 'aborted'
  | 'rate_limited'
  | 'unavailable'
  | 'timeout'
  | 'redirected'
  | 'outcome_unknown'
  | 'retry_after_too_long'
  | 'retry_budget_exhausted'
  | 'missing_etag'
  | 'locked'
  | 'lock_lost'
  | 'transaction_conflict'
  | 'transaction_lost'
  | 'decode'
  | 'encode'
  | 'change_failed'
  | 'unauthorized'
  | 'forbidden'
  | 'conflict_resolved'
  | 'version_not_found'
  | 'missing_version'
  | 'weak_validator'
  /** A freed Client, Lock, Transaction or Conflicts was used; or a synchronous call before `init()` in a browser. */
  | 'invalid_state'
  /** The wasm could not be fetched or instantiated (`init()`, or the first request of a Client). */
  | 'wasm_unavailable'
  /** A hook (the `hooks` client option) threw, returned what it may not, or changed a write's precondition. */
  | 'hook_failed';

/** An RFC 9457 problem details body, as the server sent it (unknown members kept). */
export interface Problem {
  type: string;
  title?: string;
  status?: number;
  detail?: string;
  instance?: string;
  current_etag?: string;
  [extension: string]: Json | undefined;
}

/** The detail fields of an {@link IfmatchError}, as its constructor takes them. */
export interface IfmatchErrorOptions {
  code: ErrorCode;
  status?: number | null;
  problem?: Problem | null;
  retryAfterMs?: number | null;
  currentEtag?: string | null;
  conflictPaths?: string[];
  hint?: string | null;
  url?: string | null;
  current?: Json;
  cause?: unknown;
  operation?: number;
  op?: BatchOpName;
  staleReads?: StaleRead[];
  conflictId?: string;
  conflictUrl?: string;
  oldestVersion?: number;
}

/**
 * The error every operation rejects with (and the constructor throws), whatever the code; an
 * aborted operation rejects with its signal's reason instead. A real subclass of `Error`:
 * `err instanceof IfmatchError` holds for errors from any entry point of this package copy.
 */
export class IfmatchError extends Error {
  /** For tests and wrappers; the package itself constructs every instance it rejects with. */
  constructor(message: string, options: IfmatchErrorOptions);
  /** `'IfmatchError'` (on the prototype). */
  name: 'IfmatchError';
  /** What went wrong, stable across versions: switch on it, not on `message`. */
  code: ErrorCode;
  /** The HTTP status behind the error, or `null`. */
  status: number | null;
  /** The parsed problem+json body, or `null`. */
  problem: Problem | null;
  /** How long the server asked to wait (throttling errors), or until its lock expires (`locked`), or `null`. */
  retryAfterMs: number | null;
  /** The resource's current ETag, when a conflict error knows it, or `null`. */
  currentEtag: string | null;
  /** JSON Pointers of overlapping edits for code `merge_conflict`, else empty. */
  conflictPaths: string[];
  /** What to do next (the end of `message`), or `null` where the message says it all. */
  hint: string | null;
  /** The absolute URL of the request, or the URL that was invalid; `null` for other input errors. */
  url: string | null;
  /** The resource's current state for code `aborted`, else absent. */
  current?: Json;
  /**
   * What caused it: what `fetch` threw (code `network`, e.g. a `TypeError`), or what a change
   * function, resolver or strategy function threw.
   */
  cause?: unknown;
  /**
   * `client.batch()`: the index (from 0) of the operation that failed or was refused before
   * sending (nothing of the batch was applied); absent for other errors, and for a batch refused
   * as a whole (throttled, malformed).
   */
  operation?: number;
  /** `client.batch()`: what that operation was, when it had a valid `op`; else absent. */
  op?: BatchOpName;
  /** Code `transaction_conflict`: the documents that changed since the transaction read them; else absent. */
  staleReads?: StaleRead[];
  /**
   * A refused write the server recorded as a conflict (`precondition_failed`, `conflict`,
   * `locked`, `transaction_conflict`): the record's id, for `client.conflicts.get(id)` and
   * `client.conflicts.resolve(id, …)`; else absent.
   */
  conflictId?: string;
  /** Where that record is, as the server wrote it (a path, e.g. `/conflicts/c-12`); else absent. */
  conflictUrl?: string;
  /** Code `version_not_found`: the oldest version the server keeps; else absent. */
  oldestVersion?: number;
}

/**
 * Whether `err` is an error from this package (narrows its type). Unlike `instanceof
 * IfmatchError`, also true for an error from another copy of the package (e.g. two versions in
 * `node_modules`).
 */
export function isIfmatchError(err: unknown): err is IfmatchError;

/** A client with an ETag cache; one per user or partition. Methods reject with {@link IfmatchError}. */
export class Client {
  /** @throws {IfmatchError} code `invalid_config`, `invalid_url` or `invalid_argument` for bad options. */
  constructor(options?: ClientOptions);
  /** GET, conditional on the cached ETag (a 304 reuses the cached body). */
  get<T = Json>(url: string, options?: ReadOptions): Promise<Versioned<T>>;
  /** POST a new resource (with an Idempotency-Key when retries are on). */
  create<T extends JsonInput = Json>(url: string, doc: T, options?: ReadOptions): Promise<Versioned<T>>;
  /** PUT, conditional on the version the document was read at: `{ ifMatch: read.etag }`, or `{ createOnly: true }` / `{ unconditional: true }`. */
  put<T extends JsonInput = Json>(url: string, doc: T, options: WriteOptions): Promise<Versioned<T>>;
  /** PATCH with a JSON Merge Patch (RFC 7396), conditional as `put`. */
  patch<T = Json>(url: string, mergePatch: JsonInput, options: WriteOptions): Promise<Versioned<T>>;
  /** DELETE, conditional on the version read: `{ ifMatch: read.etag }`, or `{ unconditional: true }`. */
  delete(url: string, options: WriteOptions): Promise<void>;
  /**
   * Read, change, write conditionally; on a version conflict recover by `strategy` and retry.
   * Updates of one URL through this client take turns (in call order), so they never conflict
   * with each other; only other clients' writes do.
   */
  update<T extends JsonInput = Json>(url: string, change: Change<T>, options?: UpdateOptions<T>): Promise<Versioned<T>>;
  /**
   * An atomic batch (`POST /batch`): the server applies every operation, in order, or none.
   * Resolves to one result per operation; rejects with the failed operation's own error
   * (`precondition_failed`, `conflict`, `http_status` 404, `locked`, …) whose `operation` is
   * its index. Needs `baseUrl`.
   */
  batch<T = Json>(operations: readonly BatchOperation[], options?: BatchOptions): Promise<BatchResult<T>>;
  /**
   * Begins an interactive transaction (`POST /transactions`): read and write through the
   * {@link Transaction}, then `commit()` (or `rollback()`). Needs `baseUrl`.
   */
  begin(options?: BeginOptions): Promise<Transaction>;
  /**
   * Runs `fn` in a new transaction and commits it; when the commit is refused because a document
   * it read changed (`transaction_conflict`), runs `fn` again in a new transaction, after the
   * conflict pause of `retry.conflictBackoff`, up to `maxAttempts` runs (default
   * `retry.maxConflictAttempts`), within `retry.totalDeadlineMs`. Resolves to what the last run
   * of `fn` returned. When `fn` throws (or a request in it rejects and `fn` lets it), the
   * transaction is rolled back and the call rejects with that value, without running again.
   * `fn` may run several times: read and write only through the transaction it is given.
   */
  transaction<R>(fn: (tx: Transaction) => R | PromiseLike<R>, options?: TransactionOptions): Promise<Awaited<R>>;
  /**
   * Takes a lock on the resource (`POST {url}/lock`): resolves to a {@link Lock} once the server
   * grants it; rejects with code `locked` while another client holds it (after `wait`, if given).
   * While the `Lock` is held, this client's writes of the resource carry its token.
   */
  lock(url: string, options?: LockOptions): Promise<Lock>;
  /** A snapshot of the client's counters. */
  stats(): Stats;
  /**
   * A request the other methods do not model (an action endpoint, a custom method): `GET` goes
   * through the cache like `get` (no body, no precondition); any other method is a write that
   * needs its precondition (`ifMatch`, `createOnly` or `unconditional`), with an optional JSON
   * body `json`. `HEAD` is `head()`.
   */
  request<T = Json>(method: string, url: string, options?: RawRequestOptions): Promise<Versioned<T>>;
  /** `HEAD`: the answer's status, `ETag` and headers; neither reads nor changes the cache. */
  head(url: string, options?: ReadOptions): Promise<HeadResult>;
  /**
   * A new client with `options` on top of this one's: `headers` merged (names without case; an
   * `undefined` value removes one), `hooks` concatenated (this client's run first), any other
   * option replaced (`undefined` removes it). The new client has its own cache, counters and
   * retry budget. Bad options throw as in the constructor.
   */
  extend(options?: ExtendOptions): Client;
  /** The versions the server keeps of a document, newest first (`GET {url}/versions`). */
  versions(url: string, options?: RequestOptions): Promise<History>;
  /** Version `n` of a document as it was; `version_not_found` (with `oldestVersion`) when not kept. */
  version<T = Json>(url: string, n: number, options?: RequestOptions): Promise<Versioned<T>>;
  /**
   * Writes version `n`'s content back as a new version, conditional on the current one. A
   * concurrent change makes it a conflict, returned (not retried) unless `retryConflicts`.
   */
  restore<T = Json>(url: string, n: number, options?: RestoreOptions): Promise<Versioned<T>>;
  /** The JSON Patch (RFC 6902) from version `from` to version `to` of a document. */
  diff(url: string, from: number, to: number, options?: RequestOptions): Promise<PatchOperation[]>;
  /** The distinct deprecation notices answers carried, first seen first (each also a `deprecated` event). */
  deprecations(): DeprecationNotice[];
  /** The server's conflict log: list, get, resolve and subscribe (needs `baseUrl`). */
  readonly conflicts: Conflicts;
  /** Releases the client's memory now instead of at garbage collection; the client is unusable after. */
  free(): void;
  /**
   * The same as `free()`, for `using client = new Client(…)`. Present where the runtime defines
   * `Symbol.dispose` (Node 18.18+/20.4+, current browsers).
   */
  [Symbol.dispose](): void;
}

/**
 * A held lock on one resource, from `client.lock()`. While it is held, the client's writes of
 * the resource carry its token (`Lock-Token`) and a background task renews it a third of its
 * lease before it ends, until `release()`. Release it when done: `await lock.release()`, or
 * `await using lock = await client.lock(url)`. A `Lock` that is garbage-collected unreleased is
 * released in the background, at an unknown time; until then it keeps renewing.
 */
export class Lock {
  /** Made only by `client.lock()`. */
  private constructor();
  /** The locked resource's absolute URL. */
  readonly url: string;
  /** The lock token, sent as `Lock-Token` with writes. */
  readonly token: string;
  /** The server's fencing number: higher for every later lock (for fencing other systems); `null` if it sent none. */
  readonly fencing: number | null;
  /** The holder's name as given or granted, or `null`. */
  readonly owner: string | null;
  /** The lease the server granted (last renewal), in milliseconds. */
  readonly ttlMs: number;
  /** Milliseconds before the lock ends unless renewed; 0 once released. */
  readonly expiresInMs: number;
  /**
   * `null` while the lock is held; otherwise why not: lost (a renewal or a write under it was
   * refused, or it expired unrenewed), or `'it was released'`.
   */
  readonly lost: string | null;
  /**
   * Renews the lease now (the lock also renews itself). Rejects with `lock_lost` when the server
   * no longer honours the token, or after `release()`.
   */
  renew(): Promise<void>;
  /**
   * Releases the lock; the client's writes of the resource no longer carry its token. Rejects
   * with `lock_lost` if the lock had been lost before (writes under it after that were refused).
   * Calling it again resolves once the first call is done.
   */
  release(): Promise<void>;
  /**
   * Frees the object now: the lock is released in the background, without waiting or reporting
   * errors; the object is unusable after. Prefer `release()`.
   */
  free(): void;
  /** The same as `free()`, for `using lock = …` (prefer `await using`, which waits for the release). */
  [Symbol.dispose](): void;
  /**
   * `release()`, for `await using lock = await client.lock(url)`. Present where the runtime
   * defines `Symbol.asyncDispose` (Node 18.18+/20.4+, current browsers).
   */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * An open interactive transaction, from `client.begin()` (or given to the function of
 * `client.transaction()`). Its reads and writes carry `Transaction-Id`: reads see its own writes
 * and pin the version of everything else (repeatable reads), writes are staged and answer with
 * provisional ETags (use them as `ifMatch` inside this transaction only); neither uses the
 * client's ETag cache. `commit()` applies every write at once unless a document it read changed
 * meanwhile. End it: `commit()`, `rollback()`, or `await using tx = await client.begin()`, which
 * rolls it back unless committed. An unreachable open `Transaction` is rolled back when it is
 * garbage-collected; the server rolls it back at its expiry anyway.
 */
export class Transaction {
  /** Made only by `client.begin()` and `client.transaction()`. */
  private constructor();
  /** The server's id (sent as `Transaction-Id`). */
  readonly id: string;
  /** Its absolute URL (`…/transactions/{id}`). */
  readonly url: string;
  /** When the server rolls it back unless committed (Unix time in milliseconds, the server's clock), or `null`. */
  readonly expiresAt: number | null;
  /** The lifetime the server granted, in milliseconds, or `null` when unknown. */
  readonly ttlMs: number | null;
  /** Milliseconds left before it expires by this client's clock, or `null` when unknown. */
  readonly expiresInMs: number | null;
  /** Whether it is still open: not committed, rolled back, or ended by a refused commit. */
  readonly open: boolean;
  /** GET inside the transaction; the first read of a document pins its version. */
  get<T = Json>(url: string, options?: RequestOptions): Promise<Versioned<T>>;
  /** POST inside the transaction: the id is reserved now (`location`), the document created at the commit. */
  create<T extends JsonInput = Json>(url: string, doc: T, options?: RequestOptions): Promise<Versioned<T>>;
  /** PUT staged in the transaction, conditional as `client.put` (a version read in it, a provisional tag, or `unconditional`). */
  put<T extends JsonInput = Json>(url: string, doc: T, options: WriteOptions): Promise<Versioned<T>>;
  /** PATCH (JSON Merge Patch) staged in the transaction. */
  patch<T = Json>(url: string, mergePatch: JsonInput, options: WriteOptions): Promise<Versioned<T>>;
  /** DELETE staged in the transaction. */
  delete(url: string, options: WriteOptions): Promise<void>;
  /**
   * Commits it: applies every staged write at once. Rejects with `transaction_conflict` (with
   * `staleReads`) when a document it read changed: nothing was applied and it is over; with
   * `transaction_lost` when the server no longer knows it (expired); with `locked` when another
   * client holds a lock on a written document. Committing again resolves to the same result.
   */
  commit(options?: RequestOptions): Promise<CommitResult>;
  /** Rolls it back: nothing it staged is applied; later requests in it reject with `invalid_config`. */
  rollback(options?: RequestOptions): Promise<void>;
  /** Frees the object now; an open transaction is then rolled back in the background. Prefer `rollback()`. */
  free(): void;
  /** The same as `free()`. */
  [Symbol.dispose](): void;
  /** `rollback()` unless it was committed or has ended, for `await using tx = await client.begin()`. */
  [Symbol.asyncDispose](): Promise<void>;
}

declare global {
  interface SymbolConstructor {
    /** The well-known symbol of explicit resource management (`using`); ES2026, TypeScript lib `esnext.disposable`. */
    readonly dispose: unique symbol;
    /** The well-known symbol of explicit resource management (`await using`); ES2026, TypeScript lib `esnext.disposable`. */
    readonly asyncDispose: unique symbol;
  }
  /** What `using` accepts (as TypeScript's lib `esnext.disposable` declares it), so that `using` type-checks with lib es2022 too. */
  interface Disposable {
    [Symbol.dispose](): void;
  }
  /** What `await using` accepts (as TypeScript's lib `esnext.disposable` declares it). */
  interface AsyncDisposable {
    [Symbol.asyncDispose](): PromiseLike<void>;
  }
}

/** The package version. */
export function version(): string;

/** Where `init` loads the wasm from: its URL, a `Response`, its bytes, or a compiled `WebAssembly.Module`. */
export type InitInput = string | URL | Request | Response | BufferSource | WebAssembly.Module;

/**
 * Loads and instantiates the wasm, once (later calls resolve at once). By default from
 * `ifmatch_wasm_bg.wasm` next to the package's module (`new URL(…, import.meta.url)`). Needed
 * only in browsers, and there optional: the first request of a Client loads it too. In Node the
 * wasm is instantiated at import and this resolves at once. Rejects with code `wasm_unavailable`.
 */
export function init(input?: InitInput | Promise<InitInput> | { module_or_path: InitInput | Promise<InitInput> }): Promise<void>;

/** Instantiates the wasm synchronously from its bytes or a compiled module (`initSync({ module })`). */
export function initSync(input: { module: BufferSource | WebAssembly.Module } | BufferSource | WebAssembly.Module): void;

/** One entry of a document's history. */
export interface VersionEntry {
  version: number;
  /** Its strong ETag; `null` for the deletion (tombstone). */
  etag: string | null;
  /** When it was written, in Unix milliseconds. */
  atMs: number;
  /** The authenticated client that wrote it, or `null`. */
  author: string | null;
  /** The deletion entry (no content). */
  deleted: boolean;
  /** The stored body's length in bytes. */
  size: number;
}

/** `client.versions(url)`. */
export interface History {
  /** Newest first. */
  versions: VersionEntry[];
  /** The server's retention, or `null` when it did not say (`null` members: no limit). */
  policy: { maxVersions: number | null; maxAgeMs: number | null; tombstoneTtlMs: number | null } | null;
}

/** Options of `client.restore()`. */
export interface RestoreOptions extends RequestOptions, UnderLockOptions {
  /** On a conflict, read the current version again and write again, overwriting that change; default `false`. */
  retryConflicts?: boolean;
}

/** One RFC 6902 operation, as `diff` makes and `applyPatch` applies them. */
export type PatchOperation =
  | { op: 'add'; path: string; value: Json }
  | { op: 'replace'; path: string; value: Json }
  | { op: 'remove'; path: string };

/** The JSON Patch (RFC 6902) that turns `from` into `to`: add, remove and replace; arrays by index. */
export function diff(from: JsonInput, to: JsonInput): PatchOperation[];

/**
 * A copy of `doc` with `patch` applied (add, remove, replace), all or nothing.
 * @throws {IfmatchError} code `invalid_argument` naming the operation that cannot be applied.
 */
export function applyPatch<T = Json>(doc: JsonInput, patch: readonly PatchOperation[]): T;

/** A version of a document as a conflict record names it. */
export interface VersionRef {
  etag: string | null;
  version: number | null;
}

/** One refused conditional write, as the server recorded it. */
export interface ConflictRecord {
  /** E.g. `c-12` (`error.conflictId`). */
  id: string;
  /** Its place in the server's event sequence. */
  seq: number;
  /** `precondition-failed`, `version-conflict`, `locked` or `transaction-conflict`. */
  kind: string;
  status: number;
  method: string;
  /** The document's path on the server, e.g. `/items/doc` (unprefixed by API version). */
  resource: string;
  /** The authenticated client that caused it, or `null`. */
  client: string | null;
  atMs: number;
  /** The version the refused write was based on, or `null`. */
  basedOn: VersionRef | null;
  /** The document's version when refused (`null`: it did not exist). */
  current: VersionRef | null;
  /** What the refused write sent (`body` `null` for a delete, or when `truncated`). */
  rejected: { contentType: string | null; body: Json; truncated: boolean } | null;
  state: 'open' | 'resolved';
  resolution: {
    choice: 'mine' | 'theirs' | 'merged';
    by: string | null;
    atMs: number;
    /** The document's tag and version after it (`null`: deleted). */
    etag: string | null;
    version: number | null;
  } | null;
}

/** Which conflicts a list or subscription is about (any resource or prefix given; all when none). */
export interface ConflictFilter {
  resources?: string[];
  prefixes?: string[];
  state?: 'open' | 'resolved';
}

/** Options of `client.conflicts.list()`. */
export interface ListConflictsOptions extends ConflictFilter, Omit<RequestOptions, 'apiVersion'> {
  /** At most this many records (the server's default: 100). */
  limit?: number;
  /** Only records after this `seq` (a page's `nextAfter`). */
  after?: number;
  /** Every page from `after` on, in one list. */
  all?: boolean;
}

/** Options of `client.conflicts.resolve()`. */
export interface ResolveOptions extends Omit<RequestOptions, 'apiVersion'>, UnderLockOptions {
  /** `mine`: apply the refused write; `theirs`: keep the current document; `merged`: write `document`. */
  resolution: 'mine' | 'theirs' | 'merged';
  /** The document to write, with `merged` only. */
  document?: JsonInput;
  /** Conditional on this version instead of the one the conflict recorded (after a re-read). */
  ifMatch?: string;
}

/** Options of `client.conflicts.subscribe()`. */
export interface SubscribeOptions extends ConflictFilter {
  /** Start after this `seq`: the server first replays the later events it still holds. */
  after?: number;
  /** Reconnect when nothing (not even a heartbeat) arrived for this long; default 45000, `null` never. */
  stallTimeoutMs?: number | null;
  /** End with the last error after this many failed connection attempts in a row; default: keep trying. */
  maxFailures?: number;
  /** Ends the iteration (cleanly: the loop just stops) and closes the stream. */
  signal?: AbortSignal;
  /** Headers for the stream's requests. */
  headers?: Record<string, string>;
}

/** An event of a conflict subscription. */
export type ConflictEvent =
  | { type: 'conflict'; record: ConflictRecord }
  | { type: 'resolved'; record: ConflictRecord }
  /** Events after `after` were forgotten by the server before they could be replayed: list the open conflicts. */
  | { type: 'gap'; after: number; oldest: number };

/** `client.conflicts`: the server's conflict log. Methods reject with {@link IfmatchError}. */
export class Conflicts {
  private constructor();
  /** One page of records, oldest first (`all: true` for every page). */
  list(options?: ListConflictsOptions): Promise<{ conflicts: ConflictRecord[]; nextAfter: number | null }>;
  /** One record; `http_status` 404 once the server's bounded log forgot it. */
  get(id: string, options?: Omit<RequestOptions, 'apiVersion'>): Promise<ConflictRecord>;
  /**
   * Resolves a conflict: `forbidden` for another client's (only it, or an admin, may),
   * `conflict_resolved` when resolved already, `precondition_failed` when the document changed
   * since (the conflict stays open).
   */
  resolve(id: string, options: ResolveOptions): Promise<ConflictRecord>;
  /**
   * The live stream (`GET /conflicts/stream`, Server-Sent Events over `fetch`) as an async
   * iterable: `for await (const event of client.conflicts.subscribe({ prefixes: ['/items/'] }))`.
   * It reconnects by itself and delivers each event once, in order. `break` (or `return()`) and
   * the `signal` close it; a fatal error (`unauthorized`, `forbidden`, …) rejects the pending
   * `next()` and ends it.
   */
  subscribe(options?: SubscribeOptions): AsyncIterableIterator<ConflictEvent>;
  free(): void;
  [Symbol.dispose](): void;
}
