//! What a check works with: the probe, fixtures it creates (and the runner
//! deletes), state snapshots, and the shared judgement of a refused write.
//!
//! The target's [shape](crate::target::TargetShape) drives all of it: how
//! resources are created ([`fixtures`]), where versions live and how writes
//! send them back ([`version`]), and how stored content is compared
//! ([`compare`], [`judge`]).

mod compare;
mod fixtures;
mod judge;
mod version;

pub(crate) use compare::{differences, summary};
pub(crate) use judge::describe_change;
pub use version::{Version, Write};

use std::sync::atomic::AtomicUsize;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;

use super::urls::{lock_url, DEFAULT_LOCK_PATH};
use crate::etag::EntityTag;
use crate::http::{Exchange, Probe, TransportError};

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
    /// Its strong ETag from the first GET. On a target that keeps its version
    /// elsewhere and sends no strong ETag, the version as a tag: check
    /// [`Fixture::has_etag`] before judging `ETag` headers.
    pub etag: EntityTag,
    /// Whether the server sent that strong ETag itself.
    pub has_etag: bool,
    /// Its version, read where `[version] read` says (the `ETag` by default).
    pub version: Version,
    /// Its body from the first GET.
    pub body: Value,
    /// The body the suite sent to create it.
    pub sent: Value,
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
    /// How long this check waited for a strong ETag after a write.
    waited: Mutex<Duration>,
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
            waited: Mutex::default(),
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
}
