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
//! - when a `NOTIFY` on [`sql::CHANNEL`] arrives (the payload is the event's number), on the
//!   replica's listening connection (`storage::PgListener`, shared with the locks);
//! - and at least every `PG_LISTEN_TICK` (1 s), so a lost notification (or a lost listening
//!   connection) delays an event, never loses it.

mod sql;
#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use postgres::{IsolationLevel, NoTls};

use self::sql::Resolved;
use super::log::{Log, NotResolved};
use super::record::{Draft, Record, Resolution};
use crate::storage::{PgBudget, PgListener, PgPool, StoreError};

/// Connections for reads, records and resolutions (the replica's listener has one more).
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
    /// Keeps the replica's listening connection open while this log exists.
    _listener: PgListener,
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
        listener: &PgListener,
    ) -> Result<Arc<Self>, StoreError> {
        let shared = Arc::new(Self {
            config: config.clone(),
            pool: PgPool::new(config.clone(), budget.share(POOL_SIZE)),
            log,
            capacity,
            applied: Mutex::new(0),
            closed: AtomicBool::new(false),
            _listener: listener.clone(),
        });
        shared.sync()?;
        let weak = Arc::downgrade(&shared);
        listener.subscribe(
            sql::CHANNEL,
            Box::new(move |_events| {
                // Whatever was heard (or nothing, at least every tick): read what came since.
                let Some(shared) = weak.upgrade().filter(|s| !s.closed.load(Ordering::SeqCst))
                else {
                    return false;
                };
                if let Err(err) = shared.sync() {
                    tracing::warn!(error = %err, "reading the shared conflict log failed; retrying");
                }
                true
            }),
        );
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
