//! Telling a version conflict (recoverable by re-reading) from other refusals.

use crate::{EntityTag, Problem};

/// A refused write that lost a version race.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct VersionConflict {
    pub status: u16,
    /// The current validator, from the problem body or else the `ETag` header.
    pub current_etag: Option<EntityTag>,
}

/// 412 always means the precondition the client sent failed. A 409 is a version conflict only
/// when the problem body says so (its type or a `current_etag` member); any other 409 (a duplicate
/// key, a business rule) would fail again on retry, so it is never treated as one.
pub(crate) fn classify(
    status: u16,
    problem: Option<&Problem>,
    etag_header: Option<&EntityTag>,
) -> Option<VersionConflict> {
    let current_etag = || {
        problem
            .and_then(|p| p.current_etag.clone())
            .or_else(|| etag_header.cloned())
    };
    match status {
        412 => Some(VersionConflict {
            status,
            current_etag: current_etag(),
        }),
        409 if problem.is_some_and(Problem::is_version_conflict) => Some(VersionConflict {
            status,
            current_etag: current_etag(),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(json: &str) -> Problem {
        Problem::from_json(json.as_bytes()).unwrap()
    }

    #[test]
    fn precondition_failed_is_always_a_version_conflict() {
        let etag = EntityTag::strong("9").unwrap();
        assert_eq!(
            classify(412, None, Some(&etag)),
            Some(VersionConflict {
                status: 412,
                current_etag: Some(etag)
            })
        );
    }

    #[test]
    fn conflict_with_version_type_or_current_etag_is_a_version_conflict() {
        let typed = problem(r#"{"type":"urn:ifmatch:problem:version-conflict"}"#);
        assert!(classify(409, Some(&typed), None).is_some());
        let with_etag = problem(r#"{"type":"about:blank","current_etag":"\"3\""}"#);
        assert_eq!(
            classify(409, Some(&with_etag), None).unwrap().current_etag,
            Some(EntityTag::strong("3").unwrap())
        );
    }

    #[test]
    fn other_conflicts_are_not_retried() {
        let duplicate = problem(r#"{"type":"urn:example:duplicate-name","status":409}"#);
        assert_eq!(classify(409, Some(&duplicate), None), None);
        assert_eq!(
            classify(409, None, Some(&EntityTag::strong("1").unwrap())),
            None
        );
        assert_eq!(classify(400, None, None), None);
    }

    #[test]
    fn problem_etag_wins_over_header() {
        let p = problem(r#"{"current_etag":"\"body\""}"#);
        let header = EntityTag::strong("header").unwrap();
        assert_eq!(
            classify(412, Some(&p), Some(&header))
                .unwrap()
                .current_etag
                .unwrap()
                .opaque(),
            "body"
        );
    }
}
