//! The opt-in `idempotency` profile's rules (draft-ietf-httpapi-idempotency-key-header-07).

use super::super::idempotency;
use super::super::Level::{Info, Must};
use super::super::Profile::Idempotency;
use super::super::Rule;
use super::{CREATE, READ, REREAD, STRONG};

const DRAFT: &str = "draft-ietf-httpapi-idempotency-key-header-07 §2";

/// Keyed writes are applied once and replayed; a reused key is refused.
pub(super) const IDEMPOTENCY: [Rule; 4] = [
    Rule {
        id: "idempotency.replay-create",
        level: Must,
        profile: Idempotency,
        rfc: DRAFT,
        summary: "A create sent twice with the same Idempotency-Key is answered the same both times and creates one resource.",
        requires: &[],
        plan: &[
            "POST {collection} with Idempotency-Key: K (create)",
            "POST {collection} with Idempotency-Key: K (the same request again)",
        ],
        check: idempotency::replay_create,
    },
    Rule {
        id: "idempotency.replay-conditional-write",
        level: Must,
        profile: Idempotency,
        rfc: DRAFT,
        summary: "A conditional PUT sent twice with the same Idempotency-Key is answered the same both times (not refused by its own new version) and applied once.",
        requires: &[STRONG],
        plan: &[
            CREATE,
            READ,
            "PUT {resource} with If-Match: <current ETag> and Idempotency-Key: K",
            REREAD,
            "PUT {resource}, the same request again",
            REREAD,
        ],
        check: idempotency::replay_conditional_write,
    },
    Rule {
        id: "idempotency.key-reuse-422",
        level: Must,
        profile: Idempotency,
        rfc: DRAFT,
        summary: "The same Idempotency-Key on a different request answers 422 and changes nothing.",
        requires: &[STRONG],
        plan: &[
            CREATE,
            READ,
            "PUT {resource} with If-Match: <current ETag> and Idempotency-Key: K",
            REREAD,
            "PUT {resource} with another body, If-Match: <new ETag> and Idempotency-Key: K",
            REREAD,
        ],
        check: idempotency::reuse_422,
    },
    Rule {
        id: "idempotency.concurrent",
        level: Info,
        profile: Idempotency,
        rfc: DRAFT,
        summary: "Reports what two identical keyed creates sent at once meet (409 for the one in flight, or a replay).",
        requires: &[],
        plan: &[
            "POST {collection} with Idempotency-Key: K, twice at once",
        ],
        check: idempotency::concurrent,
    },
];
