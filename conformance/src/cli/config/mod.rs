//! `ifmatch-conformance.toml`: the description of the API under test, and every
//! `check` flag, in one file (see `docs/conformance.md`, "Describing your API").
//!
//! [`load`] reads a file into a [`FileConfig`]; [`locate`] finds which file to
//! read (`--config`, then `IFMATCH_CONFORMANCE_CONFIG`, then
//! `./ifmatch-conformance.toml` if it exists). `check` merges the result under its
//! flags (a flag wins over the file); `stress` can read the same file for the
//! target (`base-url`, `header`, `collection` and the shape tables).
//!
//! ```
//! use ifmatch_conformance::cli::config;
//! use ifmatch_conformance::target::{CreateMethod, VersionSend};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("ifmatch-conformance.toml");
//! std::fs::write(&path, r#"
//!     base-url = "http://127.0.0.1:8000"
//!     collection = "/dav/"
//!     header = ["Authorization: Bearer ${API_TOKEN}"]
//!     [create]
//!     method = "put"
//!     [version]
//!     send = "query:rev"
//! "#).unwrap();
//! let env = |name: &str| (name == "API_TOKEN").then(|| "t0ken".to_owned());
//! let file = config::load(&path, env).unwrap();
//! assert_eq!(file.base_url.as_deref(), Some("http://127.0.0.1:8000"));
//! assert_eq!(file.collection.as_deref(), Some("/dav/"));
//! assert_eq!(file.header, Some(vec!["Authorization: Bearer t0ken".to_owned()]));
//! assert_eq!(file.shape.create.method, CreateMethod::Put);
//! assert_eq!(file.shape.version.send, VersionSend::Query("rev".into()));
//! ```

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::target::TargetShape;

mod fields;
mod subst;

/// The environment variable that names the configuration file when `--config` is not given.
pub const CONFIG_ENV: &str = "IFMATCH_CONFORMANCE_CONFIG";

/// The file read from the current directory when neither `--config` nor
/// [`CONFIG_ENV`] names one.
pub const DEFAULT_FILE: &str = "ifmatch-conformance.toml";

/// Where a report goes, as `output` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputSpec {
    /// `output = "FILE"`: the one report format goes to this file.
    File(PathBuf),
    /// `output = { junit = "FILE", … }`: each named format to its file.
    PerFormat(Vec<(String, PathBuf)>),
}

/// The settings of one configuration file, `${NAME}`s substituted.
///
/// A field is `None` (or, for [`shape`](Self::shape), the default) when the file
/// does not set it. Values are checked for their type and, for the shape, with
/// [`TargetShape::validate`]; the rest (profile names, header syntax, ranges) is
/// checked when the settings are used, naming the key and the file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FileConfig {
    /// The file these settings came from.
    pub path: PathBuf,
    /// `base-url`: the server to check.
    pub base_url: Option<String>,
    /// `collection`: the collection's path, exactly as written.
    pub collection: Option<String>,
    /// `profile`: profile names (an array, or one comma-separated string).
    pub profile: Option<Vec<String>>,
    /// `mismatch-status`: 412 or 409. Already applied to [`shape`](Self::shape)'s
    /// stale statuses unless the file also sets `stale-status`.
    pub mismatch_status: Option<u16>,
    /// `header`: `Name: value` headers for every request (an array, or one header).
    pub header: Option<Vec<String>>,
    /// `rule`: rule patterns (an array, or a comma-separated string).
    pub rule: Option<Vec<String>>,
    /// `format`: report formats (an array, or a comma-separated string).
    pub format: Option<Vec<String>>,
    /// `output`: where reports are written.
    pub output: Option<OutputSpec>,
    /// `dry-run`.
    pub dry_run: Option<bool>,
    /// `show-secrets`.
    pub show_secrets: Option<bool>,
    /// `max-retry-wait`, seconds.
    pub max_retry_wait: Option<u64>,
    /// `lock-path`.
    pub lock_path: Option<String>,
    /// `batch-path`.
    pub batch_path: Option<String>,
    /// `transactions-path`.
    pub transactions_path: Option<String>,
    /// `versions-path`.
    pub versions_path: Option<String>,
    /// `api-prefixes`, as `v1=PATH,v2=PATH`.
    pub api_prefixes: Option<String>,
    /// `conflicts-path`.
    pub conflicts_path: Option<String>,
    /// `token`, `NAME=TOKEN`.
    pub token: Option<String>,
    /// `other-token`, `NAME=TOKEN`.
    pub other_token: Option<String>,
    /// `admin-token`, `NAME=TOKEN`.
    pub admin_token: Option<String>,
    /// `sse-wait`, seconds.
    pub sse_wait: Option<u64>,
    /// `repeat`: how many times each concurrency race runs.
    pub repeat: Option<u32>,
    /// `wait-for`, seconds to wait for the server to answer at all.
    pub wait_for: Option<u64>,
    /// `fail-on-skipped`.
    pub fail_on_skipped: Option<bool>,
    /// The `[create]`, `[version]`, `[body]` and `[errors]` tables, with the
    /// top-level shape keys (`create = "put"`, `stale-status`, `fixture`, …) and
    /// `mismatch-status` applied; the default shape where the file says nothing.
    pub shape: TargetShape,
}

