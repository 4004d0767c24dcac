//! How flags, the configuration file and the defaults merge into a `CheckConfig`.

use std::time::Duration;

use clap::Parser;

use super::args::Format;
use super::settings::{build, Settings};
use super::{Cli, Command};
use crate::target::{CreateMethod, PatchFormat, VersionSend};

fn settings(args: &[&str], file: Option<&str>) -> Result<Settings, String> {
    let cli = Cli::try_parse_from(["x", "check"].iter().chain(args)).map_err(|e| e.to_string())?;
    let Command::Check(args) = cli.command else {
        unreachable!()
    };
    let file = file
        .map(|text| {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("c.toml");
            std::fs::write(&path, text).unwrap();
            super::config::load(&path, |_| None)
        })
        .transpose()?;
    build(&args, file.as_ref(), &|_| None, None)
}

#[test]
fn defaults_apply_when_neither_flag_nor_file_says() {
    let s = settings(&[], None).unwrap();
    let c = &s.config;
    assert_eq!(c.collection, "/items");
    assert_eq!(c.profiles, vec![crate::rules::Profile::Core]);
    assert_eq!(
        (c.repeat, c.wait_for, c.fail_on_skipped),
        (1, Duration::ZERO, false)
    );
    assert_eq!(c.max_retry_wait, Duration::from_secs(10));
    assert_eq!(c.mismatch_status, 412);
    assert_eq!(c.shape, Default::default());
    assert_eq!((s.dry_run, s.base_url_given), (false, false));
    assert_eq!(s.outputs.stdout, Some(Format::Text));
    assert!(s.outputs.files.is_empty());
}

#[test]
fn the_file_wins_over_defaults_and_flags_over_the_file() {
    let file = r#"
        collection = "/file/"
        repeat = 5
        wait-for = 30
        max-retry-wait = 2
        fail-on-skipped = true
        header = ["X-A: file", "X-B: file"]
        profile = "core,locking"
        [create]
        method = "put"
        [body]
        patch = "none"
    "#;
    let c = settings(&[], Some(file)).unwrap().config;
    assert_eq!(c.collection, "/file/");
    assert_eq!((c.repeat, c.wait_for), (5, Duration::from_secs(30)));
    assert_eq!(c.max_retry_wait, Duration::from_secs(2));
    assert!(c.fail_on_skipped);
    assert_eq!(c.profiles.len(), 2);
    assert_eq!(c.shape.create.method, CreateMethod::Put);
    assert_eq!(c.shape.body.patch, PatchFormat::None);
    let flags = [
        "--collection",
        "flag",
        "--repeat",
        "7",
        "--wait-for",
        "0",
        "--header",
        "x-b: flag",
        "--profile",
        "core",
        "--create",
        "post",
        "--patch",
        "json-patch",
        "--version-send",
        "query:rev",
        "--missing-id",
        "42",
        "--ignore",
        "/id",
        "--ignore",
        "/at",
        "--malformed-status",
        "400,422",
        "--fixture",
        r#"{"title": "t"}"#,
        "--error-format",
        "json",
    ];
    let c = settings(&flags, Some(file)).unwrap().config;
    assert_eq!(c.collection, "/flag");
    assert_eq!((c.repeat, c.wait_for), (7, Duration::ZERO));
    assert_eq!(
        c.headers,
        vec![("X-A".into(), "file".into()), ("x-b".into(), "flag".into())]
    );
    assert_eq!(c.profiles, vec![crate::rules::Profile::Core]);
    let s = &c.shape;
    assert_eq!(s.create.method, CreateMethod::Post);
    assert_eq!(s.body.patch, PatchFormat::JsonPatch);
    assert_eq!(s.version.send, VersionSend::Query("rev".into()));
    assert_eq!(s.body.missing_id.as_deref(), Some("42"));
    assert_eq!(s.body.ignore, vec!["/id", "/at"]);
    assert_eq!(s.body.malformed_statuses, vec![400, 422]);
    assert_eq!(s.body.fixture["title"], "t");
    assert_eq!(s.errors.format, crate::target::ErrorFormat::Json);
}

