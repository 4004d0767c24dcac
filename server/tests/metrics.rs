//! `GET /metrics`: a scripted sequence of requests, then the exact values of the scrape,
//! read with a small OpenMetrics text parser.

use std::collections::BTreeMap;
use std::time::Duration;

use ifmatch_server::{spawn, Config, RateLimit, RunningServer, Storage};
use reqwest::{Client, Method, RequestBuilder, StatusCode};
use serde_json::{json, Value};

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// One sample: the metric name and its labels, sorted by name.
type Key = (String, BTreeMap<String, String>);

/// The parsed scrape: samples, and the `# TYPE` of every metric family.
#[derive(Debug, Default)]
struct Scrape {
    samples: BTreeMap<Key, f64>,
    types: BTreeMap<String, String>,
}

impl Scrape {
    /// Parses the OpenMetrics text format as far as this server uses it: `# TYPE`, `# HELP`,
    /// `# UNIT`, `# EOF` lines, and `name{label="value",…} number` samples whose label values
    /// may hold `{`, `}`, `,` and escaped quotes.
    fn parse(text: &str) -> Self {
        let mut scrape = Self::default();
        let mut lines = text.lines().peekable();
        let mut saw_eof = false;
        while let Some(line) = lines.next() {
            if line == "# EOF" {
                assert!(lines.peek().is_none(), "# EOF is the last line");
                saw_eof = true;
                continue;
            }
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect("# TYPE name kind");
                scrape.types.insert(name.to_owned(), kind.to_owned());
                continue;
            }
            if line.starts_with("# HELP ") || line.starts_with("# UNIT ") {
                continue;
            }
            assert!(!line.starts_with('#'), "unexpected comment: {line}");
            let (key, value) = parse_sample(line);
            let previous = scrape.samples.insert(key, value);
            assert!(previous.is_none(), "duplicate sample: {line}");
        }
        assert!(saw_eof, "the scrape ends with # EOF");
        scrape
    }

    /// The value of `name` with exactly `labels`; panics when absent.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.get(name, labels).unwrap_or_else(|| {
            let known: Vec<_> = self.samples.keys().filter(|(n, _)| n == name).collect();
            panic!("no sample {name} {labels:?}; samples of that name: {known:?}")
        })
    }

    fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let labels = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.samples.get(&(name.to_owned(), labels)).copied()
    }

    /// Every distinct value of label `label` among the samples of `name`.
    fn label_values(&self, name: &str, label: &str) -> Vec<String> {
        let mut values: Vec<String> = self
            .samples
            .keys()
            .filter(|(n, _)| n == name)
            .filter_map(|(_, labels)| labels.get(label).cloned())
            .collect();
        values.sort();
        values.dedup();
        values
    }
}

fn parse_sample(line: &str) -> (Key, f64) {
    let name_end = line
        .find(['{', ' '])
        .unwrap_or_else(|| panic!("sample without value: {line}"));
    let name = line[..name_end].to_owned();
    let mut labels = BTreeMap::new();
    let mut rest = &line[name_end..];
    if let Some(inner) = rest.strip_prefix('{') {
        let mut chars = inner.char_indices();
        let mut key = String::new();
        loop {
            let (i, c) = chars.next().expect("unterminated label set");
            match c {
                '}' => {
                    rest = &inner[i + 1..];
                    break;
                }
                ',' => {}
                '=' => {
                    assert_eq!(chars.next().map(|(_, c)| c), Some('"'), "{line}");
                    let mut value = String::new();
                    loop {
                        match chars.next().expect("unterminated label value").1 {
                            '"' => break,
                            '\\' => match chars.next().expect("escape").1 {
                                'n' => value.push('\n'),
                                other => value.push(other),
                            },
                            other => value.push(other),
                        }
                    }
                    labels.insert(std::mem::take(&mut key), value);
                }
                other => key.push(other),
            }
        }
    }
    let value = rest
        .trim()
        .split(' ')
        .next()
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("sample without a number: {line}"));
    ((name, labels), value)
}

struct Server {
    server: RunningServer,
    client: Client,
}

