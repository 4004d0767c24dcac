use std::path::Path;

use super::*;
use crate::target::{
    CreateMethod, ErrorFormat, LocationFrom, PatchFormat, VersionSend, VersionSource,
};

fn env(name: &str) -> Option<String> {
    match name {
        "API_TOKEN" => Some("t0ken".into()),
        "HOST" => Some("127.0.0.1:9".into()),
        _ => None,
    }
}

fn read(text: &str) -> Result<FileConfig, String> {
    parse(text, Path::new("test.toml"), &env)
}

#[test]
fn every_top_level_key_is_read() {
    let c = read(
        r#"
        base-url = "http://${HOST}"
        collection = "/dav/"
        profile = "core, errors"
        mismatch-status = 409
        header = ["Authorization: Bearer ${API_TOKEN}", "X-A: b"]
        rule = ["core.if-match", "*stale*"]
        format = ["text", "junit"]
        output = { junit = "c.xml" }
        dry-run = true
        show-secrets = false
        max-retry-wait = 3
        lock-path = "/locks/{id}"
        batch-path = "/b"
        transactions-path = "/t"
        versions-path = "{item}/history"
        api-prefixes = "v1=,v2=/v2"
        conflicts-path = "/c"
        token = "alice=${API_TOKEN}"
        other-token = "bob=b"
        admin-token = "root=r"
        sse-wait = 4
        repeat = 5
        wait-for = 30
        fail-on-skipped = true
        "#,
    )
    .unwrap();
    assert_eq!(c.base_url.as_deref(), Some("http://127.0.0.1:9"));
    assert_eq!(c.collection.as_deref(), Some("/dav/"));
    assert_eq!(c.profile, Some(vec!["core".into(), "errors".into()]));
    assert_eq!(c.mismatch_status, Some(409));
    assert_eq!(c.shape.version.stale_statuses, vec![409]);
    assert_eq!(c.header.as_ref().unwrap()[0], "Authorization: Bearer t0ken");
    assert_eq!(c.rule.as_ref().unwrap().len(), 2);
    assert_eq!(c.format, Some(vec!["text".into(), "junit".into()]));
    assert_eq!(
        c.output,
        Some(OutputSpec::PerFormat(vec![(
            "junit".into(),
            "c.xml".into()
        )]))
    );
    assert_eq!((c.dry_run, c.show_secrets), (Some(true), Some(false)));
    assert_eq!((c.max_retry_wait, c.sse_wait), (Some(3), Some(4)));
    assert_eq!(c.lock_path.as_deref(), Some("/locks/{id}"));
    assert_eq!(c.batch_path.as_deref(), Some("/b"));
    assert_eq!(c.transactions_path.as_deref(), Some("/t"));
    assert_eq!(c.versions_path.as_deref(), Some("{item}/history"));
    assert_eq!(c.api_prefixes.as_deref(), Some("v1=,v2=/v2"));
    assert_eq!(c.conflicts_path.as_deref(), Some("/c"));
    assert_eq!(c.token.as_deref(), Some("alice=t0ken"));
    assert_eq!(c.other_token.as_deref(), Some("bob=b"));
    assert_eq!(c.admin_token.as_deref(), Some("root=r"));
    assert_eq!((c.repeat, c.wait_for), (Some(5), Some(30)));
    assert_eq!(c.fail_on_skipped, Some(true));
    assert_eq!(c.path, Path::new("test.toml"));
}

#[test]
fn shape_tables_are_read() {
    let c = read(
        r#"
        [create]
        method = "put"
        url = "{collection}{id}"
        location = "template"
        [version]
        read = "body:/_rev"
        send = "body:/_rev"
        stale-status = [412, 409]
        [body]
        fixture = { title = "t", done = false, tags = ["a"] }
        ignore = ["/id", "/updated_at"]
        patch = "json-patch"
        malformed-status = [400, 422]
        missing-id = "999999999"
        [errors]
        format = "json"
        "#,
    )
    .unwrap();
    let s = &c.shape;
    assert_eq!(s.create.method, CreateMethod::Put);
    assert_eq!(s.create.url, "{collection}{id}");
    assert_eq!(s.create.location, LocationFrom::Template);
    assert_eq!(s.version.read, VersionSource::Body("/_rev".into()));
    assert_eq!(s.version.send, VersionSend::Body("/_rev".into()));
    assert_eq!(s.version.stale_statuses, vec![412, 409]);
    assert_eq!(
        Value::Object(s.body.fixture.clone()),
        serde_json::json!({ "title": "t", "done": false, "tags": ["a"] })
    );
    assert_eq!(s.body.ignore, vec!["/id", "/updated_at"]);
    assert_eq!(s.body.patch, PatchFormat::JsonPatch);
    assert_eq!(s.body.malformed_statuses, vec![400, 422]);
    assert_eq!(s.body.missing_id.as_deref(), Some("999999999"));
    assert_eq!(s.errors.format, ErrorFormat::Json);
}

