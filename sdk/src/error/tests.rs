//! Every message says what happened, to what, and what to do next (snapshot-reviewed).

use std::{error::Error as _, time::Duration};

use http::{Method, StatusCode};
use serde_json::json;

use super::*;

const URL: &str = "http://127.0.0.1:8080/items/1";
const BATCH_URL: &str = "http://127.0.0.1:8080/batch";
const TX_URL: &str = "http://127.0.0.1:8080/transactions/tx-9";
const CONFLICT_URL: &str = "http://127.0.0.1:8080/conflicts/c-12";

fn problem(body: serde_json::Value) -> Option<Box<Problem>> {
    Problem::from_json(body.to_string().as_bytes()).map(Box::new)
}

fn all_errors() -> Vec<Error> {
    let url = || URL.to_owned();
    let status = |code| StatusCode::from_u16(code).unwrap();
    vec![
        Error::InvalidUrl {
            input: "/items".into(),
            reason: "a relative path needs a base URL".into(),
        },
        Error::Config {
            field: "attempt_timeout",
            reason: "a zero timeout would fail every request".into(),
        },
        "abc".parse::<EntityTag>().unwrap_err(),
        Error::Transport {
            method: Method::GET,
            url: url(),
            source: "connection refused".into(),
        },
        Error::Transport {
            method: Method::PUT,
            url: url(),
            source: "connection reset".into(),
        },
        Error::Status {
            method: Method::DELETE,
            url: url(),
            status: status(404),
            problem: problem(json!({"title": "Not Found"})),
        },
        Error::Status {
            method: Method::PUT,
            url: url(),
            status: status(409),
            problem: problem(json!({"detail": "name already taken"})),
        },
        Error::Status {
            method: Method::PUT,
            url: url(),
            status: status(428),
            problem: None,
        },
        Error::Conflict {
            method: Method::PUT,
            url: url(),
            status: status(412),
            attempts: 1,
            create_only: false,
            current_etag: Some(EntityTag::strong("v8").unwrap()),
            problem: None,
            ended_update: None,
        },
        Error::Conflict {
            method: Method::PUT,
            url: url(),
            status: status(409),
            attempts: 5,
            create_only: false,
            current_etag: None,
            problem: None,
            ended_update: Some(UpdateEnd::OutOfAttempts),
        },
        Error::Conflict {
            method: Method::PUT,
            url: url(),
            status: status(412),
            attempts: 3,
            create_only: false,
            current_etag: None,
            problem: None,
            ended_update: Some(UpdateEnd::OutOfTime),
        },
        Error::Conflict {
            method: Method::PUT,
            url: url(),
            status: status(412),
            attempts: 1,
            create_only: false,
            current_etag: None,
            problem: None,
            ended_update: Some(UpdateEnd::Escalated),
        },
        Error::Conflict {
            method: Method::PUT,
            url: url(),
            status: status(412),
            attempts: 1,
            create_only: true,
            current_etag: None,
            problem: None,
            ended_update: None,
        },
        Error::MergeConflict {
            url: url(),
            paths: vec!["/title".into(), "/tags".into()],
        },
        Error::Aborted {
            url: url(),
            current: Box::new(json!({"n": 8})),
            etag: Some(EntityTag::strong("v8").unwrap()),
        },
        Error::RateLimited {
            method: Method::GET,
            url: url(),
            status: status(429),
            attempts: 3,
            retry_after: Some(Duration::from_secs(2)),
            problem: None,
        },
        Error::Unavailable {
            method: Method::POST,
            url: url(),
            status: status(503),
            attempts: 1,
            retry_after: None,
            problem: None,
        },
        Error::Unavailable {
            method: Method::GET,
            url: url(),
            status: status(503),
            attempts: 3,
            retry_after: Some(Duration::from_secs(1)),
            problem: None,
        },
        Error::Timeout {
            what: format!("GET {URL}"),
            url: url(),
            read_only: true,
            after: Duration::from_secs(30),
            scope: TimeoutScope::Attempt,
        },
        Error::Timeout {
            what: format!("update of {URL}"),
            url: url(),
            read_only: false,
            after: Duration::from_secs(60),
            scope: TimeoutScope::Operation,
        },
        Error::Redirected {
            method: Method::POST,
            url: url(),
            status: Some(status(302)),
            location: Some("http://127.0.0.1:8080/items/".into()),
        },
        Error::Redirected {
            method: Method::PUT,
            url: url(),
            status: None,
            location: None,
        },
        Error::OutcomeUnknown {
            method: Method::PUT,
            url: url(),
            status: status(412),
            reason: "the stored state differs from what was sent".into(),
        },
        Error::Locked {
            method: Method::PUT,
            url: url(),
            retry_after: Some(Duration::from_secs(12)),
            problem: problem(json!({"type": "urn:ifmatch:problem:locked", "owner": "worker-2"})),
            commit: None,
        },
        Error::Locked {
            method: Method::POST,
            url: url(),
            retry_after: Some(Duration::from_secs(12)),
            problem: problem(
                json!({"type": "urn:ifmatch:problem:locked", "owner": "worker-2", "path": "/items/1"}),
            ),
            commit: Some(format!("{TX_URL}/commit")),
        },
        Error::LockLost {
            url: url(),
            reason: "another client holds it now".into(),
        },
        Error::RetryAfterTooLong {
            method: Method::GET,
            url: url(),
            status: status(503),
            delay: Duration::from_secs(3600),
            max: Duration::from_secs(30),
        },
        Error::BudgetExhausted {
            method: Method::GET,
            url: url(),
            host: "127.0.0.1:8080".into(),
            status: status(429),
        },
        Error::MissingEtag {
            method: Method::PATCH,
            url: url(),
            weak: true,
        },
        Error::MissingEtag {
            method: Method::PUT,
            url: url(),
            weak: false,
        },
        Error::Decode {
            url: url(),
            source: serde_json::from_str::<u8>("\"x\"").unwrap_err(),
        },
        Error::Encode {
            source: serde_json::from_str::<u8>("-1").unwrap_err(),
        },
        Error::Change {
            url: url(),
            source: "`n` must be a number".into(),
        },
        Error::Cancelled {
            what: format!("update of {URL}"),
        },
        Error::TransactionConflict {
            url: format!("{TX_URL}/commit"),
            stale: vec![
                StaleRead {
                    path: "/items/1".into(),
                    url: URL.into(),
                    read_etag: EntityTag::strong("v41").ok(),
                    current_etag: EntityTag::strong("v58").ok(),
                },
                StaleRead {
                    path: "/items/2".into(),
                    url: "http://127.0.0.1:8080/items/2".into(),
                    read_etag: None,
                    current_etag: EntityTag::strong("v3").ok(),
                },
            ],
            attempts: 5,
            problem: problem(json!({"type": "urn:ifmatch:problem:transaction-conflict"})),
        },
        Error::TransactionConflict {
            url: format!("{TX_URL}/commit"),
            stale: Vec::new(),
            attempts: 1,
            problem: None,
        },
        Error::TransactionLost {
            method: Method::PUT,
            url: url(),
            reason: Some("transaction tx-9 expired at 2026-01-01T00:00:10Z".into()),
            problem: problem(json!({"type": "urn:ifmatch:problem:transaction-not-found"})),
        },
        Error::Auth {
            method: Method::GET,
            url: url(),
            status: status(401),
            problem: problem(
                json!({"type": "urn:ifmatch:problem:unauthorized", "detail": "the bearer token is not one this server knows"}),
            ),
        },
        Error::Auth {
            method: Method::POST,
            url: format!("{CONFLICT_URL}/resolve"),
            status: status(403),
            problem: problem(
                json!({"type": "urn:ifmatch:problem:forbidden", "detail": "conflict c-12 was caused by alice; only alice or an admin may resolve it"}),
            ),
        },
        Error::ConflictResolved {
            url: format!("{CONFLICT_URL}/resolve"),
            problem: problem(
                json!({"type": "urn:ifmatch:problem:conflict-resolved", "detail": "c-12 was resolved by bob (theirs)"}),
            ),
        },
        Error::Batch {
            url: BATCH_URL.into(),
            operation: 1,
            op: BatchOp::Put,
            target: "/items/1".into(),
            sent: true,
            error: Box::new(Error::Conflict {
                method: Method::PUT,
                url: url(),
                status: status(412),
                attempts: 1,
                create_only: false,
                current_etag: Some(EntityTag::strong("v9").unwrap()),
                problem: problem(
                    json!({"type": "urn:ifmatch:problem:precondition-failed", "operation": 1}),
                ),
                ended_update: None,
            }),
        },
        Error::Batch {
            url: BATCH_URL.into(),
            operation: 2,
            op: BatchOp::Delete,
            target: "/items/1".into(),
            sent: true,
            error: Box::new(Error::Locked {
                method: Method::DELETE,
                url: url(),
                retry_after: Some(Duration::from_secs(3)),
                problem: None,
                commit: None,
            }),
        },
        Error::Batch {
            url: BATCH_URL.into(),
            operation: 0,
            op: BatchOp::Create,
            target: "as \"order\"".into(),
            sent: false,
            error: Box::new(Error::Encode {
                source: serde_json::from_str::<u8>("-1").unwrap_err(),
            }),
        },
        Error::VersionNotFound {
            url: format!("{URL}/versions/3"),
            version: 3,
            oldest: Some(41),
            problem: problem(
                json!({"type": "urn:ifmatch:problem:version-not-found", "oldest": 41}),
            ),
        },
        Error::VersionNotFound {
            url: format!("{URL}/versions/3"),
            version: 3,
            oldest: None,
            problem: None,
        },
        Error::MissingVersion {
            method: Method::PUT,
            url: url(),
            pointer: "/metadata/resourceVersion".into(),
        },
        Error::WeakValidator {
            url: url(),
            etag: "W/\"7\"".parse().unwrap(),
            rereads: 3,
            last_modified: true,
        },
    ]
}

