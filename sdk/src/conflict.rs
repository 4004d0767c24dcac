//! Telling a version conflict (recoverable by re-reading) from other refusals.

use serde_json::Value;

use crate::{EntityTag, Problem};

/// A refused write that lost a version race.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct VersionConflict {
    pub status: u16,
    /// The current validator, from the problem body or else the `ETag` header.
    pub current_etag: Option<EntityTag>,
}

/// 412 always means the precondition the client sent failed. Its current validator is the one
/// the refusal's body names (`current_etag`): an `ETag` header on a refusal is not trusted,
/// since some servers send a hash of the error page there; without the body's word the caller
/// reads the resource again. A 409 is a version conflict only
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
            .filter(|named| etag_header.is_none_or(|header| header == named))
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

/// Whether a 409 body says, in a well-known API's words, that the write's version was stale:
/// Kubernetes' `Status` with reason `Conflict`, CouchDB's `{"error":"conflict"}`, GitHub's
/// contents API (`"… does not match …"`, `"is at … but expected …"`), and S3's
/// `ConditionalRequestConflict` / `OperationAborted` (XML). Other 409s (a name taken, a
/// business rule, Kubernetes' `AlreadyExists`) are not: they would fail again on retry.
pub(crate) fn names_version_conflict(body: &[u8]) -> bool {
    let Ok(Value::Object(doc)) = serde_json::from_slice::<Value>(body) else {
        let text = std::str::from_utf8(body).unwrap_or_default();
        return text.contains("<Code>ConditionalRequestConflict</Code>")
            || text.contains("<Code>OperationAborted</Code>");
    };
    let text = |key: &str| doc.get(key).and_then(Value::as_str).unwrap_or_default();
    let message = text("message");
    (text("kind") == "Status" && text("reason") == "Conflict")
        || text("error") == "conflict"
        || message.contains("does not match")
        || (message.contains("is at ") && message.contains(" but expected "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_409_bodies_name_a_version_conflict_and_others_do_not() {
        for stale in [
            r#"{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Conflict","code":409}"#,
            r#"{"error":"conflict","reason":"Document update conflict."}"#,
            r#"{"message":"README.md does not match 3d21ec53a331a6f037a91c368710b99387d012c1","documentation_url":"https://docs.github.com/rest"}"#,
            r#"{"message":"is at 3d21ec53 but expected 6113728f"}"#,
            "<?xml version=\"1.0\"?><Error><Code>ConditionalRequestConflict</Code><Message>A conflicting operation occurred.</Message></Error>",
        ] {
            assert!(names_version_conflict(stale.as_bytes()), "{stale}");
        }
        for other in [
            r#"{"kind":"Status","reason":"AlreadyExists","code":409}"#,
            r#"{"error":"file_exists","reason":"The database could not be created."}"#,
            r#"{"message":"name already taken"}"#,
            r#"{"type":"urn:example:duplicate","title":"taken"}"#,
            "<html><body>409 Conflict</body></html>",
            "<Error><Code>BucketAlreadyExists</Code></Error>",
            "",
        ] {
            assert!(!names_version_conflict(other.as_bytes()), "{other}");
        }
    }

    #[test]
    fn an_etag_header_on_a_refusal_is_trusted_only_when_the_body_names_it() {
        let bogus = EntityTag::strong("hash-of-the-error-page").unwrap();
        assert_eq!(
            classify(412, None, Some(&bogus), None)
                .unwrap()
                .current_etag,
            None,
            "a header alone is re-read, not trusted"
        );
        let p = problem(r#"{"current_etag":"\"v9\""}"#);
        assert_eq!(
            classify(412, Some(&p), Some(&bogus), None)
                .unwrap()
                .current_etag,
            None,
            "the body and the header disagree: trust neither"
        );
        let v9 = EntityTag::strong("v9").unwrap();
        assert_eq!(
            classify(412, Some(&p), Some(&v9), None)
                .unwrap()
                .current_etag,
            Some(v9.clone())
        );
        assert_eq!(
            classify(412, Some(&p), None, None).unwrap().current_etag,
            Some(v9)
        );
    }

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
                current_etag: None
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
}
