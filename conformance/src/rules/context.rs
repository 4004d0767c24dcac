//! What a check works with: the probe, fixtures it creates (and the runner
//! deletes), state snapshots, and the shared judgement of a refused write.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use serde_json::{json, Value};

use super::urls::{break_url, lock_url, resolve, DEFAULT_LOCK_PATH};
use super::{Evidence, Finding};
use crate::etag::{self, EntityTag};
use crate::http::{Exchange, Probe, Req, TransportError};

/// Why a check stopped before reaching a verdict of its own.
#[derive(Debug, Clone)]
pub enum Abort {
    /// A request got no response: the rule fails.
    Transport(TransportError),
    /// Something the check builds on did not work: the rule is skipped.
    Prerequisite(String),
}

impl From<TransportError> for Abort {
    fn from(e: TransportError) -> Self {
        Abort::Transport(e)
    }
}

/// A resource the check created, as first read back.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// Absolute URL of the resource.
    pub url: String,
    /// Its strong ETag from the first GET.
    pub etag: EntityTag,
    /// Its body from the first GET.
    pub body: Value,
}

/// The state of a resource as one GET saw it.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The GET's status.
    pub status: u16,
    /// The raw `ETag` header.
    pub etag: Option<String>,
    /// The body as JSON (when it is JSON).
    pub body: Option<Value>,
    /// The GET itself.
    pub exchange: Exchange,
}

/// The context of one check.
#[derive(Debug)]
pub struct Cx {
    /// Sends and records requests.
    pub probe: Probe,
    /// The rule being checked.
    pub rule_id: &'static str,
    collection_url: String,
    declared_409: bool,
    token: String,
    counter: AtomicUsize,
    created: Mutex<Vec<String>>,
    lock_path: String,
    locks: Mutex<Vec<HeldLock>>,
    batch_url: String,
    transactions_url: String,
    transactions: Mutex<Vec<String>>,
    versions: super::versions::Places,
    notify: super::notifications::NotifyConfig,
    conflicts_url: String,
    shape: crate::target::TargetShape,
    repeat: u32,
}

/// A lock a check took and has not released yet: the runner releases it before
/// deleting the check's resources (a locked resource refuses the delete).
#[derive(Debug, Clone)]
struct HeldLock {
    lock_url: String,
    token_header: String,
}

impl Cx {
    /// A context for `rule_id`; `token` makes the URLs it invents unique to this run.
    pub fn new(
        probe: Probe,
        rule_id: &'static str,
        collection_url: String,
        declared_409: bool,
        token: String,
    ) -> Self {
        Cx {
            probe,
            rule_id,
            collection_url,
            declared_409,
            token,
            counter: AtomicUsize::new(0),
            created: Mutex::default(),
            lock_path: DEFAULT_LOCK_PATH.to_owned(),
            locks: Mutex::default(),
            batch_url: String::new(),
            transactions_url: String::new(),
            transactions: Mutex::default(),
            notify: super::notifications::NotifyConfig::default(),
            conflicts_url: String::new(),
            versions: super::versions::Places::default(),
            shape: crate::target::TargetShape::default(),
            repeat: 1,
        }
    }

    /// Works with a target of `shape`; concurrency rules race `repeat` times.
    pub fn with_shape(mut self, shape: &crate::target::TargetShape, repeat: u32) -> Self {
        self.shape = shape.clone();
        self.repeat = repeat.max(1);
        self
    }

    /// The shape of the target.
    pub fn shape(&self) -> &crate::target::TargetShape {
        &self.shape
    }

    /// How many times a concurrency rule races.
    pub fn repeat(&self) -> u32 {
        self.repeat
    }

    /// Finds history and API versions at `places` (the `versions` profile).
    pub fn with_versions(mut self, places: super::versions::Places) -> Self {
        self.versions = places;
        self
    }

    /// Where history and API versions are.
    pub fn versions(&self) -> &super::versions::Places {
        &self.versions
    }

    /// Finds the conflict log at `conflicts_url` (absolute) and acts as the
    /// identities of `notify` (the `notifications` profile).
    pub fn with_notifications(
        mut self,
        conflicts_url: &str,
        notify: &super::notifications::NotifyConfig,
    ) -> Self {
        conflicts_url.clone_into(&mut self.conflicts_url);
        self.notify = notify.clone();
        self
    }

    /// The settings of the `notifications` profile.
    pub fn notify(&self) -> &super::notifications::NotifyConfig {
        &self.notify
    }

