//! The `ifmatch-server` binary: help text, flag errors, start-up line, graceful stop.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_ifmatch-server");
/// Upper bound for the binary to start or stop; a hang fails the test instead of blocking CI.
const BOUND: Duration = Duration::from_secs(60);

#[test]
fn help_documents_every_flag() {
    let output = std::process::Command::new(BIN)
        .arg("--help")
        .output()
        .unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    insta::assert_snapshot!("help", help);
}

#[test]
fn invalid_flag_values_are_explained() {
    let output = std::process::Command::new(BIN)
        .args(["--rate-limit", "0"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    insta::assert_snapshot!(
        "invalid_rate_limit",
        String::from_utf8(output.stderr).unwrap()
    );
    let output = std::process::Command::new(BIN)
        .args(["--storage", "redis://db"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    insta::assert_snapshot!("invalid_storage", String::from_utf8(output.stderr).unwrap());
}

#[test]
fn invalid_faults_name_the_bad_item_and_the_valid_forms() {
    let output = std::process::Command::new(BIN)
        .args(["--faults", "seed=7,drop-afterr=0.05"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    insta::assert_snapshot!("invalid_faults", String::from_utf8(output.stderr).unwrap());
}

#[test]
fn limits_out_of_range_are_refused_naming_the_flag() {
    for args in [
        ["--max-lock-ttl", "0"],
        ["--max-lock-ttl", "86400001"],
        ["--max-lock-waiters", "many"],
        ["--max-batch-operations", "0"],
        ["--max-transactions", "0"],
        ["--max-transaction-ttl", "0"],
        ["--max-transaction-ttl", "86400001"],
        ["--history-max-versions", "0"],
        ["--history-max-age", "soon"],
        ["--tombstone-ttl", "a day"],
        ["--v1-deprecation", "2026-06-01"],
        ["--v1-sunset", "2027-02-30T00:00:00Z"],
    ] {
        let output = std::process::Command::new(BIN).args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(stderr.contains(args[0]), "{args:?}: {stderr}");
    }
}

#[test]
fn a_v1_sunset_before_the_deprecation_is_refused() {
    let output = std::process::Command::new(BIN)
        .args(["--v1-deprecation", "2027-01-01T00:00:00Z"])
        .args(["--v1-sunset", "2026-12-31T23:59:59Z"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("--v1-sunset") && stderr.contains("--v1-deprecation"),
        "{stderr}"
    );
    // `none` switches the sunset off, and with it the check.
    let output = std::process::Command::new(BIN)
        .args([
            "--v1-deprecation",
            "2027-01-01T00:00:00Z",
            "--v1-sunset",
            "none",
        ])
        .args(["--addr", "256.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "only the address is refused");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("--addr"), "{stderr}");
}

#[tokio::test]
async fn logs_its_url_serves_and_stops_gracefully_on_ctrl_c() {
    let mut child = Command::new(BIN)
        .args(["--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(BOUND, lines.next_line())
        .await
        .expect("a start-up line in time")
        .unwrap()
        .expect("a start-up line");
    let url = line
        .split("ifmatch-server listening on ")
        .nth(1)
        .unwrap_or_else(|| panic!("unexpected first line: {line}"))
        .trim()
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    let response = reqwest::get(format!("{url}/items")).await.unwrap();
    assert_eq!(response.status(), 200);

    let pid = child.id().expect("still running").to_string();
    let signalled = Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .await
        .unwrap();
    assert!(signalled.success());
    let status = tokio::time::timeout(BOUND, child.wait())
        .await
        .expect("exits in time")
        .unwrap();
    assert!(status.success(), "{status}");
}

#[test]
fn an_address_in_use_fails_with_status_1_and_says_why() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let output = std::process::Command::new(BIN)
        .args(["--addr", &addr])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let log = String::from_utf8_lossy(&output.stdout);
    assert!(log.contains(&format!("cannot listen on {addr}")), "{log}");
}
