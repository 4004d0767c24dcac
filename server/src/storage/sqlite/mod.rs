//! SQLite storage: one connection behind a mutex, one `BEGIN IMMEDIATE` transaction per write.
//! Each write also records its version in `ifmatch_versions` (see `history.rs`) in the same
//! transaction.
//!
//! Every statement a write runs is prepared once per connection (`prepare_cached`, whose cache
//! holds 16, more than the write path uses): parsing and planning the SQL again on every write
//! was 42% of a write's instructions (docs/performance.md, "Reference server throughput").

mod history;
mod txn;

use std::cell::Cell;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use self::txn::{fresh_id, SqliteTxn};
use super::{
    random_hex, Applied, Cause, Clock, Decision, Document, Finish, HistoryPolicy, Lookup, Store,
    StoreError, Txn, VersionInfo, Written,
};
use crate::etag::EntityTag;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS ifmatch_meta (
    key TEXT PRIMARY KEY,
    value NOT NULL
);
CREATE TABLE IF NOT EXISTS ifmatch_items (
    id TEXT PRIMARY KEY,
    etag TEXT NOT NULL,
    body BLOB NOT NULL,
    created INTEGER NOT NULL,
    at_ms INTEGER NOT NULL DEFAULT 0
);
";

/// How often (in generations) a write also sweeps out the history of deleted documents whose
/// tombstone expired and that nobody asked about since.
const SWEEP_EVERY: u64 = 1024;

/// Documents in a SQLite file. The tag epoch and generation counter live in the file too,
/// so tags stay unique across restarts; so does the history.
pub(crate) struct SqliteStore {
    epoch: String,
    policy: HistoryPolicy,
    clock: Arc<dyn Clock>,
    /// The most documents held at once (0: no cap).
    max_documents: u64,
    conn: Mutex<Connection>,
}

/// What every write of one SQLite transaction shares.
struct Ctx<'a> {
    store: &'a SqliteStore,
    author: Option<&'a str>,
    now_ms: u64,
    /// Documents created minus documents deleted so far; settled against the count in
    /// `ifmatch_meta` just before the commit ([`Ctx::settle_count`]).
    added: Cell<i64>,
}

impl SqliteStore {
    pub(crate) fn open(
        path: &Path,
        policy: HistoryPolicy,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StoreError> {
        let mut conn = Connection::open(path)?;
        // Another process may hold the write lock briefly; wait instead of failing at once.
        conn.busy_timeout(Duration::from_secs(5))?;
        // WAL with NORMAL sync keeps commits durable against process crashes without an
        // fsync per write, which the concurrency tests would otherwise spend most time on.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // The query planner stability guarantee: plans never depend on bound values. Without
        // it, a statement whose plan looked at a parameter is re-prepared after each use (the
        // statement cache clears its bindings, which expires it): 19% of a write's
        // instructions. No plan here depends on values: the stores run no ANALYZE.
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(SCHEMA)?;
        add_at_ms_column(&tx)?;
        tx.execute_batch(history::SCHEMA)?;
        history::backfill(&tx, clock.now_ms())?;
        tx.execute(
            "INSERT OR IGNORE INTO ifmatch_meta (key, value) VALUES ('epoch', ?1), ('generation', 0)",
            params![random_hex()],
        )?;
        // The document count is kept up to date by every write from here on; a file made
        // before it existed is counted once.
        tx.execute(
            "INSERT OR IGNORE INTO ifmatch_meta (key, value)
             SELECT 'documents', count(*) FROM ifmatch_items",
            [],
        )?;
        let epoch: String = tx.query_row(
            "SELECT value FROM ifmatch_meta WHERE key = 'epoch'",
            [],
            |row| row.get(0),
        )?;
        tx.commit()?;
        Ok(Self {
            epoch,
            policy,
            clock,
            max_documents: 0,
            conn: Mutex::new(conn),
        })
    }

    /// Holds at most `max` documents (0: no cap); a write that would take the count past it
    /// fails with [`StoreError::full`] and is rolled back.
    pub(crate) fn with_max_documents(mut self, max: u64) -> Self {
        self.max_documents = max;
        self
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // Transactions roll back on drop, so a panicking holder leaves the file consistent.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn ctx<'a>(&'a self, author: Option<&'a str>) -> Ctx<'a> {
        Ctx {
            store: self,
            author,
            now_ms: self.clock.now_ms(),
            added: Cell::new(0),
        }
    }
}

/// Files made before history existed have no `at_ms` column.
fn add_at_ms_column(conn: &Connection) -> Result<(), StoreError> {
    let present: Option<String> = conn
        .query_row(
            "SELECT name FROM pragma_table_info('ifmatch_items') WHERE name = 'at_ms'",
            [],
            |row| row.get(0),
        )
        .optional()?;
    if present.is_none() {
        conn.execute_batch(
            "ALTER TABLE ifmatch_items ADD COLUMN at_ms INTEGER NOT NULL DEFAULT 0",
        )?;
    }
    Ok(())
}

pub(super) fn to_i64(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| {
        StoreError(
            format!("{n} does not fit in a SQLite integer"),
            Cause::Failure,
        )
    })
}

pub(super) fn as_u64(n: i64) -> Result<u64, StoreError> {
    u64::try_from(n)
        .map_err(|_| StoreError(format!("negative number {n} in database"), Cause::Failure))
}

fn read_doc(tx: &Connection, id: &str) -> Result<Option<Document>, StoreError> {
    let row: Option<(String, Vec<u8>, i64)> = tx
        .prepare_cached("SELECT etag, body, at_ms FROM ifmatch_items WHERE id = ?1")?
        .query_row(params![id], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })
        .optional()?;
    row.map(|(etag, body, at_ms)| to_document(&etag, body, at_ms))
        .transpose()
}

