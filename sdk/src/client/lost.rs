//! Resending a request whose answer was lost (the connection failed after the request may have
//! been sent): a read (GET, HEAD, OPTIONS), which changes nothing however often it is sent, or a
//! keyed write to a server declared to honour `Idempotency-Key`: the resend carries the same
//! key, so the server answers with the first attempt's outcome instead of applying the write
//! again. Either way the caller learns what really happened instead of a transport error.

use crate::{
    retry::is_resend_safe_after_loss, stats::Counters, transport::is_read, Error, TimeoutScope,
};

use super::{exchange::OpState, Client};
use crate::transport::{Outgoing, Transport};

/// The request field that makes a resend safe.
pub(crate) const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// The answer field a server that honours keys sets on a replayed answer.
pub(crate) const REPLAYED: &str = "idempotent-replayed";

/// Whether `request` is a write whose key the server is declared to honour.
pub(crate) fn keyed_write(client: &Client, request: &Outgoing) -> bool {
    client.inner.keys_honoured
        && !is_read(&request.method)
        && request.headers.contains_key(IDEMPOTENCY_KEY)
}

/// Whether an attempt's failure may have lost the answer of a request the server processed
/// (rather than saying the server refused it), so that a resend may get it: the connection
/// failed (as the transport judges it), or the attempt timed out.
fn answer_lost(err: &Error, transport: &dyn Transport) -> bool {
    match err {
        Error::Transport { source, .. } => transport.is_transient(source),
        Error::Timeout { scope, .. } => *scope == TimeoutScope::Attempt,
        _ => false,
    }
}

impl Client {
    /// After attempt `attempt` of `request` failed with `err`: waits (the throttle backoff,
    /// within `max_attempts`, the deadline and the host's retry budget) and returns `Ok` when
    /// the request may be resent (a read, or a keyed write with its key); otherwise returns
    /// `err`, the same error as without resends.
    pub(super) async fn before_resending_lost(
        &self,
        op: &mut OpState,
        request: &Outgoing,
        host: &str,
        attempt: u32,
        err: Error,
    ) -> Result<(), Error> {
        let inner = &*self.inner;
        let config = &inner.retry;
        if !answer_lost(&err, &*inner.transport)
            || !is_resend_safe_after_loss(
                &request.method,
                &request.headers,
                self.inner.keys_honoured,
            )
            || attempt >= config.max_attempts()
        {
            return Err(err);
        }
        let delay = op.next_backoff().max(config.min_delay());
        if config
            .total_deadline()
            .is_some_and(|deadline| op.elapsed(inner).saturating_add(delay) > deadline)
        {
            return Err(err);
        }
        if !inner.budget.try_withdraw(host) {
            Counters::bump(&inner.counters.budget_exhausted);
            return Err(err);
        }
        Counters::bump(&inner.counters.lost_answer_resends);
        tracing::debug!(
            method = %request.method,
            url = %request.url,
            error = %err,
            ?delay,
            "the answer was lost; resending the request (a read, or a write with its Idempotency-Key)"
        );
        inner.sleeper.sleep(delay).await;
        Ok(())
    }
}
