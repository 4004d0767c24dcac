//! Document storage: one small trait, kept by memory, by SQLite and by PostgreSQL.
//!
//! Every write runs through [`Store::apply`], which reads the current version, lets the caller
//! decide, and stores the decision in one critical section (memory: a mutex; SQLite: one
//! `BEGIN IMMEDIATE` transaction). That is what makes compare-and-swap atomic.
//!
//! Several reads and writes that must land together (a batch, a transaction's commit) run
//! through [`Store::atomically`]: the same critical section, held for the whole unit of work,
//! and undone when the work asks to roll back or fails.
//!
//! Every write through the store also records the version it produced in the document's
//! history (a delete records a tombstone), with the time and the author the caller names,
//! and prunes that history by the store's [`HistoryPolicy`], in the same critical section. So
//! no write path can forget the history: single writes, batches, transaction commits and
//! anything added later all go through `apply_as`, `insert_new_as` or `atomically_as`.

mod history;
mod memory;
mod postgres;
mod settings;
mod sqlite;

use std::sync::Arc;

use crate::etag::EntityTag;
use crate::{Error, Storage};

pub(crate) use history::{system_clock, version_of, Clock, HistoryPolicy, Lookup, VersionInfo};
pub(crate) use memory::MemoryStore;
pub(crate) use postgres::pool::{Budget as PgBudget, Pool as PgPool};
pub use postgres::pool::{DEFAULT_POSTGRES_CONNECTIONS, MIN_POSTGRES_CONNECTIONS};
pub(crate) use postgres::{
    lock_id as pg_lock_document, parse as parse_postgres, Listener as PgListener, PostgresStore,
    LOCK_SPACE as PG_LOCK_SPACE,
};
pub(crate) use settings::HistorySettings;
pub use settings::{
    DEFAULT_HISTORY_MAX_AGE, DEFAULT_HISTORY_MAX_VERSIONS, DEFAULT_MAX_DOCUMENTS,
    DEFAULT_TOMBSTONE_TTL,
};
pub(crate) use sqlite::SqliteStore;
#[cfg(test)]
pub(crate) use suite_postgres::{
    database as pg_test_database, migrated_database as pg_migrated_database,
};

/// One stored version of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Document {
    /// The strong tag of exactly these bytes.
    pub(crate) etag: EntityTag,
    /// The canonical JSON serialization, returned byte for byte by every read.
    pub(crate) body: Vec<u8>,
    /// When this version was written, in Unix milliseconds.
    pub(crate) at_ms: u64,
}

impl Document {
    /// The version number: the store-wide write counter in its tag (0 for a tag this server
    /// did not make, which cannot be stored).
    pub(crate) fn version(&self) -> u64 {
        version_of(self.etag.opaque()).unwrap_or(0)
    }
}

/// What a write decided after seeing the current version.
#[derive(Debug)]
pub(crate) enum Decision {
    /// Change nothing.
    Abort,
    /// Store these canonical JSON bytes under a new tag.
    Write(Vec<u8>),
    /// Remove the document.
    Delete,
}

/// What [`Store::apply`] did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Applied {
    /// Nothing changed; `current` is the version the decision saw.
    Aborted { current: Option<Document> },
    /// A new version was stored.
    Written { doc: Document, created: bool },
    /// The document was removed.
    Deleted,
}

/// A storage failure; reported to clients as a 500 problem and logged. Two kinds are told
/// apart: a write refused because the store holds its document cap ([`StoreError::full`]),
/// which clients get as 507, and a database that cannot be reached ([`StoreError::is_unavailable`]:
/// refused or lost connections, a database shutting down), which clients get as 503 with
/// `Retry-After`.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct StoreError(String, Cause);

/// What kind of [`StoreError`] this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cause {
    /// Anything else: a bug, a corrupt file, a full disk.
    Failure,
    /// A write refused at the document cap (the cap).
    Full(u64),
    /// The database cannot be reached now; a later retry may succeed.
    Unavailable,
}

impl StoreError {
    /// A write refused because the store holds `max` documents (or more), the cap.
    pub(crate) fn full(max: u64) -> Self {
        Self(
            format!("the store holds its maximum of {max} documents"),
            Cause::Full(max),
        )
    }

    /// The document cap, when this is a refusal at it rather than a failure.
    pub(crate) fn document_cap(&self) -> Option<u64> {
        match self.1 {
            Cause::Full(max) => Some(max),
            Cause::Failure | Cause::Unavailable => None,
        }
    }

    /// Whether the database could not be reached (connection refused or lost, shutting down).
    pub(crate) fn is_unavailable(&self) -> bool {
        self.1 == Cause::Unavailable
    }

    /// A storage task that panicked or was cancelled.
    pub(crate) fn from_task(err: &tokio::task::JoinError) -> Self {
        Self(format!("storage task failed: {err}"), Cause::Failure)
    }