/// The message, then its cause chain as a reader of `{err}` plus `source()` would see it.
fn rendered(e: &Error) -> String {
    let mut text = format!("[{}] {e}\n", e.code());
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(&format!("    caused by: {c}\n"));
        cause = c.source();
    }
    text
}

#[test]
fn error_messages_read_well() {
    let text: String = all_errors().iter().map(rendered).collect();
    insta::assert_snapshot!(text);
}

#[test]
fn display_is_the_summary_then_the_hint() {
    for e in all_errors() {
        let expected = match e.hint() {
            Some(hint) => format!("{}; {hint}", e.summary()),
            None => e.summary(),
        };
        assert_eq!(e.to_string(), expected);
    }
}

#[test]
fn a_cause_is_reported_once_as_the_source_not_in_the_message() {
    for e in all_errors() {
        if let Some(cause) = e.source() {
            assert!(
                !e.to_string().contains(&cause.to_string()),
                "{}: the cause is repeated in {e}",
                e.code()
            );
        }
    }
}

#[test]
fn without_url_removes_the_url_everywhere() {
    for e in all_errors() {
        let code = e.code();
        let redacted = e.without_url();
        assert!(!redacted.to_string().contains(URL), "{code}: {redacted}");
        assert!(
            ![BATCH_URL, TX_URL, CONFLICT_URL]
                .iter()
                .any(|url| redacted.to_string().contains(url)),
            "{code}: {redacted}"
        );
        assert_eq!(redacted.url(), None, "{code}");
    }
    let e = &all_errors()[3];
    assert_eq!(e.url(), Some(URL));
}

