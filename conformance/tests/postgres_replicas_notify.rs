//! Three reference servers (replicas) on one PostgreSQL database behave as one server for the
//! conflict log: a conflict refused on one replica reaches the stream subscribers of every
//! replica exactly once, in id order; `Last-Event-ID` resumes on any replica; `GET /conflicts`
//! on any replica lists every replica's conflicts; a conflict resolves once, whichever replicas
//! race for it; `check --profile notifications` passes through one replica while conflicts
//! happen on the others; and an event whose `NOTIFY` was lost still arrives (by the 1 s poll).
//!
//! Each test starts a throwaway PostgreSQL cluster (see `postgres_replicas.rs`); without it
//! installed the tests print why they are skipped, except under `CI=true`.
//!
//! No assertion is about time: every wait is for an event that must come (bounded by
//! [`EVENT_WAIT`], so a missing event fails instead of hanging), and "exactly once" is shown by
//! a sentinel conflict caused after the others, which must be the very next event.

mod pg;
mod support;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use ifmatch_conformance::rules::{Level, Profile};
use ifmatch_conformance::sse::{Event, Item, Parser};
use ifmatch_conformance::verdict::Verdict;
use reqwest::StatusCode;
use serde_json::{json, Value};

use pg::{bases, create, replicas, shutdown};

/// The longest an event that must come may take (far above the 1 s catch-up poll).
const EVENT_WAIT: Duration = Duration::from_secs(30);

/// Conflicts caused for the stream test.
const CONFLICTS: usize = 40;

/// An open `GET /conflicts/stream`.
struct Stream {
    response: reqwest::Response,
    parser: Parser,
    ready: VecDeque<Event>,
}

impl Stream {
    async fn open(http: &reqwest::Client, base: &str, last_event_id: Option<&str>) -> Self {
        let mut request = http.get(format!("{base}/conflicts/stream"));
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        Self {
            response,
            parser: Parser::default(),
            ready: VecDeque::new(),
        }
    }

    /// The next event (not a comment or retry); panics after [`EVENT_WAIT`].
    async fn next(&mut self) -> Event {
        let deadline = Instant::now() + EVENT_WAIT;
        loop {
            if let Some(event) = self.ready.pop_front() {
                return event;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let chunk = tokio::time::timeout(left, self.response.chunk())
                .await
                .expect("an event that must come did not come in time")
                .unwrap()
                .expect("the stream ended early");
            for item in self.parser.feed(&chunk) {
                if let Item::Event(event) = item {
                    self.ready.push_back(event);
                }
            }
        }
    }

    /// The next `conflict` event, skipping `resolved` ones.
    async fn next_conflict(&mut self) -> Event {
        loop {
            let event = self.next().await;
            if event.event == "conflict" {
                return event;
            }
        }
    }
}

/// A write with a stale tag: refused (412) and recorded; the conflict's id.
async fn conflict(http: &reqwest::Client, base: &str, id: &str) -> String {
    let refused = http
        .put(format!("{base}/items/{id}"))
        .header("if-match", "\"stale\"")
        .header("content-type", "application/json")
        .body(r#"{"n":1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::PRECONDITION_FAILED);
    let problem: Value = refused.json().await.unwrap();
    problem["conflict_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no conflict_id in {problem}"))
        .to_owned()
}

fn seq(id: &str) -> u64 {
    id.strip_prefix("c-").unwrap().parse().unwrap()
}

fn data_id(event: &Event) -> String {
    let data: Value = serde_json::from_str(&event.data).unwrap();
    data["id"].as_str().unwrap().to_owned()
}

fn unix_ms() -> u64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    u64::try_from(now.unwrap().as_millis()).unwrap()
}

