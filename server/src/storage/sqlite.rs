//! SQLite storage: one connection behind a mutex, one `BEGIN IMMEDIATE` transaction per write.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};

use super::{new_id, random_hex, version_tag, Applied, Decision, Document, Store, StoreError};
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
        let id = loop {
            let id = new_id();
            if read_doc(&tx, &id)?.is_none() {
                break id;
            }
        };
        let (etag, generation) = self.next_tag(&tx)?;
        tx.execute(
            "INSERT INTO ifmatch_items (id, etag, body, created) VALUES (?1, ?2, ?3, ?4)",
            params![id, etag.to_string(), body, generation],
        )?;
        tx.commit()?;
        Ok((id, Document { etag, body }))
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
                let (etag, generation) = self.next_tag(&tx)?;
                // On replace the creation order is kept; on create it is this generation.
                tx.execute(
                    "INSERT INTO ifmatch_items (id, etag, body, created) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(id) DO UPDATE SET etag = excluded.etag, body = excluded.body",
                    params![id, etag.to_string(), body, generation],
                )?;
                Applied::Written {
                    doc: Document { etag, body },
                    created: current.is_none(),
                }
            }
        };
        tx.commit()?;
        Ok(applied)
    }
}