#[test]
fn predicates_agree_with_the_kind() {
    for e in all_errors() {
        let code = e.code();
        assert_eq!(
            e.is_conflict(),
            matches!(
                code,
                "precondition_failed"
                    | "conflict"
                    | "merge_conflict"
                    | "aborted"
                    | "transaction_conflict"
            ),
            "{code}"
        );
        assert_eq!(
            e.is_rate_limited(),
            matches!(
                code,
                "rate_limited" | "retry_after_too_long" | "retry_budget_exhausted"
            ),
            "{code}"
        );
        assert_eq!(e.is_cancelled(), code == "cancelled");
        assert_eq!(e.stale_reads().is_empty(), !e.summary().contains("(read "));
        assert_eq!(e.is_precondition_failed(), code == "precondition_failed");
        assert_eq!(e.is_timeout(), code == "timeout");
        assert_eq!(e.is_transport(), code == "network");
        assert_eq!(e.timeout_scope().is_some(), code == "timeout");
    }
}

#[test]
fn only_a_timed_out_read_is_known_to_have_changed_nothing() {
    let unknown: Vec<_> = all_errors()
        .into_iter()
        .filter(Error::is_outcome_unknown)
        .map(|e| e.summary())
        .collect();
    assert_eq!(unknown.len(), 4, "{unknown:#?}");
    assert!(
        unknown.iter().all(|s| !s.starts_with("GET")),
        "{unknown:#?}"
    );
}

