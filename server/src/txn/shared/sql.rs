//! The SQL of transactions kept in PostgreSQL. Times come from `clock_timestamp()`, the clock
//! every replica shares. A transaction's row changes only under its advisory lock (see
//! [`lock`]), or, for a commit's outcome, in the store's unit of work of a request that holds
//! that lock.

use std::time::Duration;

use postgres::Transaction;

use super::super::outcome::Ended;
use super::super::state::{Summary, Tx};
use super::super::{Outcome, TxId, REMEMBER_FOR};
use super::codec::{decode_ended, decode_tx, encode_ended};
use crate::lock::millis;
use crate::storage::{StoreError, PG_LOCK_SPACE};

/// The first key of the advisory lock of one transaction (`"IFTX"`); the second is the hash
/// of its id (two ids sharing a hash only take turns).
const TXN_SPACE: i32 = 0x4946_5458;
/// The advisory lock (in [`PG_LOCK_SPACE`]) that makes begins count open transactions one at
/// a time.
const BEGIN_LOCK: i32 = 0x4254_584e; // "BTXN"
/// The most expired transactions one begin ends.
const SWEEP_AT_MOST: i64 = 64;

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

pub(super) fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Waits for the advisory lock of `id`, held until `tx` ends.
pub(super) fn lock(tx: &mut Transaction<'_>, id: &TxId) -> Result<(), StoreError> {
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext($2))",
        &[&TXN_SPACE, &id.as_str()],
    )?;
    Ok(())
}

/// A transaction's row as a request finds it.
pub(super) enum Row {
    Open(Tx),
    Ended(Ended),
    /// Open, but past its expiry by the database's clock.
    Expired(Tx),
    Unknown,
}

/// The row of `id` (whose lock `tx` holds); a forgotten one is deleted and unknown.
pub(super) fn load(tx: &mut Transaction<'_>, id: &TxId) -> Result<Row, StoreError> {
    let row = tx.query_opt(
        "SELECT ttl_ms, (extract(epoch FROM expires_at) * 1000)::bigint,
             greatest(0, extract(epoch FROM expires_at - clock_timestamp()) * 1000)::bigint,
             open, state, expires_at <= clock_timestamp(),
             coalesce(forget_at <= clock_timestamp(), false),
             greatest(0, extract(epoch FROM forget_at - clock_timestamp()) * 1000)::bigint,
             (extract(epoch FROM clock_timestamp()) * 1000)::bigint
         FROM ifmatch_txns WHERE id = $1",
        &[&id.as_str()],
    )?;
    let Some(row) = row else {
        return Ok(Row::Unknown);
    };
    let ttl = Duration::from_millis(to_u64(row.get(0)));
    let expires_at_ms = to_u64(row.get(1));
    let remaining = Duration::from_millis(to_u64(row.get(2)));
    let open: bool = row.get(3);
    let state: &str = row.get(4);
    if open {
        let staged = decode_tx(id.clone(), ttl, remaining, expires_at_ms, state)?;
        return Ok(if row.get(5) {
            Row::Expired(staged)
        } else {
            Row::Open(staged)
        });
    }
    if row.get(6) {
        tx.execute("DELETE FROM ifmatch_txns WHERE id = $1", &[&id.as_str()])?;
        return Ok(Row::Unknown);
    }
    let forget_in = Duration::from_millis(to_u64(row.get(7)));
    let now_ms = to_u64(row.get(8));
    let ended = decode_ended(state, ttl, expires_at_ms, forget_in, now_ms)?;
    Ok(Row::Ended(ended))
}

/// Keeps the staged state of the open transaction `staged`.
pub(super) fn save(tx: &mut Transaction<'_>, staged: &Tx) -> Result<(), StoreError> {
    let state = super::codec::encode_tx(staged);
    let changed = tx.execute(
        "UPDATE ifmatch_txns SET state = $2 WHERE id = $1 AND open",
        &[&staged.id.as_str(), &state],
    )?;
    if changed != 1 {
        return Err(StoreError::from_message(&format!(
            "postgres: transaction {} ended while a request held it",
            staged.id
        )));
    }
    Ok(())
}

