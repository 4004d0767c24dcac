//! The start-up check: what a collection that does not answer GET 2xx means,
//! depending on how the target creates resources.

use ifmatch_conformance::check::{self, CheckConfig};
use ifmatch_conformance::target::CreateMethod;
use wiremock::matchers::{any, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn server_answering_get(status: u16, challenge: bool) -> MockServer {
    let server = MockServer::start().await;
    let mut answer = ResponseTemplate::new(status);
    if challenge {
        answer = answer.insert_header("WWW-Authenticate", "Bearer");
    }
    Mock::given(method("GET"))
        .and(path("/dav/"))
        .respond_with(answer)
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    server
}

fn config(server: &MockServer, create: CreateMethod) -> CheckConfig {
    let mut config = CheckConfig::new(server.uri());
    config.collection = "/dav/".into();
    config.shape.create.method = create;
    config.shape.create.url = "{collection}{id}".into();
    config.rule_patterns = vec!["core.if-match.honoured".into()];
    config
}

#[tokio::test]
async fn an_unlistable_collection_is_fine_when_resources_are_created_by_put() {
    for status in [403, 404, 405] {
        let server = server_answering_get(status, false).await;
        let report = check::run(&config(&server, CreateMethod::Put), None).await;
        assert!(report.is_ok(), "{status}: {:?}", report.err());
    }
}

#[tokio::test]
async fn a_403_without_a_challenge_is_not_called_a_credentials_problem() {
    let server = server_answering_get(403, false).await;
    let err = check::run(&config(&server, CreateMethod::Post), None)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("refuses to list the collection"), "{err}");
    assert!(err.contains("[create] method = \"put\""), "{err}");
}

#[tokio::test]
async fn a_401_or_a_challenged_403_asks_for_credentials_even_for_put_targets() {
    for (status, challenge) in [(401, false), (403, true)] {
        let server = server_answering_get(status, challenge).await;
        let err = check::run(&config(&server, CreateMethod::Put), None)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("credentials"), "{status}: {err}");
    }
}
