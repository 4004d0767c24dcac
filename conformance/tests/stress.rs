//! The stress tool against the reference server on loopback, with small bounded
//! counts: safe strategies (reapply, merge, lock) lose nothing, lossy ones are
//! measured honestly. The summary's text is snapshot-tested; targets shaped
//! otherwise (PUT-create, ids in the body, trailing-slash collections,
//! credentials, broken updates, required preconditions, replicas) are stubs in
//! `stress/stub.rs` and are covered in `stress/targets.rs` and `stress/replicas.rs`.

#[path = "stress/faults.rs"]
mod faults;
#[path = "stress/replicas.rs"]
mod replicas;
#[path = "stress/stub.rs"]
mod stub;
#[path = "stress/targets.rs"]
mod targets;

use std::collections::BTreeMap;

use ifmatch_conformance::cli::{run, Io};
use ifmatch_conformance::stress::{
    self, exit_code, BaseUrlCounts, FailedUpdate, SteadyWindow, StrategyArg, StressConfig,
    StressSummary,
};

async fn stress_embedded(strategy: StrategyArg) -> StressSummary {
    let server = ifmatch_server::spawn(ifmatch_server::Config::new())
        .await
        .unwrap();
    let mut config = StressConfig::new(&server.base_url());
    config.clients = 4;
    config.updates = 10;
    config.strategy = strategy;
    let summary = stress::run(&config).await.expect("stress run completes");
    server.shutdown().await;
    summary
}

/// Every requested update is accounted for, and the counter agrees with the losses.
pub fn assert_accounting(s: &StressSummary, requested: u64) {
    assert_eq!(s.requested, requested);
    assert_eq!(
        s.acknowledged + s.failed + s.not_started,
        requested,
        "{s:?}"
    );
    assert_eq!(
        s.final_value + s.lost_updates - s.extra_updates - s.unknown_applied,
        s.acknowledged as i64,
        "{s:?}"
    );
    assert!(s.unknown_outcomes <= s.failed, "{s:?}");
    assert!(
        (0..=s.unknown_outcomes as i64).contains(&s.unknown_applied),
        "{s:?}"
    );
    assert_eq!(
        s.failed,
        s.failures_by_status.values().sum::<u64>(),
        "{s:?}"
    );
    assert_eq!(
        s.first_failures.len() as u64,
        s.failed.min(stress::FIRST_FAILURES as u64),
        "{s:?}"
    );
    let per_base: u64 = s.base_urls.iter().map(|b| b.updates).sum();
    assert_eq!(per_base, s.acknowledged + s.failed, "{s:?}");
    assert!(s.p50_ms <= s.p99_ms);
    // Several clients: the part where all of them ran is measured, and is part of the run.
    if s.clients > 1 && s.acknowledged > 0 {
        let w = s
            .steady
            .as_ref()
            .expect("a steady part with several clients");
        assert!(w.acknowledged <= s.acknowledged, "{s:?}");
        assert!(w.clients_acknowledged <= s.clients, "{s:?}");
        assert!(w.seconds <= s.elapsed_seconds + 0.001, "{s:?}");
        assert!(w.p50_ms <= w.p99_ms, "{s:?}");
    }
}

#[tokio::test]
async fn reapply_loses_no_update() {
    let s = stress_embedded(StrategyArg::Reapply).await;
    assert_accounting(&s, 40);
    assert_eq!(
        (s.acknowledged, s.final_value, s.lost_updates),
        (40, 40, 0),
        "{s:?}"
    );
    assert!(s.attempts_per_update >= 1.0);
    assert!(s.first_failures.is_empty() && s.notes.is_empty(), "{s:?}");
    assert_eq!(exit_code(StrategyArg::Reapply, &s), 0);
}

#[tokio::test]
async fn merge_loses_no_update() {
    let s = stress_embedded(StrategyArg::Merge).await;
    assert_accounting(&s, 40);
    assert_eq!(
        (s.acknowledged, s.final_value, s.lost_updates),
        (40, 40, 0),
        "{s:?}"
    );
}

#[tokio::test]
async fn lock_loses_no_update_and_never_conflicts() {
    let s = stress_embedded(StrategyArg::Lock).await;
    assert_accounting(&s, 40);
    assert_eq!(
        (s.acknowledged, s.final_value, s.lost_updates),
        (40, 40, 0),
        "{s:?}"
    );
    // Writers take turns under the lock: one unconditional write per update, never refused.
    assert_eq!(s.attempts_per_update, 1.0, "{s:?}");
    assert_eq!((s.status_409, s.status_412), (0, 0), "{s:?}");
    assert_eq!(exit_code(StrategyArg::Lock, &s), 0);
}

