//! Precondition evaluation (RFC 9110 §13.2.2), free of I/O.

use crate::etag::{Condition, EntityTag};
use crate::storage::version_of;

/// What the target resource looks like at evaluation time.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Current<'a> {
    /// No current representation.
    Missing,
    /// A resource that exists but has no entity tag (the `/items` collection).
    Untagged,
    /// A representation with this tag.
    Tagged(&'a EntityTag),
}

/// The conditional fields a request carried.
#[derive(Debug, Clone, Default)]
pub(crate) struct Preconditions {
    /// `If-Match`.
    pub(crate) if_match: Option<Condition>,
    /// `If-None-Match`.
    pub(crate) if_none_match: Option<Condition>,
    /// The `version` member of a v2 write body: the version number the write is based on,
    /// `0` for "must not exist".
    pub(crate) if_version: Option<u64>,
}

/// The outcome of evaluating the preconditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Perform the method.
    Proceed,
    /// `If-None-Match` matched on GET/HEAD: answer 304.
    NotModified,
    /// `If-Match` was false.
    IfMatchFailed,
    /// `If-Match` was false because it listed only weak tags, which strong comparison never
    /// matches; told apart so the answer can say so.
    WeakIfMatch,
    /// `If-None-Match` matched on a method other than GET/HEAD.
    IfNoneMatchFailed,
    /// The body's `version` (not 0) is not the current version (or there is none).
    VersionMismatch,
    /// The body's `version` is 0 ("must not exist") and the document exists.
    VersionExists,
}

/// Whether the method is GET or HEAD, which turns a matching `If-None-Match` into 304.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    /// GET or HEAD.
    Read,
    /// Any state-changing method.
    Write,
}

impl Preconditions {
    /// Whether the request carried neither `If-Match` nor `If-None-Match` nor a body `version`.
    pub(crate) fn is_unconditional(&self) -> bool {
        self.if_match.is_none() && self.if_none_match.is_none() && self.if_version.is_none()
    }

    /// Evaluates in the RFC 9110 §13.2.2 order: `If-Match` first, then `If-None-Match`; a
    /// body `version` sits with `If-Match` (it is one), right after it.
    /// The date-based conditions are not evaluated because the server has no `Last-Modified`.
    pub(crate) fn evaluate(&self, current: Current<'_>, method: Method) -> Verdict {
        if let Some(condition) = &self.if_match {
            if !if_match_holds(condition, current) {
                let weak_only = matches!(condition, Condition::Tags(tags) if tags.iter().all(EntityTag::is_weak));
                return match current {
                    Current::Tagged(_) if weak_only => Verdict::WeakIfMatch,
                    _ => Verdict::IfMatchFailed,
                };
            }
        }
        if let Some(version) = self.if_version {
            if let Some(verdict) = version_fails(version, current) {
                return verdict;
            }
        }
        if let Some(condition) = &self.if_none_match {
            if !if_none_match_holds(condition, current) {
                return match method {
                    Method::Read => Verdict::NotModified,
                    Method::Write => Verdict::IfNoneMatchFailed,
                };
            }
        }
        Verdict::Proceed
    }
}

fn if_match_holds(condition: &Condition, current: Current<'_>) -> bool {
    match (condition, current) {
        (_, Current::Missing) => false,
        (Condition::Any, _) => true,
        (Condition::Tags(_), Current::Untagged) => false,
        // A weak tag never passes strong comparison, so `W/"x"` always fails here.
        (Condition::Tags(tags), Current::Tagged(etag)) => tags.iter().any(|t| t.strong_eq(etag)),
    }
}

/// Why a body `version` fails against `current`, if it does. `0` means "must not exist": it
/// holds for a missing document and for the collection (a `POST` creates a new document).
fn version_fails(version: u64, current: Current<'_>) -> Option<Verdict> {
    match (version, current) {
        (0, Current::Missing | Current::Untagged) => None,
        (0, Current::Tagged(_)) => Some(Verdict::VersionExists),
        (n, Current::Tagged(etag)) if version_of(etag.opaque()) == Some(n) => None,
        _ => Some(Verdict::VersionMismatch),
    }
}

