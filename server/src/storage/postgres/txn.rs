//! The writes every path shares (one document's advisory lock, the next tag, the row, the
//! history entry) and [`PgTxn`], the [`Txn`] of a unit of work.

use std::cell::Cell;
use std::collections::HashSet;

use postgres::Transaction;

use super::history::{self, Row};
use super::{as_u64, to_i64, PostgresStore, SWEEP_EVERY};
use crate::etag::EntityTag;
use crate::storage::{fits, new_id, version_tag, Document, StoreError, Txn, Written};

/// What every write of one transaction shares.
pub(super) struct Ctx<'a> {
    pub(super) store: &'a PostgresStore,
    pub(super) author: Option<&'a str>,
    pub(super) now_ms: u64,
    /// Set when a write took a generation at which the store sweeps expired tombstones.
    pub(super) sweep_due: Cell<bool>,
    /// Documents created minus documents deleted so far; settled against the count in
    /// `ifmatch_meta` just before the commit ([`Ctx::settle_count`]).
    pub(super) added: Cell<i64>,
}

/// Takes the transaction-scoped advisory lock of `id`: every write of `id`, and every prune of
/// its history, holds it, on every replica, until its transaction ends. It also covers an `id`
/// that does not exist yet, so two replicas creating the same document take turns, and the
/// second sees the first's document.
pub(crate) fn lock_id(tx: &mut Transaction<'_>, id: &str) -> Result<(), StoreError> {
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        &[&id],
    )?;
    Ok(())
}

/// The current version of `id` as `tx` sees it.
pub(super) fn read_doc(tx: &mut Transaction<'_>, id: &str) -> Result<Option<Document>, StoreError> {
    tx.query_opt(
        "SELECT etag, body, at_ms FROM ifmatch_items WHERE id = $1",
        &[&id],
    )?
    .map(|row| to_document(row.get(0), row.get(1), row.get(2)))
    .transpose()
}

pub(super) fn to_document(etag: &str, body: Vec<u8>, at_ms: i64) -> Result<Document, StoreError> {
    let etag = EntityTag::parse(etag).ok_or_else(|| {
        StoreError::from_message(&format!("stored entity tag {etag:?} is malformed"))
    })?;
    Ok(Document {
        etag,
        body,
        at_ms: as_u64(at_ms)?,
    })
}