/// The statement that ends an open transaction: `$1` its id, `$2` how it ended
/// ([`encode_ended`]), `$3` how long it is remembered at least, in milliseconds. It is run in
/// the commit's own unit of work too, so that an applied commit and its outcome land together.
pub(super) const END: &str = "UPDATE ifmatch_txns SET open = false, state = $2,
         forget_at = greatest(expires_at, clock_timestamp() + $3::bigint * interval '1 millisecond')
     WHERE id = $1 AND open";

/// [`END`]'s `$2` for a transaction showing `summary` ending with `outcome` at `ended_at_ms`.
pub(super) fn end_text(summary: &Summary, outcome: &Outcome, ended_at_ms: u64) -> String {
    encode_ended(outcome, ended_at_ms, summary)
}

/// How long ended transactions are remembered at least, as [`END`]'s `$3`.
pub(super) fn remember_ms() -> i64 {
    to_i64(millis(REMEMBER_FOR))
}

/// Ends the open transaction `id` as `text` ([`end_text`]) says.
pub(super) fn end(tx: &mut Transaction<'_>, id: &TxId, text: &str) -> Result<(), StoreError> {
    let changed = tx.execute(END, &[&id.as_str(), &text, &remember_ms()])?;
    if changed != 1 {
        return Err(StoreError::from_message(&format!(
            "postgres: transaction {id} ended twice"
        )));
    }
    Ok(())
}

/// What a begin decided.
pub(super) enum Decided {
    /// Inserted; its expiry in Unix milliseconds by the database's clock.
    Begun(u64),
    Full,
    ClientFull,
}

/// Ends expired transactions nobody holds (a held one ends when its request settles it) and
/// forgets ended ones past `forget_at`. Returns how many it ended.
fn sweep(tx: &mut Transaction<'_>, now_ms: u64) -> Result<usize, StoreError> {
    let expired = tx.query(
        "SELECT id FROM ifmatch_txns WHERE open AND expires_at <= clock_timestamp() LIMIT $1",
        &[&SWEEP_AT_MOST],
    )?;
    let mut ended = 0;
    for row in expired {
        let id: String = row.get(0);
        let id = TxId::parse(id.as_bytes()).map_err(|err| StoreError::from_message(&err))?;
        let free: bool = tx
            .query_one(
                "SELECT pg_try_advisory_xact_lock($1, hashtext($2))",
                &[&TXN_SPACE, &id.as_str()],
            )?
            .get(0);
        if !free {
            continue;
        }
        if let Row::Expired(staged) = load(tx, &id)? {
            end(
                tx,
                &id,
                &end_text(&staged.summary(), &Outcome::Expired, now_ms),
            )?;
            ended += 1;
        }
    }
    tx.execute(
        "DELETE FROM ifmatch_txns WHERE NOT open AND forget_at <= clock_timestamp()",
        &[],
    )?;
    Ok(ended)
}

/// Opens `id` for `client` with `ttl` unless `max_open` are open, or `client` has
/// `per_client` open; also returns how many expired transactions it ended on the way.
pub(super) fn begin(
    tx: &mut Transaction<'_>,
    id: &TxId,
    client: &str,
    ttl: Duration,
    max_open: usize,
    per_client: usize,
    now_ms: u64,
) -> Result<(Decided, usize), StoreError> {
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, $2)",
        &[&PG_LOCK_SPACE, &BEGIN_LOCK],
    )?;
    let swept = sweep(tx, now_ms)?;
    let counts = tx.query_one(
        "SELECT count(*), count(*) FILTER (WHERE client = $1) FROM ifmatch_txns
         WHERE open AND expires_at > clock_timestamp()",
        &[&client],
    )?;
    let count = |i: usize| usize::try_from(counts.get::<_, i64>(i)).unwrap_or(usize::MAX);
    if count(0) >= max_open {
        return Ok((Decided::Full, swept));
    }
    if count(1) >= per_client {
        return Ok((Decided::ClientFull, swept));
    }
    let empty = super::codec::encode_tx(&Tx::new(id.clone(), ttl, crate::lock::now()));
    let expires: i64 = tx
        .query_one(
            "INSERT INTO ifmatch_txns (id, client, ttl_ms, expires_at, open, state)
             VALUES ($1, $2, $3, clock_timestamp() + $3::bigint * interval '1 millisecond', true, $4)
             RETURNING (extract(epoch FROM expires_at) * 1000)::bigint",
            &[&id.as_str(), &client, &to_i64(millis(ttl)), &empty],
        )?
        .get(0);
    Ok((Decided::Begun(to_u64(expires)), swept))
}
