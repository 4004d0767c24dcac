//! The hint rows of the optional profiles (locking, transactions, versions,
//! notifications, rate limits, required preconditions), searched after the core
//! table. Each profile ends with a row that matches any of its rules.

use super::Row;
use super::When::Always;

/// The optional profiles' table, searched in order.
pub(super) const ROWS: &[Row] = &[
    Row {
        prefix: "require-preconditions.names-if-match",
        when: Always,
        cause: "The 428 does not tell the client how to resubmit.",
        fix: "Name the header in the 428's problem body, e.g. `\"detail\": \"this write needs If-Match with the ETag of a fresh GET\"`.",
    },
    Row {
        prefix: "locking.busy-423",
        when: Always,
        cause: "A second lock request while the lock is held was not refused with 423 (with Retry-After and the lock's expiry): the grant overwrote the holder, or the refusal lacks what a client needs to wait.",
        fix: "Refuse with 423 Locked, problem+json, `Retry-After: <seconds until expiry>` and the expiry in the body; never replace a live lock.",
    },
    Row {
        prefix: "locking.stale-token-412",
        when: Always,
        cause: "A token that no longer holds the lock was accepted: the server checks that a token was sent, not that it is the current holder's.",
        fix: "Compare the token with the current lock's token (and its expiry) on every write; a released, expired or unknown token is 412 and changes nothing.",
    },
    Row {
        prefix: "locking.expiry",
        when: Always,
        cause: "Lock expiry is not enforced: an expired lock still blocks (or is freed early).",
        fix: "Store the expiry time with the lock and treat a lock past it as free on every read of the lock, not only in a background sweep.",
    },
    Row {
        prefix: "locking.token-unique",
        when: Always,
        cause: "Lock tokens repeat (a counter reset, the resource id, a timestamp), so an old token matches a newer lock.",
        fix: "Issue a fresh random token (e.g. a UUIDv4) for every grant and compare it exactly.",
    },
    Row {
        prefix: "transactions.tx-isolation",
        when: Always,
        cause: "Writes inside a transaction go straight to the store, so others see them before the commit.",
        fix: "Buffer a transaction's writes (or use a database transaction) and apply them only at commit; reads outside see the committed state.",
    },
    Row {
        prefix: "notifications.stream",
        when: Always,
        cause: "The event stream does not deliver events as Server-Sent Events should: buffered by a proxy or compression, missing `id:` lines, or not filtered/resumed as asked.",
        fix: "Send `Content-Type: text/event-stream`, flush after each event, disable compression and proxy buffering (`X-Accel-Buffering: no`), give each event an `id:` and resume after `Last-Event-ID`.",
    },
    Row {
        prefix: "rate-limit.retry-after",
        when: Always,
        cause: "The 429 has no valid Retry-After, so clients cannot tell when to try again.",
        fix: "Send `Retry-After: <seconds>` (an integer) on every 429.",
    },
    Row {
        prefix: "require-preconditions",
        when: Always,
        cause: "Writes without If-Match (or If-None-Match) are accepted.",
        fix: "Before the handler runs, answer PUT, PATCH and DELETE without If-Match or If-None-Match with 428 Precondition Required, a problem+json body naming If-Match, and no change.",
    },
    Row {
        prefix: "locking.write-without-token-423",
        when: Always,
        cause: "Writes do not check the lock: a client without the holder's token wrote a locked resource.",
        fix: "In the same atomic step as If-Match, check the resource's lock on every PUT, PATCH and DELETE: held by another token (or none sent) → 423 and no change.",
    },
    Row {
        prefix: "locking.mutual-exclusion",
        when: Always,
        cause: "Granting a lock is not atomic: two clients both saw the lock free and both got it.",
        fix: "Grant with a compare-and-set on the lock row (`INSERT … ON CONFLICT DO NOTHING`, or `UPDATE … WHERE holder IS NULL OR expires_at < now`) and check the row count.",
    },
    Row {
        prefix: "locking",
        when: Always,
        cause: "The lock API does not behave as the locking profile describes (grant, 423 while held, token checks, expiry, renewal, release).",
        fix: "Compare with docs/contract.md (Locking) and the reference server; tokens must be unique random values, expiry measured by the server, and every write checks the token atomically with If-Match.",
    },
    Row {
        prefix: "transactions.batch-all-or-nothing",
        when: Always,
        cause: "Batch operations are applied one by one without a rollback: the operations before the refused one stayed applied.",
        fix: "Run the whole batch inside one database transaction and roll it back on the first refusal (412, 404, 423).",
    },
    Row {
        prefix: "transactions.concurrency",
        when: Always,
        cause: "Concurrent transactions are not serialized: a commit was accepted although something it read had changed.",
        fix: "Record the version of everything a transaction reads and refuse the commit (409) when any changed, checked atomically with applying the writes; or use SERIALIZABLE isolation.",
    },
    Row {
        prefix: "transactions",
        when: Always,
        cause: "Batches or transactions do not behave as the transactions profile describes (all-or-nothing, isolation, commit, rollback, expiry).",
        fix: "Compare with docs/contract.md (Transactions) and the reference server; apply every write of a batch or commit in one storage transaction.",
    },
    Row {
        prefix: "versions",
        when: Always,
        cause: "History or API versions do not behave as the versions profile describes.",
        fix: "Compare with docs/contract.md (Versions) and the reference server: every write appends a version with the ETag it answered; each representation has its own strong ETag.",
    },
    Row {
        prefix: "notifications",
        when: Always,
        cause: "Conflict records, the event stream or resolutions do not behave as the notifications profile describes.",
        fix: "Compare with docs/contract.md (Notifications) and the reference server: record each refused write, stream it as `event: conflict` with an id, and resolve with a conditional write.",
    },
    Row {
        prefix: "idempotency",
        when: Always,
        cause: "Writes carrying Idempotency-Key are applied again when retried, answered differently, or a reused key is accepted for a different request.",
        fix: "Keep the first answer per client and key (with a fingerprint of method, URL, preconditions and body) and send it again to a retry; answer 422 when the fingerprint differs and 409 while the first is still in flight (draft-ietf-httpapi-idempotency-key-header).",
    },
    Row {
        prefix: "rate-limit",
        when: Always,
        cause: "The 429 answers do not carry what clients need to back off (Retry-After, RateLimit fields, a problem body), or the server did not recover.",
        fix: "Answer 429 with `Retry-After: <seconds>`, consistent `RateLimit`/`RateLimit-Policy` fields and a problem+json body; accept requests again after the wait.",
    },
];