fn if_none_match_holds(condition: &Condition, current: Current<'_>) -> bool {
    match (condition, current) {
        (_, Current::Missing) => true,
        (Condition::Any, _) => false,
        (Condition::Tags(_), Current::Untagged) => true,
        (Condition::Tags(tags), Current::Tagged(etag)) => !tags.iter().any(|t| t.weak_eq(etag)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(text: &str) -> Option<Condition> {
        Some(Condition::parse(text.as_bytes()).expect("valid condition"))
    }

    fn pre(if_match: &str, if_none_match: &str) -> Preconditions {
        Preconditions {
            if_match: (!if_match.is_empty()).then(|| cond(if_match)).flatten(),
            if_none_match: (!if_none_match.is_empty())
                .then(|| cond(if_none_match))
                .flatten(),
            if_version: None,
        }
    }

    fn tag(text: &str) -> EntityTag {
        EntityTag::parse(text).unwrap()
    }

    #[test]
    fn unconditional_request_proceeds_whatever_the_state() {
        let etag = tag(r#""v1""#);
        for current in [Current::Missing, Current::Untagged, Current::Tagged(&etag)] {
            assert_eq!(
                pre("", "").evaluate(current, Method::Write),
                Verdict::Proceed
            );
        }
    }

    #[test]
    fn if_match_uses_strong_comparison() {
        let etag = tag(r#""v1""#);
        let current = Current::Tagged(&etag);
        assert_eq!(
            pre(r#""v1""#, "").evaluate(current, Method::Write),
            Verdict::Proceed
        );
        assert_eq!(
            pre(r#""v0", "v1""#, "").evaluate(current, Method::Write),
            Verdict::Proceed
        );
        assert_eq!(
            pre(r#""v0""#, "").evaluate(current, Method::Write),
            Verdict::IfMatchFailed
        );
        assert_eq!(
            pre(r#"W/"v1""#, "").evaluate(current, Method::Write),
            Verdict::WeakIfMatch
        );
        assert_eq!(
            pre(r#"W/"v1", "v0""#, "").evaluate(current, Method::Write),
            Verdict::IfMatchFailed
        );
    }

    #[test]
    fn if_match_star_requires_an_existing_representation() {
        let etag = tag(r#""v1""#);
        assert_eq!(
            pre("*", "").evaluate(Current::Tagged(&etag), Method::Write),
            Verdict::Proceed
        );
        assert_eq!(
            pre("*", "").evaluate(Current::Missing, Method::Write),
            Verdict::IfMatchFailed
        );
        assert_eq!(
            pre(r#""v1""#, "").evaluate(Current::Missing, Method::Write),
            Verdict::IfMatchFailed
        );
    }

    #[test]
    fn if_none_match_uses_weak_comparison_and_depends_on_method() {
        let etag = tag(r#""v1""#);
        let current = Current::Tagged(&etag);
        assert_eq!(
            pre("", r#"W/"v1""#).evaluate(current, Method::Read),
            Verdict::NotModified
        );
        assert_eq!(
            pre("", r#""v1""#).evaluate(current, Method::Write),
            Verdict::IfNoneMatchFailed
        );
        assert_eq!(
            pre("", r#""v2""#).evaluate(current, Method::Read),
            Verdict::Proceed
        );
    }

    #[test]
    fn if_none_match_star_creates_only_when_absent() {
        let etag = tag(r#""v1""#);
        assert_eq!(
            pre("", "*").evaluate(Current::Missing, Method::Write),
            Verdict::Proceed
        );
        assert_eq!(
            pre("", "*").evaluate(Current::Tagged(&etag), Method::Write),
            Verdict::IfNoneMatchFailed
        );
    }

    #[test]
    fn if_match_is_evaluated_before_if_none_match() {
        let etag = tag(r#""v1""#);
        assert_eq!(
            pre(r#""v0""#, r#""v1""#).evaluate(Current::Tagged(&etag), Method::Read),
            Verdict::IfMatchFailed
        );
    }

    #[test]
    fn untagged_collection_accepts_only_star() {
        assert_eq!(
            pre("*", "").evaluate(Current::Untagged, Method::Write),
            Verdict::Proceed
        );
        assert_eq!(
            pre(r#""x""#, "").evaluate(Current::Untagged, Method::Write),
            Verdict::IfMatchFailed
        );
        assert_eq!(
            pre("", "*").evaluate(Current::Untagged, Method::Write),
            Verdict::IfNoneMatchFailed
        );
    }

    #[test]
    fn a_body_version_works_like_if_match_and_zero_like_if_none_match_star() {
        let current = tag("\"e-7\"");
        let with = |version| Preconditions {
            if_version: Some(version),
            ..Preconditions::default()
        };
        let tagged = Current::Tagged(&current);
        assert!(!with(7).is_unconditional());
        assert_eq!(with(7).evaluate(tagged, Method::Write), Verdict::Proceed);
        assert_eq!(
            with(6).evaluate(tagged, Method::Write),
            Verdict::VersionMismatch
        );
        assert_eq!(
            with(0).evaluate(tagged, Method::Write),
            Verdict::VersionExists
        );
        assert_eq!(
            with(0).evaluate(Current::Missing, Method::Write),
            Verdict::Proceed
        );
        assert_eq!(
            with(0).evaluate(Current::Untagged, Method::Write),
            Verdict::Proceed
        );
        assert_eq!(
            with(7).evaluate(Current::Missing, Method::Write),
            Verdict::VersionMismatch
        );
        assert_eq!(
            with(7).evaluate(Current::Untagged, Method::Write),
            Verdict::VersionMismatch
        );
        let both = Preconditions {
            if_version: Some(7),
            ..pre("\"e-6\"", "")
        };
        assert_eq!(both.evaluate(tagged, Method::Write), Verdict::IfMatchFailed);
        let both = Preconditions {
            if_version: Some(6),
            ..pre("\"e-7\"", "")
        };
        assert_eq!(
            both.evaluate(tagged, Method::Write),
            Verdict::VersionMismatch
        );
    }
}