    /// The database is there but has nothing free for this request now (every pooled
    /// connection busy): answered like an unreachable database, 503 with `Retry-After`.
    pub(crate) fn busy(message: &str) -> Self {
        Self(message.to_owned(), Cause::Unavailable)
    }

    /// A failure described in words (an outcome the caller's logic cannot have produced).
    pub(crate) fn from_message(message: &str) -> Self {
        Self(message.to_owned(), Cause::Failure)
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        Self(format!("sqlite: {err}"), Cause::Failure)
    }
}

impl From<::postgres::Error> for StoreError {
    fn from(err: ::postgres::Error) -> Self {
        let cause = if postgres_unreachable(&err) {
            Cause::Unavailable
        } else {
            Cause::Failure
        };
        // The client's own text is only the kind ("db error"); the database's message and
        // the I/O error are in the source.
        match std::error::Error::source(&err) {
            Some(source) => Self(format!("postgres: {err}: {source}"), cause),
            None => Self(format!("postgres: {err}"), cause),
        }
    }
}

/// Whether `err` says the database cannot be reached rather than that a statement failed: a
/// closed connection, an I/O error (refused, reset), or SQLSTATE class 08 (connection
/// exception), 57P (operator intervention: shutdown, crash, not yet accepting connections) or
/// 53 (insufficient resources: too many connections, out of memory, disk full), all of which a
/// later retry can get past.
fn postgres_unreachable(err: &::postgres::Error) -> bool {
    if err.is_closed() {
        return true;
    }
    if let Some(db) = err.as_db_error() {
        let code = db.code().code();
        return code.starts_with("08") || code.starts_with("57P") || code.starts_with("53");
    }
    std::error::Error::source(err).is_some_and(|source| source.is::<std::io::Error>())
}

/// How a unit of work run by [`Store::atomically`] ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Finish {
    /// Keep every write.
    Commit,
    /// Undo every write, as if the work never ran.
    Rollback,
}

/// A version stored by [`Txn::write`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Written {
    /// The new version.
    pub(crate) doc: Document,
    /// Whether the document did not exist before this write.
    pub(crate) created: bool,
}

/// Reads and writes inside one [`Store::atomically`] call. Reads see the earlier writes of
/// the same unit of work; nobody else sees any of them before the work commits.
pub(crate) trait Txn {
    /// The version of `id` as this unit of work left it so far.
    fn get(&mut self, id: &str) -> Result<Option<Document>, StoreError>;

    /// Stores `body` under `id` (creating or replacing) with a new tag.
    fn write(&mut self, id: &str, body: Vec<u8>) -> Result<Written, StoreError>;

    /// Removes `id`; whether there was a document to remove.
    fn delete(&mut self, id: &str) -> Result<bool, StoreError>;

    /// Stores `body` under a fresh server-generated id.
    fn insert_new(&mut self, body: Vec<u8>) -> Result<(String, Document), StoreError>;

    /// Runs `sql` in this unit of work when it is a PostgreSQL transaction (the shared
    /// transaction table records a commit's outcome in the commit's own transaction); `None`
    /// for the other stores. The count of rows it changed otherwise.
    fn execute_pg(
        &mut self,
        _sql: &str,
        _params: &[&(dyn ::postgres::types::ToSql + Sync)],
    ) -> Option<Result<u64, StoreError>> {
        None
    }
}

