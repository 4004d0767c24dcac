//! The probe's header handling: arguments, the default Accept, redaction.
use super::*;

#[test]
fn header_argument_is_split_and_trimmed() {
    assert_eq!(
        parse_header_arg("Authorization:  Bearer x ").unwrap(),
        ("Authorization".into(), "Bearer x".into())
    );
}

#[test]
fn header_argument_without_colon_is_explained() {
    let err = parse_header_arg("Authorization Bearer").unwrap_err();
    assert!(err.contains("no colon"), "{err}");
    assert!(parse_header_arg("Bad Name: x")
        .unwrap_err()
        .contains("not a valid header name"));
}

#[test]
fn accept_is_sent_unless_configured_or_asked_for() {
    let probe = Probe::new(vec![], false, Duration::from_secs(1)).unwrap();
    let accept = |headers: Vec<(String, String)>| {
        headers
            .into_iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("accept"))
            .map(|(_, v)| v)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        accept(probe.headers_for(&Req::get("http://x/"))),
        [DEFAULT_ACCEPT]
    );
    let sse = Req::get("http://x/").header("Accept", "text/event-stream");
    assert_eq!(accept(probe.headers_for(&sse)), ["text/event-stream"]);
    let own = vec![("accept".to_owned(), "application/json".to_owned())];
    let configured = Probe::new(own, false, Duration::from_secs(1)).unwrap();
    assert_eq!(
        accept(configured.headers_for(&Req::get("http://x/"))),
        ["application/json"]
    );
}

#[test]
fn secrets_are_redacted_unless_shown() {
    let extra = vec![("X-Api-Key".to_owned(), "k".to_owned())];
    let probe = Probe::new(extra.clone(), false, Duration::from_secs(1)).unwrap();
    assert_eq!(probe.redact("x-api-key", "k".into()), REDACTED);
    assert_eq!(probe.redact("Cookie", "c".into()), REDACTED);
    assert_eq!(probe.redact("If-Match", "\"1\"".into()), "\"1\"");
    let open = Probe::new(extra, true, Duration::from_secs(1)).unwrap();
    assert_eq!(open.redact("x-api-key", "k".into()), "k");
}
