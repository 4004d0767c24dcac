//! The SQL of locks kept in PostgreSQL. Every function here runs in a transaction whose
//! replica holds the document's advisory lock (the transaction itself, or the write's own
//! transaction on the same replica), so the rows of one document change only under the lock
//! every write of that document takes. Times come from `clock_timestamp()`: the database's
//! clock, the one every replica shares.

use std::time::{Duration, Instant};

use postgres::Transaction;

use super::super::lease::{millis, Grant, Lease, LockRequest, Snapshot};
use super::super::table::Refusal;
use super::super::token::LockToken;
use crate::storage::StoreError;

/// The channel replicas are told on when a document's lock or queue moved (payload: its id).
pub(super) const CHANNEL: &str = "ifmatch_locks";

/// The lock on one document as its row says, with the queue ticket it was handed to.
struct Holder {
    grant: Grant,
    ticket: Option<i64>,
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn to_i64(d: Duration) -> i64 {
    i64::try_from(millis(d)).unwrap_or(i64::MAX)
}

/// The lease columns, in the order [`lease`] reads them.
const LEASE: &str = "owner, fencing, ttl_ms, (extract(epoch FROM expires_at) * 1000)::bigint,
     greatest(0, extract(epoch FROM expires_at - clock_timestamp()) * 1000)::bigint";

fn lease(row: &postgres::Row, first: usize) -> Lease {
    let remaining = Duration::from_millis(to_u64(row.get(first + 4)));
    Lease {
        owner: row.get(first),
        fencing: to_u64(row.get(first + 1)),
        ttl: Duration::from_millis(to_u64(row.get(first + 2))),
        expires_at_ms: to_u64(row.get(first + 3)),
        expires_at: Instant::now() + remaining,
    }
}

fn holder(tx: &mut Transaction<'_>, id: &str) -> Result<Option<Holder>, StoreError> {
    let sql = format!("SELECT token, ticket, {LEASE} FROM ifmatch_locks WHERE id = $1");
    Ok(tx.query_opt(&sql, &[&id])?.map(|row| Holder {
        grant: Grant {
            token: LockToken::from_stored(row.get(0)),
            lease: lease(&row, 2),
        },
        ticket: row.get(1),
    }))
}

fn waiters(tx: &mut Transaction<'_>, id: &str) -> Result<usize, StoreError> {
    let count: i64 = tx
        .query_one(
            "SELECT count(*) FROM ifmatch_lock_waiters WHERE id = $1",
            &[&id],
        )?
        .get(0);
    Ok(usize::try_from(count).unwrap_or(usize::MAX))
}

/// The current lock on `id` and its queue length (as last settled).
pub(super) fn snapshot(tx: &mut Transaction<'_>, id: &str) -> Result<Option<Snapshot>, StoreError> {
    let Some(holder) = holder(tx, id)? else {
        return Ok(None);
    };
    Ok(Some(Snapshot {
        lease: holder.grant.lease,
        waiters: waiters(tx, id)?,
    }))
}

/// Tells every replica that the lock or the queue of `id` moved (delivered at commit).
fn notify(tx: &mut Transaction<'_>, id: &str) -> Result<(), StoreError> {
    tx.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &id])?;
    Ok(())
}

/// Brings `id` up to the database's now: forgets waiters past their deadline (or lease), drops
/// an expired holder or an unclaimed handoff, and hands a free lock to the oldest waiter.
pub(super) fn settle(tx: &mut Transaction<'_>, epoch: &str, id: &str) -> Result<(), StoreError> {
    tx.execute(
        "DELETE FROM ifmatch_lock_waiters WHERE id = $1 AND deadline <= clock_timestamp()",
        &[&id],
    )?;
    // A lock handed to a queued request that has not claimed it within a lease (its replica
    // died) ends as if expired.
    let expired = tx.execute(
        "DELETE FROM ifmatch_locks WHERE id = $1 AND (expires_at <= clock_timestamp()
             OR (ticket IS NOT NULL
                 AND granted_at + make_interval(secs => $2::bigint::float8 / 1000)
                     <= clock_timestamp()))",
        &[&id, &to_i64(super::WAITER_LEASE)],
    )?;
    if expired > 0 || holder(tx, id)?.is_none() {
        hand_off(tx, epoch, id)?;
    }
    Ok(())
}