fn to_document(etag: &str, body: Vec<u8>, at_ms: i64) -> Result<Document, StoreError> {
    let etag = EntityTag::parse(etag).ok_or_else(|| {
        StoreError(
            format!("stored entity tag {etag:?} is malformed"),
            Cause::Failure,
        )
    })?;
    Ok(Document {
        etag,
        body,
        at_ms: as_u64(at_ms)?,
    })
}

impl Store for SqliteStore {
    fn list(&self) -> Result<Vec<(String, Document)>, StoreError> {
        let conn = self.lock();
        let mut statement =
            conn.prepare("SELECT id, etag, body, at_ms FROM ifmatch_items ORDER BY created")?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, Vec<u8>>(2)?,
                row.get::<_, i64>(3)?,
            ))
        })?;
        let mut docs = Vec::new();
        for row in rows {
            let (id, etag, body, at_ms) = row?;
            docs.push((id, to_document(&etag, body, at_ms)?));
        }
        Ok(docs)
    }

    fn get(&self, id: &str) -> Result<Option<Document>, StoreError> {
        read_doc(&self.lock(), id)
    }

    fn insert_new_as(
        &self,
        author: Option<&str>,
        body: Vec<u8>,
    ) -> Result<(String, Document), StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let id = fresh_id(&tx)?;
        let ctx = self.ctx(author);
        let (written, _) = ctx.store_doc(&tx, &id, body, true)?;
        ctx.settle_count(&tx)?;
        tx.commit()?;
        Ok((id, written.doc))
    }

    fn apply_as(
        &self,
        id: &str,
        author: Option<&str>,
        decide: &mut dyn FnMut(Option<&Document>) -> Decision,
    ) -> Result<Applied, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let ctx = self.ctx(author);
        let current = read_doc(&tx, id)?;
        let applied = match decide(current.as_ref()) {
            Decision::Abort => return Ok(Applied::Aborted { current }),
            Decision::Delete if current.is_none() => return Ok(Applied::Aborted { current }),
            Decision::Delete => {
                ctx.delete_doc(&tx, id)?;
                Applied::Deleted
            }
            Decision::Write(body) => {
                let (Written { doc, created }, _) =
                    ctx.store_doc(&tx, id, body, current.is_none())?;
                Applied::Written { doc, created }
            }
        };
        ctx.settle_count(&tx)?;
        tx.commit()?;
        Ok(applied)
    }

    fn atomically_as(
        &self,
        author: Option<&str>,
        work: &mut dyn FnMut(&mut dyn Txn) -> Result<Finish, StoreError>,
    ) -> Result<Finish, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut txn = SqliteTxn {
            ctx: self.ctx(author),
            tx: &tx,
            highest_generation: None,
        };
        let mut outcome = work(&mut txn);
        let highest = txn.highest_generation;
        if outcome
            .as_ref()
            .is_ok_and(|finish| *finish == Finish::Commit)
        {
            if let Err(err) = txn.ctx.settle_count(&tx) {
                outcome = Err(err);
            }
        }
        match outcome {
            Ok(Finish::Commit) => {
                tx.commit()?;
                return Ok(Finish::Commit);
            }
            Ok(Finish::Rollback) => tx.rollback()?,
            // The failure is what the caller needs to hear; dropping the transaction rolls
            // it back (SQLite may have done so already).
            Err(_) => drop(tx),
        }
        if let Some(highest) = highest {
            // One statement, so SQLite runs it as its own transaction.
            conn.execute(
                "UPDATE ifmatch_meta SET value = max(value, ?1) WHERE key = 'generation'",
                params![to_i64(highest)?],
            )?;
        }
        outcome
    }

    fn policy(&self) -> HistoryPolicy {
        self.policy
    }

    fn history_versions(&self) -> Result<u64, StoreError> {
        let kept: i64 =
            self.lock()
                .query_row("SELECT count(*) FROM ifmatch_versions", [], |row| {
                    row.get(0)
                })?;
        Ok(u64::try_from(kept).unwrap_or(0))
    }

    fn history(&self, id: &str) -> Result<Option<Vec<VersionInfo>>, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        history::prune(&tx, id, self.policy, self.clock.now_ms())?;
        let infos = history::list(&tx, &self.epoch, id)?;
        tx.commit()?;
        Ok((!infos.is_empty()).then_some(infos))
    }

    fn version(&self, id: &str, version: u64) -> Result<Lookup, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        history::prune(&tx, id, self.policy, self.clock.now_ms())?;
        let lookup = history::read(&tx, &self.epoch, id, version)?;
        tx.commit()?;
        Ok(lookup)
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::StatementStatus;

    use super::*;
    use crate::storage::system_clock;

    /// Every write reads the history through one statement: it must be prepared once and run
    /// as it is (preparing it per write, or re-preparing it after each use, was most of a
    /// write's cost; docs/performance.md, "Reference server throughput").
    #[test]
    fn writes_reuse_the_prepared_history_read() {
        let dir = tempfile::tempdir().unwrap();
        let policy = HistoryPolicy {
            max_versions: 2,
            max_age_ms: 0,
            tombstone_ttl_ms: 1_000,
        };
        let store =
            SqliteStore::open(&dir.path().join("items.db"), policy, system_clock()).unwrap();
        for n in 0..4 {
            store
                .apply("doc", &mut |_| Decision::Write(format!("{n}").into_bytes()))
                .unwrap();
        }
        let conn = store.lock();
        let statement = conn.prepare_cached(history::KEPT).unwrap();
        assert_eq!(statement.get_status(StatementStatus::Run), 4);
        assert_eq!(statement.get_status(StatementStatus::RePrepare), 0);
    }
}
