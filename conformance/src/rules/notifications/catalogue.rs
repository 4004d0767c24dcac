//! The `notifications` profile's rules, in the order the runner checks them.

use super::super::Level::{Must, Should};
use super::super::Profile::Notifications;
use super::super::Rule;
use super::{auth, filters, record, resolve, stream};

const RECORDED: &str = "notifications.conflict-recorded";
const DELIVERS: &str = "notifications.stream-delivers";
const PREPARE: &str =
    "POST {collection}, PUT {resource} with If-Match: <current> (its first ETag is now stale)";
const STALE: &str =
    "PUT {resource} with If-Match: <stale ETag>, as the --token client (412 naming conflict_id)";
const RECORD: &str = "GET {conflicts}/<conflict_id> (read the record)";
const REREAD: &str = "GET {resource} and GET {conflicts}/<conflict_id> (judge by state)";
const SUBSCRIBE: &str =
    "GET {conflicts}/stream?resource=<record's resource> (Accept: text/event-stream)";

/// Every rule of the `notifications` profile.
pub(in crate::rules) const RULES: [Rule; 16] = [
    Rule {
        id: RECORDED,
        level: Must,
        profile: Notifications,
        rfc: "RFC 9110 §13.1.1; RFC 9457 §3.2",
        summary: "A stale If-Match write is refused and recorded: the problem names conflict_id, and the record names the resource, based_on (the tag sent), current, kind, status, the rejected body and state open.",
        requires: &[],
        plan: &["GET {conflicts} (does the server keep a conflict log?)", PREPARE, STALE, RECORD, "GET {resource} (judge by state)"],
        check: record::conflict_recorded,
    },
    Rule {
        id: "notifications.log-filter",
        level: Must,
        profile: Notifications,
        rfc: "RFC 9110 §9.3.1 (query)",
        summary: "GET {conflicts}?resource=R lists every record of R and only records of R.",
        requires: &[RECORDED],
        plan: &["2 × (POST {collection}, PUT with If-Match)", "3 × PUT with a stale If-Match (2 on one document, 1 on the other)", "GET {conflicts}?resource=<each document's resource>"],
        check: record::log_filter,
    },
    Rule {
        id: DELIVERS,
        level: Must,
        profile: Notifications,
        rfc: "WHATWG HTML §9.2 Server-sent events",
        summary: "A subscriber filtered to a resource receives `event: conflict` with an id and the record as data when a write of that resource is refused, and nothing about other resources.",
        requires: &[RECORDED],
        plan: &["2 × (POST {collection}, PUT with If-Match)", STALE, SUBSCRIBE, "PUT the other document with a stale If-Match, then the first", "read the stream (at most 5 s)"],
        check: stream::stream_delivers,
    },
    Rule {
        id: "notifications.stream-prefix-filter",
        level: Must,
        profile: Notifications,
        rfc: "WHATWG HTML §9.2 Server-sent events; RFC 9110 §9.3.1 (query)",
        summary: "A subscriber filtered by prefix receives the conflicts of documents whose resource starts with it and none of others: prefix=<a's resource> hears a and not b, prefix=<their parent path> hears both.",
        requires: &[RECORDED, DELIVERS],
        plan: &["2 × (POST {collection}, PUT with If-Match): b, then a", "PUT a with a stale If-Match (learn its resource)", "GET {conflicts}/stream?prefix=<a's resource>", "GET {conflicts}/stream?prefix=<its parent path>", "PUT b, then a, with a stale If-Match", "read both streams (at most 5 s each)"],
        check: filters::stream_prefix_filter,
    },
    Rule {
        id: "notifications.stream-resume",
        level: Must,
        profile: Notifications,
        rfc: "WHATWG HTML §9.2.4 (Last-Event-ID)",
        summary: "A subscriber that reconnects with Last-Event-ID receives every event after it, in order, then live ones: none missing, none repeated.",
        requires: &[RECORDED, DELIVERS],
        plan: &[PREPARE, STALE, SUBSCRIBE, STALE, "read its event's id, disconnect", "2 × PUT with a stale If-Match (missed)", "GET {conflicts}/stream?resource=… with Last-Event-ID: <id>", STALE, "read the stream (at most 5 s)"],
        check: stream::stream_resume,
    },
    Rule {
        id: "notifications.stream-resume-query",
        level: Should,
        profile: Notifications,
        rfc: "WHATWG HTML §9.2.4 (Last-Event-ID)",
        summary: "A subscriber that cannot set headers resumes with ?last_event_id= and is treated as with Last-Event-ID: every event after it, in order, then live ones.",
        requires: &[RECORDED, DELIVERS],
        plan: &[PREPARE, STALE, SUBSCRIBE, STALE, "read its event's id, disconnect", "2 × PUT with a stale If-Match (missed)", "GET {conflicts}/stream?resource=…&last_event_id=<id> (no header)", STALE, "read the stream (at most 5 s)"],
        check: stream::stream_resume_query,
    },
    Rule {
        id: "notifications.stream-heartbeat",
        level: Should,
        profile: Notifications,
        rfc: "WHATWG HTML §9.2.7 (comments as keep-alive)",
        summary: "A stream with no events sends a comment (heartbeat) within the wait the run allows (--sse-wait, 20 s by default).",
        requires: &[RECORDED, DELIVERS],
        plan: &["GET {conflicts}/stream?resource=<a resource nobody writes>", "read until a comment arrives (at most --sse-wait)"],
        check: stream::stream_heartbeat,
    },
    Rule {
        id: "notifications.list-state-filter",
        level: Must,
        profile: Notifications,
        rfc: "RFC 9110 §9.3.1 (query)",
        summary: "GET {conflicts}?state=open lists an unresolved conflict and not a resolved one; state=resolved the reverse.",
        requires: &[RECORDED],
        plan: &["2 × (POST {collection}, PUT with If-Match, PUT with a stale If-Match)", "POST {conflicts}/<second>/resolve {\"resolution\": \"theirs\"}", "GET {conflicts}?resource=<first>&resource=<second>&state=open", "GET {conflicts}?resource=<first>&resource=<second>&state=resolved"],
        check: filters::list_state_filter,
    },
    Rule {
        id: "notifications.resolve-mine",
        level: Must,
        profile: Notifications,
        rfc: "RFC 9110 §13.1.1 (a resolution is a conditional write)",
        summary: "Resolving as \"mine\" writes the refused body as a new version, the record becomes resolved, and subscribers get `event: resolved`.",
        requires: &[RECORDED],
        plan: &[PREPARE, STALE, RECORD, SUBSCRIBE, "POST {conflicts}/<conflict_id>/resolve {\"resolution\": \"mine\"}", REREAD, "read the stream (at most 5 s)"],
        check: resolve::resolve_mine,
    },
    Rule {
        id: "notifications.resolve-theirs",
        level: Must,
        profile: Notifications,
        rfc: "RFC 9110 §13.1.1",
        summary: "Resolving as \"theirs\" writes nothing and the record becomes resolved.",
        requires: &[RECORDED],
        plan: &[PREPARE, STALE, RECORD, "POST {conflicts}/<conflict_id>/resolve {\"resolution\": \"theirs\"}", REREAD],
        check: resolve::resolve_theirs,
    },
    Rule {
        id: "notifications.resolve-merged",
        level: Must,
        profile: Notifications,
        rfc: "RFC 9110 §13.1.1",
        summary: "Resolving as \"merged\" writes the document sent as a new version and the record becomes resolved.",
        requires: &[RECORDED],
        plan: &[PREPARE, STALE, RECORD, "POST {conflicts}/<conflict_id>/resolve {\"resolution\": \"merged\", \"document\": {…}}", REREAD],
        check: resolve::resolve_merged,
    },
    Rule {
        id: "notifications.resolve-stale-refused",
        level: Must,
        profile: Notifications,
        rfc: "RFC 9110 §13.1.1",
        summary: "After the document changed again, resolving against the recorded version is refused with 412, changes nothing, and the conflict stays open.",
        requires: &[RECORDED],
        plan: &[PREPARE, STALE, RECORD, "PUT {resource} with If-Match: <current> (it changes again)", "POST {conflicts}/<conflict_id>/resolve {\"resolution\": \"mine\"}", REREAD],
        check: resolve::resolve_stale_refused,
    },
    Rule {
        id: "notifications.resolve-twice-409",
        level: Must,
        profile: Notifications,
        rfc: "RFC 9110 §15.5.10",
        summary: "Resolving a resolved conflict is refused with 409 and changes nothing.",
        requires: &[RECORDED],
        plan: &[PREPARE, STALE, RECORD, "POST {conflicts}/<conflict_id>/resolve {\"resolution\": \"theirs\"}", "POST {conflicts}/<conflict_id>/resolve {\"resolution\": \"mine\"}", REREAD],
        check: resolve::resolve_twice_409,
    },
    Rule {
        id: "notifications.resolve-requires-auth",
        level: Must,
        profile: Notifications,
        rfc: "RFC 9110 §11.6.1, §15.5.2; RFC 6750 §3",
        summary: "Resolving without credentials, or with an unknown token, answers 401 with WWW-Authenticate and changes nothing (needs --token).",
        requires: &[RECORDED],
        plan: &[PREPARE, STALE, RECORD, "POST {conflicts}/<conflict_id>/resolve without Authorization", "POST {conflicts}/<conflict_id>/resolve with an unknown bearer token", REREAD],
        check: auth::resolve_requires_auth,
    },
    Rule {
        id: "notifications.resolve-other-client-403",
        level: Must,
        profile: Notifications,
        rfc: "RFC 9110 §15.5.4",
        summary: "Another client may not resolve a client's conflict: 403, and nothing changes (needs --token and --other-token).",
        requires: &[RECORDED],
        plan: &[PREPARE, STALE, RECORD, "POST {conflicts}/<conflict_id>/resolve as the --other-token client", REREAD],
        check: auth::resolve_other_client_403,
    },
    Rule {
        id: "notifications.resolve-admin",
        level: Must,
        profile: Notifications,
        rfc: "RFC 9110 §15.3.1",
        summary: "An admin may resolve another client's conflict (needs --token and --admin-token).",
        requires: &[RECORDED],
        plan: &[PREPARE, STALE, RECORD, "POST {conflicts}/<conflict_id>/resolve {\"resolution\": \"mine\"} as the --admin-token client", REREAD],
        check: auth::resolve_admin,
    },
];
