//! The conflict log on PostgreSQL storage, shared by every replica of one database.
//!
//! The database is the log: each event (a conflict recorded, a conflict resolved) takes the
//! next number of the sequence `ifmatch_conflict_seq`, so ids are global, and is stored in
//! `ifmatch_conflicts` (see `sql.rs`), trimmed to the newest `--conflict-log-size` records.
//! Every replica keeps a copy in its own [`Log`], which serves the reads and fans events out to
//! its stream subscribers. The copy is fed in number order by [`Shared::sync`], which reads the
//! events after the last one applied:
//! - before every read, record and resolution of this replica (so it answers with what any
//!   replica did before);
//! - when a `NOTIFY` on [`sql::CHANNEL`] arrives (the payload is the event's number), on a
//!   connection of its own that a thread keeps listening;
//! - and at least every [`POLL`], so a lost notification (or a lost listening connection)
//!   delays an event, never loses it.

mod sql;
#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator;
use postgres::{IsolationLevel, NoTls};

use self::sql::Resolved;
use super::log::{Log, NotResolved};
use super::record::{Draft, Record, Resolution};
use crate::storage::{PgBudget, PgPool, StoreError};

/// How often a replica reads the events it was not told of.
pub(crate) const POLL: Duration = Duration::from_secs(1);

/// Connections for reads, records and resolutions (the listener has one more of its own).
const POOL_SIZE: usize = 4;

/// The advisory locks (first key) that let one resolution of a conflict run at a time across
/// replicas; the second key is the conflict's number.
const RESOLVE_SPACE: i32 = 0x4946_5253; // "IFRS"

/// The shared log of one replica.
pub(crate) struct Shared {
    config: postgres::Config,
    pool: PgPool,
    log: Arc<Log>,
    capacity: usize,
    /// The highest event number applied to `log`; held while applying, so events are applied
    /// once each, in order.
    applied: Mutex<u64>,
    closed: AtomicBool,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

/// Holds the turn to resolve one conflict (a session advisory lock on a connection of its
/// own); dropping it ends the session, which releases the lock.
pub(crate) struct Turn {
    client: Option<postgres::Client>,
}

impl Drop for Turn {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            // A client must not be dropped on an async worker thread.
            std::thread::spawn(move || drop(client));
        }
    }
}

impl Shared {
    /// Connects to the database (whose schema the store migrated), reads what it holds, and
    /// starts listening. Blocks: call it off the async workers.
    pub(crate) fn open(
        config: &postgres::Config,
        log: Arc<Log>,
        capacity: usize,
        budget: PgBudget,
    ) -> Result<Arc<Self>, StoreError> {
        let shared = Arc::new(Self {
            config: config.clone(),
            pool: PgPool::new(config.clone(), budget.share(POOL_SIZE)),
            log,
            capacity,
            applied: Mutex::new(0),
            closed: AtomicBool::new(false),
        });
        shared.sync()?;
        let weak = Arc::downgrade(&shared);
        let config = config.clone();
        std::thread::Builder::new()
            .name("ifmatch-conflict-listener".to_owned())
            .spawn(move || listen(&weak, &config))
            .map_err(|err| {
                StoreError::from_message(&format!("starting the conflict listener: {err}"))
            })?;
        Ok(shared)
    }

    /// Applies the events after the last one applied, in number order. Blocks.
    pub(crate) fn sync(&self) -> Result<(), StoreError> {
        let mut applied = self
            .applied
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut conn = self.pool.get()?;
        let mut tx = conn
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?;
        let read = sql::events_after(&mut tx, *applied)?;
        tx.commit()?;
        drop(conn);
        let last = read.last.max(*applied);
        self.log.ingest(read.events, read.forgotten, last);
        *applied = last;
        Ok(())
    }

    /// Records `draft` for every replica, then applies it (and what came before it) here.
    pub(crate) fn record(&self, draft: Draft, at_ms: u64) -> Result<Record, StoreError> {
        let (record, fresh) = {
            let mut conn = self.pool.get()?;
            let mut tx = conn.transaction()?;
            let record = sql::record(&mut tx, draft, at_ms, self.capacity)?;
            tx.commit()?;
            record
        };
        if fresh {
            self.log.count_recorded(&record.kind);
        }
        self.sync()?;
        Ok(record)
    }

    /// Marks `fallback` resolved for every replica unless someone did first, then applies it
    /// here.
    pub(crate) fn resolve(
        &self,
        fallback: &Record,
        resolution: &Resolution,
    ) -> Result<Result<Record, NotResolved>, StoreError> {
        let resolved = {
            let mut conn = self.pool.get()?;
            let mut tx = conn.transaction()?;
            let resolved = sql::resolve(&mut tx, fallback, resolution)?;
            tx.commit()?;
            resolved
        };
        self.sync()?;
        Ok(match resolved {
            Resolved::Now(record) => Ok(record),
            Resolved::Already(record) => Err(NotResolved::Already(Box::new(record))),
        })
    }

    /// Waits for the turn to resolve conflict `seq` (other replicas may hold it). Blocks.
    pub(crate) fn turn(&self, seq: u64) -> Result<Turn, StoreError> {
        let mut client = self.config.connect(NoTls)?;
        #[allow(clippy::cast_possible_truncation)]
        // Numbers 2^32 apart share a lock: they only take turns needlessly.
        let key = seq as u32 as i32;
        let locked = client.execute("SELECT pg_advisory_lock($1, $2)", &[&RESOLVE_SPACE, &key]);
        let turn = Turn {
            client: Some(client),
        };
        locked?;
        Ok(turn)
    }

    /// Stops listening (within [`POLL`]).
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
    }
}

/// Keeps a connection listening on the channel and syncs on every notification, and at least
/// every [`POLL`]; reconnects after a failure. Ends when the replica's log is gone or closed.
fn listen(shared: &Weak<Shared>, config: &postgres::Config) {
    let alive = || {
        shared
            .upgrade()
            .filter(|s| !s.closed.load(Ordering::SeqCst))
    };
    while alive().is_some() {
        let connected = config.connect(NoTls).and_then(|mut client| {
            client.batch_execute(&format!("LISTEN {}", sql::CHANNEL))?;
            Ok(client)
        });
        let mut client = match connected {
            Ok(client) => client,
            Err(err) => {
                tracing::warn!(error = %err, "conflict listener could not connect; retrying");
                std::thread::sleep(POLL);
                continue;
            }
        };
        loop {
            let waited = {
                let mut notifications = client.notifications();
                let first = notifications.timeout_iter(POLL).next().map(|_| ());
                // Whatever else arrived is covered by the same sync.
                first.and_then(|()| notifications.iter().count())
            };
            let Some(shared) = alive() else {
                return;
            };
            if let Err(err) = shared.sync() {
                tracing::warn!(error = %err, "reading the shared conflict log failed; retrying");
            }
            if let Err(err) = waited {
                tracing::warn!(error = %err, "conflict listener lost its connection; reconnecting");
                break;
            }
        }
    }
}
