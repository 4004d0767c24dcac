//! Runs the selected rules against a server and builds the report.

use std::io::Write;
use std::time::{Duration, Instant};

mod outcome;
pub mod schedule;

use outcome::{is_not_applicable, outcome};

use crate::http::{Probe, Req};
use crate::report::{Outcome, Report};
use crate::rules::{Abort, Cx, Evidence, Finding, Profile, Rule, CATALOGUE};
use crate::verdict::Verdict;

/// Everything `check` needs to know.
///
/// # Defaults
/// collection `/items`, profile `core`, mismatch status 412, no extra headers,
/// every rule, secrets redacted, `Retry-After` waits capped at 10 s, a random run token,
/// locks at `{item}/lock`, batches at `/batch`, transactions at `/transactions`,
/// history at `{item}/versions`, API versions under `/v1` and `/v2`, the
/// reference server's [shape](crate::target::TargetShape), each race run once,
/// no wait for the server to start, prerequisite skips reported without failing, and the
/// rate-limit rules sent to `base_url`, and at most 8 rules at a time.
/// The `notifications` profile's settings default as [`NotifyConfig`](crate::rules::NotifyConfig)
/// says (conflicts at `/conflicts`, no identities, a 20 s heartbeat wait).
#[derive(Debug, Clone)]
pub struct CheckConfig {
    /// Base URL of the server, e.g. `http://127.0.0.1:8080`.
    pub base_url: String,
    /// Path of the collection the suite creates resources in.
    pub collection: String,
    /// Profiles to check.
    pub profiles: Vec<Profile>,
    /// 412 (strict) or 409 (declared non-strict).
    pub mismatch_status: u16,
    /// Headers added to every request (treated as secrets).
    pub headers: Vec<(String, String)>,
    /// Rule patterns; empty means every rule of the selected profiles.
    pub rule_patterns: Vec<String>,
    /// Write secret header values into reports.
    pub show_secrets: bool,
    /// Longest wait for one `Retry-After`.
    pub max_retry_wait: Duration,
    /// Makes invented URLs unique to this run.
    pub run_token: String,
    /// Where a resource's lock lives (the `locking` profile): `{item}` stands for the
    /// resource's URL; without it, `{id}` for its last path segment, resolved against
    /// the collection (e.g. `/locks/{id}`).
    pub lock_path: String,
    /// Where atomic batches are sent (the `transactions` profile), joined to the base
    /// URL like the collection.
    pub batch_path: String,
    /// Where interactive transactions begin (the `transactions` profile), joined to
    /// the base URL like the collection.
    pub transactions_path: String,
    /// The conflict log and the identities of the `notifications` profile.
    pub notifications: crate::rules::NotifyConfig,
    /// Where a document's history lives (the `versions` profile), a template like
    /// `lock_path`; a past version is `{history}/{n}`.
    pub versions_path: String,
    /// The URL prefixes of API versions 1 and 2 (the `versions` profile).
    pub api_prefixes: crate::rules::ApiPrefixes,
    /// How the target creates resources, keeps versions and shapes bodies.
    pub shape: crate::target::TargetShape,
    /// How many times each concurrency rule races (a race lost once is a fail).
    pub repeat: u32,
    /// How long to wait for the server to answer at all before the run starts.
    pub wait_for: Duration,
    /// Whether rules skipped because a prerequisite failed fail the run.
    pub fail_on_skipped: bool,
    /// Where the `rate-limit` profile's rules send their requests, when not to `base_url`:
    /// the embedded reference server starts a second, rate-limited instance for them, so
    /// that the other rules never wait for its budget and all run at the same time.
    /// `None` (the default): `base_url`, with the rate-limit rules run last, alone.
    pub rate_limit_base_url: Option<String>,
    /// Most rules run at the same time ([`schedule::PARALLEL_RULES`] by default); 1 runs
    /// them one after another, for output that must not depend on timing (a server whose
    /// tags count every request it answers names other tags in a concurrent run).
    pub parallel_rules: usize,
}

impl CheckConfig {
    /// A configuration for `base_url` with the documented defaults.
    pub fn new(base_url: impl Into<String>) -> Self {
        CheckConfig {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            collection: "/items".into(),
            profiles: vec![Profile::Core],
            mismatch_status: 412,
            headers: Vec::new(),
            rule_patterns: Vec::new(),
            show_secrets: false,
            max_retry_wait: Duration::from_secs(10),
            run_token: random_token(),
            lock_path: crate::rules::DEFAULT_LOCK_PATH.into(),
            batch_path: crate::rules::DEFAULT_BATCH_PATH.into(),
            transactions_path: crate::rules::DEFAULT_TRANSACTIONS_PATH.into(),
            notifications: crate::rules::NotifyConfig::default(),
            versions_path: crate::rules::DEFAULT_VERSIONS_PATH.into(),
            api_prefixes: crate::rules::ApiPrefixes::default(),
            shape: crate::target::TargetShape::default(),
            repeat: 1,
            wait_for: Duration::ZERO,
            fail_on_skipped: false,
            rate_limit_base_url: None,
            parallel_rules: schedule::PARALLEL_RULES,
        }
    }

