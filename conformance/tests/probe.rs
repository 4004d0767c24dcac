//! The probe honours Retry-After on 429 (bounded and capped) and records what it sent.

use std::time::Duration;

use ifmatch_conformance::http::{Probe, Req};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn a_429_is_waited_out_and_the_request_repeated() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "3600"))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let probe = Probe::new(vec![], false, Duration::from_millis(20)).unwrap();
    let got = probe.send(Req::get(&server.uri())).await.unwrap();
    assert_eq!(got.status(), 200);
    // An hour-long Retry-After is capped by max_retry_wait.
    assert_eq!(probe.waits(), vec![Duration::from_millis(20); 2]);
    assert_eq!(probe.take_log().len(), 3, "every attempt is recorded");
}

#[tokio::test]
async fn retries_are_bounded_and_keep_429_sees_the_first_one() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
        .mount(&server)
        .await;
    let probe = Probe::new(vec![], false, Duration::from_secs(1)).unwrap();
    let got = probe.send(Req::get(&server.uri())).await.unwrap();
    assert_eq!(got.status(), 429, "after 3 repeats the 429 is returned");
    assert_eq!(probe.take_log().len(), 4);
    let seen = probe
        .send(Req::get(&server.uri()).keep_429())
        .await
        .unwrap();
    assert_eq!(seen.status(), 429);
    assert_eq!(probe.take_log().len(), 1);
}

#[tokio::test]
async fn progress_lines_appear_only_when_asked() {
    let server = ifmatch_server::spawn(ifmatch_server::Config::new())
        .await
        .unwrap();
    let base = server.base_url();
    let args = [
        "ifmatch-conformance",
        "check",
        "--base-url",
        base.as_str(),
        "--rule",
        "core.create",
    ];
    for progress in [true, false] {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let io = ifmatch_conformance::cli::Io {
            out: &mut out,
            err: &mut err,
            progress,
        };
        assert_eq!(ifmatch_conformance::cli::run(args, io).await, 0);
        let err = String::from_utf8(err).unwrap();
        let expected = if progress {
            "[ 1/2] pass       core.create.post-201\n[ 2/2] pass       core.create.etag\n"
        } else {
            ""
        };
        assert_eq!(err, expected);
    }
    server.shutdown().await;
}
