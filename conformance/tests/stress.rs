//! The stress tool against the reference server on loopback, with small bounded
//! counts: safe strategies (reapply, merge, lock) lose nothing, lossy ones are
//! measured honestly.

use std::time::Duration;

use ifmatch_conformance::cli::{run, Io};
use ifmatch_conformance::stress::{self, exit_code, StrategyArg, StressConfig, StressSummary};

async fn stress_embedded(strategy: StrategyArg) -> StressSummary {
    let server = ifmatch_server::spawn(ifmatch_server::Config::new())
        .await
        .unwrap();
    let config = StressConfig {
        base_url: server.base_url(),
        collection: "/items".into(),
        clients: 4,
        updates: 10,
        strategy,
        max_duration: Duration::from_secs(60),
    };
    let summary = stress::run(&config).await.expect("stress run completes");
    server.shutdown().await;
    summary
}

fn assert_accounting(s: &StressSummary) {
    assert_eq!(s.requested, 40);
    assert_eq!(s.acknowledged + s.failed + s.not_started, 40, "{s:?}");
    assert_eq!(
        s.final_value + s.lost_updates,
        s.acknowledged as i64,
        "{s:?}"
    );
    assert!(s.p50_ms <= s.p99_ms);
}

#[tokio::test]
async fn reapply_loses_no_update() {
    let s = stress_embedded(StrategyArg::Reapply).await;
    assert_accounting(&s);
    assert_eq!(
        (s.acknowledged, s.final_value, s.lost_updates),
        (40, 40, 0),
        "{s:?}"
    );
    assert!(s.attempts_per_update >= 1.0);
    assert_eq!(exit_code(StrategyArg::Reapply, &s), 0);
}

#[tokio::test]
async fn merge_loses_no_update() {
    let s = stress_embedded(StrategyArg::Merge).await;
    assert_accounting(&s);
    assert_eq!(
        (s.acknowledged, s.final_value, s.lost_updates),
        (40, 40, 0),
        "{s:?}"
    );
}

#[tokio::test]
async fn lock_loses_no_update_and_never_conflicts() {
    let s = stress_embedded(StrategyArg::Lock).await;
    assert_accounting(&s);
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

fn summary_fixture() -> StressSummary {
    StressSummary {
        strategy: "reapply".into(),
        clients: 2,
        updates_per_client: 1,
        requested: 2,
        acknowledged: 2,
        failed: 0,
        not_started: 0,
        final_value: 1,
        lost_updates: 1,
        elapsed_seconds: 0.1,
        goodput_per_second: 20.0,
        attempts_per_update: 1.0,
        status_409: 0,
        status_412: 0,
        status_429: 0,
        p50_ms: 1.0,
        p99_ms: 2.0,
    }
}

#[tokio::test]
async fn naive_and_lww_are_measured_and_never_overcount() {
    for strategy in [StrategyArg::Naive, StrategyArg::Lww] {
        let s = stress_embedded(strategy).await;
        assert_accounting(&s);
        assert!(s.lost_updates >= 0, "{s:?}");
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

async fn cli(args: &[&str]) -> (i32, String, String) {
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
}

#[tokio::test]
async fn stress_cli_rejects_unbounded_counts() {
    let (code, _, err) = cli(&["stress", "--clients", "0", "--updates", "5"]).await;
    assert_eq!(code, 2);
    insta::assert_snapshot!("stress_bounds", err);
}