impl Server {
    async fn start(config: Config) -> Self {
        let server = spawn(config).await.expect("server starts");
        Self {
            server,
            client: Client::new(),
        }
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.server.base_url()))
    }

    async fn send(&self, builder: RequestBuilder, expected: StatusCode) -> reqwest::Response {
        let response = builder.send().await.expect("request sent");
        assert_eq!(response.status(), expected, "{}", response.url());
        response
    }

    async fn json(&self, builder: RequestBuilder, expected: StatusCode) -> (Value, String) {
        let response = self.send(builder, expected).await;
        let etag = header(&response, "etag").unwrap_or_default();
        (response.json().await.expect("JSON body"), etag)
    }

    async fn scrape(&self) -> Scrape {
        let response = self
            .send(self.request(Method::GET, "/metrics"), StatusCode::OK)
            .await;
        assert_eq!(
            header(&response, "content-type").as_deref(),
            Some(OPENMETRICS)
        );
        Scrape::parse(&response.text().await.expect("text"))
    }
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().expect("ASCII header").to_owned())
}

fn requests(scrape: &Scrape, route: &str, method: &str, status: &str) -> f64 {
    scrape
        .get(
            "ifmatch_http_requests_total",
            &[("route", route), ("method", method), ("status", status)],
        )
        .unwrap_or(0.0)
}

