//! The `transactions` profile's rules, in the order the runner checks them.

use super::super::Level::{Must, Should};
use super::super::Profile::Transactions;
use super::super::Rule;
use super::{batch, batch_refusals, commit, ending, interactive, locked, serializable};

const BATCH: &str = "transactions.batch-commits";
const BEGIN: &str = "transactions.tx-begin-201";
const CREATE: &str = "POST {collection} (create a test resource)";
const STALE: &str = "POST {collection}, PUT {resource} with If-Match (its first ETag is now stale)";
const REREAD: &str = "GET {resource} (re-read outside any transaction: judge by state)";
const OPEN: &str = "POST {transactions} {\"ttl_ms\": 10000} (begin)";
const PUT_INSIDE: &str = "PUT {resource} with Transaction-Id and If-Match: <current>";
const POST_INSIDE: &str = "POST {collection} with Transaction-Id";
const COMMIT: &str = "POST {transactions}/<id>/commit";
const ROLL_BACK: &str = "DELETE {transactions}/<id> (roll back)";
const LOCK_OTHER: &str =
    "POST {resource}/lock {\"owner\", \"ttl_ms\": 5000} (another client locks it)";
const RELEASE: &str = "DELETE {resource}/lock with Lock-Token (release)";

/// Every rule of the `transactions` profile.
pub(in crate::rules) const RULES: [Rule; 19] = [
    Rule {
        id: BATCH,
        level: Must,
        profile: Transactions,
        rfc: "JSON:API Atomic Operations; RFC 9110 §13.1.1",
        summary: "A batch of create, put, patch, check and delete answers 200 with one result per operation, and later GETs show each write with the tag its result names.",
        requires: &[],
        plan: &["3 × POST {collection}", "POST {batch} [create, put, patch, check, delete] with if_match: <current>", "GET each document (judge by state)"],
        check: batch::batch_commits,
    },
    Rule {
        id: "transactions.batch-order",
        level: Must,
        profile: Transactions,
        rfc: "JSON:API Atomic Operations §5",
        summary: "Operations run in order: a patch after a put of the same document patches what the put wrote.",
        requires: &[BATCH],
        plan: &[CREATE, "POST {batch} [put {resource}, patch {resource}]", REREAD],
        check: batch::batch_order,
    },
    Rule {
        id: "transactions.batch-lid-ref",
        level: Must,
        profile: Transactions,
        rfc: "JSON:API Atomic Operations §5.1 (lid)",
        summary: "A ref to an earlier create's lid targets the document that create made.",
        requires: &[BATCH],
        plan: &["POST {batch} [create lid \"fresh\", patch ref \"fresh\", check ref \"fresh\"]", "GET <created path>"],
        check: batch::batch_lid_ref,
    },
    Rule {
        id: "transactions.batch-all-or-nothing",
        level: Must,
        profile: Transactions,
        rfc: "JSON:API Atomic Operations §5; RFC 9110 §13.1.1",
        summary: "A batch whose last operation has a stale if_match is refused with 412 and changes nothing: no document created, written or deleted.",
        requires: &[BATCH],
        plan: &["3 × POST {collection}", STALE, "POST {batch} [create, put {fresh}, put, patch, delete with current tags, put with the stale tag]", "GET every document, {fresh} and {collection} (judge by state)"],
        check: batch_refusals::batch_all_or_nothing,
    },
    Rule {
        id: "transactions.batch-names-operation",
        level: Should,
        profile: Transactions,
        rfc: "RFC 9457 §3.2",
        summary: "A refused batch answers problem+json naming the failing operation's index (operation), op and path.",
        requires: &[BATCH],
        plan: &[CREATE, STALE, "POST {batch} [put, patch, check with the stale tag]", "POST {batch} [put, an unknown op]"],
        check: batch_refusals::batch_names_operation,
    },
    Rule {
        id: "transactions.batch-missing-404",
        level: Must,
        profile: Transactions,
        rfc: "RFC 9110 §15.5.5",
        summary: "A batch that patches or checks a missing document is refused with 404 and changes nothing.",
        requires: &[BATCH],
        plan: &[CREATE, "POST {batch} [put {resource}, patch {fresh}]", REREAD, "POST {batch} [put {resource}, check {fresh}]", REREAD],
        check: batch_refusals::batch_missing_404,
    },
    Rule {
        id: "transactions.batch-locked-423",
        level: Must,
        profile: Transactions,
        rfc: "RFC 4918 §11.3 (423 Locked); JSON:API Atomic Operations §5",
        summary: "A batch whose last operation writes a document another client locked is refused with 423 naming that operation and changes nothing; with the lock's token in lock_token it commits (needs locks).",
        requires: &[BATCH],
        plan: &["2 × POST {collection}", LOCK_OTHER, "POST {batch} [put <a>, put <b> with if_match: <current>, no lock_token]", "GET <a>, GET <b> (judge by state)", "POST {batch} [the same, lock_token: <the lock's token>]", "GET <b> (judge by state)", RELEASE],
        check: locked::batch_locked_423,
    },
    Rule {
        id: BEGIN,
        level: Must,
        profile: Transactions,
        rfc: "RFC 9110 §15.3.2",
        summary: "Beginning a transaction answers 201 with Location and a body with its id, expires_at_ms and the ttl_ms granted; a read inside it works.",
        requires: &[],
        plan: &[CREATE, OPEN, "GET {resource} with Transaction-Id", ROLL_BACK],
        check: interactive::tx_begin_201,
    },
    Rule {
        id: "transactions.tx-isolation",
        level: Must,
        profile: Transactions,
        rfc: "ANSI SQL isolation (no dirty reads)",
        summary: "Writes inside an open transaction are invisible outside it before the commit.",
        requires: &[BEGIN],
        plan: &[CREATE, OPEN, PUT_INSIDE, POST_INSIDE, "GET {resource} and GET <posted> without Transaction-Id", ROLL_BACK],
        check: interactive::tx_isolation,
    },
    Rule {
        id: "transactions.tx-read-own-writes",
        level: Must,
        profile: Transactions,
        rfc: "RFC 9110 §13.1.1 (inside the transaction)",
        summary: "Reads inside a transaction see its own writes: a PUT's and a PATCH's body and provisional ETag, and a document it POSTed.",
        requires: &[BEGIN],
        plan: &[CREATE, OPEN, PUT_INSIDE, "GET {resource} with Transaction-Id", "PATCH {resource} with Transaction-Id and If-Match: <provisional ETag>", "GET {resource} with Transaction-Id", POST_INSIDE, "GET <posted> with Transaction-Id", ROLL_BACK],
        check: interactive::tx_read_own_writes,
    },
    Rule {
        id: "transactions.tx-repeatable-read",
        level: Should,
        profile: Transactions,
        rfc: "ANSI SQL isolation (repeatable read)",
        summary: "A document read inside a transaction reads the same there again after a write outside.",
        requires: &[BEGIN],
        plan: &[CREATE, OPEN, "GET {resource} with Transaction-Id", "PUT {resource} with If-Match: <current> (outside)", "GET {resource} with Transaction-Id", ROLL_BACK],
        check: interactive::tx_repeatable_read,
    },
    Rule {
        id: "transactions.tx-commit-applies",
        level: Must,
        profile: Transactions,
        rfc: "RFC 9110 §13.1.1; Firestore/Spanner read-write transactions",
        summary: "A commit answers 200 with a result per written document, and GETs outside then show every write with the tag its result names.",
        requires: &[BEGIN],
        plan: &["3 × POST {collection}", OPEN, "PUT, PATCH, DELETE {resource} with Transaction-Id and If-Match: <current>", POST_INSIDE, COMMIT, "GET each document (judge by state)"],
        check: commit::tx_commit_applies,
    },
    Rule {
        id: "transactions.tx-conflict-409",
        level: Must,
        profile: Transactions,
        rfc: "RFC 9110 §15.5.10; RFC 9457",
        summary: "A commit after a document the transaction only read changed outside answers 409 problem+json naming it in conflicts, and applies nothing.",
        requires: &[BEGIN],
        plan: &["2 × POST {collection}", OPEN, "GET <a> with Transaction-Id", "PUT <b> with Transaction-Id", "PUT <a> with If-Match: <current> (outside)", COMMIT, "GET <a>, GET <b> (judge by state)"],
        check: commit::tx_conflict_409,
    },
    Rule {
        id: "transactions.tx-commit-locked-423",
        level: Must,
        profile: Transactions,
        rfc: "RFC 4918 §11.3 (423 Locked)",
        summary: "A commit that would write a document another client locked after the transaction wrote it is refused with 423 and applies nothing (needs locks).",
        requires: &[BEGIN],
        plan: &[CREATE, OPEN, PUT_INSIDE, LOCK_OTHER, COMMIT, REREAD, RELEASE],
        check: locked::tx_commit_locked_423,
    },
    Rule {
        id: "transactions.tx-rollback",
        level: Must,
        profile: Transactions,
        rfc: "RFC 9110 §9.3.5",
        summary: "Rolling back (DELETE) answers 204 and applies nothing; a commit afterwards answers 404.",
        requires: &[BEGIN],
        plan: &[CREATE, OPEN, PUT_INSIDE, POST_INSIDE, ROLL_BACK, COMMIT, "GET {resource} and GET <posted> (judge by state)"],
        check: ending::tx_rollback,
    },
    Rule {
        id: "transactions.tx-expiry",
        level: Must,
        profile: Transactions,
        rfc: "RFC 9110 §15.5.5",
        summary: "A transaction not committed by its expiry is rolled back: a commit answers 404 and nothing of it is applied (300 ms lifetime).",
        requires: &[BEGIN],
        plan: &[CREATE, "POST {transactions} {\"ttl_ms\": 300}", PUT_INSIDE, "wait for the expiry", COMMIT, REREAD],
        check: ending::tx_expiry,
    },
    Rule {
        id: "transactions.tx-commit-idempotent",
        level: Should,
        profile: Transactions,
        rfc: "RFC 9110 §9.2.2",
        summary: "Committing a committed transaction again answers the same 200 and results, and applies nothing twice.",
        requires: &[BEGIN],
        plan: &[CREATE, OPEN, PUT_INSIDE, COMMIT, REREAD, COMMIT, REREAD],
        check: commit::tx_commit_idempotent,
    },
    Rule {
        id: "transactions.tx-unknown-404",
        level: Must,
        profile: Transactions,
        rfc: "RFC 9110 §15.5.5",
        summary: "A write or a commit naming a transaction that never existed answers 404 and changes nothing.",
        requires: &[BEGIN],
        plan: &[CREATE, "PUT {resource} with a made-up Transaction-Id", REREAD, "POST {transactions}/<made-up id>/commit"],
        check: commit::tx_unknown_404,
    },
    Rule {
        id: "transactions.concurrency.serializable",
        level: Must,
        profile: Transactions,
        rfc: "serializability (Papadimitriou 1979); Spanner/FoundationDB",
        summary: "8 clients × 5 transfers between 3 accounts in transactions retried after 409: the total is conserved and each balance equals its start plus the acknowledged transfers.",
        requires: &[BEGIN],
        plan: &["3 × POST {collection} {\"balance\": 100}", "8 clients at once, 5 transfers each: begin, GET both accounts and PUT both with Transaction-Id and If-Match, commit; again after 409", "GET each account (judge by state)"],
        check: serializable::serializable,
    },
];
