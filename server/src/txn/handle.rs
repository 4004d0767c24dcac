//! What the routes call: the same operations whether the transactions live in this process
//! (memory and SQLite storage) or in the database (PostgreSQL storage, see `shared`).

use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::OwnedMutexGuard;

use super::shared::{Held, Recorder, SharedBegin, SharedFound};
use super::{Ended, Found, Outcome, Tx, TxId, TxnManager};
use crate::lock::now;
use crate::storage::StoreError;

/// What a begin decided.
#[derive(Debug)]
pub(crate) enum Begun {
    /// The id, the TTL granted and the expiry in Unix milliseconds.
    Open(TxId, Duration, u64),
    /// `max_open` transactions are open.
    Full,
    /// The client has `max_per_client` open.
    ClientFull,
}

/// An open transaction, held for one request: requests of one transaction take turns.
#[derive(Debug)]
pub(crate) enum TxGuard {
    Local(OwnedMutexGuard<Tx>),
    Shared(Held),
}

impl Deref for TxGuard {
    type Target = Tx;

    fn deref(&self) -> &Tx {
        match self {
            Self::Local(tx) => tx,
            Self::Shared(held) => &held.tx,
        }
    }
}

impl DerefMut for TxGuard {
    fn deref_mut(&mut self) -> &mut Tx {
        match self {
            Self::Local(tx) => tx,
            Self::Shared(held) => &mut held.tx,
        }
    }
}

/// What an id names, for a request.
#[derive(Debug)]
pub(crate) enum Opened {
    Open(TxGuard),
    Ended(Arc<Ended>),
    Unknown,
}

impl TxnManager {
    /// Opens a transaction with `ttl` for `client`.
    pub(crate) async fn begin(&self, ttl: Duration, client: &str) -> Result<Begun, StoreError> {
        let Some(shared) = &self.shared else {
            return Ok(self.begin_local(ttl, client, now()));
        };
        let limits = self.limits;
        let (begun, swept) = shared
            .begin(
                client.to_owned(),
                ttl,
                limits.max_open,
                limits.max_per_client,
                now().unix_ms,
            )
            .await?;
        let observer = self.observer();
        for _ in 0..swept {
            observer.ended(&Outcome::Expired);
        }
        Ok(match begun {
            SharedBegin::Begun(id, expires_at_ms) => Begun::Open(id, ttl, expires_at_ms),
            SharedBegin::Full => Begun::Full,
            SharedBegin::ClientFull => Begun::ClientFull,
        })
    }

    /// The transaction `id`, held for this request when it is open (ended first when it has
    /// expired). A held transaction must be given back with [`TxnManager::done`] or ended
    /// with [`TxnManager::finish`].
    pub(crate) async fn open(&self, id: &TxId) -> Result<Opened, StoreError> {
        let Some(shared) = &self.shared else {
            return Ok(match self.find(id, Instant::now()) {
                Found::Open(slot) => {
                    let mut tx = slot.lock_owned().await;
                    match self.settle(&mut tx, now()) {
                        Some(ended) => Opened::Ended(ended),
                        None => Opened::Open(TxGuard::Local(tx)),
                    }
                }
                Found::Ended(ended) => Opened::Ended(ended),
                Found::Unknown => Opened::Unknown,
            });
        };
        Ok(match shared.find(id, now().unix_ms).await? {
            SharedFound::Open(held) => Opened::Open(TxGuard::Shared(held)),
            SharedFound::Ended(ended, expired_now) => {
                if expired_now {
                    self.observer().ended(&ended.outcome);
                }
                Opened::Ended(Arc::new(ended))
            }
            SharedFound::Unknown => Opened::Unknown,
        })
    }

    /// Gives a held transaction back, keeping what the request did to it.
    pub(crate) async fn done(&self, guard: TxGuard) -> Result<(), StoreError> {
        match guard {
            TxGuard::Local(_) => Ok(()),
            TxGuard::Shared(held) => held.save().await,
        }
    }

    /// Ends a held transaction with `outcome`.
    pub(crate) async fn finish(
        &self,
        guard: TxGuard,
        outcome: Outcome,
    ) -> Result<Arc<Ended>, StoreError> {
        match guard {
            TxGuard::Local(mut tx) => Ok(self.end(&mut tx, outcome, now())),
            TxGuard::Shared(held) => {
                let ended = Arc::new(held.end(outcome, now().unix_ms).await?);
                self.observer().ended(&ended.outcome);
                Ok(ended)
            }
        }
    }

    /// What a commit of the held transaction writes with its own writes, so that "committed"
    /// and the writes land together; `None` for a transaction of this process.
    pub(crate) fn recorder(guard: &TxGuard) -> Option<Recorder> {
        match guard {
            TxGuard::Local(_) => None,
            TxGuard::Shared(held) => Some(Recorder::new(&held.tx, now().unix_ms)),
        }
    }

    /// Ends a held transaction whose commit recorded `outcome` in the store already.
    pub(crate) fn recorded(&self, guard: TxGuard, outcome: Outcome) -> Arc<Ended> {
        match guard {
            TxGuard::Local(mut tx) => self.end(&mut tx, outcome, now()),
            TxGuard::Shared(held) => {
                let ended = Arc::new(super::shared::ended(&held.tx, outcome, now().unix_ms));
                held.release();
                self.observer().ended(&ended.outcome);
                ended
            }
        }
    }
}
