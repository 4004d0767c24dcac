//! Merges the `check` flags over the configuration file over the defaults, into
//! a [`CheckConfig`] and where the reports go.

use std::fmt::Debug;
use std::path::Path;
use std::time::Duration;

use super::args::{CheckArgs, ShapeArgs};
use super::config::FileConfig;
use super::output::{self, Outputs};
use crate::check::CheckConfig;
use crate::rules::{ApiPrefixes, DEFAULT_VERSIONS_PATH};
use crate::rules::{Profile, DEFAULT_BATCH_PATH, DEFAULT_LOCK_PATH, DEFAULT_TRANSACTIONS_PATH};
use crate::target::TargetShape;

/// Where a setting came from, to name it in errors.
#[derive(Debug, Clone, Copy)]
pub(super) enum Origin<'a> {
    /// A command-line flag.
    Flag,
    /// The configuration file at this path.
    File(&'a Path),
}

impl Origin<'_> {
    /// `--key`, or `key (in FILE)`.
    pub(super) fn name(self, key: &str) -> String {
        match self {
            Origin::Flag => format!("--{key}"),
            Origin::File(path) => format!("{key} (in {})", path.display()),
        }
    }

    /// `--key "value"`, or `key = "value" in FILE`.
    pub(super) fn said(self, key: &str, value: &dyn Debug) -> String {
        match self {
            Origin::Flag => format!("--{key} {value:?}"),
            Origin::File(path) => format!("{key} = {value:?} in {}", path.display()),
        }
    }
}

/// The flag's value if given, else the file's, with where it came from.
pub(super) fn pick<'a, T>(
    flag: Option<T>,
    file: Option<&'a FileConfig>,
    get: impl Fn(&FileConfig) -> Option<T>,
) -> Option<(T, Origin<'a>)> {
    match (flag, file) {
        (Some(value), _) => Some((value, Origin::Flag)),
        (None, Some(f)) => get(f).map(|v| (v, Origin::File(&f.path))),
        (None, None) => None,
    }
}

/// Everything `check` does, settled.
#[derive(Debug)]
pub(super) struct Settings {
    /// The configuration the rules run with.
    pub(super) config: CheckConfig,
    /// Whether the server was named (otherwise the embedded one is started).
    pub(super) base_url_given: bool,
    /// Print the plan and send nothing.
    pub(super) dry_run: bool,
    /// The report formats and their files.
    pub(super) outputs: Outputs,
}

