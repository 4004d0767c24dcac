//! Interactive transactions kept in PostgreSQL, so that a transaction begun through one
//! replica can be used, committed, rolled back and shown through any other.
//!
//! - **State**: `ifmatch_txns`, one row per transaction: its client, TTL and expiry (by the
//!   database's clock), and either its staged state (while open) or how it ended (until
//!   `forget_at`, [`REMEMBER_FOR`](super::REMEMBER_FOR) after it ended at least).
//! - **One request at a time**: a request of a transaction takes the transaction's advisory
//!   lock on a connection of its own and holds it until it is done (a thread of the blocking
//!   pool keeps the connection; see [`Held`]). It loads the row, the route works on the state
//!   as on one process, and the request saves the state back and lets go. A second request of
//!   the same transaction, on any replica, waits for the lock, then sees the first's work.
//! - **Commit**: the commit's outcome is written in the store's own unit of work, the one that
//!   applies the writes ([`Recorder`]): the writes and "committed" land together or not at
//!   all, so a client that commits again (through any replica) after losing the answer, or
//!   after the replica crashed, hears the same outcome. A refused commit applies nothing; its
//!   outcome is recorded by the request afterwards.
//! - **Limits**: a begin counts the open, unexpired rows (all, and the client's) under one
//!   advisory lock, so `--max-transactions` and the per-client cap hold across replicas. Each
//!   begin also ends a few expired transactions nobody holds and forgets old ended ones.

mod codec;
mod held;
mod sql;

#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::outcome::Outcome;
use super::state::{Summary, Tx};
use super::TxId;
use crate::storage::{random_hex, PgBudget, PgPool, StoreError, Txn};

pub(crate) use held::{ended, Held, SharedFound};

/// Connections per replica for transaction requests (each holds one while it runs).
const POOL: usize = 16;

/// What a begin decided.
#[derive(Debug)]
pub(crate) enum SharedBegin {
    /// The id, and its expiry in Unix milliseconds.
    Begun(TxId, u64),
    /// `max_open` transactions are open.
    Full,
    /// The client has as many open as it may.
    ClientFull,
}

/// The transactions of every replica on one PostgreSQL database.
pub(crate) struct SharedTxns {
    pool: PgPool,
    /// This replica's part of the ids it mints.
    epoch: String,
    seq: AtomicU64,
}

impl std::fmt::Debug for SharedTxns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedTxns").finish_non_exhaustive()
    }
}

impl SharedTxns {
    /// Transactions in the database `config` names, whose schema the store has migrated.
    pub(crate) fn open(config: &postgres::Config, budget: PgBudget) -> Self {
        Self {
            pool: PgPool::new(config.clone(), budget.share(POOL)),
            epoch: random_hex(),
            seq: AtomicU64::new(0),
        }
    }

    /// Opens a transaction for `client` with `ttl` unless `max_open` are open or the client
    /// has `per_client` open. Also returns how many expired transactions it ended.
    pub(crate) async fn begin(
        self: &Arc<Self>,
        client: String,
        ttl: Duration,
        max_open: usize,
        per_client: usize,
        now_ms: u64,
    ) -> Result<(SharedBegin, usize), StoreError> {
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let id = TxId::mint(&this.epoch, this.seq.fetch_add(1, Ordering::Relaxed) + 1);
            let mut conn = this.pool.get()?;
            let mut tx = conn.transaction()?;
            let (decided, swept) =
                sql::begin(&mut tx, &id, &client, ttl, max_open, per_client, now_ms)?;
            tx.commit()?;
            let answer = match decided {
                sql::Decided::Begun(expires_at_ms) => SharedBegin::Begun(id, expires_at_ms),
                sql::Decided::Full => SharedBegin::Full,
                sql::Decided::ClientFull => SharedBegin::ClientFull,
            };
            Ok((answer, swept))
        })
        .await
        .map_err(|err| StoreError::from_task(&err))?
    }

    /// The transaction `id`, held for this request when it is open (see [`Held`]).
    pub(crate) async fn find(
        self: &Arc<Self>,
        id: &TxId,
        now_ms: u64,
    ) -> Result<SharedFound, StoreError> {
        held::find(Arc::clone(self), id.clone(), now_ms).await
    }
}

/// Records a commit's outcome in the commit's own unit of work (see the module docs).
#[derive(Debug)]
pub(crate) struct Recorder {
    id: TxId,
    summary: Summary,
    ended_at_ms: u64,
}

impl Recorder {
    /// The recorder of the held transaction `staged`, ending at `ended_at_ms`.
    pub(crate) fn new(staged: &Tx, ended_at_ms: u64) -> Self {
        Self {
            id: staged.id.clone(),
            summary: staged.summary(),
            ended_at_ms,
        }
    }

    /// Writes "ended with `outcome`" in `txn`, which must be a PostgreSQL unit of work.
    pub(crate) fn record(&self, txn: &mut dyn Txn, outcome: &Outcome) -> Result<(), StoreError> {
        let text = sql::end_text(&self.summary, outcome, self.ended_at_ms);
        let params: [&(dyn postgres::types::ToSql + Sync); 3] =
            [&self.id.as_str(), &text, &sql::remember_ms()];
        match txn.execute_pg(sql::END, &params) {
            Some(Ok(1)) => Ok(()),
            Some(Ok(_)) => Err(StoreError::from_message(&format!(
                "postgres: transaction {} ended while its commit ran",
                self.id
            ))),
            Some(Err(err)) => Err(err),
            None => Err(StoreError::from_message(
                "a shared transaction can only commit in a PostgreSQL store",
            )),
        }
    }
}