/// Storage of documents by id. Methods block; callers run them off the async executor.
///
/// The writing methods take the `author` of the write (the authenticated client's name, or
/// `None` for anonymous writes) and record it in the history; the writes of one
/// `atomically_as` unit of work share one author and one time.
pub(crate) trait Store: Send + Sync + 'static {
    /// All documents as `(id, version)`, in creation order.
    fn list(&self) -> Result<Vec<(String, Document)>, StoreError>;

    /// The current version of `id`.
    fn get(&self, id: &str) -> Result<Option<Document>, StoreError>;

    /// Stores `body` under a fresh server-generated id, written by `author`.
    fn insert_new_as(
        &self,
        author: Option<&str>,
        body: Vec<u8>,
    ) -> Result<(String, Document), StoreError>;

    /// Atomically reads `id`, asks `decide`, and carries the decision out as `author`'s write.
    fn apply_as(
        &self,
        id: &str,
        author: Option<&str>,
        decide: &mut dyn FnMut(Option<&Document>) -> Decision,
    ) -> Result<Applied, StoreError>;

    /// Runs `work` in one critical section; its writes are `author`'s. Its writes are kept
    /// when it returns `Ok(Finish::Commit)` and undone (history included) when it returns
    /// `Ok(Finish::Rollback)`, fails or panics. Tags handed out by undone writes are never
    /// handed out again. Returns how it finished.
    fn atomically_as(
        &self,
        author: Option<&str>,
        work: &mut dyn FnMut(&mut dyn Txn) -> Result<Finish, StoreError>,
    ) -> Result<Finish, StoreError>;

    /// The retention this store keeps history by.
    fn policy(&self) -> HistoryPolicy;

    /// The history of `id` as kept now, newest first (pruned first); `None` when it has none
    /// (it never existed, or its tombstone has gone).
    fn history(&self, id: &str) -> Result<Option<Vec<VersionInfo>>, StoreError>;

    /// Version `version` of `id`, if it is kept and is not a tombstone.
    fn version(&self, id: &str, version: u64) -> Result<Lookup, StoreError>;

    /// Versions kept in history now, all documents together, tombstones included (the gauge
    /// `ifmatch_history_versions`). Pruning is lazy, so an entry past its age still counts until
    /// its document is written or read.
    fn history_versions(&self) -> Result<u64, StoreError>;

    /// Whether a call may wait on I/O (a file, the network), so that the server runs it on
    /// tokio's blocking pool; a store whose calls only take an in-process lock for a moment
    /// says `false` and is called on the request's own thread.
    fn blocks(&self) -> bool {
        true
    }

    /// [`Store::insert_new_as`] by an anonymous writer.
    #[cfg(test)]
    fn insert_new(&self, body: Vec<u8>) -> Result<(String, Document), StoreError> {
        self.insert_new_as(None, body)
    }

    /// [`Store::apply_as`] by an anonymous writer.
    fn apply(
        &self,
        id: &str,
        decide: &mut dyn FnMut(Option<&Document>) -> Decision,
    ) -> Result<Applied, StoreError> {
        self.apply_as(id, None, decide)
    }

    /// [`Store::atomically_as`] by an anonymous writer.
    #[cfg(test)]
    fn atomically(
        &self,
        work: &mut dyn FnMut(&mut dyn Txn) -> Result<Finish, StoreError>,
    ) -> Result<Finish, StoreError> {
        self.atomically_as(None, work)
    }
}

/// Whether a write that takes the number of documents from `before` to `after` fits under the
/// cap `max` (0: no cap). A write that does not add documents always fits, so updates and
/// deletes still work in a store over its cap (after the cap was lowered, say).
pub(crate) fn fits(max: u64, before: u64, after: u64) -> bool {
    max == 0 || after <= before || after <= max
}

/// Opens the configured storage, keeping history by `policy` and at most `max_documents`
/// documents (0: no cap).
pub(crate) fn open(
    storage: &Storage,
    policy: HistoryPolicy,
    max_documents: u64,
    budget: PgBudget,
) -> Result<Arc<dyn Store>, Error> {
    match storage {
        Storage::Memory => Ok(Arc::new(
            MemoryStore::new(policy, system_clock()).with_max_documents(max_documents),
        )),
        Storage::Sqlite(path) => SqliteStore::open(path, policy, system_clock())
            .map(|store| Arc::new(store.with_max_documents(max_documents)) as Arc<dyn Store>)
            .map_err(|err| Error::SqliteOpen {
                path: path.clone(),
                source: Box::new(err),
            }),
        Storage::Postgres(url) => postgres::parse(url)
            .and_then(|config| PostgresStore::open_within(&config, policy, system_clock(), budget))
            .map(|store| Arc::new(store.with_max_documents(max_documents)) as Arc<dyn Store>)
            .map_err(postgres_open_error(url)),
    }
}

/// The error for a part of the server that could not open the PostgreSQL database `url`
/// (named without its password).
pub(crate) fn postgres_open_error(url: &str) -> impl Fn(StoreError) -> Error + Copy + '_ {
    move |err| Error::PostgresOpen {
        target: postgres::describe_url(url),
        source: Box::new(err),
    }
}

/// Whether `url` is a PostgreSQL URL the client can connect with.
pub(crate) fn postgres_url_is_valid(url: &str) -> bool {
    postgres::parse(url).is_ok()
}

/// A random lowercase-hex string of 16 digits (64 bits), for ids and tag epochs.
pub(crate) fn random_hex() -> String {
    format!("{:016x}", fastrand::u64(..))
}

/// A fresh document id: 12 characters of `[a-z0-9]`, URL-safe without escaping.
pub(crate) fn new_id() -> String {
    const ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..12)
        .map(|_| char::from(ALPHABET[fastrand::usize(..ALPHABET.len())]))
        .collect()
}

/// Builds the tag of one version: `"<epoch>-<generation>"`. The epoch is random per memory
/// store (per boot) and per SQLite file; the generation is a store-wide counter that only grows
/// (and is persisted for SQLite), so a tag is never reused, not even after delete and re-create.
pub(crate) fn version_tag(epoch: &str, generation: u64) -> EntityTag {
    EntityTag::strong(format!("{epoch}-{generation}"))
}

#[cfg(test)]
mod suite;
#[cfg(test)]
mod suite_cap;
#[cfg(test)]
mod suite_history;
#[cfg(test)]
mod suite_postgres;
