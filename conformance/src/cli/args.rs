//! The flags of `check`. Every value flag is an `Option` (or an empty list when
//! not given), so that a value from the configuration file is not hidden by a
//! default: defaults are applied after merging (see `settings.rs`) and shown in
//! the help text.

use std::path::PathBuf;

use clap::ValueEnum;

use crate::target::{
    CreateMethod, ErrorFormat, LocationFrom, PatchFormat, VersionSend, VersionSource,
};

use super::notify::NotifyArgs;

/// Most races `--repeat` may ask for.
pub(super) const MAX_REPEAT: u32 = 100;
/// Longest `--wait-for`, in seconds.
pub(super) const MAX_WAIT_FOR: u64 = 3600;

#[derive(Debug, clap::Args)]
pub(super) struct CheckArgs {
    /// Read settings from this TOML file (see docs/conformance.md, "Describing your API"); flags win over it. Or set IFMATCH_CONFORMANCE_CONFIG; without either, ./ifmatch-conformance.toml is read when it exists.
    #[arg(long, value_name = "FILE")]
    pub(super) config: Option<PathBuf>,
    /// Server to check, e.g. http://127.0.0.1:8080. Without it the embedded
    /// reference server is started on an ephemeral loopback port.
    #[arg(long, value_name = "URL")]
    pub(super) base_url: Option<String>,
    /// Collection the suite may create (and delete) its own resources in, used exactly as given (a trailing slash is kept) [default: /items]
    #[arg(long, value_name = "PATH")]
    pub(super) collection: Option<String>,
    /// Comma-separated profiles: core, errors, require-preconditions, locking, transactions, versions, notifications, idempotency, rate-limit [default: core]
    #[arg(long, value_name = "LIST")]
    pub(super) profile: Option<String>,
    /// Status the server uses for a failed If-Match: 412 (RFC) or 409 (declared, non-strict) [default: 412]
    #[arg(long, value_name = "412|409", value_parser = parse_mismatch)]
    pub(super) mismatch_status: Option<u16>,
    /// Extra header for every request, e.g. 'Authorization: Bearer …' (repeatable; redacted in reports; replaces a header of the same name from the file).
    #[arg(long = "header", value_name = "'NAME: VALUE'")]
    pub(super) headers: Vec<String>,
    /// Only rules whose ID matches: an ID, an ID prefix (core.if-match) or a glob (*stale*). Repeatable.
    #[arg(long = "rule", value_name = "PATTERN")]
    pub(super) rules: Vec<String>,
    /// Report formats, comma-separated; at most one without a file goes to standard output [default: text]
    #[arg(long, value_name = "LIST", value_enum, value_delimiter = ',')]
    pub(super) format: Vec<Format>,
    /// Write the report to FILE instead of standard output; with several formats, FORMAT=FILE for each (repeatable).
    #[arg(long = "output", value_name = "[FORMAT=]FILE")]
    pub(super) outputs: Vec<String>,
    /// Print the requests each selected rule would send, and the target shape in effect, and send nothing.
    #[arg(long)]
    pub(super) dry_run: bool,
    /// Write secret header values (Authorization, Cookie, --header values) into reports.
    #[arg(long)]
    pub(super) show_secrets: bool,
    /// Longest wait, in seconds, for one Retry-After while checking [default: 10]
    #[arg(long, value_name = "SECS")]
    pub(super) max_retry_wait: Option<u64>,
    /// Run each concurrency race N times (1 to 100); a race lost once fails the rule [default: 1]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=MAX_REPEAT as i64))]
    pub(super) repeat: Option<u32>,
    /// Before checking, wait up to SECS seconds for the server to answer at all (for servers still starting in CI) [default: 0]
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(0..=MAX_WAIT_FOR))]
    pub(super) wait_for: Option<u64>,
    /// Fail the run when a rule was skipped because a prerequisite rule failed.
    #[arg(long)]
    pub(super) fail_on_skipped: bool,
    /// Where a resource's lock lives (profile locking): {item} is the resource's URL, or {id} its last segment in a path such as /locks/{id} [default: {item}/lock]
    #[arg(long, value_name = "TEMPLATE")]
    pub(super) lock_path: Option<String>,
    /// Where atomic batches are sent (profile transactions), joined to --base-url like --collection [default: /batch]
    #[arg(long, value_name = "PATH")]
    pub(super) batch_path: Option<String>,
    /// Where transactions begin (profile transactions), joined to --base-url like --collection [default: /transactions]
    #[arg(long, value_name = "PATH")]
    pub(super) transactions_path: Option<String>,
    /// Where a document's history lives (profile versions), a template like --lock-path; version n is at <history>/n [default: {item}/versions]
    #[arg(long, value_name = "TEMPLATE")]
    pub(super) versions_path: Option<String>,
    /// URL prefixes of API versions 1 and 2 (profile versions), put between --base-url and a document's path; v1 may be empty [default: v1=/v1,v2=/v2]
    #[arg(long, value_name = "v1=PATH,v2=PATH", value_parser = crate::rules::ApiPrefixes::parse)]
    pub(super) api_prefixes: Option<crate::rules::ApiPrefixes>,
    #[command(flatten)]
    pub(super) notify: Box<NotifyArgs>,
    #[command(flatten)]
    pub(super) shape: Box<ShapeArgs>,
}