impl Ctx<'_> {
    /// Adds what this transaction created and deleted to the stored document count, or fails
    /// with [`StoreError::full`] when that would take the count past the cap. Called last
    /// before the commit: the count's row lock is the last lock the transaction takes, so
    /// waiting for it cannot close a cycle with the documents' locks, and it serializes only
    /// creates and deletes, across replicas. The caller rolls back on failure.
    pub(super) fn settle_count(&self, tx: &mut Transaction<'_>) -> Result<(), StoreError> {
        let added = self.added.get();
        if added == 0 {
            return Ok(());
        }
        let max = self.store.max_documents;
        let before: i64 = tx
            .query_one(
                "SELECT value::bigint FROM ifmatch_meta WHERE key = 'documents' FOR UPDATE",
                &[],
            )?
            .get(0);
        let before = as_u64(before)?;
        let after = before.saturating_add_signed(added);
        if !fits(max, before, after) {
            return Err(StoreError::full(max));
        }
        tx.execute(
            "UPDATE ifmatch_meta SET value = $1::bigint::text WHERE key = 'documents'",
            &[&to_i64(after)?],
        )?;
        Ok(())
    }

    /// Takes the next generation from the database's sequence. A sequence never hands a value
    /// out twice, not even when the transaction that took it rolls back, so no tag is reused
    /// across replicas, restarts or undone work.
    fn next_generation(&self, tx: &mut Transaction<'_>) -> Result<u64, StoreError> {
        let generation = as_u64(
            tx.query_one("SELECT nextval('ifmatch_generation')", &[])?
                .get(0),
        )?;
        if generation % SWEEP_EVERY == 0 {
            self.sweep_due.set(true);
        }
        Ok(generation)
    }

    /// Stores `body` under `id` (whose lock the caller holds) with the tag of the next
    /// generation and records it; keeps the creation order of a replaced document.
    pub(super) fn store_doc(
        &self,
        tx: &mut Transaction<'_>,
        id: &str,
        body: Vec<u8>,
        created: bool,
    ) -> Result<Written, StoreError> {
        let generation = self.next_generation(tx)?;
        let etag = version_tag(&self.store.epoch, generation);
        tx.execute(
            "INSERT INTO ifmatch_items (id, etag, body, created, at_ms) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (id) DO UPDATE SET etag = excluded.etag, body = excluded.body,
                 at_ms = excluded.at_ms",
            &[
                &id,
                &etag.to_string(),
                &body,
                &to_i64(generation)?,
                &to_i64(self.now_ms)?,
            ],
        )?;
        self.record(tx, id, generation, Some(&body))?;
        if created {
            self.added.set(self.added.get() + 1);
        }
        let doc = Document {
            etag,
            body,
            at_ms: self.now_ms,
        };
        Ok(Written { doc, created })
    }

    /// Removes `id` (whose lock the caller holds) and records the tombstone; whether there was
    /// a document.
    pub(super) fn delete_doc(
        &self,
        tx: &mut Transaction<'_>,
        id: &str,
    ) -> Result<bool, StoreError> {
        if tx.execute("DELETE FROM ifmatch_items WHERE id = $1", &[&id])? == 0 {
            return Ok(false);
        }
        let generation = self.next_generation(tx)?;
        self.record(tx, id, generation, None)?;
        self.added.set(self.added.get() - 1);
        Ok(true)
    }

    /// A fresh id, locked and free.
    pub(super) fn fresh_id(&self, tx: &mut Transaction<'_>) -> Result<String, StoreError> {
        loop {
            let id = new_id();
            lock_id(tx, &id)?;
            if read_doc(tx, &id)?.is_none() {
                return Ok(id);
            }
        }
    }

    fn record(
        &self,
        tx: &mut Transaction<'_>,
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

/// One unit of work inside one transaction that holds the store-wide unit-of-work lock. Each
/// document it touches is locked on first touch and stays locked until the transaction ends.
pub(super) struct PgTxn<'a, 'conn> {
    pub(super) ctx: &'a Ctx<'a>,
    pub(super) tx: &'a mut Transaction<'conn>,
    pub(super) locked: HashSet<String>,
}

impl PgTxn<'_, '_> {
    fn lock(&mut self, id: &str) -> Result<(), StoreError> {
        if !self.locked.contains(id) {
            lock_id(self.tx, id)?;
            self.locked.insert(id.to_owned());
        }
        Ok(())
    }
}

impl Txn for PgTxn<'_, '_> {
    fn get(&mut self, id: &str) -> Result<Option<Document>, StoreError> {
        self.lock(id)?;
        read_doc(self.tx, id)
    }

    fn write(&mut self, id: &str, body: Vec<u8>) -> Result<Written, StoreError> {
        self.lock(id)?;
        let created = read_doc(self.tx, id)?.is_none();
        self.ctx.store_doc(self.tx, id, body, created)
    }

    fn delete(&mut self, id: &str) -> Result<bool, StoreError> {
        self.lock(id)?;
        self.ctx.delete_doc(self.tx, id)
    }

    fn insert_new(&mut self, body: Vec<u8>) -> Result<(String, Document), StoreError> {
        let id = self.ctx.fresh_id(self.tx)?;
        self.locked.insert(id.clone());
        let written = self.ctx.store_doc(self.tx, &id, body, true)?;
        Ok((id, written.doc))
    }

    fn execute_pg(
        &mut self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Option<Result<u64, StoreError>> {
        Some(self.tx.execute(sql, params).map_err(StoreError::from))
    }
}