/// Tasks sharing one SDK client: the client's update queue makes their updates of the counter
/// take turns, so none is ever refused (nothing else writes the counter) and each takes one
/// write. Fails if the queue lets two updates of one URL race.
#[tokio::test]
async fn tasks_sharing_one_client_never_refuse_each_other() {
    for strategy in [StrategyArg::Reapply, StrategyArg::Merge, StrategyArg::Lww] {
        let server = ifmatch_server::spawn(ifmatch_server::Config::new())
            .await
            .unwrap();
        let mut config = StressConfig::new(&server.base_url());
        (config.clients, config.updates) = (8, 15);
        config.strategy = strategy;
        config.shared_client = true;
        let s = stress::run(&config).await.expect("stress run completes");
        server.shutdown().await;
        assert_accounting(&s, 120);
        assert_eq!(
            (s.acknowledged, s.final_value, s.lost_updates),
            (120, 120, 0),
            "{s:?}"
        );
        assert_eq!((s.status_409, s.status_412), (0, 0), "{s:?}");
        assert_eq!(s.attempts_per_update, 1.0, "{s:?}");
        assert!(s.shared_client, "{s:?}");
        assert!(
            s.to_text()
                .starts_with("stress: 8 clients × 15 updates, strategy "),
            "{}",
            s.to_text()
        );
        assert!(
            s.to_text().contains(", one SDK client shared by all\n"),
            "{}",
            s.to_text()
        );
    }
}

/// A 1-client baseline on the document an N-client run writes: `--slots` sizes the counter,
/// the one client increments its own slot, and the others stay 0 (the total is still exact).
#[tokio::test]
async fn slots_size_the_counter_for_a_fair_baseline() {
    let server = ifmatch_server::spawn(ifmatch_server::Config::new())
        .await
        .unwrap();
    let mut config = StressConfig::new(&server.base_url());
    (config.clients, config.updates, config.slots) = (1, 5, Some(16));
    let s = stress::run(&config).await.expect("stress run completes");
    assert_accounting(&s, 5);
    assert_eq!(
        (s.slots, s.final_value, s.lost_updates),
        (16, 5, 0),
        "{s:?}"
    );
    let text = s.to_text();
    assert!(
        text.starts_with("stress: 1 clients × 5 updates, strategy reapply, counter of 16 slots\n"),
        "{text}"
    );
    // Fewer slots than clients would make two clients share one.
    (config.clients, config.slots) = (4, Some(3));
    let err = stress::run(&config).await.unwrap_err();
    server.shutdown().await;
    insta::assert_snapshot!("stress_slots_too_few", err);
    let (code, _, err) = cli(&["stress", "--slots", "10001", "--updates", "1"]).await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--slots 10001: give at least --clients (8) and at most 10000"),
        "{err}"
    );
}

#[tokio::test]
async fn a_shared_client_is_refused_for_strategies_without_one() {
    for strategy in ["naive", "lock"] {
        let (code, out, err) = cli(&[
            "stress",
            "--shared-client",
            "--strategy",
            strategy,
            "--updates",
            "1",
        ])
        .await;
        assert_eq!((code, out.as_str()), (2, ""), "{err}");
        insta::assert_snapshot!(format!("stress_shared_client_{strategy}"), err);
    }
}

#[test]
fn lock_is_a_safe_strategy() {
    assert!(StrategyArg::Lock.is_safe());
    let lossy = StressSummary {
        strategy: "lock".into(),
        lost_updates: 1,
        ..summary_fixture()
    };
    assert_eq!(exit_code(StrategyArg::Lock, &lossy), 1);
}

pub fn summary_fixture() -> StressSummary {
    StressSummary {
        strategy: "reapply".into(),
        retry: "contended".into(),
        representation: true,
        shared_client: false,
        slots: 2,
        clients: 2,
        updates_per_client: 1,
        counter_url: "http://127.0.0.1:8080/items/1".into(),
        headers: Vec::new(),
        requested: 2,
        acknowledged: 2,
        failed: 0,
        unknown_outcomes: 0,
        not_started: 0,
        final_value: 1,
        lost_updates: 1,
        extra_updates: 0,
        unknown_applied: 0,
        elapsed_seconds: 0.1,
        goodput_per_second: 20.0,
        attempts_per_update: 1.0,
        status_409: 0,
        status_412: 0,
        status_429: 0,
        p50_ms: 1.0,
        p99_ms: 2.0,
        steady: Some(SteadyWindow {
            seconds: 0.05,
            acknowledged: 1,
            goodput_per_second: 20.0,
            p50_ms: 1.0,
            p99_ms: 1.0,
            clients_acknowledged: 1,
        }),
        base_urls: vec![BaseUrlCounts {
            base_url: "http://127.0.0.1:8080".into(),
            clients: 2,
            updates: 2,
            acknowledged: 2,
            failed: 0,
        }],
        failures_by_status: BTreeMap::new(),
        first_failures: Vec::new(),
        notes: Vec::new(),
    }
}