/// The flags that override the target shape (the file's `[create]`, `[version]`,
/// `[body]` and `[errors]` tables).
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Target shape (each overrides its key in the file's tables)")]
pub(super) struct ShapeArgs {
    /// How the suite creates resources: post to the collection, or put at --create-url with If-None-Match: * [default: post]
    #[arg(long, value_name = "post|put", value_parser = parse_create)]
    pub(super) create: Option<CreateMethod>,
    /// A resource's URL: {collection} is the collection URL as given, {id} the id [default: {collection}/{id}]
    #[arg(long, value_name = "TEMPLATE")]
    pub(super) create_url: Option<String>,
    /// Where a new resource's URL comes from: header (Location), template (put only), or body:/ptr (the id at that JSON pointer of the create response) [default: header]
    #[arg(long, value_name = "FROM")]
    pub(super) location: Option<LocationFrom>,
    /// Where a read finds the version: etag, body:/ptr or header:NAME [default: etag]
    #[arg(long, value_name = "FROM")]
    pub(super) version_read: Option<VersionSource>,
    /// How a conditional write sends the version back: if-match, body:/ptr or query:NAME [default: if-match]
    #[arg(long, value_name = "HOW")]
    pub(super) version_send: Option<VersionSend>,
    /// Statuses that refuse a stale write, comma-separated: 412, 409 or both [default: 412, or --mismatch-status]
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub(super) stale_status: Vec<u16>,
    /// A JSON object of members every body the suite sends carries (for APIs with required fields) [default: {}]
    #[arg(long, value_name = "JSON")]
    pub(super) fixture: Option<String>,
    /// JSON pointer of a member the server adds or changes itself, not compared (repeatable)
    #[arg(long, value_name = "/PTR")]
    pub(super) ignore: Vec<String>,
    /// The PATCH format the server takes: merge, json-patch or none [default: merge]
    #[arg(long, value_name = "FORMAT", value_parser = parse_patch)]
    pub(super) patch: Option<PatchFormat>,
    /// Statuses a malformed body may get, comma-separated [default: 400]
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub(super) malformed_status: Vec<u16>,
    /// An id that names no resource and is valid for this API, e.g. 999999999 [default: invented]
    #[arg(long, value_name = "ID")]
    pub(super) missing_id: Option<String>,
    /// The error body format the errors profile expects: problem+json, json or any [default: problem+json]
    #[arg(long, value_name = "FORMAT", value_parser = parse_error_format)]
    pub(super) error_format: Option<ErrorFormat>,
}

/// A report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum Format {
    Text,
    Json,
    Junit,
    Html,
}

impl Format {
    pub(super) fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Junit => "junit",
            Format::Html => "html",
        }
    }

    /// The format called `name`, or an error that lists the formats.
    pub(super) fn parse(name: &str, what: &str) -> Result<Format, String> {
        Format::from_str(name.trim(), true).map_err(|_| {
            format!("{what}: {name:?} is not a report format; choose text, json, junit or html")
        })
    }
}

fn parse_mismatch(s: &str) -> Result<u16, String> {
    match s {
        "412" => Ok(412),
        "409" => Ok(409),
        _ => Err(format!("{s:?} is not 412 or 409")),
    }
}

fn parse_create(s: &str) -> Result<CreateMethod, String> {
    match s {
        "post" => Ok(CreateMethod::Post),
        "put" => Ok(CreateMethod::Put),
        _ => Err(format!("{s:?} is not post or put")),
    }
}

fn parse_patch(s: &str) -> Result<PatchFormat, String> {
    match s {
        "merge" => Ok(PatchFormat::Merge),
        "json-patch" => Ok(PatchFormat::JsonPatch),
        "none" => Ok(PatchFormat::None),
        _ => Err(format!("{s:?} is not merge, json-patch or none")),
    }
}

fn parse_error_format(s: &str) -> Result<ErrorFormat, String> {
    match s {
        "problem+json" => Ok(ErrorFormat::ProblemJson),
        "json" => Ok(ErrorFormat::Json),
        "any" => Ok(ErrorFormat::Any),
        _ => Err(format!("{s:?} is not problem+json, json or any")),
    }
}
