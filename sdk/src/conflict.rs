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
/// when the problem body says so: its type, or a `current_etag` member that differs from the
/// `If-Match` tag the write was sent with (`sent_tag`). Any other 409 (a duplicate key, a
/// business rule; a body that merely repeats the version the client sent) would fail again on
/// retry, so it is never treated as one.
pub(crate) fn classify(
    status: u16,
    problem: Option<&Problem>,
    etag_header: Option<&EntityTag>,
    sent_tag: Option<&EntityTag>,
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
        409 if problem.is_some_and(|p| {
            p.is_version_conflict() || names_another_version(p.current_etag.as_ref(), sent_tag)
        }) =>
        {
            Some(VersionConflict {
                status,
                current_etag: current_etag(),
            })
        }
        _ => None,
    }
}

/// Whether a 409 names a current version other than the one the write was conditional on.
fn names_another_version(current: Option<&EntityTag>, sent: Option<&EntityTag>) -> bool {
    matches!((current, sent), (Some(current), Some(sent)) if !current.strong_eq(sent))
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
            classify(412, None, Some(&etag), None),
            Some(VersionConflict {
                status: 412,
                current_etag: Some(etag)
            })
        );
    }

    #[test]
    fn conflict_with_version_type_or_another_current_etag_is_a_version_conflict() {
        let typed = problem(r#"{"type":"urn:ifmatch:problem:version-conflict"}"#);
        assert!(classify(409, Some(&typed), None, None).is_some());
        let with_etag = problem(r#"{"type":"about:blank","current_etag":"\"3\""}"#);
        let sent = EntityTag::strong("2").unwrap();
        assert_eq!(
            classify(409, Some(&with_etag), None, Some(&sent))
                .unwrap()
                .current_etag,
            Some(EntityTag::strong("3").unwrap())
        );
    }

    #[test]
    fn a_409_repeating_the_sent_version_or_answering_an_unversioned_write_is_not_one() {
        let business = problem(r#"{"title":"name taken","current_etag":"\"3\""}"#);
        let sent = EntityTag::strong("3").unwrap();
        assert_eq!(classify(409, Some(&business), None, Some(&sent)), None);
        assert_eq!(classify(409, Some(&business), None, None), None);
    }

    #[test]
    fn other_conflicts_are_not_retried() {
        let duplicate = problem(r#"{"type":"urn:example:duplicate-name","status":409}"#);
        assert_eq!(classify(409, Some(&duplicate), None, None), None);
        assert_eq!(
            classify(409, None, Some(&EntityTag::strong("1").unwrap()), None),
            None
        );
        assert_eq!(classify(400, None, None, None), None);
    }

    #[test]
    fn problem_etag_wins_over_header() {
        let p = problem(r#"{"current_etag":"\"body\""}"#);
        let header = EntityTag::strong("header").unwrap();
        assert_eq!(
            classify(412, Some(&p), Some(&header), None)
                .unwrap()
                .current_etag
                .unwrap()
                .opaque(),
            "body"
        );
    }
}