    /// Where the conflict log lives.
    pub fn conflicts_url(&self) -> &str {
        &self.conflicts_url
    }

    /// Sends batches to `batch_url` and begins transactions at `transactions_url`
    /// (both absolute; the `transactions` profile).
    pub fn with_transaction_urls(mut self, batch_url: &str, transactions_url: &str) -> Self {
        batch_url.clone_into(&mut self.batch_url);
        transactions_url.clone_into(&mut self.transactions_url);
        self
    }

    /// Where batches are sent.
    pub fn batch_url(&self) -> &str {
        &self.batch_url
    }

    /// Where transactions begin.
    pub fn transactions_url(&self) -> &str {
        &self.transactions_url
    }

    /// Remembers a transaction this check began, so that it is rolled back
    /// (`DELETE`) unless the check commits or rolls it back itself.
    pub fn remember_transaction(&self, url: &str) {
        self.transactions
            .lock()
            .expect("transaction list poisoned")
            .push(url.to_owned());
    }

    /// Forgets a transaction the check committed or rolled back.
    pub fn forget_transaction(&self, url: &str) {
        self.transactions
            .lock()
            .expect("transaction list poisoned")
            .retain(|t| t != url);
    }

    /// Uses `template` (see [`lock_url`]) to find a resource's lock.
    pub fn with_lock_path(mut self, template: &str) -> Self {
        template.clone_into(&mut self.lock_path);
        self
    }

    /// The URL of the lock of the resource at `item`.
    pub fn lock_url(&self, item: &str) -> String {
        lock_url(&self.lock_path, &self.collection_url, item)
    }

    /// Whether the run declared 409 for a failed `If-Match` (`--mismatch-status 409`).
    pub fn declared_409(&self) -> bool {
        self.declared_409
    }

    /// The token that makes this run's invented names unique.
    pub fn run_token(&self) -> &str {
        &self.token
    }

    /// Remembers a lock granted to this check, so that it is released afterwards.
    pub fn remember_lock(&self, lock_url: &str, token_header: &str) {
        self.locks
            .lock()
            .expect("lock list poisoned")
            .push(HeldLock {
                lock_url: lock_url.to_owned(),
                token_header: token_header.to_owned(),
            });
    }

    /// Forgets a lock the check released itself.
    pub fn forget_lock(&self, token_header: &str) {
        self.locks
            .lock()
            .expect("lock list poisoned")
            .retain(|l| l.token_header != token_header);
    }

    /// The absolute collection URL.
    pub fn collection_url(&self) -> &str {
        &self.collection_url
    }

    /// Sends a request.
    pub async fn send(&self, req: Req) -> Result<Exchange, Abort> {
        Ok(self.probe.send(req).await?)
    }

    /// A document that says which rule wrote it.
    pub fn doc(&self, extra: Value) -> Value {
        let mut doc = json!({ "suite": "ifmatch-conformance", "rule": self.rule_id });
        if let (Some(target), Value::Object(extra)) = (doc.as_object_mut(), extra) {
            target.extend(extra);
        }
        doc
    }

    /// POSTs `body` to the collection and returns the raw exchange; a resource it
    /// creates is remembered for cleanup.
    pub async fn create(&self, body: &Value) -> Result<(Exchange, Option<String>), Abort> {
        let exchange = self
            .send(Req::post(&self.collection_url).json(body))
            .await?;
        let url = exchange
            .header("location")
            .and_then(|loc| resolve(&self.collection_url, loc));
        if let (true, Some(url)) = ((200..300).contains(&exchange.status()), &url) {
            self.remember(url.clone());
        }
        Ok((exchange, url))
    }

    /// Creates a resource and reads it back; skips the rule if that is impossible.
    pub async fn fixture(&self, body: Value) -> Result<Fixture, Abort> {
        let (created, url) = self.create(&body).await?;
        let url = match (created.status(), url) {
            (200..=299, Some(url)) => url,
            (status, _) => {
                return Err(Abort::Prerequisite(format!(
                    "could not create a test resource: POST {} answered {status} {}",
                    self.collection_url,
                    if created.header("location").is_some() {
                        ""
                    } else {
                        "without a usable Location"
                    }
                )))
            }
        };
        let read = self.snapshot(&url).await?;
        let etag = read.etag.as_deref().and_then(etag::parse);
        match (read.status, etag, read.body) {
            (200, Some(etag), Some(body)) if !etag.is_weak() => Ok(Fixture { url, etag, body }),
            (status, etag, _) => Err(Abort::Prerequisite(format!(
                "could not read a test resource back with a strong ETag: GET {url} answered {status} with ETag {}",
                etag.map_or("(none or malformed)".to_owned(), |t| t.to_string())
            ))),
        }
    }