    /// The absolute collection URL.
    pub fn collection_url(&self) -> String {
        self.url_of(&self.collection)
    }

    /// The absolute URL batches are sent to.
    pub fn batch_url(&self) -> String {
        self.url_of(&self.batch_path)
    }

    /// The absolute URL of the conflict log (the `notifications` profile).
    pub fn conflicts_url(&self) -> String {
        self.url_of(&self.notifications.conflicts_path)
    }

    /// The absolute URL transactions begin at.
    pub fn transactions_url(&self) -> String {
        self.url_of(&self.transactions_path)
    }

    fn url_of(&self, path: &str) -> String {
        format!("{}/{}", self.base_url, path.trim_start_matches('/'))
    }

    /// The rules this configuration selects, in catalogue order.
    pub fn selected_rules(&self) -> Vec<&'static Rule> {
        CATALOGUE
            .iter()
            .filter(|r| self.profiles.contains(&r.profile))
            .filter(|r| {
                self.rule_patterns.is_empty()
                    || self.rule_patterns.iter().any(|p| matches_pattern(p, r.id))
            })
            .collect()
    }
}

/// Whether rule `id` matches `pattern`: `*` is a wildcard; a pattern without one
/// matches the ID itself and every ID below it (`core.if-match` matches
/// `core.if-match.stale-put`).
pub fn matches_pattern(pattern: &str, id: &str) -> bool {
    if !pattern.contains('*') {
        return id == pattern || id.starts_with(&format!("{pattern}."));
    }
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !id.starts_with(first) || !id[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &id[first.len()..id.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

fn random_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    format!("{:08x}", h.finish() as u32)
}

/// A problem that stops the whole run (exit status 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupError(pub String);

impl std::fmt::Display for SetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SetupError {}

/// Runs the selected rules, independent ones concurrently (see [`schedule`]). `progress`
/// gets one line per rule, in catalogue order, as soon as the rule and every one before it
/// have finished (pass `None` when output is piped).
pub async fn run(
    config: &CheckConfig,
    progress: Option<&mut dyn Write>,
) -> Result<Report, SetupError> {
    let started = Instant::now();
    let probe = Probe::new(
        config.headers.clone(),
        config.show_secrets,
        config.max_retry_wait,
    )
    .map_err(SetupError)?;
    preflight(&probe, config).await?;
    let rules = config.selected_rules();
    let outcomes = schedule::run_rules(&rules, &probe, config, progress).await?;
    Ok(Report {
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        target: config.base_url.clone(),
        collection: config.collection.clone(),
        profiles: config.profiles.clone(),
        mismatch_status: config.mismatch_status,
        outcomes,
        fail_on_skipped: config.fail_on_skipped,
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    })
}

/// Fails fast with advice when the server is unreachable or the collection is wrong.
async fn preflight(probe: &Probe, config: &CheckConfig) -> Result<(), SetupError> {
    let url = config.collection_url();
    let sent = probe.send(Req::get(&url)).await.map_err(|e| {
        SetupError(format!(
            "cannot reach {}: {}. Check that the server is running and that --base-url is right.",
            config.base_url, e.reason
        ))
    })?;
    probe.take_log();
    let puts = config.shape.create.method == crate::target::CreateMethod::Put;
    let challenged = sent.header("www-authenticate").is_some();
    match sent.status() {
        401 => Err(SetupError(format!(
            "GET {url} answered 401: the server wants credentials. Pass them with --header 'Authorization: ...' (or header = [...] in ifmatch-conformance.toml)."
        ))),
        403 if challenged => Err(SetupError(format!(
            "GET {url} answered 403 with a WWW-Authenticate challenge: the server wants other credentials. Pass them with --header 'Authorization: ...'."
        ))),
        // A collection the suite creates in by PUT need not answer GET: a WebDAV
        // directory without an index is 403 or 404 to GET and still takes PUTs.
        403..=405 if puts => Ok(()),
        404 => Err(SetupError(format!(
            "GET {url} answered 404: the collection does not exist. Pass the path of a collection the suite may create resources in with --collection; if resources are created by PUT at their own URL and the collection cannot be listed, set [create] method = \"put\" (--create put)."
        ))),
        403 => Err(SetupError(format!(
            "GET {url} answered 403: the server refuses to list the collection. If it wants credentials, pass them with --header 'Authorization: ...'; if the collection just cannot be listed (a WebDAV directory without an index) and resources are created by PUT, set [create] method = \"put\" (--create put)."
        ))),
        _ => Ok(()),
    }
}

async fn run_rule(
    rule: &'static Rule,
    probe: &Probe,
    config: &CheckConfig,
    done: &[Outcome],
) -> Outcome {
    let blocked = rule
        .requires
        .iter()
        .find_map(|needed| done.iter().find(|o| o.id == *needed && !o.verdict.kept()));
    if let Some(prerequisite) = blocked {
        // A prerequisite that does not apply to this target (e.g. `[errors] format =
        // "any"`) makes its dependants not apply either: they were not kept from
        // running by a failure, and `--fail-on-skipped` must not count them.
        if prerequisite.verdict == Verdict::Skip && is_not_applicable(&prerequisite.message) {
            let why = prerequisite
                .message
                .strip_prefix("not applicable: ")
                .or_else(|| prerequisite.message.strip_prefix("not applicable "))
                .unwrap_or(&prerequisite.message);
            let reason = format!(
                "not applicable ({} is not, and this rule builds on it): {why}",
                prerequisite.id
            );
            return outcome(rule, &Finding::Skip(reason), &[]);
        }
        let reason = format!(
            "prerequisite {} was {}",
            prerequisite.id,
            prerequisite.verdict.as_str()
        );
        let mut o = outcome(rule, &Finding::Skip(reason), &[]);
        o.blocked_by = Some(prerequisite.id.clone());
        return o;
    }
    let started = Instant::now();
    let collection = match (&config.rate_limit_base_url, rule.profile) {
        (Some(base), Profile::RateLimit) => format!(
            "{}/{}",
            base.trim_end_matches('/'),
            config.collection.trim_start_matches('/')
        ),
        _ => config.collection_url(),
    };
    let cx = Cx::new(
        probe.clone(),
        rule.id,
        collection,
        config.mismatch_status == 409,
        config.run_token.clone(),
    )
    .with_lock_path(&config.lock_path)
    .with_transaction_urls(&config.batch_url(), &config.transactions_url())
    .with_versions(crate::rules::VersionPlaces::new(
        &config.base_url,
        &config.versions_path,
        &config.api_prefixes,
    ));
    let cx = cx
        .with_notifications(&config.conflicts_url(), &config.notifications)
        .with_shape(&config.shape, config.repeat);
    let result = (rule.check)(&cx).await;
    cx.cleanup().await;
    probe.take_log();
    let mut harness_error = false;
    let finding = match result {
        Ok(finding) => finding,
        Err(Abort::Prerequisite(reason)) => Finding::Skip(reason),
        Err(Abort::Transport(e)) => {
            harness_error = true;
            Finding::Violation(Evidence {
                expectation: "the server answers every request".into(),
                observed: e.to_string(),
                exchange: None,
                write: None,
            })
        }
    };
    let mut o = outcome(rule, &finding, &config.shape.not_compared());
    if harness_error {
        o.harness_error = true;
        o.hint = Some(crate::report::hints::harness_hint());
    }
    o.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_prefixes_and_wildcards() {
        let id = "core.if-match.stale-put";
        assert!(matches_pattern("core.if-match.stale-put", id));
        assert!(matches_pattern("core.if-match", id));
        assert!(matches_pattern("core", id));
        assert!(matches_pattern("*stale*", id));
        assert!(matches_pattern("core.*.stale-put", id));
        assert!(!matches_pattern("core.if-match.stale", id));
        assert!(!matches_pattern("core.if", id));
        assert!(!matches_pattern("*patch", id));
    }

    #[test]
    fn defaults_select_the_core_profile() {
        let config = CheckConfig::new("http://127.0.0.1:1/");
        assert_eq!(config.base_url, "http://127.0.0.1:1");
        assert_eq!(config.collection_url(), "http://127.0.0.1:1/items");
        assert_eq!(config.mismatch_status, 412);
        assert!(!config.show_secrets);
        assert_eq!(config.max_retry_wait, Duration::from_secs(10));
        assert_eq!(config.lock_path, "{item}/lock");
        assert_eq!(config.batch_url(), "http://127.0.0.1:1/batch");
        assert_eq!(config.transactions_url(), "http://127.0.0.1:1/transactions");
        assert_eq!(config.versions_path, "{item}/versions");
        assert_eq!(config.api_prefixes.to_string(), "v1=/v1,v2=/v2");
        assert!(config
            .selected_rules()
            .iter()
            .all(|r| r.profile == Profile::Core));
    }
}
