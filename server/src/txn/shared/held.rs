//! A shared transaction held by one request. The request's thread on the blocking pool takes
//! the transaction's advisory lock in a database transaction of its own, loads the row, hands
//! the state over, and waits (keeping the lock) for one word: save the state, end the
//! transaction, or let go. A request that is dropped half-way (the client went away) lets go
//! without saving: its database transaction rolls back and the row stays as it was.

use std::sync::{mpsc, Arc};
use std::time::Instant;

use postgres::Transaction;
use tokio::sync::oneshot;

use super::super::outcome::Ended;
use super::super::state::Tx;
use super::super::{Outcome, TxId, REMEMBER_FOR};
use super::sql::{self, Row};
use super::SharedTxns;
use crate::storage::StoreError;

/// What a request found under a transaction id.
#[derive(Debug)]
pub(crate) enum SharedFound {
    /// Open, and held for this request until it saves, ends or lets go.
    Open(Held),
    /// Over; `true` when this request found it expired and ended it.
    Ended(Ended, bool),
    Unknown,
}

enum Word {
    Save(Tx, oneshot::Sender<Result<(), StoreError>>),
    /// The id and how it ended, as `sql::end_text` writes it.
    End(TxId, String, oneshot::Sender<Result<(), StoreError>>),
}

/// An open transaction held by this request: no other request of it runs on any replica until
/// this one saves, ends or drops it.
#[derive(Debug)]
pub(crate) struct Held {
    pub(crate) tx: Tx,
    words: mpsc::Sender<Word>,
}

fn gone() -> StoreError {
    StoreError::from_message("postgres: the thread holding a transaction ended")
}

/// How `staged` ended with `outcome` at `now_ms`, as the answers show it.
pub(crate) fn ended(staged: &Tx, outcome: Outcome, now_ms: u64) -> Ended {
    Ended {
        outcome,
        ttl: staged.ttl,
        expires_at_ms: staged.expires_at_ms,
        ended_at_ms: now_ms,
        forget_at: Instant::now() + REMEMBER_FOR,
        summary: staged.summary(),
    }
}

impl Held {
    /// Keeps what this request did to the transaction and lets the next request in.
    pub(crate) async fn save(self) -> Result<(), StoreError> {
        let (done, answer) = oneshot::channel();
        self.words
            .send(Word::Save(self.tx, done))
            .map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }

    /// Ends the transaction with `outcome` at `now_ms`.
    pub(crate) async fn end(self, outcome: Outcome, now_ms: u64) -> Result<Ended, StoreError> {
        let (done, answer) = oneshot::channel();
        let text = sql::end_text(&self.tx.summary(), &outcome, now_ms);
        let record = ended(&self.tx, outcome, now_ms);
        self.words
            .send(Word::End(self.tx.id.clone(), text, done))
            .map_err(|_| gone())?;
        answer.await.map_err(|_| gone())??;
        Ok(record)
    }

    /// Lets go without changing the row (its commit recorded the outcome already).
    pub(crate) fn release(self) {
        drop(self);
    }
}

/// Holds `id` for a request, on a thread of the blocking pool.
pub(super) async fn find(
    this: Arc<SharedTxns>,
    id: TxId,
    now_ms: u64,
) -> Result<SharedFound, StoreError> {
    let (reply, answer) = oneshot::channel();
    tokio::task::spawn_blocking(move || serve(&this, &id, now_ms, reply));
    answer.await.map_err(|_| gone())?
}

fn serve(
    this: &SharedTxns,
    id: &TxId,
    now_ms: u64,
    reply: oneshot::Sender<Result<SharedFound, StoreError>>,
) {
    let mut conn = match this.pool.get() {
        Ok(conn) => conn,
        Err(err) => {
            let _ = reply.send(Err(err));
            return;
        }
    };
    let mut tx = match conn.transaction() {
        Ok(tx) => tx,
        Err(err) => {
            let _ = reply.send(Err(err.into()));
            return;
        }
    };
    let loaded = sql::lock(&mut tx, id).and_then(|()| sql::load(&mut tx, id));
    let found = match loaded {
        Err(err) => Err(err),
        Ok(Row::Unknown) => tx
            .commit()
            .map(|()| SharedFound::Unknown)
            .map_err(StoreError::from),
        Ok(Row::Ended(ended)) => Ok(SharedFound::Ended(ended, false)),
        Ok(Row::Expired(staged)) => sql::end(&mut tx, id, &expired_text(&staged, now_ms))
            .and_then(|()| tx.commit().map_err(StoreError::from))
            .map(|()| SharedFound::Ended(ended(&staged, Outcome::Expired, now_ms), true)),
        Ok(Row::Open(staged)) => {
            let (words, inbox) = mpsc::channel();
            let held = Held { tx: staged, words };
            if reply.send(Ok(SharedFound::Open(held))).is_ok() {
                // Blocks this thread, keeping the lock, until the request says what to do.
                if let Ok(word) = inbox.recv() {
                    obey(tx, word);
                }
            }
            return;
        }
    };
    let _ = reply.send(found);
}

fn expired_text(staged: &Tx, now_ms: u64) -> String {
    sql::end_text(&staged.summary(), &Outcome::Expired, now_ms)
}

fn obey(mut tx: Transaction<'_>, word: Word) {
    match word {
        Word::Save(staged, done) => {
            let saved = sql::save(&mut tx, &staged).and_then(|()| Ok(tx.commit()?));
            let _ = done.send(saved);
        }
        Word::End(id, text, done) => {
            let saved = sql::end(&mut tx, &id, &text).and_then(|()| Ok(tx.commit()?));
            let _ = done.send(saved);
        }
    }
}