/// Gives the free lock of `id` to the first waiter in line, if any. First come, first served:
/// tickets come from a sequence and are taken under the document's lock, so their order is
/// the order of arrival across every replica.
fn hand_off(tx: &mut Transaction<'_>, epoch: &str, id: &str) -> Result<(), StoreError> {
    if holder(tx, id)?.is_some() {
        return Ok(());
    }
    let next = tx.query_opt(
        "DELETE FROM ifmatch_lock_waiters WHERE ticket = (
             SELECT ticket FROM ifmatch_lock_waiters WHERE id = $1 ORDER BY ticket LIMIT 1)
         RETURNING ticket, owner, ttl_ms",
        &[&id],
    )?;
    if let Some(row) = next {
        let request = LockRequest {
            owner: row.get(1),
            ttl: Duration::from_millis(to_u64(row.get(2))),
        };
        grant(tx, epoch, id, request, Some(row.get(0)))?;
        notify(tx, id)?;
    }
    Ok(())
}

/// Grants the (free) lock of `id`: the grant number comes from a sequence shared by every
/// replica, so no two grants anywhere share a number, and the token embeds it.
pub(super) fn grant(
    tx: &mut Transaction<'_>,
    epoch: &str,
    id: &str,
    request: LockRequest,
    ticket: Option<i64>,
) -> Result<Grant, StoreError> {
    let seq: i64 = tx
        .query_one("SELECT nextval('ifmatch_lock_grant')", &[])?
        .get(0);
    let token = LockToken::mint(epoch, to_u64(seq));
    let sql = format!(
        "INSERT INTO ifmatch_locks (id, token, owner, fencing, ttl_ms, granted_at, expires_at, ticket)
         VALUES ($1, $2, $3, $4, $5, clock_timestamp(),
                 clock_timestamp() + make_interval(secs => $5::bigint::float8 / 1000), $6)
         RETURNING {LEASE}"
    );
    let row = tx.query_one(
        &sql,
        &[
            &id,
            &token.as_str(),
            &request.owner,
            &seq,
            &to_i64(request.ttl),
            &ticket,
        ],
    )?;
    Ok(Grant {
        token,
        lease: lease(&row, 0),
    })
}

/// Puts a request for `id` in the queue until `wait` from now; its ticket.
pub(super) fn enqueue(
    tx: &mut Transaction<'_>,
    id: &str,
    request: &LockRequest,
    wait: Duration,
) -> Result<i64, StoreError> {
    let row = tx.query_one(
        "INSERT INTO ifmatch_lock_waiters (ticket, id, owner, ttl_ms, queued_at, deadline)
         VALUES (nextval('ifmatch_lock_ticket'), $1, $2, $3, clock_timestamp(),
                 clock_timestamp() + make_interval(secs => $4::bigint::float8 / 1000))
         RETURNING ticket",
        &[&id, &request.owner, &to_i64(request.ttl), &to_i64(wait)],
    )?;
    Ok(row.get(0))
}

/// Renews the lease of `ticket`, still in the queue: its row's deadline becomes `lease` from
/// the database's now.
pub(super) fn renew_lease(
    tx: &mut Transaction<'_>,
    ticket: i64,
    lease: Duration,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE ifmatch_lock_waiters
         SET deadline = clock_timestamp() + make_interval(secs => $2::bigint::float8 / 1000)
         WHERE ticket = $1",
        &[&ticket, &to_i64(lease)],
    )?;
    Ok(())
}

/// Where a queued request stands.
pub(super) enum Standing {
    /// The lock was handed to it.
    Granted(Grant),
    /// Still in line; the current lock, if any.
    Waiting(Option<Snapshot>),
    /// Out of the queue without the lock: the document was deleted (`gone`), or the ticket ran
    /// past its deadline in the database.
    Out { gone: bool },
}

