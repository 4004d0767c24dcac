//! SQLite storage: one connection behind a mutex, one `BEGIN IMMEDIATE` transaction per write.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};

use super::{
    new_id, random_hex, version_tag, Applied, Decision, Document, Finish, Store, StoreError, Txn,
    Written,
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
    created INTEGER NOT NULL
);
";

/// Documents in a SQLite file. The tag epoch and generation counter live in the file too,
/// so tags stay unique across restarts.
pub(crate) struct SqliteStore {
    epoch: String,
    conn: Mutex<Connection>,
}

impl SqliteStore {
    pub(crate) fn open(path: &Path) -> Result<Self, StoreError> {
        let mut conn = Connection::open(path)?;
        // Another process may hold the write lock briefly; wait instead of failing at once.
        conn.busy_timeout(Duration::from_secs(5))?;
        // WAL with NORMAL sync keeps commits durable against process crashes without an
        // fsync per write, which the concurrency tests would otherwise spend most time on.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(SCHEMA)?;
        tx.execute(
            "INSERT OR IGNORE INTO ifmatch_meta (key, value) VALUES ('epoch', ?1), ('generation', 0)",
            params![random_hex()],
        )?;
        let epoch: String = tx.query_row(
            "SELECT value FROM ifmatch_meta WHERE key = 'epoch'",
            [],
            |row| row.get(0),
        )?;
        tx.commit()?;
        Ok(Self {
            epoch,
            conn: Mutex::new(conn),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // Transactions roll back on drop, so a panicking holder leaves the file consistent.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn next_tag(&self, tx: &Transaction<'_>) -> Result<(EntityTag, i64), StoreError> {
        let generation: i64 = tx.query_row(
            "UPDATE ifmatch_meta SET value = value + 1 WHERE key = 'generation' RETURNING value",
            [],
            |row| row.get(0),
        )?;
        let unsigned = u64::try_from(generation)
            .map_err(|_| StoreError(format!("negative generation {generation} in database")))?;
        Ok((version_tag(&self.epoch, unsigned), generation))
    }
}

/// Stores `body` under `id` with the tag of the next generation; keeps the creation order of a
/// replaced document.
fn store_doc(
    store: &SqliteStore,
    tx: &Transaction<'_>,
    id: &str,
    body: Vec<u8>,
    created: bool,
) -> Result<(Written, i64), StoreError> {
    let (etag, generation) = store.next_tag(tx)?;
    tx.execute(
        "INSERT INTO ifmatch_items (id, etag, body, created) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(id) DO UPDATE SET etag = excluded.etag, body = excluded.body",
        params![id, etag.to_string(), body, generation],
    )?;
    let doc = Document { etag, body };
    Ok((Written { doc, created }, generation))
}

fn fresh_id(tx: &Transaction<'_>) -> Result<String, StoreError> {
    loop {
        let id = new_id();
        if read_doc(tx, &id)?.is_none() {
            return Ok(id);
        }
    }
}

/// One unit of work inside one `BEGIN IMMEDIATE` transaction. It remembers the highest
/// generation it used: a rollback undoes the counter too, so the store moves the counter past
/// it afterwards, and tags of undone writes are never handed out again.
struct SqliteTxn<'a, 'conn> {
    store: &'a SqliteStore,
    tx: &'a Transaction<'conn>,
    highest_generation: Option<i64>,
}

impl SqliteTxn<'_, '_> {
    fn stored(&mut self, id: &str, body: Vec<u8>, created: bool) -> Result<Written, StoreError> {
        let (written, generation) = store_doc(self.store, self.tx, id, body, created)?;
        self.highest_generation = Some(generation);
        Ok(written)
    }
}

impl Txn for SqliteTxn<'_, '_> {
    fn get(&mut self, id: &str) -> Result<Option<Document>, StoreError> {
        read_doc(self.tx, id)
    }

    fn write(&mut self, id: &str, body: Vec<u8>) -> Result<Written, StoreError> {
        let created = read_doc(self.tx, id)?.is_none();
        self.stored(id, body, created)
    }

    fn delete(&mut self, id: &str) -> Result<bool, StoreError> {
        let removed = self
            .tx
            .execute("DELETE FROM ifmatch_items WHERE id = ?1", params![id])?;
        Ok(removed > 0)
    }

    fn insert_new(&mut self, body: Vec<u8>) -> Result<(String, Document), StoreError> {
        let id = fresh_id(self.tx)?;
        let written = self.stored(&id, body, true)?;
        Ok((id, written.doc))
    }
}

fn read_doc(tx: &Connection, id: &str) -> Result<Option<Document>, StoreError> {
    let row: Option<(String, Vec<u8>)> = tx
        .query_row(
            "SELECT etag, body FROM ifmatch_items WHERE id = ?1",
            params![id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    row.map(|(etag, body)| to_document(&etag, body)).transpose()
}

fn to_document(etag: &str, body: Vec<u8>) -> Result<Document, StoreError> {
    let etag = EntityTag::parse(etag)
        .ok_or_else(|| StoreError(format!("stored entity tag {etag:?} is malformed")))?;
    Ok(Document { etag, body })
}

impl Store for SqliteStore {
    fn list(&self) -> Result<Vec<(String, Document)>, StoreError> {
        let conn = self.lock();
        let mut statement =
            conn.prepare("SELECT id, etag, body FROM ifmatch_items ORDER BY created")?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, Vec<u8>>(2)?,
            ))
        })?;
        let mut docs = Vec::new();
        for row in rows {
            let (id, etag, body) = row?;
            docs.push((id, to_document(&etag, body)?));
        }
        Ok(docs)
    }

    fn get(&self, id: &str) -> Result<Option<Document>, StoreError> {
        read_doc(&self.lock(), id)
    }

    fn insert_new(&self, body: Vec<u8>) -> Result<(String, Document), StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let id = fresh_id(&tx)?;
        let (written, _) = store_doc(self, &tx, &id, body, true)?;
        tx.commit()?;
        Ok((id, written.doc))
    }

    fn apply(
        &self,
        id: &str,
        decide: &mut dyn FnMut(Option<&Document>) -> Decision,
    ) -> Result<Applied, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current = read_doc(&tx, id)?;
        let applied = match decide(current.as_ref()) {
            Decision::Abort => return Ok(Applied::Aborted { current }),
            Decision::Delete if current.is_none() => return Ok(Applied::Aborted { current }),
            Decision::Delete => {
                tx.execute("DELETE FROM ifmatch_items WHERE id = ?1", params![id])?;
                Applied::Deleted
            }
            Decision::Write(body) => {
                let (Written { doc, created }, _) =
                    store_doc(self, &tx, id, body, current.is_none())?;
                Applied::Written { doc, created }
            }
        };
        tx.commit()?;
        Ok(applied)
    }

    fn atomically(
        &self,
        work: &mut dyn FnMut(&mut dyn Txn) -> Result<Finish, StoreError>,
    ) -> Result<Finish, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut txn = SqliteTxn {
            store: self,
            tx: &tx,
            highest_generation: None,
        };
        let outcome = work(&mut txn);
        let highest = txn.highest_generation;
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
                params![highest],
            )?;
        }
        outcome
    }
}