/// The `p`-th percentile of sorted `values`.
fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conflicts_reach_every_replica_once_in_order_and_resume_anywhere() {
    let Some((_cluster, _, servers)) = replicas("replicas: conflict stream", 3).await else {
        return;
    };
    let http = reqwest::Client::new();
    let [a, b, c] = [0, 1, 2].map(|n| servers[n].base_url());
    create(&http, &a, "doc").await;
    let mut on_a = Stream::open(&http, &a, None).await;
    // Conflicts refused on B and C, each awaited on A's stream before the next (for the
    // latency figures), then a sentinel.
    let mut caused = Vec::new();
    let mut latencies = Vec::new();
    for n in 0..CONFLICTS {
        let base = if n % 2 == 0 { &b } else { &c };
        let id = conflict(&http, base, "doc").await;
        let event = on_a.next_conflict().await;
        // From the refusal's record (B's or C's clock, this machine's) to A's event here.
        let recorded: Value = serde_json::from_str(&event.data).unwrap();
        let recorded = recorded["at_ms"].as_u64().unwrap();
        latencies.push(Duration::from_millis(unix_ms().saturating_sub(recorded)));
        assert_eq!(event.id.as_deref(), Some(&id[2..]), "event for {id} on A");
        assert_eq!(data_id(&event), id);
        caused.push(id);
    }
    let sentinel = conflict(&http, &b, "doc").await;
    assert_eq!(
        data_id(&on_a.next().await),
        sentinel,
        "A's stream sent something between the last conflict and the sentinel"
    );
    let ids: Vec<u64> = caused.iter().map(|id| seq(id)).collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "ids out of order: {ids:?}"
    );
    latencies.sort();
    eprintln!(
        "latency from recording on B/C to the event read on A, over {CONFLICTS} conflicts \
         (ms resolution): p50 {:?}, p99 {:?}, max {:?}",
        percentile(&latencies, 50),
        percentile(&latencies, 99),
        latencies[latencies.len() - 1]
    );

    // C lists the conflicts of B and C (one page holds them all).
    let listed: Value = http
        .get(format!("{c}/conflicts?limit=100"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listed: Vec<&str> = listed["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let mut expected: Vec<&str> = caused.iter().map(String::as_str).collect();
    expected.push(&sentinel);
    assert_eq!(listed, expected);

    // Resuming on C after the tenth gets the later ones only, in order, then what is new.
    let mut on_c = Stream::open(&http, &c, Some(&caused[9][2..])).await;
    for id in caused[10..].iter().chain([&sentinel]) {
        assert_eq!(&data_id(&on_c.next().await), id);
    }
    let next = conflict(&http, &a, "doc").await;
    assert_eq!(data_id(&on_c.next().await), next);
    assert_eq!(data_id(&on_a.next().await), next);
    shutdown(servers).await;
}

async fn resolve(http: &reqwest::Client, base: &str, id: &str) -> (StatusCode, Value) {
    let answer = http
        .post(format!("{base}/conflicts/{id}/resolve"))
        .header("content-type", "application/json")
        .body(json!({"resolution": "theirs"}).to_string())
        .send()
        .await
        .unwrap();
    let status = answer.status();
    (status, answer.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_conflict_resolves_once_whichever_replicas_resolve_it() {
    let Some((_cluster, _, servers)) = replicas("replicas: resolve once", 3).await else {
        return;
    };
    let http = reqwest::Client::new();
    let bases = bases(&servers);
    create(&http, &bases[0], "doc").await;
    let mut on_c = Stream::open(&http, &bases[2], None).await;

    // On A, then on B: the second hears it is resolved already, and C's stream tells once.
    let first = conflict(&http, &bases[0], "doc").await;
    let (status, resolved) = resolve(&http, &bases[0], &first).await;
    assert_eq!(status, StatusCode::OK, "{resolved}");
    assert_eq!(resolved["state"], "resolved");
    let (status, again) = resolve(&http, &bases[1], &first).await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    assert_eq!(again["type"], "urn:ifmatch:problem:conflict-resolved");
    assert_eq!(again["resolution"], resolved["resolution"]);
    let shown: Value = http
        .get(format!("{}/conflicts/{first}", bases[2]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shown["state"], "resolved");
    assert_eq!(shown["resolution"], resolved["resolution"]);
    assert_eq!(on_c.next().await.event, "conflict");
    let told = on_c.next().await;
    assert_eq!((told.event.as_str(), data_id(&told)), ("resolved", first));

    // Ten conflicts, each resolved by all three replicas at once: one succeeds each time.
    for round in 0..10 {
        let id = conflict(&http, &bases[round % 3], "doc").await;
        let races = bases.iter().map(|base| {
            let (http, base, id) = (http.clone(), base.clone(), id.clone());
            tokio::spawn(async move { resolve(&http, &base, &id).await })
        });
        let mut statuses = Vec::new();
        for race in races.collect::<Vec<_>>() {
            statuses.push(race.await.unwrap().0);
        }
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::OK, StatusCode::CONFLICT, StatusCode::CONFLICT],
            "round {round}"
        );
        assert_eq!(data_id(&on_c.next().await), id);
        let told = on_c.next().await;
        assert_eq!((told.event.as_str(), data_id(&told)), ("resolved", id));
    }
    shutdown(servers).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn notifications_check_passes_through_one_replica_while_others_record_conflicts() {
    let Some((_cluster, _, servers)) = replicas("replicas: notifications check", 3).await else {
        return;
    };
    let http = reqwest::Client::new();
    let bases = bases(&servers);
    create(&http, &bases[1], "elsewhere").await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let others = tokio::spawn({
        let (http, bases, stop) = (http.clone(), bases.clone(), stop.clone());
        async move {
            let mut caused = 0;
            // Bounded: at most 2000 conflicts, whatever the check's duration.
            while !stop.load(std::sync::atomic::Ordering::SeqCst) && caused < 2000 {
                conflict(&http, &bases[1 + caused % 2], "elsewhere").await;
                caused += 1;
                // A steady trickle, not a flood: the check is what is under test.
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            caused
        }
    });
    let report = support::check(&support::config(&bases[0], &[Profile::Notifications], 412)).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let caused = others.await.unwrap();
    eprintln!("{caused} conflicts on the other replicas during the check");
    for o in &report.outcomes {
        let ok = match o.level {
            Level::Info => o.verdict == Verdict::Info,
            // Rules needing tokens skip (the replicas have none), as on one server.
            _ => o.verdict == Verdict::Pass || o.verdict == Verdict::Skip,
        };
        assert!(ok, "{} was {}: {}", o.id, o.verdict.as_str(), o.message);
    }
    assert!(
        report.outcomes.iter().any(|o| o.verdict == Verdict::Pass),
        "no notifications rule ran"
    );
    assert_eq!(report.exit_code(), 0);
    shutdown(servers).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_event_whose_notification_is_lost_still_reaches_the_subscribers() {
    let Some((_cluster, url, servers)) = replicas("replicas: lost notify", 2).await else {
        return;
    };
    let http = reqwest::Client::new();
    let bases = bases(&servers);
    create(&http, &bases[0], "doc").await;
    let mut on_b = Stream::open(&http, &bases[1], None).await;
    let first = conflict(&http, &bases[0], "doc").await;
    assert_eq!(data_id(&on_b.next().await), first);
    // A conflict committed without NOTIFY (as if the notification were lost): a copy of the
    // first under the next number, written straight into the table.
    let psql = pg::cluster::bindir().unwrap().join("psql");
    let sql = "INSERT INTO ifmatch_conflicts (seq, doc_id, record) \
               SELECT nextval('ifmatch_conflict_seq'), doc_id, record FROM ifmatch_conflicts \
               WHERE seq = 1 RETURNING seq";
    let out = std::process::Command::new(psql)
        .args([url.as_str(), "-tAc", sql])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seq: u64 = String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // Nobody reads /conflicts on B meanwhile: only the catch-up poll can bring it.
    let event = on_b.next().await;
    assert_eq!(event.id, Some(seq.to_string()));
    assert_eq!(data_id(&event), format!("c-{seq}"));
    shutdown(servers).await;
}
