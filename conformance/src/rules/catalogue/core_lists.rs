//! The `core` rules about lists of entity tags, weak comparison in
//! `If-None-Match`, the 412 for a missing resource, and the current representation
//! a refusal carries on request; checked after the rest of `core`, whose rules they
//! build on.

use super::super::Level::{Must, Should};
use super::super::Profile::Core;
use super::super::{precedence, representation, tag_lists, Rule};
use super::{CREATE, CURRENT_PUT, READ, REREAD, STRONG};

/// Judged only where a plain `If-None-Match` with the current ETag works.
const NOT_MODIFIED: &str = "core.if-none-match.not-modified";

/// Lists and weak comparison in conditional requests.
pub(super) const CORE_LISTS: [Rule; 5] = [
    Rule {
        id: "core.if-none-match.weak-comparison",
        level: Must,
        profile: Core,
        rfc: "RFC 9110 §13.1.2, §8.8.3.2",
        summary: "GET with If-None-Match: W/<current opaque> answers 304: If-None-Match compares weakly.",
        requires: &[STRONG, NOT_MODIFIED],
        plan: &[
            CREATE,
            READ,
            "GET {resource} with If-None-Match: W/<current opaque>",
        ],
        check: tag_lists::inm_weak_comparison,
    },
    Rule {
        id: "core.if-none-match.list",
        level: Must,
        profile: Core,
        rfc: "RFC 9110 §13.1.2",
        summary: "GET with If-None-Match: \"other\", <current ETag> answers 304: any listed tag matching is enough.",
        requires: &[STRONG, NOT_MODIFIED],
        plan: &[
            CREATE,
            READ,
            "GET {resource} with If-None-Match: \"other\", <current ETag>",
        ],
        check: tag_lists::inm_list,
    },
    Rule {
        id: "core.if-match.list",
        level: Must,
        profile: Core,
        rfc: "RFC 9110 §13.1.1",
        summary: "PUT with If-Match: \"bogus\", <current ETag> succeeds and stores the body: any listed tag matching is enough.",
        requires: &[STRONG, CURRENT_PUT],
        plan: &[
            CREATE,
            READ,
            "PUT {resource} with If-Match: \"bogus\", <current ETag>",
            REREAD,
        ],
        check: tag_lists::if_match_list,
    },
    Rule {
        id: "core.precondition.missing-412-no-etag",
        level: Should,
        profile: Core,
        rfc: "RFC 9110 §13.1.1, §8.8.3",
        summary: "A 412 for a missing resource names no ETag: there is no current representation to name.",
        requires: &[],
        plan: &["PUT {fresh} with If-Match: <some tag>"],
        check: precedence::missing_412_no_etag,
    },
    Rule {
        id: "core.conflict.representation",
        level: Should,
        profile: Core,
        rfc: "RFC 7240 §4.2, RFC 9457 §3.2",
        summary: "Asked with Prefer: return=representation, a 412/409 refusal carries the current document (problem member current).",
        requires: &[],
        plan: &[
            CREATE,
            READ,
            "PUT {resource} with If-Match: <not current> and Prefer: return=representation",
            REREAD,
        ],
        check: representation::conflict_representation,
    },
];