#[test]
fn shape_flags_work_at_the_top_level_too() {
    let c = read(
        r#"
        create = "put"
        create-url = "{collection}{id}"
        location = "template"
        version-read = "header:x-generation"
        version-send = "query:ifGenerationMatch"
        stale-status = "412,409"
        fixture = '{"title": "t"}'
        ignore = "/id"
        patch = "none"
        malformed-status = [400, 422]
        missing-id = 999999999
        error-format = "any"
        "#,
    )
    .unwrap();
    let s = &c.shape;
    assert_eq!(s.create.method, CreateMethod::Put);
    assert_eq!(s.create.location, LocationFrom::Template);
    assert_eq!(s.version.read, VersionSource::Header("x-generation".into()));
    assert_eq!(
        s.version.send,
        VersionSend::Query("ifGenerationMatch".into())
    );
    assert_eq!(s.version.stale_statuses, vec![412, 409]);
    assert_eq!(s.body.fixture["title"], "t");
    assert_eq!(s.body.ignore, vec!["/id"]);
    assert_eq!(s.body.patch, PatchFormat::None);
    assert_eq!(s.body.missing_id.as_deref(), Some("999999999"));
    assert_eq!(s.errors.format, ErrorFormat::Any);
}

#[test]
fn the_files_stale_status_wins_over_its_mismatch_status() {
    let c = read("mismatch-status = 409\n[version]\nstale-status = [412, 409]").unwrap();
    assert_eq!(c.shape.version.stale_statuses, vec![412, 409]);
    let c = read("mismatch-status = 409\nstale-status = [412]").unwrap();
    assert_eq!(c.shape.version.stale_statuses, vec![412]);
    let c = read("").unwrap();
    assert_eq!(
        c,
        FileConfig {
            path: "test.toml".into(),
            ..FileConfig::default()
        }
    );
}

#[test]
fn mistakes_name_the_key_and_the_file() {
    let cases = [
        ("colection = \"/x\"", "unknown key `colection`"),
        ("base_url = \"http://h\"", "did you mean `base-url`?"),
        (
            "[create]\nmetod = \"put\"",
            "[create]: unknown field `metod`",
        ),
        ("[version]\nread = \"body:rev\"", "leading slash"),
        ("repeat = \"5\"", "`repeat` must be a whole number"),
        ("dry-run = 1", "`dry-run` must be true or false"),
        ("header = \"${NOPE}\"", "NOPE, which is not set"),
        ("mismatch-status = 400", "write 412 or 409"),
        (
            "stale-status = [409]\n[version]\nstale-status = [412]",
            "keep one",
        ),
        ("[create]\nlocation = \"template\"", "method = \"put\""),
        ("version = 3", "`version` must be a table"),
        ("create = 3", "`create` must be"),
        ("output = 3", "`output` must be a file name"),
        ("collection = 1979-05-27", "is a date"),
        ("fixture = '[1]'", "JSON object"),
        ("stale-status = \"41x\"", "is not an HTTP status"),
        ("x = ", "not valid TOML"),
    ];
    for (text, expected) in cases {
        let err = read(text).unwrap_err();
        assert!(err.contains(expected), "{text:?}: {err}");
        assert!(err.contains("test.toml"), "{text:?}: {err}");
    }
}

#[test]
fn locate_prefers_the_flag_then_the_variable_then_the_current_directory() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let none = |_: &str| None;
    assert_eq!(locate(None, none, cwd), None);
    std::fs::write(cwd.join(DEFAULT_FILE), "").unwrap();
    assert_eq!(
        locate(None, none, cwd),
        Some((cwd.join(DEFAULT_FILE), true))
    );
    let var = |name: &str| (name == CONFIG_ENV).then(|| "other.toml".to_owned());
    assert_eq!(
        locate(None, var, cwd),
        Some((cwd.join("other.toml"), false))
    );
    let flag = Path::new("/abs/flag.toml");
    assert_eq!(locate(Some(flag), var, cwd), Some((flag.to_owned(), false)));
}

#[test]
fn load_reads_a_file_and_names_a_missing_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(&path, "collection = \"/dav/\"").unwrap();
    assert_eq!(
        load(&path, env).unwrap().collection.as_deref(),
        Some("/dav/")
    );
    let err = load(&dir.path().join("nope.toml"), env).unwrap_err();
    assert!(err.contains("cannot read the configuration file") && err.contains("nope.toml"));
}
