//! The opt-in `require-preconditions` and `rate-limit` profiles' rules.

use super::super::Level::{Must, Should};
use super::super::Profile::{RateLimit, RequirePreconditions};
use super::super::{rate_limit, require, Rule};
use super::{CREATE, READ, REREAD, STRONG};

/// Unconditional writes answer 428.
pub(super) const REQUIRE_PRECONDITIONS: [Rule; 4] = [
    Rule {
        id: "require-preconditions.put-428",
        level: Must,
        profile: RequirePreconditions,
        rfc: "RFC 6585 §3",
        summary: "An unconditional PUT to an existing resource answers 428 and changes nothing.",
        requires: &[STRONG],
        plan: &[
            CREATE,
            READ,
            READ,
            "PUT {resource} without preconditions",
            REREAD,
        ],
        check: require::put_428,
    },
    Rule {
        id: "require-preconditions.patch-428",
        level: Must,
        profile: RequirePreconditions,
        rfc: "RFC 6585 §3",
        summary: "An unconditional PATCH answers 428 and changes nothing.",
        requires: &[STRONG],
        plan: &[
            CREATE,
            READ,
            READ,
            "PATCH {resource} without preconditions",
            REREAD,
        ],
        check: require::patch_428,
    },
    Rule {
        id: "require-preconditions.delete-428",
        level: Must,
        profile: RequirePreconditions,
        rfc: "RFC 6585 §3",
        summary: "An unconditional DELETE answers 428 and the resource stays.",
        requires: &[STRONG],
        plan: &[
            CREATE,
            READ,
            READ,
            "DELETE {resource} without preconditions",
            REREAD,
        ],
        check: require::delete_428,
    },
    Rule {
        id: "require-preconditions.names-if-match",
        level: Should,
        profile: RequirePreconditions,
        rfc: "RFC 6585 §3",
        summary: "The 428 body explains how to resubmit: it names If-Match.",
        requires: &["require-preconditions.put-428"],
        plan: &[CREATE, READ, "PUT {resource} without preconditions"],
        check: require::names_if_match,
    },
];

/// A burst meets 429; these rules run last, so their burst cannot disturb the others.
pub(super) const RATE_LIMIT: [Rule; 4] = [
    Rule {
        id: "rate-limit.retry-after",
        level: Must,
        profile: RateLimit,
        rfc: "RFC 6585 §4, RFC 9110 §10.2.3",
        summary: "A burst meets 429 with Retry-After as delay-seconds or an HTTP-date (skipped if no 429 within 300 requests).",
        requires: &[],
        plan: &["up to 300 × GET {collection} within 10 s, until a 429"],
        check: rate_limit::retry_after,
    },
    Rule {
        id: "rate-limit.fields-consistent",
        level: Should,
        profile: RateLimit,
        rfc: "draft-ietf-httpapi-ratelimit-headers",
        summary: "RateLimit fields, when sent, parse and agree with Retry-After (r=0, t within 1 s).",
        requires: &[],
        plan: &["up to 300 × GET {collection} within 10 s, until a 429"],
        check: rate_limit::fields_consistent,
    },
    Rule {
        id: "rate-limit.problem-json",
        level: Must,
        profile: RateLimit,
        rfc: "RFC 9457 §3, RFC 6585 §4",
        summary: "The 429 body is application/problem+json with status 429.",
        requires: &[],
        plan: &["up to 300 × GET {collection} within 10 s, until a 429"],
        check: rate_limit::problem_json,
    },
    Rule {
        id: "rate-limit.recovers",
        level: Should,
        profile: RateLimit,
        rfc: "RFC 6585 §4, RFC 9110 §10.2.3",
        summary: "After waiting as long as Retry-After says (capped at 10 s), the request is served.",
        requires: &["rate-limit.retry-after"],
        plan: &["up to 300 × GET {collection} within 10 s, until a 429", "wait Retry-After", "GET {collection}"],
        check: rate_limit::recovers,
    },
];