#[test]
fn mismatch_status_and_stale_status_agree() {
    let stale = |args: &[&str], file| {
        let c = settings(args, file).unwrap().config;
        (c.shape.version.stale_statuses, c.mismatch_status)
    };
    assert_eq!(stale(&["--mismatch-status", "409"], None), (vec![409], 409));
    assert_eq!(stale(&[], Some("mismatch-status = 409")), (vec![409], 409));
    assert_eq!(
        stale(&["--stale-status", "412,409"], None),
        (vec![412, 409], 412)
    );
    let both = "mismatch-status = 409\n[version]\nstale-status = [412, 409]";
    assert_eq!(stale(&[], Some(both)), (vec![412, 409], 412));
    // A flag wins over the file, --stale-status over --mismatch-status.
    assert_eq!(
        stale(&["--mismatch-status", "409"], Some(both)),
        (vec![409], 409)
    );
    let args = ["--mismatch-status", "409", "--stale-status", "412"];
    assert_eq!(stale(&args, None), (vec![412], 412));
    let err = settings(&["--stale-status", "400"], None).unwrap_err();
    assert!(err.contains("list 412, 409 or both"), "{err}");
}

#[test]
fn collections_keep_their_trailing_slash() {
    for (given, kept) in [
        ("/dav/", "/dav/"),
        ("dav/", "/dav/"),
        ("//dav", "/dav"),
        ("a/b", "/a/b"),
    ] {
        let c = settings(&["--collection", given], None).unwrap().config;
        assert_eq!(c.collection, kept);
    }
}

#[test]
fn repeat_and_wait_for_are_bounded() {
    assert!(settings(&["--repeat", "0"], None).is_err());
    assert!(settings(&["--repeat", "101"], None).is_err());
    assert_eq!(
        settings(&["--repeat", "100"], None).unwrap().config.repeat,
        100
    );
    assert!(settings(&["--wait-for", "3601"], None).is_err());
    let err = settings(&["--fixture", "[1]"], None).unwrap_err();
    assert!(err.contains("--fixture must be a JSON object"), "{err}");
}

#[test]
fn outputs_split_formats_between_files_and_stdout() {
    let s = settings(&["--format", "junit", "--output", "r.xml"], None).unwrap();
    assert_eq!(s.outputs.stdout, None);
    assert_eq!(s.outputs.files, vec![(Format::Junit, "r.xml".into())]);
    let s = settings(&["--output", "junit=r.xml"], None).unwrap();
    assert_eq!(s.outputs.stdout, Some(Format::Text));
    let s = settings(&["--format", "json,html", "--output", "html=r.html"], None).unwrap();
    assert_eq!(s.outputs.stdout, Some(Format::Json));
    let s = settings(&[], Some("format = [\"junit\"]\noutput = \"r.xml\"")).unwrap();
    assert_eq!(s.outputs.stdout, None);
    assert_eq!(s.outputs.files[0].0, Format::Junit);
    // A file name with '=' that is no format is a plain file.
    let s = settings(&["--output", "a=b.txt"], None).unwrap();
    assert_eq!(s.outputs.files, vec![(Format::Text, "a=b.txt".into())]);
}

/// Every `check` flag can be set in the file under its name, and is documented.
#[test]
fn every_flag_is_a_file_key_and_documented() {
    use clap::CommandFactory;
    let command = Cli::command();
    let check = command.find_subcommand("check").expect("check");
    let docs = include_str!("../../../docs/conformance.md");
    let mut seen = 0;
    for arg in check.get_arguments() {
        let Some(long) = arg.get_long() else { continue };
        if ["help", "config"].contains(&long) {
            continue;
        }
        seen += 1;
        assert!(
            super::config::is_key(long),
            "--{long} cannot be set in the configuration file"
        );
        assert!(
            docs.contains(&format!("| `--{long}")),
            "--{long} is not in the flag tables of docs/conformance.md"
        );
    }
    assert!(seen > 30, "{seen}");
}
