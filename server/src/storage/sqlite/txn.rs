//! The writes every path shares (the next tag, the row, the history entry, the document
//! count) and [`SqliteTxn`], the [`Txn`] of a unit of work.

use rusqlite::{params, Connection, Transaction};

use super::history::{self, Row};
use super::{as_u64, read_doc, to_i64, Ctx, SWEEP_EVERY};
use crate::storage::{fits, new_id, version_tag, Document, StoreError, Txn, Written};

impl Ctx<'_> {
    /// Adds what this transaction created and deleted to the stored document count, or fails
    /// with [`StoreError::full`] when that would take the count past the cap. Called last
    /// before the commit; the caller rolls back on failure.
    pub(super) fn settle_count(&self, tx: &Connection) -> Result<(), StoreError> {
        let added = self.added.get();
        if added == 0 {
            return Ok(());
        }
        let max = self.store.max_documents;
        let before: i64 = tx
            .prepare_cached("SELECT value FROM ifmatch_meta WHERE key = 'documents'")?
            .query_row([], |row| row.get(0))?;
        let before = as_u64(before)?;
        let after = before.saturating_add_signed(added);
        if !fits(max, before, after) {
            return Err(StoreError::full(max));
        }
        tx.prepare_cached("UPDATE ifmatch_meta SET value = ?1 WHERE key = 'documents'")?
            .execute(params![to_i64(after)?])?;
        Ok(())
    }

    /// Takes the next generation; every so often also sweeps expired tombstones.
    fn next_generation(&self, tx: &Connection) -> Result<u64, StoreError> {
        let generation: i64 = tx
            .prepare_cached(
                "UPDATE ifmatch_meta SET value = value + 1 WHERE key = 'generation' RETURNING value",
            )?
            .query_row([], |row| row.get(0))?;
        let generation = as_u64(generation)?;
        if generation % SWEEP_EVERY == 0 {
            history::sweep(tx, self.store.policy, self.now_ms)?;
        }
        Ok(generation)
    }

    /// Stores `body` under `id` with the tag of the next generation and records it; keeps the
    /// creation order of a replaced document.
    pub(super) fn store_doc(
        &self,
        tx: &Connection,
        id: &str,
        body: Vec<u8>,
        created: bool,
    ) -> Result<(Written, u64), StoreError> {
        let generation = self.next_generation(tx)?;
        let etag = version_tag(&self.store.epoch, generation);
        tx.prepare_cached(
            "INSERT INTO ifmatch_items (id, etag, body, created, at_ms) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(id) DO UPDATE SET etag = excluded.etag, body = excluded.body,
                 at_ms = excluded.at_ms",
        )?
        .execute(params![
            id,
            etag.to_string(),
            body,
            to_i64(generation)?,
            to_i64(self.now_ms)?
        ])?;
        self.record(tx, id, generation, Some(&body))?;
        if created {
            self.added.set(self.added.get() + 1);
        }
        let doc = Document {
            etag,
            body,
            at_ms: self.now_ms,
        };
        Ok((Written { doc, created }, generation))
    }

    /// Removes `id` and records the tombstone; the generation it took, if there was a document.
    pub(super) fn delete_doc(&self, tx: &Connection, id: &str) -> Result<Option<u64>, StoreError> {
        let removed = tx
            .prepare_cached("DELETE FROM ifmatch_items WHERE id = ?1")?
            .execute(params![id])?;
        if removed == 0 {
            return Ok(None);
        }
        let generation = self.next_generation(tx)?;
        self.record(tx, id, generation, None)?;
        self.added.set(self.added.get() - 1);
        Ok(Some(generation))
    }

    fn record(
        &self,
        tx: &Connection,
        id: &str,
        version: u64,
        body: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        let row = Row {
            id,
            version,
            at_ms: self.now_ms,
            author: self.author,
            body,
        };
        history::record(tx, &row, self.store.policy)
    }
}

pub(super) fn fresh_id(tx: &Connection) -> Result<String, StoreError> {
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
pub(super) struct SqliteTxn<'a, 'conn> {
    pub(super) ctx: Ctx<'a>,
    pub(super) tx: &'a Transaction<'conn>,
    pub(super) highest_generation: Option<u64>,
}

impl SqliteTxn<'_, '_> {
    fn stored(&mut self, id: &str, body: Vec<u8>, created: bool) -> Result<Written, StoreError> {
        let (written, generation) = self.ctx.store_doc(self.tx, id, body, created)?;
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
        let generation = self.ctx.delete_doc(self.tx, id)?;
        if generation.is_some() {
            self.highest_generation = generation;
        }
        Ok(generation.is_some())
    }

    fn insert_new(&mut self, body: Vec<u8>) -> Result<(String, Document), StoreError> {
        let id = fresh_id(self.tx)?;
        let written = self.stored(&id, body, true)?;
        Ok((id, written.doc))
    }
}