/// Where `ticket` stands in the queue of `id`, after settling it.
pub(super) fn standing(
    tx: &mut Transaction<'_>,
    epoch: &str,
    id: &str,
    ticket: i64,
) -> Result<Standing, StoreError> {
    settle(tx, epoch, id)?;
    let holder = holder(tx, id)?;
    if let Some(holder) = holder.as_ref().filter(|h| h.ticket == Some(ticket)) {
        // Claimed: from now on only its TTL ends it.
        tx.execute(
            "UPDATE ifmatch_locks SET ticket = NULL WHERE id = $1 AND ticket = $2",
            &[&id, &ticket],
        )?;
        return Ok(Standing::Granted(holder.grant.clone()));
    }
    let queued = tx
        .query_opt(
            "SELECT 1 FROM ifmatch_lock_waiters WHERE ticket = $1",
            &[&ticket],
        )?
        .is_some();
    if queued {
        return Ok(Standing::Waiting(snapshot(tx, id)?));
    }
    let exists = tx
        .query_opt("SELECT 1 FROM ifmatch_items WHERE id = $1", &[&id])?
        .is_some();
    Ok(Standing::Out { gone: !exists })
}

/// Takes `ticket` out of the queue of `id` (a no-op when it is out already).
pub(super) fn dequeue(tx: &mut Transaction<'_>, ticket: i64) -> Result<(), StoreError> {
    tx.execute(
        "DELETE FROM ifmatch_lock_waiters WHERE ticket = $1",
        &[&ticket],
    )?;
    Ok(())
}

/// Extends the holder's lock by `ttl` (its last TTL when `None`) from the database's now.
pub(super) fn renew(
    tx: &mut Transaction<'_>,
    epoch: &str,
    id: &str,
    token: &LockToken,
    ttl: Option<Duration>,
) -> Result<Result<Grant, Option<Snapshot>>, StoreError> {
    settle(tx, epoch, id)?;
    let sql = format!(
        "UPDATE ifmatch_locks SET ttl_ms = coalesce($3, ttl_ms),
             expires_at = clock_timestamp() + make_interval(secs => coalesce($3, ttl_ms)::float8 / 1000)
         WHERE id = $1 AND token = $2 RETURNING {LEASE}"
    );
    let ttl = ttl.map(to_i64);
    match tx.query_opt(&sql, &[&id, &token.as_str(), &ttl])? {
        Some(row) => Ok(Ok(Grant {
            token: token.clone(),
            lease: lease(&row, 0),
        })),
        None => Ok(Err(snapshot(tx, id)?)),
    }
}

/// Ends the holder's lock when `token` is the holder's (any holder's when `None`: a break);
/// the next waiter gets it. Whether a lock ended.
pub(super) fn end(
    tx: &mut Transaction<'_>,
    epoch: &str,
    id: &str,
    token: Option<&LockToken>,
) -> Result<bool, StoreError> {
    settle(tx, epoch, id)?;
    let ended = tx.execute(
        "DELETE FROM ifmatch_locks WHERE id = $1 AND ($2::text IS NULL OR token = $2)",
        &[&id, &token.map(LockToken::as_str)],
    )?;
    if ended > 0 {
        hand_off(tx, epoch, id)?;
        notify(tx, id)?;
    }
    Ok(ended > 0)
}

/// Whether a write to `id` carrying `token` may proceed: the same verdict as the in-memory
/// table's `authorize_write`.
pub(super) fn authorize(
    tx: &mut Transaction<'_>,
    epoch: &str,
    id: &str,
    token: Option<&LockToken>,
) -> Result<Result<(), Refusal>, StoreError> {
    settle(tx, epoch, id)?;
    let holder = holder(tx, id)?;
    let is_holder = holder
        .as_ref()
        .zip(token)
        .is_some_and(|(holder, token)| holder.grant.token == *token);
    let snapshot = match holder {
        Some(_) => snapshot(tx, id)?,
        None => None,
    };
    Ok(match (snapshot, token) {
        (None, None) => Ok(()),
        (Some(_), Some(_)) if is_holder => Ok(()),
        (Some(snapshot), None) => Err(Refusal::Locked(snapshot)),
        (snapshot, Some(_)) => Err(Refusal::TokenInvalid(snapshot)),
    })
}

/// The document `id` is being deleted: its lock and its queue end with it.
pub(super) fn destroy(tx: &mut Transaction<'_>, id: &str) -> Result<(), StoreError> {
    tx.execute("DELETE FROM ifmatch_locks WHERE id = $1", &[&id])?;
    tx.execute("DELETE FROM ifmatch_lock_waiters WHERE id = $1", &[&id])?;
    notify(tx, id)
}