/// Reads the configuration file at `path`, replacing each `${NAME}` in its string
/// values with `env(NAME)` (`$${` is a literal `${`).
///
/// # Errors
/// A message naming the file, and the key or variable at fault, when the file
/// cannot be read, is not TOML, has a key no flag or table has, a value of the
/// wrong type, a variable `env` does not know, or a shape
/// [`TargetShape::validate`] refuses.
pub fn load(path: &Path, env: impl Fn(&str) -> Option<String>) -> Result<FileConfig, String> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the configuration file {file}: {e}"))?;
    parse(&text, path, &env)
}

/// Which configuration file to read: `flag` (from `--config`), else the file named
/// by [`CONFIG_ENV`] in `env`, else [`DEFAULT_FILE`] in `cwd` when it exists.
/// The flag's and the variable's paths are taken relative to `cwd`.
/// The `bool` is true when the file was found in `cwd` without being named.
pub fn locate(
    flag: Option<&Path>,
    env: impl Fn(&str) -> Option<String>,
    cwd: &Path,
) -> Option<(PathBuf, bool)> {
    if let Some(path) = flag {
        return Some((cwd.join(path), false));
    }
    if let Some(path) = env(CONFIG_ENV).filter(|p| !p.is_empty()) {
        return Some((cwd.join(path), false));
    }
    let default = cwd.join(DEFAULT_FILE);
    default.is_file().then_some((default, true))
}

/// Whether `key` is a top-level key of the file (a `check` flag's name, or a table).
/// The file's headers, then the flags' (`Name: value` strings, as `--header`
/// takes them): a flag replaces the file's headers of its name. Shared by `check`
/// and `stress`, so both merge credentials the same way.
pub(crate) fn merge_headers(
    flags: &[String],
    file: Option<&FileConfig>,
) -> Result<Vec<(String, String)>, String> {
    use crate::http::parse_header_arg;
    let flagged: Vec<(String, String)> = flags
        .iter()
        .map(|h| parse_header_arg(h))
        .collect::<Result<_, _>>()?;
    let mut headers = Vec::new();
    if let Some(f) = file {
        for h in f.header.iter().flatten() {
            let (name, value) = parse_header_arg(h).map_err(|e| {
                format!(
                    "{}: {}",
                    f.path.display(),
                    e.replacen("--header", "header", 1)
                )
            })?;
            if !flagged.iter().any(|(n, _)| n.eq_ignore_ascii_case(&name)) {
                headers.push((name, value));
            }
        }
    }
    headers.extend(flagged);
    Ok(headers)
}

pub(crate) fn is_key(key: &str) -> bool {
    fields::KEYS.contains(&key)
        || fields::is_shape_key(key)
        || ["create", "version", "body", "errors"].contains(&key)
}

fn parse(
    text: &str,
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<FileConfig, String> {
    let file = path.display().to_string();
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        format!("{file} is not valid TOML: {}", e.to_string().trim_end())
    })?;
    let mut config = FileConfig {
        path: path.to_owned(),
        ..FileConfig::default()
    };
    let mut tables: [(&str, Map<String, Value>); 4] = Default::default();
    for (i, name) in ["create", "version", "body", "errors"]
        .into_iter()
        .enumerate()
    {
        tables[i].0 = name;
    }
    let mut aliases: Vec<(String, Value)> = Vec::new();
    for (key, value) in table {
        if !is_key(&key) {
            return Err(fields::unknown(&key, &file));
        }
        let value = subst::to_json(value, &key, &file, env)?;
        let slot = tables.iter_mut().find(|(name, _)| *name == key);
        match (slot, value) {
            (Some((_, map)), Value::Object(inner)) => *map = inner,
            (Some(_), _) if key != "create" => {
                return Err(format!(
                    "{file}: `{key}` must be a table, e.g. [{key}] on a line of its own"
                ))
            }
            (_, value) => {
                if fields::is_shape_key(&key) {
                    aliases.push((key, value));
                } else {
                    fields::set(&mut config, &key, value, &file)?;
                }
            }
        }
    }
    let stale_in_file = tables[1].1.contains_key("stale-status")
        || aliases.iter().any(|(k, _)| k == "stale-status");
    for (key, value) in aliases {
        let (table, inner, value) = fields::shape_alias(&key, value, &file)?;
        let map = &mut tables
            .iter_mut()
            .find(|(name, _)| *name == table)
            .expect("known table")
            .1;
        if map.contains_key(inner) {
            return Err(format!(
                "{file}: `{key}` and [{table}] {inner} set the same thing; keep one"
            ));
        }
        map.insert(inner.to_owned(), value);
    }
    if let (Some(status), false) = (config.mismatch_status, stale_in_file) {
        tables[1]
            .1
            .insert("stale-status".into(), Value::from(vec![status]));
    }
    config.shape = shape_from(tables, &file)?;
    config
        .shape
        .validate()
        .map_err(|e| format!("{file}: {e}"))?;
    Ok(config)
}

fn shape_from(tables: [(&str, Map<String, Value>); 4], file: &str) -> Result<TargetShape, String> {
    let mut shape = TargetShape::default();
    for (name, map) in tables {
        let value = Value::Object(map);
        let err = |e: serde_json::Error| format!("{file}: [{name}]: {e}");
        match name {
            "create" => shape.create = serde_json::from_value(value).map_err(err)?,
            "version" => shape.version = serde_json::from_value(value).map_err(err)?,
            "body" => shape.body = serde_json::from_value(value).map_err(err)?,
            _ => shape.errors = serde_json::from_value(value).map_err(err)?,
        }
    }
    Ok(shape)
}

#[cfg(test)]
mod tests;
