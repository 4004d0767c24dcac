//! `check` with a configuration file: where it is found, what it sets, that flags
//! win over it, `${NAME}` substitution, several report formats in one run,
//! paths kept exactly as given, and `--wait-for`.

#[path = "config/runs.rs"]
mod runs;
mod support;

use std::path::Path;

use ifmatch_conformance::cli::{config, run_in, Environment, Io};
use support::{emulated, Fault, Options};

struct Output {
    code: i32,
    out: String,
    err: String,
}

/// Runs the command line in `dir` (as its current directory) with the
/// environment variables `vars` only.
async fn cli_in(dir: &Path, vars: &[(&str, &str)], args: &[&str], progress: bool) -> Output {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let env = Environment {
        var: Box::new(move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())),
        cwd: Some(dir.to_owned()),
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let argv = std::iter::once("ifmatch-conformance").chain(args.iter().copied());
    let io = Io {
        out: &mut out,
        err: &mut err,
        progress,
    };
    let code = run_in(argv, io, &env).await;
    Output {
        code,
        out: String::from_utf8(out).unwrap(),
        err: String::from_utf8(err).unwrap(),
    }
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn the_file_in_the_current_directory_is_read_and_named_on_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        config::DEFAULT_FILE,
        "base-url = \"http://127.0.0.1:9\"\ncollection = \"/dav/\"\ndry-run = true\nrule = \"core.if-match.stale-put\"\n",
    );
    let quiet = cli_in(dir.path(), &[], &["check"], false).await;
    assert_eq!(quiet.code, 0, "{}", quiet.err);
    assert!(quiet.err.is_empty(), "{}", quiet.err);
    assert!(
        quiet.out.contains("POST http://127.0.0.1:9/dav/ "),
        "{}",
        quiet.out
    );
    let shown = cli_in(dir.path(), &[], &["check"], true).await;
    assert_eq!(
        shown.err.replace(&dir.path().display().to_string(), "DIR"),
        "using DIR/ifmatch-conformance.toml\n"
    );
    // Named by the variable or the flag instead, the file in the directory is not read.
    write(
        dir.path(),
        "other.toml",
        "dry-run = true\nrule = \"core.if-match.stale-put\"\n",
    );
    let var = [(config::CONFIG_ENV, "other.toml")];
    let other = cli_in(dir.path(), &var, &["check"], true).await;
    assert!(
        other.out.contains("http://127.0.0.1:<embedded>/items"),
        "{}",
        other.out
    );
    assert!(!other.err.contains("using"), "{}", other.err);
    let flagged = cli_in(dir.path(), &[], &["check", "--config", "other.toml"], false).await;
    assert_eq!(flagged.out, other.out);
}

#[tokio::test]
async fn flags_win_over_the_file_and_the_file_over_the_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let base = ["check", "--dry-run", "--rule", "core.if-match.stale-put"];
    let defaults = cli_in(dir.path(), &[], &base, false).await;
    assert!(
        defaults.out.contains("<embedded>/items/<id from Location>"),
        "{}",
        defaults.out
    );
    assert!(!defaults.out.contains("target shape"), "{}", defaults.out);
    write(
        dir.path(),
        "c.toml",
        r#"
        collection = "/from-file/"
        [create]
        method = "put"
        url = "{collection}{id}"
        location = "template"
        [version]
        stale-status = [412, 409]
        [body]
        ignore = ["/id"]
        "#,
    );
    let from_file = cli_in(
        dir.path(),
        &[],
        &[&base[..], &["--config", "c.toml"]].concat(),
        false,
    )
    .await;
    assert_eq!(from_file.code, 0, "{}", from_file.err);
    let flagged = cli_in(
        dir.path(),
        &[],
        &[
            &base[..],
            &[
                "--config",
                "c.toml",
                "--collection",
                "flag",
                "--location",
                "header",
                "--stale-status",
                "409",
            ],
        ]
        .concat(),
        false,
    )
    .await;
    assert_eq!(flagged.code, 0, "{}", flagged.err);
    insta::assert_snapshot!(
        "config_precedence",
        format!(
            "--- file\n{}--- flags over the file\n{}",
            from_file.out, flagged.out
        )
    );
}