/// Merges `args` over `file` over the defaults; `env` gives the token variables,
/// and relative output paths are joined to `cwd` (when given).
pub(super) fn build(
    args: &CheckArgs,
    file: Option<&FileConfig>,
    env: &dyn Fn(&str) -> Option<String>,
    cwd: Option<&Path>,
) -> Result<Settings, String> {
    let base_url = pick(args.base_url.clone(), file, |f| f.base_url.clone());
    if let Some((url, origin)) = &base_url {
        let parsed = reqwest::Url::parse(url).map_err(|e| {
            format!(
                "{} is not a URL ({e}); write it like http://127.0.0.1:8080",
                origin.said("base-url", url)
            )
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!(
                "{}: the scheme must be http or https",
                origin.said("base-url", url)
            ));
        }
    }
    let placeholder = "http://127.0.0.1:<embedded>".to_owned();
    let mut config = CheckConfig::new(base_url.as_ref().map_or(&placeholder, |(u, _)| u));
    if let Some((collection, _)) = pick(args.collection.clone(), file, |f| f.collection.clone()) {
        // A leading slash is added; a trailing one is kept (`/dav/` is not `/dav`).
        config.collection = format!("/{}", collection.trim_start_matches('/'));
    }
    let (profiles, origin) = match pick(args.profile.clone(), file, |f| {
        f.profile.clone().map(|l| l.join(","))
    }) {
        Some((list, origin)) => (list, origin),
        None => ("core".to_owned(), Origin::Flag),
    };
    config.profiles = profiles
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| match origin {
            Origin::Flag => Profile::parse(p),
            Origin::File(_) => {
                Profile::parse(p).map_err(|e| format!("{}: {e}", origin.name("profile")))
            }
        })
        .collect::<Result<_, _>>()?;
    config.profiles.sort();
    config.profiles.dedup();
    if config.profiles.is_empty() {
        return Err("--profile is empty; name at least one profile, e.g. core".into());
    }
    config.headers = super::config::merge_headers(&args.headers, file)?;
    let rules = pick(
        (!args.rules.is_empty()).then(|| args.rules.clone()),
        file,
        |f| f.rule.clone(),
    );
    if let Some((patterns, _)) = &rules {
        config.rule_patterns = patterns.clone();
    }
    config.show_secrets = args.show_secrets || file.and_then(|f| f.show_secrets).unwrap_or(false);
    config.fail_on_skipped =
        args.fail_on_skipped || file.and_then(|f| f.fail_on_skipped).unwrap_or(false);
    if let Some((secs, _)) = pick(args.max_retry_wait, file, |f| f.max_retry_wait) {
        config.max_retry_wait = Duration::from_secs(secs);
    }
    if let Some((n, origin)) = pick(args.repeat, file, |f| f.repeat) {
        if !(1..=super::args::MAX_REPEAT).contains(&n) {
            return Err(format!(
                "{} is out of range; give 1 to {}",
                origin.said("repeat", &n),
                super::args::MAX_REPEAT
            ));
        }
        config.repeat = n;
    }
    if let Some((secs, origin)) = pick(args.wait_for, file, |f| f.wait_for) {
        if secs > super::args::MAX_WAIT_FOR {
            return Err(format!(
                "{} is out of range; give 0 to {} seconds",
                origin.said("wait-for", &secs),
                super::args::MAX_WAIT_FOR
            ));
        }
        config.wait_for = Duration::from_secs(secs);
    }
    paths(args, file, &mut config)?;
    config.notifications = args.notify.config(file, env)?;
    config.shape = shape(&args.shape, args.mismatch_status, file)?;
    config.mismatch_status = if config.shape.version.stale_statuses == [409] {
        409
    } else {
        412
    };
    if config.selected_rules().is_empty() {
        let patterns = config.rule_patterns.join(", ");
        let names: Vec<&str> = config.profiles.iter().map(|p| p.as_str()).collect();
        let said = match rules {
            Some((_, Origin::File(path))) => format!("rule = {patterns:?} in {}", path.display()),
            _ => format!("--rule {patterns}"),
        };
        // Renamed in the errors profile's release; say where the rules went.
        let renamed = if patterns.contains("core.problem") {
            "; the core.problem.* rules are now errors.problem.* in the errors profile: use --profile errors"
        } else {
            ""
        };
        return Err(format!(
            "no rule matches {said} in profiles {}; list the rules with `ifmatch-conformance rules`{renamed}",
            names.join(",")
        ));
    }
    Ok(Settings {
        config,
        base_url_given: base_url.is_some(),
        dry_run: args.dry_run || file.and_then(|f| f.dry_run).unwrap_or(false),
        outputs: output::plan(args, file, cwd)?,
    })
}

