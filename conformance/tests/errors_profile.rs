//! The `errors` profile from the command line: selectable, and the old
//! `core.problem.*` IDs point at it.

use std::process::Command;

#[test]
fn the_old_core_problem_rules_point_at_the_errors_profile() {
    let out = Command::new(env!("CARGO_BIN_EXE_ifmatch-conformance"))
        .args([
            "check",
            "--base-url",
            "http://127.0.0.1:9",
            "--rule",
            "core.problem",
        ])
        .output()
        .expect("the binary runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the core.problem.* rules are now errors.problem.* in the errors profile: use --profile errors"),
        "{err}"
    );
}

#[test]
fn the_errors_profile_is_selectable_and_listed() {
    let out = Command::new(env!("CARGO_BIN_EXE_ifmatch-conformance"))
        .args(["check", "--profile", "errors", "--dry-run"])
        .output()
        .expect("the binary runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for id in [
        "errors.problem.media-type",
        "errors.problem.status-member",
        "errors.problem.type-uri",
    ] {
        assert!(text.contains(id), "{text}");
    }
    assert!(
        !text.contains("core."),
        "only the errors profile was selected: {text}"
    );
}
