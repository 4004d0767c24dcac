//! Credentials refused, and the conflict records a refusal names.

use http::StatusCode;
use serde_json::Value;

use super::Error;

impl Error {
    /// Whether the server answered 401 Unauthorized: no valid credentials were sent (code
    /// `unauthorized`).
    pub fn is_unauthorized(&self) -> bool {
        matches!(self.leaf(), Self::Auth { status, .. } if *status == StatusCode::UNAUTHORIZED)
    }

    /// Whether the server answered 403 Forbidden: the credentials are valid but may not do this
    /// (code `forbidden`).
    pub fn is_forbidden(&self) -> bool {
        matches!(self.leaf(), Self::Auth { status, .. } if *status == StatusCode::FORBIDDEN)
    }

    /// The id of the conflict record the server kept of this refusal (the problem's
    /// `conflict_id` member, e.g. `c-12`), for [`crate::Conflicts::resolve`] or
    /// [`crate::Conflicts::get`]: set on refused writes ([`Error::Conflict`], [`Error::Locked`],
    /// [`Error::TransactionConflict`], a failed batch operation) by a server that records
    /// conflicts.
    pub fn conflict_id(&self) -> Option<&str> {
        self.problem_member("conflict_id")
    }

    /// Where that record is (the problem's `conflict_url` member, e.g. `/conflicts/c-12`, as the
    /// server wrote it: a path on the server).
    pub fn conflict_url(&self) -> Option<&str> {
        self.problem_member("conflict_url")
    }

    fn problem_member(&self, name: &str) -> Option<&str> {
        self.problem()?.extensions.get(name).and_then(Value::as_str)
    }
}