#[test]
fn a_failed_batch_operation_answers_for_its_own_error() {
    let errors = all_errors();
    let stale = errors
        .iter()
        .find(|e| e.failed_operation() == Some(1))
        .unwrap();
    assert_eq!(stale.code(), "precondition_failed");
    assert!(stale.is_conflict() && stale.is_precondition_failed());
    assert_eq!(stale.status(), Some(StatusCode::PRECONDITION_FAILED));
    assert_eq!(stale.current_etag(), EntityTag::strong("v9").ok().as_ref());
    assert_eq!(stale.problem().unwrap().extensions["operation"], 1);
    assert_eq!(
        stale.url(),
        Some(URL),
        "the document, not the batch endpoint"
    );
    let locked = errors
        .iter()
        .find(|e| e.failed_operation() == Some(2))
        .unwrap();
    assert_eq!(locked.code(), "locked");
    assert_eq!(locked.retry_after(), Some(Duration::from_secs(3)));
    let unsent = errors
        .iter()
        .find(|e| e.failed_operation() == Some(0))
        .unwrap();
    assert_eq!(unsent.code(), "encode");
    assert!(unsent.source().is_some(), "the JSON error is the cause");
    assert!(errors
        .iter()
        .filter(|e| !matches!(e, Error::Batch { .. }))
        .all(|e| e.failed_operation().is_none()));
}

#[test]
fn a_lost_transaction_is_not_a_missing_resource() {
    let lost = all_errors()
        .into_iter()
        .find(|e| e.code() == "transaction_lost")
        .unwrap();
    assert_eq!(lost.status(), Some(StatusCode::NOT_FOUND));
    assert!(
        !lost.is_not_found(),
        "the document may exist; the transaction does not"
    );
    assert!(!lost.is_conflict());
    let conflict = all_errors()
        .into_iter()
        .find(|e| e.code() == "transaction_conflict")
        .unwrap();
    assert!(conflict.is_conflict() && !conflict.is_precondition_failed());
    assert_eq!(conflict.status(), Some(StatusCode::CONFLICT));
    let paths: Vec<_> = conflict.stale_reads().iter().map(StaleRead::path).collect();
    assert_eq!(paths, ["/items/1", "/items/2"]);
}

#[test]
fn a_version_not_kept_is_a_404_naming_the_oldest_kept() {
    let errors = all_errors();
    let gone = errors
        .iter()
        .find(|e| e.code() == "version_not_found")
        .unwrap();
    assert!(gone.is_not_found());
    assert_eq!(gone.status(), Some(StatusCode::NOT_FOUND));
    assert_eq!(gone.oldest_version(), Some(41));
    assert_eq!(gone.problem().unwrap().extensions["oldest"], 41);
    assert!(errors
        .iter()
        .filter(|e| e.code() != "version_not_found")
        .all(|e| e.oldest_version().is_none()));
    let missing = errors
        .iter()
        .find(|e| e.code() == "missing_version")
        .unwrap();
    assert!(!missing.is_conflict() && missing.status().is_none());
}

#[test]
fn credentials_refused_have_their_own_codes_and_predicates() {
    let errors = all_errors();
    let by_code = |code| errors.iter().find(|e| e.code() == code).unwrap();
    let unauthorized = by_code("unauthorized");
    assert!(unauthorized.is_unauthorized() && !unauthorized.is_forbidden());
    assert_eq!(unauthorized.status(), Some(StatusCode::UNAUTHORIZED));
    let forbidden = by_code("forbidden");
    assert!(forbidden.is_forbidden() && !forbidden.is_conflict());
    let resolved = by_code("conflict_resolved");
    assert_eq!(resolved.status(), Some(StatusCode::CONFLICT));
    assert!(
        !resolved.is_conflict(),
        "not a version race of the caller's write"
    );
}

#[test]
fn a_recorded_refusal_names_its_conflict() {
    let refused = Error::Conflict {
        method: Method::PUT,
        url: URL.into(),
        status: StatusCode::PRECONDITION_FAILED,
        attempts: 5,
        create_only: false,
        current_etag: None,
        problem: problem(json!({"type": "urn:ifmatch:problem:precondition-failed",
            "conflict_id": "c-12", "conflict_url": "/conflicts/c-12"})),
        ended_update: None,
    };
    assert_eq!(refused.conflict_id(), Some("c-12"));
    assert_eq!(refused.conflict_url(), Some("/conflicts/c-12"));
    let in_batch = Error::Batch {
        url: BATCH_URL.into(),
        operation: 0,
        op: BatchOp::Put,
        target: "/items/1".into(),
        sent: true,
        error: Box::new(refused),
    };
    assert_eq!(in_batch.conflict_id(), Some("c-12"));
    assert!(all_errors().iter().all(|e| e.conflict_id().is_none()));
}
