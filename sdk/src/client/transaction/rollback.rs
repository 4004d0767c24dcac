//! Rolling a transaction back: `DELETE /transactions/{id}`, on request or when the last
//! handle is dropped while it is open.

use std::future::IntoFuture;

use http::Method;

use crate::{
    rt::{spawn, BoxFuture},
    transaction::Phase,
    Error,
};

use super::{
    super::{
        exchange::Exchanged,
        options::{request_options, Options},
        Client,
    },
    Transaction, TxInner,
};

/// Rolls a [`Transaction`] back (`DELETE …/transactions/{id}`): nothing it staged is applied;
/// built by [`Transaction::rollback`]. It repeats the begin's per-request headers. A
/// transaction the server no longer knows (expired) counts as rolled back.
#[must_use = "a rollback does nothing until it is awaited"]
#[derive(Debug)]
pub struct Rollback {
    pub(super) tx: Transaction,
    pub(super) options: Options,
}

request_options!(Rollback);

impl Rollback {
    /// Sends the rollback; later requests in the transaction fail without being sent.
    ///
    /// # Errors
    /// [`Error::Config`] for a transaction already committed; the status, timeout and transport
    /// errors of a single request (the server then rolls it back at its expiry).
    pub async fn send(self) -> Result<(), Error> {
        let Self { tx, options } = self;
        if let Phase::Committed(_) = tx.inner.life.phase() {
            return Err(Error::Config {
                field: "transaction",
                reason: format!(
                    "transaction {} was committed; a rollback cannot undo it",
                    tx.inner.id
                ),
            });
        }
        tx.inner.life.close(Phase::RolledBack);
        options.check()?;
        let client = tx.inner.client.clone();
        client.roll_back(&tx.inner.url, &options).await
    }
}

impl IntoFuture for Rollback {
    type Output = Result<(), Error>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

impl Drop for TxInner {
    fn drop(&mut self) {
        if !self.life.close(Phase::RolledBack) {
            return;
        }
        let (client, url) = (self.client.clone(), self.url.clone());
        let options = Options::with_headers(std::mem::take(&mut self.headers));
        // Best effort: a transaction not rolled back here ends at its expiry anyway.
        let spawned = spawn(Box::pin(async move {
            if let Err(e) = client.roll_back(&url, &options).await {
                tracing::debug!(%url, error = %e, "rolling back a dropped transaction failed");
            }
        }));
        if !spawned {
            tracing::debug!(url = %self.url, "dropped transaction left to expire");
        }
    }
}

impl Client {
    /// `DELETE` of a transaction; a transaction the server no longer knows is rolled back too.
    pub(super) async fn roll_back(&self, tx_url: &str, options: &Options) -> Result<(), Error> {
        let url = self.resolve(tx_url, &options.query)?;
        let mut op = self.op(options);
        let request = self.outgoing(&op, Method::DELETE, &url);
        let work = async {
            let Exchanged {
                response, attempts, ..
            } = self.exchange(&mut op, request).await?;
            if response.status.is_success() {
                return Ok(());
            }
            match self.error_for(&Method::DELETE, &url, &response, attempts, None) {
                Error::TransactionLost { .. } => Ok(()),
                err => Err(err),
            }
        };
        self.bounded(format!("DELETE {url}"), &url, false, work)
            .await
    }
}