#[tokio::test]
async fn environment_variables_fill_the_file_and_missing_ones_are_named() {
    let server = emulated(Options {
        faults: vec![Fault::RejectCurrentDelete],
        ..Options::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        config::DEFAULT_FILE,
        &format!(
            "base-url = \"{}\"\nheader = \"X-Api-Key: ${{API_KEY}}\"\nrule = \"core.if-match.current-delete\"\nshow-secrets = true\n",
            server.uri()
        ),
    );
    let done = cli_in(dir.path(), &[("API_KEY", "k-123")], &["check"], false).await;
    assert!(
        done.out.contains("X-Api-Key: k-123"),
        "{}{}",
        done.out,
        done.err
    );
    let sent = server.received_requests().await.unwrap();
    assert!(sent
        .iter()
        .all(|r| r.headers.get("x-api-key").unwrap() == "k-123"));
    let unset = cli_in(dir.path(), &[], &["check"], false).await;
    assert_eq!(unset.code, 2);
    assert!(
        unset.err.contains("API_KEY, which is not set"),
        "{}",
        unset.err
    );
}

#[tokio::test]
async fn mistakes_in_the_file_exit_2_naming_the_key_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        "colection = \"/items\"",
        "base_url = \"http://127.0.0.1:9\"",
        "header = \"Authorization: Bearer ${TOKEN}\"",
        "[create]\nmetod = \"put\"",
        "[version]\nstale-status = [400]",
        "profile = [\"core\", \"batch\"]",
        "repeat = 0",
        "wait-for = 100000",
        "lock-path = \"/locks\"",
        "base-url = \"127.0.0.1:8080\"",
        "header = [\"Authorization Bearer x\"]",
        "format = \"text,xml\"",
        "format = \"text,json\"",
        "output = \"r.txt\"\nformat = [\"text\", \"junit\"]",
        "rule = \"core.nothing-like-this\"",
        "token = \"alice\"",
        "sse-wait = 0",
        "collection = [",
    ];
    let mut messages = String::new();
    for text in cases {
        write(dir.path(), "c.toml", text);
        let failed = cli_in(
            dir.path(),
            &[],
            &["check", "--config", "c.toml", "--dry-run"],
            false,
        )
        .await;
        assert_eq!(failed.code, 2, "{text}: {}", failed.out);
        let err = failed.err.replace(&dir.path().display().to_string(), "DIR");
        messages.push_str(&format!(
            "# {}\n{}\n",
            text.replace('\n', " \\n "),
            err.trim_end()
        ));
    }
    let missing = cli_in(dir.path(), &[], &["check", "--config", "nope.toml"], false).await;
    assert_eq!(missing.code, 2);
    let err = missing
        .err
        .replace(&dir.path().display().to_string(), "DIR");
    messages.push_str(&format!("# --config nope.toml\n{}\n", err.trim_end()));
    insta::assert_snapshot!("config_errors", messages);
}

#[test]
fn the_example_file_parses_and_sets_every_table() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("ifmatch-conformance.example.toml");
    let file = config::load(&path, |name| (name == "API_TOKEN").then(|| "t".to_owned())).unwrap();
    assert!(file.base_url.is_some() && file.collection.is_some());
    assert_ne!(file.shape, Default::default());
    let text = std::fs::read_to_string(&path).unwrap();
    // Every key is shown, commented out where the value is the default.
    for key in [
        "base-url",
        "collection",
        "profile",
        "mismatch-status",
        "header",
        "rule",
        "format",
        "output",
        "dry-run",
        "show-secrets",
        "max-retry-wait",
        "lock-path",
        "batch-path",
        "transactions-path",
        "versions-path",
        "api-prefixes",
        "conflicts-path",
        "token",
        "other-token",
        "admin-token",
        "sse-wait",
        "repeat",
        "wait-for",
        "fail-on-skipped",
        "[create]",
        "method",
        "url",
        "location",
        "[version]",
        "read",
        "send",
        "stale-status",
        "[body]",
        "fixture",
        "ignore",
        "patch",
        "malformed-status",
        "missing-id",
        "[errors]",
    ] {
        assert!(text.contains(key), "the example does not show {key}");
    }
}

#[tokio::test]
async fn fail_on_skipped_reaches_the_report_from_the_flag_and_the_file() {
    let server = emulated(Options::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "check",
        "--base-url",
        &server.uri(),
        "--rule",
        "core.etag.strong-on-get",
        "--format",
        "json",
    ];
    let flag_of = |out: &Output| {
        let report: serde_json::Value = serde_json::from_str(&out.out).unwrap();
        report["fail_on_skipped"].as_bool().unwrap()
    };
    assert!(!flag_of(&cli_in(dir.path(), &[], &args, false).await));
    let flagged = cli_in(
        dir.path(),
        &[],
        &[&args[..], &["--fail-on-skipped"]].concat(),
        false,
    )
    .await;
    assert!(flag_of(&flagged));
    write(dir.path(), config::DEFAULT_FILE, "fail-on-skipped = true\n");
    assert!(flag_of(&cli_in(dir.path(), &[], &args, false).await));
}
