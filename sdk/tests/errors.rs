//! Every error message says what happened, to what, and what to do next (snapshot-reviewed).

use std::time::Duration;

use ifmatch::{http::Method, EntityTag, Error, Problem, TimeoutScope};
use serde_json::json;

const URL: &str = "http://127.0.0.1:8080/items/1";

fn problem(body: serde_json::Value) -> Option<Box<Problem>> {
    Problem::from_json(body.to_string().as_bytes()).map(Box::new)
}

fn all_errors() -> Vec<Error> {
    let url = || URL.to_owned();
    vec![
        Error::InvalidUrl {
            input: "/items".into(),
            reason: "a relative path needs a base URL; set Client::builder().base_url(...)".into(),
        },
        Error::Config {
            field: "change",
            reason: "update() needs .change(|doc| ...) before .send()".into(),
        },
        "abc".parse::<EntityTag>().unwrap_err(),
        Error::Transport {
            method: Method::GET,
            url: url(),
            source: "connection refused".into(),
        },
        Error::Status {
            method: Method::DELETE,
            url: url(),
            status: 404,
            problem: problem(json!({"title": "Not Found"})),
        },
        Error::Status {
            method: Method::PUT,
            url: url(),
            status: 409,
            problem: problem(json!({"detail": "name already taken"})),
        },
        Error::Status {
            method: Method::PUT,
            url: url(),
            status: 428,
            problem: None,
        },
        Error::Conflict {
            method: Method::PUT,
            url: url(),
            status: 412,
            attempts: 1,
            current_etag: Some(EntityTag::strong("v8").unwrap()),
            problem: None,
        },
        Error::Conflict {
            method: Method::PUT,
            url: url(),
            status: 409,
            attempts: 5,
            current_etag: None,
            problem: None,
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
            status: 429,
            attempts: 3,
            retry_after: Some(Duration::from_secs(2)),
            problem: None,
        },
        Error::Unavailable {
            method: Method::POST,
            url: url(),
            status: 503,
            attempts: 1,
            retry_after: None,
            problem: None,
        },
        Error::Timeout {
            what: format!("GET {URL}"),
            after: Duration::from_secs(30),
            scope: TimeoutScope::Attempt,
        },
        Error::Timeout {
            what: format!("update of {URL}"),
            after: Duration::from_secs(60),
            scope: TimeoutScope::Operation,
        },
        Error::Redirected {
            method: Method::POST,
            url: url(),
            status: Some(302),
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
            status: 412,
            reason: "the stored state differs from what was sent".into(),
        },
        Error::RetryAfterTooLong {
            method: Method::GET,
            url: url(),
            status: 503,
            delay: Duration::from_secs(3600),
            max: Duration::from_secs(30),
        },
        Error::BudgetExhausted {
            method: Method::GET,
            url: url(),
            host: "127.0.0.1:8080".into(),
            status: 429,
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
    ]
}

#[test]
fn error_messages_read_well() {
    let text: String = all_errors()
        .iter()
        .map(|e| format!("[{}] {e}\n", e.code()))
        .collect();
    insta::assert_snapshot!(text);
}

#[test]
fn predicates_agree_with_the_kind() {
    for e in all_errors() {
        let code = e.code();
        assert_eq!(
            e.is_conflict(),
            matches!(
                code,
                "precondition_failed" | "conflict" | "merge_conflict" | "aborted"
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
        assert_eq!(e.is_timeout(), code == "timeout");
        assert_eq!(
            e.is_outcome_unknown(),
            matches!(
                code,
                "outcome_unknown" | "timeout" | "network" | "cancelled"
            ),
            "{code}"
        );
        assert_eq!(e.is_precondition_failed(), code == "precondition_failed");
    }
}
