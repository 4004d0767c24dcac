//! The `errors` profile: error bodies have the format `[errors] format` declares
//! (RFC 9457 problem+json by default). Good practice, not the conflict contract
//! itself, so it is a profile of its own.

use super::super::Level::{Must, Should};
use super::super::Profile::Errors;
use super::super::{problem, Rule};
use super::{CREATE, READ};

const MEDIA_TYPE: &str = "errors.problem.media-type";

const PROVOKE: &[&str] = &[
    "GET {fresh}",
    CREATE,
    READ,
    "PUT {resource} with If-Match: <not current>",
    "PUT {resource} with a malformed JSON body",
];

/// Error bodies: problem+json (or the declared format).
pub(super) const ERRORS: [Rule; 3] = [
    Rule {
        id: MEDIA_TYPE,
        level: Must,
        profile: Errors,
        rfc: "RFC 9457 §3",
        summary: "Error responses (404, 412/409, 400) are application/problem+json (any JSON with [errors] format = \"json\").",
        requires: &[],
        plan: PROVOKE,
        check: problem::media_type,
    },
    Rule {
        id: "errors.problem.status-member",
        level: Must,
        profile: Errors,
        rfc: "RFC 9457 §3.1.2",
        summary: "A problem's status member equals the HTTP status code.",
        requires: &[MEDIA_TYPE],
        plan: PROVOKE,
        check: problem::status_member,
    },
    Rule {
        id: "errors.problem.type-uri",
        level: Should,
        profile: Errors,
        rfc: "RFC 9457 §3.1.1",
        summary: "A problem names its kind with a type URI.",
        requires: &[MEDIA_TYPE],
        plan: PROVOKE,
        check: problem::type_member,
    },
];
