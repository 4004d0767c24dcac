//! Conflict notifications: every refused conditional write is recorded in a bounded log
//! (`GET /conflicts`, `GET /conflicts/{id}`), pushed to subscribers as it happens
//! (`GET /conflicts/stream`, Server-Sent Events), and resolved at
//! `POST /conflicts/{id}/resolve`. See `docs/server.md`, "Conflict notifications".
//!
//! Recording happens in one middleware ([`capture`]) around every route: handlers only mark
//! their refusals with the version they were judged against (`Problem::with_observed`).
//!
//! On PostgreSQL storage the log lives in the database, shared by every replica ([`shared`]);
//! this process's [`Log`] is then a copy of it, which serves reads and streams.

mod capture;
#[cfg(test)]
mod fuzz;
mod log;
mod observer;
mod query;
mod record;
mod resolve;
mod routes;
mod settings;
mod shared;
mod stream;

use std::sync::Arc;

pub(crate) use capture::capture;
pub(crate) use observer::ConflictObserver;
pub(crate) use resolve::resolve;
pub(crate) use routes::{list, show};
pub(crate) use settings::ConflictSettings;
pub use settings::{
    DEFAULT_CONFLICT_BODY_LIMIT, DEFAULT_CONFLICT_LOG_SIZE, DEFAULT_MAX_SUBSCRIBERS,
    DEFAULT_MAX_SUBSCRIBERS_PER_CLIENT, DEFAULT_SSE_HEARTBEAT,
};
pub(crate) use stream::stream;

use self::log::{Admission, Log, NotResolved, Refused, Subscription, SUBSCRIBER_QUEUE};
use self::query::Filter;
use self::record::{Draft, Record, Resolution};
use self::shared::{Shared, Turn};
use crate::storage::StoreError;

/// The conflict log and what its routes need to know about the server.
#[derive(Debug)]
pub(crate) struct Conflicts {
    pub(crate) log: Arc<Log>,
    /// On PostgreSQL storage: the log in the database, of which `log` is a copy.
    shared: Option<Arc<Shared>>,
    pub(crate) settings: ConflictSettings,
    /// Whether tokens are configured: then only the client that caused a conflict, or an
    /// admin, may resolve it.
    pub(crate) auth_enabled: bool,
    /// The largest request body the server accepts (the capture reads no more).
    pub(crate) max_body_bytes: usize,
    /// Resolutions take turns, so that two racing for one conflict cannot both succeed.
    pub(crate) resolving: tokio::sync::Mutex<()>,
}

/// Runs `f` on the shared log on the blocking pool.
async fn blocking<T: Send + 'static>(
    shared: &Arc<Shared>,
    f: impl FnOnce(&Shared) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    let shared = Arc::clone(shared);
    tokio::task::spawn_blocking(move || f(&shared))
        .await
        .unwrap_or_else(|err| Err(StoreError::from_task(&err)))
}

impl Conflicts {
    /// A log of this process.
    pub(crate) fn new(
        settings: ConflictSettings,
        auth_enabled: bool,
        max_body_bytes: usize,
    ) -> Self {
        Self {
            log: Arc::new(Log::new(settings.log_size, SUBSCRIBER_QUEUE)),
            shared: None,
            settings,
            auth_enabled,
            max_body_bytes,
            resolving: tokio::sync::Mutex::new(()),
        }
    }

    /// The log of the PostgreSQL `database` (whose schema is migrated already), shared with
    /// every replica on it, instead. Blocks: call it off the async workers.
    pub(crate) fn shared(
        mut self,
        database: &postgres::Config,
        budget: crate::storage::PgBudget,
        listener: &crate::storage::PgListener,
    ) -> Result<Self, StoreError> {
        let shared = Shared::open(
            database,
            Arc::clone(&self.log),
            self.settings.log_size,
            budget,
            listener,
        )?;
        self.shared = Some(shared);
        Ok(self)
    }

    /// Brings the copy up to date with the shared log (nothing to do for a log of this process).
    pub(crate) async fn sync(&self) -> Result<(), StoreError> {
        match &self.shared {
            Some(shared) => blocking(shared, Shared::sync).await,
            None => Ok(()),
        }
    }

    /// Records a refusal and tells the subscribers (on every replica when shared).
    pub(crate) async fn record(&self, draft: Draft, at_ms: u64) -> Result<Record, StoreError> {
        match &self.shared {
            Some(shared) => blocking(shared, move |s| s.record(draft, at_ms)).await,
            None => Ok(self.log.record(draft, at_ms)),
        }
    }

    /// The record `seq`, if still kept.
    pub(crate) async fn get(&self, seq: u64) -> Result<Option<Record>, StoreError> {
        self.sync().await?;
        Ok(self.log.get(seq))
    }

    /// Up to `limit` matching records after `after`, and the seq to page on from.
    pub(crate) async fn list(
        &self,
        filter: &Filter,
        after: u64,
        limit: usize,
    ) -> Result<(Vec<Record>, Option<u64>), StoreError> {
        self.sync().await?;
        Ok(self.log.list(filter, after, limit))
    }

    /// Subscribes (see [`Log::subscribe`]), after catching up, so that a `last` event id
    /// another replica gave is known here.
    pub(crate) async fn subscribe(
        &self,
        filter: Filter,
        last: Option<u64>,
        admission: &Admission,
    ) -> Result<Result<Subscription, Refused>, StoreError> {
        self.sync().await?;
        Ok(self.log.subscribe(filter, last, admission))
    }

    /// The turn to resolve conflict `seq` across replicas (`None` for a log of this process,
    /// where [`Conflicts::resolving`] is enough).
    pub(crate) async fn turn(&self, seq: u64) -> Result<Option<Turn>, StoreError> {
        match &self.shared {
            Some(shared) => blocking(shared, move |s| s.turn(seq)).await.map(Some),
            None => Ok(None),
        }
    }

    /// Marks `fallback` resolved and tells the subscribers, unless someone resolved it first.
    pub(crate) async fn resolve(
        &self,
        fallback: &Record,
        resolution: Resolution,
    ) -> Result<Result<Record, NotResolved>, StoreError> {
        match &self.shared {
            Some(shared) => {
                let fallback = fallback.clone();
                blocking(shared, move |s| s.resolve(&fallback, &resolution)).await
            }
            None => Ok(self.log.resolve(fallback, resolution)),
        }
    }

    /// Ends every conflict stream (after what is queued) and every later one at once after
    /// its replay: the server is shutting down, which waits for open answers to finish.
    pub(crate) fn close(&self) {
        if let Some(shared) = &self.shared {
            shared.close();
        }
        self.log.close();
    }
}