#[tokio::test]
async fn naive_and_lww_are_measured_and_never_overcount() {
    for strategy in [StrategyArg::Naive, StrategyArg::Lww] {
        let s = stress_embedded(strategy).await;
        assert_accounting(&s, 40);
        assert!(s.lost_updates >= 0, "{s:?}");
        assert_eq!(s.failed, 0, "{s:?}");
        assert_eq!(
            exit_code(strategy, &s),
            0,
            "losses are expected from {strategy:?}"
        );
        if strategy == StrategyArg::Naive {
            assert_eq!(
                (s.status_409, s.status_412),
                (0, 0),
                "naive sends no preconditions"
            );
        }
    }
}

#[test]
fn a_safe_strategy_that_lost_updates_exits_1() {
    let lossy = summary_fixture();
    assert_eq!(exit_code(StrategyArg::Reapply, &lossy), 1);
    assert_eq!(exit_code(StrategyArg::Merge, &lossy), 1);
    assert_eq!(exit_code(StrategyArg::Naive, &lossy), 0);
    insta::assert_snapshot!("stress_text", lossy.to_text());
}

#[test]
fn unknown_outcomes_bound_the_counter_and_extras_fail_a_safe_run() {
    let (lost_updates, extra_updates, unknown_applied) = StressSummary::judge(38, 2, 39);
    let s = StressSummary {
        requested: 40,
        acknowledged: 38,
        failed: 2,
        unknown_outcomes: 2,
        final_value: 39,
        lost_updates,
        extra_updates,
        unknown_applied,
        failures_by_status: BTreeMap::from([("connection".into(), 2)]),
        first_failures: vec![FailedUpdate {
            client: 1,
            update: 4,
            base_url: "http://127.0.0.1:8080".into(),
            status: None,
            request: None,
            reason: "PUT http://127.0.0.1:8080/items/1 failed before a response arrived".into(),
        }],
        ..summary_fixture()
    };
    assert_eq!(
        (s.lost_updates, s.extra_updates, s.unknown_applied),
        (0, 0, 1)
    );
    insta::assert_snapshot!("stress_text_unknown", s.to_text());

    let (lost_updates, extra_updates, unknown_applied) = StressSummary::judge(40, 0, 41);
    let extra = StressSummary {
        acknowledged: 40,
        final_value: 41,
        lost_updates,
        extra_updates,
        unknown_applied,
        failed: 0,
        unknown_outcomes: 0,
        failures_by_status: BTreeMap::new(),
        first_failures: Vec::new(),
        ..s
    };
    assert_eq!(
        (
            extra.lost_updates,
            extra.extra_updates,
            extra.unknown_applied
        ),
        (0, 1, 0)
    );
    assert_eq!(exit_code(StrategyArg::Reapply, &extra), 1);
    assert_eq!(exit_code(StrategyArg::Naive, &extra), 0);
    insta::assert_snapshot!("stress_text_extra", extra.to_text());
}