#[tokio::test]
async fn a_scripted_sequence_is_counted_exactly_by_route_template() {
    let server = Server::start(Config::new().with_require_preconditions(true)).await;

    // A document, then a 412 (stale tag) and a 428 (no condition).
    let (doc, etag) = server
        .json(
            server
                .request(Method::POST, "/items")
                .json(&json!({"n": 1})),
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(doc, json!({"n": 1}));
    let items = server
        .json(server.request(Method::GET, "/items"), StatusCode::OK)
        .await
        .0;
    let id = items["items"][0]["id"].as_str().expect("id").to_owned();
    let path = format!("/items/{id}");
    server
        .send(
            server
                .request(Method::PUT, &path)
                .header("if-match", "\"stale-1\"")
                .json(&json!({"n": 2})),
            StatusCode::PRECONDITION_FAILED,
        )
        .await;
    server
        .send(
            server.request(Method::PUT, &path).json(&json!({"n": 2})),
            StatusCode::PRECONDITION_REQUIRED,
        )
        .await;

    // A lock held, a write without its token (423), the lock released.
    let lock_path = format!("{path}/lock");
    let lock = server
        .send(
            server
                .request(Method::POST, &lock_path)
                .json(&json!({"owner": "metrics-test", "ttl_ms": 60000})),
            StatusCode::CREATED,
        )
        .await;
    let token = header(&lock, "lock-token").expect("Lock-Token");
    server
        .send(
            server
                .request(Method::PUT, &path)
                .header("if-match", &etag)
                .json(&json!({"n": 2})),
            StatusCode::LOCKED,
        )
        .await;
    server
        .send(
            server
                .request(Method::DELETE, &lock_path)
                .header("lock-token", &token),
            StatusCode::NO_CONTENT,
        )
        .await;

    // A transaction committed, and one whose read changed underneath it (409).
    let tx = |id: &str| format!("/transactions/{id}");
    let (begun, _) = server
        .json(
            server.request(Method::POST, "/transactions"),
            StatusCode::CREATED,
        )
        .await;
    let first = begun["id"].as_str().expect("transaction id").to_owned();
    server
        .send(
            server
                .request(Method::PUT, &path)
                .header("transaction-id", &first)
                .json(&json!({"n": 3})),
            StatusCode::OK,
        )
        .await;
    server
        .send(
            server.request(Method::POST, &format!("{}/commit", tx(&first))),
            StatusCode::OK,
        )
        .await;
    let (begun, _) = server
        .json(
            server.request(Method::POST, "/transactions"),
            StatusCode::CREATED,
        )
        .await;
    let second = begun["id"].as_str().expect("transaction id").to_owned();
    server
        .send(
            server
                .request(Method::GET, &path)
                .header("transaction-id", &second),
            StatusCode::OK,
        )
        .await;
    let (_, current) = server
        .json(server.request(Method::GET, &path), StatusCode::OK)
        .await;
    server
        .send(
            server
                .request(Method::PUT, &path)
                .header("if-match", &current)
                .json(&json!({"n": 4})),
            StatusCode::OK,
        )
        .await;
    server
        .send(
            server
                .request(Method::PUT, &path)
                .header("transaction-id", &second)
                .json(&json!({"n": 5})),
            StatusCode::OK,
        )
        .await;
    server
        .send(
            server.request(Method::POST, &format!("{}/commit", tx(&second))),
            StatusCode::CONFLICT,
        )
        .await;

    // A batch, and a request no route matches.
    server
        .send(
            server
                .request(Method::POST, "/batch")
                .json(&json!({"operations": [
                    {"op": "create", "body": {"batched": true}}
                ]})),
            StatusCode::OK,
        )
        .await;
    server
        .send(
            server.request(Method::GET, "/nothing/here"),
            StatusCode::NOT_FOUND,
        )
        .await;

    let scrape = server.scrape().await;

    // Requests, by route template and never by raw path.
    let item = "/items/{id}";
    assert_eq!(requests(&scrape, item, "PUT", "412"), 1.0);
    assert_eq!(requests(&scrape, item, "PUT", "428"), 1.0);
    assert_eq!(requests(&scrape, item, "PUT", "423"), 1.0);
    assert_eq!(requests(&scrape, item, "PUT", "200"), 3.0);
    assert_eq!(requests(&scrape, item, "GET", "200"), 2.0);
    assert_eq!(requests(&scrape, "/items", "POST", "201"), 1.0);
    assert_eq!(requests(&scrape, "/items", "GET", "200"), 1.0);
    assert_eq!(requests(&scrape, "/items/{id}/lock", "POST", "201"), 1.0);
    assert_eq!(requests(&scrape, "/items/{id}/lock", "DELETE", "204"), 1.0);
    assert_eq!(requests(&scrape, "/transactions", "POST", "201"), 2.0);
    let commit = "/transactions/{id}/commit";
    assert_eq!(requests(&scrape, commit, "POST", "200"), 1.0);
    assert_eq!(requests(&scrape, commit, "POST", "409"), 1.0);
    assert_eq!(requests(&scrape, "/batch", "POST", "200"), 1.0);
    assert_eq!(requests(&scrape, "unmatched", "GET", "404"), 1.0);
    let routes = scrape.label_values("ifmatch_http_requests_total", "route");
    assert!(
        routes
            .iter()
            .all(|r| !r.contains(&id) && !r.contains("tx-") && r != "/nothing/here"),
        "raw paths leaked into route labels: {routes:?}"
    );
    let total: f64 = scrape
        .samples
        .iter()
        .filter(|((name, _), _)| name == "ifmatch_http_requests_total")
        .map(|(_, v)| v)
        .sum();
    assert_eq!(
        total, 18.0,
        "every answered request, the scrape itself not yet"
    );
    assert_eq!(
        scrape.value(
            "ifmatch_http_request_duration_seconds_count",
            &[("route", item), ("method", "PUT")]
        ),
        6.0
    );

    // Refusals by status.
    let refusals = |status| scrape.value("ifmatch_refusals_total", &[("status", status)]);
    assert_eq!(refusals("412"), 1.0);
    assert_eq!(refusals("428"), 1.0);
    assert_eq!(refusals("423"), 1.0);
    assert_eq!(refusals("409"), 1.0);
    assert_eq!(refusals("429"), 0.0);

    // The lock: granted at once, held, released.
    assert_eq!(scrape.value("ifmatch_lock_wait_seconds_count", &[]), 1.0);
    assert_eq!(scrape.value("ifmatch_lock_wait_seconds_sum", &[]), 0.0);
    let holds = |end| scrape.value("ifmatch_lock_hold_seconds_count", &[("end", end)]);
    assert_eq!(holds("released"), 1.0);
    assert_eq!(holds("expired"), 0.0);
    assert_eq!(holds("broken"), 0.0);
    assert_eq!(holds("deleted"), 0.0);
    assert_eq!(scrape.value("ifmatch_locks_held", &[]), 0.0);

    // Transactions and batches.
    let txns = |outcome| scrape.value("ifmatch_transactions_total", &[("outcome", outcome)]);
    assert_eq!(txns("committed"), 1.0);
    assert_eq!(txns("conflict"), 1.0);
    assert_eq!(txns("rolled_back"), 0.0);
    assert_eq!(txns("expired"), 0.0);
    let batches = |outcome| scrape.value("ifmatch_batches_total", &[("outcome", outcome)]);
    assert_eq!(batches("committed"), 1.0);
    assert_eq!(batches("refused"), 0.0);

    // Conflicts: the 412, the 423 and the commit's 409 (a 428 is not one).
    let conflicts = |kind| scrape.value("ifmatch_conflicts_total", &[("kind", kind)]);
    assert_eq!(conflicts("precondition-failed"), 1.0);
    assert_eq!(conflicts("locked"), 1.0);
    assert_eq!(conflicts("transaction-conflict"), 1.0);
    assert_eq!(conflicts("version-conflict"), 0.0);
    assert_eq!(scrape.value("ifmatch_conflict_log_records", &[]), 3.0);
    assert_eq!(scrape.value("ifmatch_sse_subscribers", &[]), 0.0);
    assert_eq!(
        scrape.value("ifmatch_sse_subscribers_dropped_total", &[]),
        0.0
    );

    // One document written three times (the conflicting commit wrote nothing), one batched.
    assert_eq!(scrape.value("ifmatch_history_versions", &[]), 4.0);

    // Types, as docs/server.md lists them.
    for (name, kind) in [
        ("ifmatch_http_requests", "counter"),
        ("ifmatch_http_request_duration_seconds", "histogram"),
        ("ifmatch_conflicts", "counter"),
        ("ifmatch_refusals", "counter"),
        ("ifmatch_lock_wait_seconds", "histogram"),
        ("ifmatch_lock_hold_seconds", "histogram"),
        ("ifmatch_locks_held", "gauge"),
        ("ifmatch_lock_waiters", "gauge"),
        ("ifmatch_transactions", "counter"),
        ("ifmatch_batches", "counter"),
        ("ifmatch_sse_subscribers", "gauge"),
        ("ifmatch_sse_subscribers_dropped", "counter"),
        ("ifmatch_history_versions", "gauge"),
        ("ifmatch_conflict_log_records", "gauge"),
    ] {
        assert_eq!(
            scrape.types.get(name).map(String::as_str),
            Some(kind),
            "{name}"
        );
    }

    // The scrape itself is counted from the next one on.
    let again = server.scrape().await;
    assert_eq!(requests(&again, "/metrics", "GET", "200"), 1.0);
    server.server.shutdown().await;
}

#[tokio::test]
async fn throttled_requests_are_counted_and_metrics_is_never_throttled() {
    let limit = RateLimit {
        per_second: 1,
        burst: 1,
    };
    let server = Server::start(Config::new().with_rate_limit(Some(limit))).await;
    server
        .send(server.request(Method::GET, "/items"), StatusCode::OK)
        .await;
    server
        .send(
            server.request(Method::GET, "/items"),
            StatusCode::TOO_MANY_REQUESTS,
        )
        .await;
    // The bucket is empty, yet every scrape is answered, without rate-limit fields.
    for _ in 0..3 {
        let response = server
            .send(server.request(Method::GET, "/metrics"), StatusCode::OK)
            .await;
        assert_eq!(header(&response, "ratelimit"), None);
    }
    let scrape = server.scrape().await;
    assert_eq!(requests(&scrape, "/items", "GET", "200"), 1.0);
    assert_eq!(requests(&scrape, "/items", "GET", "429"), 1.0);
    assert_eq!(
        scrape.value("ifmatch_refusals_total", &[("status", "429")]),
        1.0
    );
    assert_eq!(requests(&scrape, "/metrics", "GET", "200"), 3.0);
    server.server.shutdown().await;
}

#[tokio::test]
async fn a_scrape_settles_expired_locks_so_none_counts_as_held() {
    let server = Server::start(Config::new()).await;
    let (_, _) = server
        .json(
            server.request(Method::PUT, "/items/doc").json(&json!({})),
            StatusCode::CREATED,
        )
        .await;
    server
        .send(
            server
                .request(Method::POST, "/items/doc/lock")
                .json(&json!({"ttl_ms": 50})),
            StatusCode::CREATED,
        )
        .await;
    server
        .send(
            server
                .request(Method::POST, "/items/other/lock")
                .json(&json!({"ttl_ms": 60000})),
            StatusCode::NOT_FOUND,
        )
        .await;
    let held = server.scrape().await;
    assert_eq!(held.value("ifmatch_locks_held", &[]), 1.0);
    tokio::time::sleep(Duration::from_millis(120)).await;
    // Nobody touched the lock since it expired; the scrape notices.
    let scrape = server.scrape().await;
    assert_eq!(scrape.value("ifmatch_locks_held", &[]), 0.0);
    assert_eq!(
        scrape.value("ifmatch_lock_hold_seconds_count", &[("end", "expired")]),
        1.0
    );
    let held_for = scrape.value("ifmatch_lock_hold_seconds_sum", &[("end", "expired")]);
    assert!(
        (0.045..0.2).contains(&held_for),
        "an expired hold lasts its TTL, not until it was noticed: {held_for}"
    );
    server.server.shutdown().await;
}

#[tokio::test]
async fn a_queued_lock_request_counts_as_a_waiter_until_it_is_granted() {
    let server = Server::start(Config::new()).await;
    server
        .send(
            server.request(Method::PUT, "/items/doc").json(&json!({})),
            StatusCode::CREATED,
        )
        .await;
    let (held, _) = server
        .json(
            server
                .request(Method::POST, "/items/doc/lock")
                .json(&json!({})),
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(
        server.scrape().await.value("ifmatch_lock_waiters", &[]),
        0.0
    );
    let queued = tokio::spawn(
        server
            .request(Method::POST, "/items/doc/lock")
            .json(&json!({"wait_ms": 30_000}))
            .send(),
    );
    let mut waiting = 0.0;
    for _ in 0..100 {
        waiting = server.scrape().await.value("ifmatch_lock_waiters", &[]);
        if waiting > 0.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(waiting, 1.0, "the queued request never counted");
    let token = held["token"].as_str().unwrap();
    server
        .send(
            server
                .request(Method::DELETE, "/items/doc/lock")
                .header("lock-token", format!("\"{token}\"")),
            StatusCode::NO_CONTENT,
        )
        .await;
    let granted = queued.await.unwrap().unwrap();
    assert_eq!(granted.status(), StatusCode::CREATED);
    let scrape = server.scrape().await;
    assert_eq!(scrape.value("ifmatch_lock_waiters", &[]), 0.0);
    assert_eq!(scrape.value("ifmatch_locks_held", &[]), 1.0);
    server.server.shutdown().await;
}

#[tokio::test]
async fn metrics_needs_no_token_when_every_other_route_does_and_refuses_other_methods() {
    let config = Config::new()
        .with_client_token("alice", "alice-token")
        .with_require_auth(true);
    let server = Server::start(config).await;
    server
        .send(
            server.request(Method::GET, "/items"),
            StatusCode::UNAUTHORIZED,
        )
        .await;
    let post = server
        .send(
            server.request(Method::POST, "/metrics"),
            StatusCode::METHOD_NOT_ALLOWED,
        )
        .await;
    assert_eq!(header(&post, "allow").as_deref(), Some("GET, HEAD"));
    assert_eq!(
        header(&post, "content-type").as_deref(),
        Some("application/problem+json")
    );
    let scrape = server.scrape().await;
    assert_eq!(requests(&scrape, "/items", "GET", "401"), 1.0);
    assert_eq!(requests(&scrape, "/metrics", "POST", "405"), 1.0);
    server.server.shutdown().await;
}

#[tokio::test]
async fn history_versions_counts_every_kept_version_in_either_store() {
    let dir = tempfile::tempdir().expect("temporary directory");
    for storage in [
        Storage::Memory,
        Storage::Sqlite(dir.path().join("items.db")),
    ] {
        let config = Config::new()
            .with_storage(storage)
            .with_history_max_versions(2);
        let server = Server::start(config).await;
        assert_eq!(
            server.scrape().await.value("ifmatch_history_versions", &[]),
            0.0
        );
        for n in 0..3 {
            server
                .send(
                    server
                        .request(Method::PUT, "/items/a")
                        .json(&json!({"n": n})),
                    if n == 0 {
                        StatusCode::CREATED
                    } else {
                        StatusCode::OK
                    },
                )
                .await;
        }
        server
            .send(
                server.request(Method::PUT, "/items/b").json(&json!({})),
                StatusCode::CREATED,
            )
            .await;
        server
            .send(
                server.request(Method::DELETE, "/items/b"),
                StatusCode::NO_CONTENT,
            )
            .await;
        // a: the newest two of three; b: its version and its tombstone.
        assert_eq!(
            server.scrape().await.value("ifmatch_history_versions", &[]),
            4.0
        );
        server.server.shutdown().await;
    }
}

#[tokio::test]
async fn open_conflict_streams_are_counted_while_they_are_open() {
    let server = Server::start(Config::new()).await;
    let stream = server
        .send(
            server.request(Method::GET, "/conflicts/stream"),
            StatusCode::OK,
        )
        .await;
    assert_eq!(
        server.scrape().await.value("ifmatch_sse_subscribers", &[]),
        1.0
    );
    drop(stream);
    // The server notices the closed connection at its next write to it (a heartbeat or an
    // event); an event to publish is the quickest.
    let mut open = 1.0;
    for _ in 0..100 {
        server
            .send(
                server
                    .request(Method::PUT, "/items/x")
                    .header("if-match", "\"stale-1\"")
                    .json(&json!({})),
                StatusCode::PRECONDITION_FAILED,
            )
            .await;
        open = server.scrape().await.value("ifmatch_sse_subscribers", &[]);
        if open == 0.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(open, 0.0, "the closed stream is no longer counted");
    server.server.shutdown().await;
}