/// The lock, batch, transaction and history places, and the API prefixes.
fn paths(
    args: &CheckArgs,
    file: Option<&FileConfig>,
    config: &mut CheckConfig,
) -> Result<(), String> {
    for (key, flag, get, default, example) in [
        (
            "lock-path",
            &args.lock_path,
            (|f: &FileConfig| f.lock_path.clone()) as fn(&FileConfig) -> Option<String>,
            DEFAULT_LOCK_PATH,
            "{item}/lock, or a path with {id} such as /locks/{id}",
        ),
        (
            "versions-path",
            &args.versions_path,
            |f| f.versions_path.clone(),
            DEFAULT_VERSIONS_PATH,
            "{item}/versions, or a path with {id} such as /history/{id}",
        ),
    ] {
        let value = match pick(flag.clone(), file, get) {
            Some((t, origin)) if !t.contains("{item}") && !t.contains("{id}") => {
                return Err(format!(
                    "{} names no resource; write {example}",
                    origin.said(key, &t)
                ))
            }
            Some((t, _)) => t,
            None => default.to_owned(),
        };
        if key == "lock-path" {
            config.lock_path = value;
        } else {
            config.versions_path = value;
        }
    }
    for (key, flag, get, default, example) in [
        (
            "batch-path",
            &args.batch_path,
            (|f: &FileConfig| f.batch_path.clone()) as fn(&FileConfig) -> Option<String>,
            DEFAULT_BATCH_PATH,
            "batch",
        ),
        (
            "transactions-path",
            &args.transactions_path,
            |f| f.transactions_path.clone(),
            DEFAULT_TRANSACTIONS_PATH,
            "transactions",
        ),
    ] {
        let path = match pick(flag.clone(), file, get) {
            Some((p, origin)) if p.trim_matches('/').is_empty() || p.contains(['?', '#', '{']) => {
                return Err(format!(
                    "{} is not a path; write one like /{example} or /v1/{example}",
                    origin.said(key, &p)
                ))
            }
            Some((p, _)) => p,
            None => default.to_owned(),
        };
        let path = format!("/{}", path.trim_matches('/'));
        if key == "batch-path" {
            config.batch_path = path;
        } else {
            config.transactions_path = path;
        }
    }
    config.api_prefixes = match (
        &args.api_prefixes,
        file.and_then(|f| f.api_prefixes.as_ref().map(|p| (p, &f.path))),
    ) {
        (Some(p), _) => p.clone(),
        (None, Some((text, path))) => ApiPrefixes::parse(text)
            .map_err(|e| format!("{}: {e}", Origin::File(path).said("api-prefixes", text)))?,
        (None, None) => ApiPrefixes::default(),
    };
    Ok(())
}

/// The file's shape (or the default) with each shape flag applied over it.
fn shape(
    flags: &ShapeArgs,
    mismatch: Option<u16>,
    file: Option<&FileConfig>,
) -> Result<TargetShape, String> {
    let mut shape = file.map(|f| f.shape.clone()).unwrap_or_default();
    let s = &mut shape;
    if let Some(m) = flags.create {
        s.create.method = m;
    }
    if let Some(url) = &flags.create_url {
        s.create.url = url.clone();
    }
    if let Some(l) = &flags.location {
        s.create.location = l.clone();
    }
    if let Some(r) = &flags.version_read {
        s.version.read = r.clone();
    }
    if let Some(w) = &flags.version_send {
        s.version.send = w.clone();
    }
    if !flags.stale_status.is_empty() {
        s.version.stale_statuses = flags.stale_status.clone();
    } else if let Some(status) = mismatch {
        s.version.stale_statuses = vec![status];
    }
    if let Some(json) = &flags.fixture {
        let value: serde_json::Value = serde_json::from_str(json).map_err(|e| {
            format!("--fixture is not JSON ({e}); write an object, e.g. --fixture '{{\"title\": \"t\"}}'")
        })?;
        s.body.fixture = match value {
            serde_json::Value::Object(map) => map,
            _ => {
                return Err(
                    "--fixture must be a JSON object, e.g. --fixture '{\"title\": \"t\"}'".into(),
                )
            }
        };
    }
    if !flags.ignore.is_empty() {
        s.body.ignore = flags.ignore.clone();
    }
    if let Some(p) = flags.patch {
        s.body.patch = p;
    }
    if !flags.malformed_status.is_empty() {
        s.body.malformed_statuses = flags.malformed_status.clone();
    }
    if let Some(id) = &flags.missing_id {
        s.body.missing_id = Some(id.clone());
    }
    if let Some(f) = flags.error_format {
        s.errors.format = f;
    }
    shape.validate().map_err(|e| {
        // Name the flag too: the value may have come from one.
        const FLAGS: [(&str, &str); 6] = [
            ("create.url", "--create-url"),
            ("create.location", "--location"),
            ("version.stale-status", "--stale-status"),
            ("body.malformed-status", "--malformed-status"),
            ("body.ignore", "--ignore"),
            ("body.missing-id", "--missing-id"),
        ];
        match FLAGS.iter().find(|(key, _)| e.starts_with(key)) {
            Some((key, flag)) => format!("{e} ({flag}, or {key} in the file)"),
            None => e,
        }
    })?;
    Ok(shape)
}