    /// A URL in the collection that no resource has yet; it is cleaned up afterwards.
    pub fn fresh_url(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let url = format!(
            "{}/ifmatch-conformance-{}-{}-{n}",
            self.collection_url.trim_end_matches('/'),
            self.token,
            self.rule_id.replace('.', "-")
        );
        self.remember(url.clone());
        url
    }

    /// Remembers a resource the check made some other way (a batch, a commit), so
    /// that it is deleted afterwards.
    pub fn remember(&self, url: String) {
        self.created
            .lock()
            .expect("fixture list poisoned")
            .push(url);
    }

    /// GETs `url`.
    pub async fn snapshot(&self, url: &str) -> Result<Snapshot, Abort> {
        let exchange = self.send(Req::get(url)).await?;
        Ok(Snapshot {
            status: exchange.status(),
            etag: exchange.etag_raw().map(str::to_owned),
            body: exchange.json(),
            exchange,
        })
    }

    /// Judges a write that a conforming server refuses for a failed precondition:
    /// the status must be 412 (409 in the declared profile) AND a re-read must show
    /// the resource exactly as `before`.
    pub async fn judge_refusal(
        &self,
        before: &Snapshot,
        url: &str,
        attempt: &Exchange,
        what: &str,
    ) -> Result<Finding, Abort> {
        let after = self.snapshot(url).await?;
        let changed = describe_change(before, &after);
        let status = attempt.status();
        if let Some(change) = changed {
            return Ok(Finding::violation(
                format!("{what} is refused and the resource stays exactly as it was"),
                format!("the server answered {status}, and a re-read shows {change}"),
                attempt,
            ));
        }
        Ok(match status {
            412 => Finding::Pass(format!(
                "{what} was refused with 412; a re-read shows nothing changed"
            )),
            409 if self.declared_409 => Finding::NonStrict(format!(
                "{what} was refused with 409 (declared with --mismatch-status 409; RFC 9110 prefers 412); nothing changed"
            )),
            409 => Finding::Warn(Evidence {
                expectation: format!(
                    "{what} is refused with 412 Precondition Failed (RFC 9110 §13.1.1); declare --mismatch-status 409 to accept 409"
                ),
                observed: "409 Conflict (state unchanged)".into(),
                exchange: Some(attempt.clone()),
                write: None,
            }),
            other => Finding::violation(
                format!("{what} is refused with 412 Precondition Failed"),
                format!("the server answered {other} (state unchanged)"),
                attempt,
            ),
        })
    }

    /// Rolls back the transactions this check left open and releases the locks it
    /// still holds, then deletes every resource it created (best effort: `If-Match:
    /// *` works with servers that demand preconditions). A resource someone else
    /// still has locked (423) has its lock broken (`?break=true`) and is deleted again.
    pub async fn cleanup(&self) {
        let open =
            std::mem::take(&mut *self.transactions.lock().expect("transaction list poisoned"));
        for url in open {
            let _ = self.probe.send(Req::delete(&url)).await;
        }
        let locks = std::mem::take(&mut *self.locks.lock().expect("lock list poisoned"));
        for held in locks {
            let _ = self
                .probe
                .send(Req::delete(&held.lock_url).header("Lock-Token", held.token_header))
                .await;
        }
        let urls = std::mem::take(&mut *self.created.lock().expect("fixture list poisoned"));
        for url in urls {
            let delete = || Req::delete(&url).header("If-Match", "*");
            if let Ok(refused) = self.probe.send(delete()).await {
                if refused.status() == 423 {
                    let lock = break_url(&self.lock_url(&url));
                    let _ = self.probe.send(Req::delete(&lock)).await;
                    let _ = self.probe.send(delete()).await;
                }
            }
        }
    }
}

/// What differs between two reads of one resource, if anything.
pub(crate) fn describe_change(before: &Snapshot, after: &Snapshot) -> Option<String> {
    if after.status != before.status {
        return Some(format!(
            "the resource now answers {} instead of {}",
            after.status, before.status
        ));
    }
    if after.etag != before.etag {
        return Some(format!(
            "the ETag changed from {} to {}",
            before.etag.as_deref().unwrap_or("(none)"),
            after.etag.as_deref().unwrap_or("(none)")
        ));
    }
    if after.body != before.body {
        return Some("a changed body".into());
    }
    None
}