#[test]
fn any_failed_update_exits_1_and_is_explained() {
    let mut s = StressSummary {
        strategy: "naive".into(),
        clients: 2,
        updates_per_client: 3,
        requested: 6,
        acknowledged: 0,
        failed: 6,
        final_value: 0,
        lost_updates: 0,
        headers: vec!["Authorization: <redacted>".into()],
        base_urls: vec![
            BaseUrlCounts {
                base_url: "http://127.0.0.1:8080".into(),
                clients: 1,
                updates: 3,
                acknowledged: 0,
                failed: 3,
            },
            BaseUrlCounts {
                base_url: "http://127.0.0.1:18080".into(),
                clients: 1,
                updates: 3,
                acknowledged: 0,
                failed: 3,
            },
        ],
        failures_by_status: BTreeMap::from([("428".into(), 6)]),
        first_failures: vec![FailedUpdate {
            client: 0,
            update: 1,
            base_url: "http://127.0.0.1:8080".into(),
            status: Some(428),
            request: Some("PUT http://127.0.0.1:8080/items/1".into()),
            reason: "{\"error\":\"precondition required\"}".into(),
        }],
        ..summary_fixture()
    };
    s.explain_failures();
    assert_eq!(
        exit_code(StrategyArg::Naive, &s),
        1,
        "a failed update fails the run"
    );
    insta::assert_snapshot!("stress_text_naive_refused", s.to_text());

    s.strategy = "reapply".into();
    s.failures_by_status = BTreeMap::from([("401".into(), 5), ("connection".into(), 1)]);
    s.first_failures[0].status = None;
    s.first_failures[0].request = None;
    s.first_failures[0].reason = "PUT http://127.0.0.1:8080/items/1: connection refused".into();
    s.explain_failures();
    assert_eq!(s.notes.len(), 1, "{:?}", s.notes);
    assert!(s.notes[0]
        .starts_with("401 Unauthorized: check your credentials (--header 'Authorization: …')"));
    insta::assert_snapshot!("stress_text_unauthorized", s.to_text());
}

pub async fn cli(args: &[&str]) -> (i32, String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let argv = std::iter::once("ifmatch-conformance").chain(args.iter().copied());
    let code = run(
        argv,
        Io {
            out: &mut out,
            err: &mut err,
            progress: false,
        },
    )
    .await;
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

#[tokio::test]
async fn stress_cli_prints_json_against_the_embedded_server() {
    let (code, out, err) = cli(&[
        "stress",
        "--clients",
        "2",
        "--updates",
        "5",
        "--strategy",
        "reapply",
        "--json",
    ])
    .await;
    assert_eq!(code, 0, "{err}");
    let summary: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(summary["final_value"], 10);
    assert_eq!(summary["lost_updates"], 0);
    assert_eq!(
        (
            &summary["unknown_outcomes"],
            &summary["extra_updates"],
            &summary["unknown_applied"]
        ),
        (
            &serde_json::json!(0),
            &serde_json::json!(0),
            &serde_json::json!(0)
        )
    );
    for field in [
        "goodput_per_second",
        "attempts_per_update",
        "status_409",
        "status_412",
        "status_429",
        "p50_ms",
        "p99_ms",
    ] {
        assert!(summary[field].is_number(), "{field}");
    }
    for field in ["base_urls", "first_failures", "notes", "headers"] {
        assert!(summary[field].is_array(), "{field}");
    }
    assert!(summary["failures_by_status"].is_object());
    assert_eq!(summary["base_urls"][0]["acknowledged"], 10);
}

#[tokio::test]
async fn stress_cli_rejects_unbounded_counts() {
    let (code, _, err) = cli(&["stress", "--clients", "0", "--updates", "5"]).await;
    assert_eq!(code, 2);
    insta::assert_snapshot!("stress_bounds", err);
}

#[tokio::test]
async fn stress_cli_reports_an_unreachable_server_as_exit_2() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let (code, _, err) = cli(&["stress", "--base-url", &url, "--updates", "1"]).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&format!("cannot reach {url}/items")), "{err}");
    assert!(err.contains("is the server running"), "{err}");
}

#[tokio::test]
async fn stress_help_lists_the_target_flags() {
    let (code, out, _) = cli(&["stress", "--help"]).await;
    assert_eq!(code, 0);
    insta::assert_snapshot!("stress_help", out);
}

#[tokio::test]
async fn every_strategy_sends_the_credentials_to_a_server_that_requires_them() {
    let server = ifmatch_server::spawn(
        ifmatch_server::Config::new()
            .with_client_token("stress", "t0ken")
            .with_require_auth(true),
    )
    .await
    .unwrap();
    for strategy in [
        StrategyArg::Reapply,
        StrategyArg::Merge,
        StrategyArg::Lww,
        StrategyArg::Naive,
        StrategyArg::Lock,
    ] {
        let mut config = StressConfig::new(&server.base_url());
        (config.clients, config.updates, config.strategy) = (2, 3, strategy);
        config.headers = vec![("Authorization".into(), "Bearer t0ken".into())];
        let s = stress::run(&config).await.expect("runs");
        assert_accounting(&s, 6);
        assert_eq!(s.failed, 0, "{strategy:?}: {s:#?}");
    }
    let config = StressConfig::new(&server.base_url());
    let err = stress::run(&config).await.unwrap_err();
    server.shutdown().await;
    assert!(
        err.ends_with(
            "answered 401 Unauthorized: check your credentials (--header 'Authorization: …')"
        ),
        "{err}"
    );
}
