//! The conflict log's statements: recording, resolving, trimming and reading events.
//!
//! Recording and resolving take one transaction-scoped advisory lock, so events commit in
//! number order: a reader that sees event `n` sees every event before it that will ever
//! commit, and can page on from `n` without missing one.

use postgres::Transaction;

use crate::conflicts::log::Kind;
use crate::conflicts::record::{conflict_id, Draft, Record, Resolution, State};
use crate::storage::{StoreError, PG_LOCK_SPACE};

/// The advisory lock (in [`PG_LOCK_SPACE`]) that makes events commit in number order.
const CONFLICT_LOG_LOCK: i32 = 0x434c_4f47; // "CLOG"

/// The channel every replica listens on; the payload is the event's number.
pub(super) const CHANNEL: &str = "ifmatch_conflicts";

/// The key of the highest forgotten event number in `ifmatch_meta`.
const FORGOTTEN: &str = "conflicts_forgotten";

const COLUMNS: &str = "seq, resolved_seq, record, resolution, doc_id, origin";

fn to_i64(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::from_message(&format!("{n} does not fit in a BIGINT")))
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn lock(tx: &mut Transaction<'_>) -> Result<(), StoreError> {
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, $2)",
        &[&PG_LOCK_SPACE, &CONFLICT_LOG_LOCK],
    )?;
    Ok(())
}

fn notify(tx: &mut Transaction<'_>, seq: u64) -> Result<(), StoreError> {
    tx.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &seq.to_string()])?;
    Ok(())
}

fn next_seq(tx: &mut Transaction<'_>) -> Result<u64, StoreError> {
    let seq: i64 = tx
        .query_one("SELECT nextval('ifmatch_conflict_seq')", &[])?
        .get(0);
    Ok(to_u64(seq))
}

/// A record from its row (the columns of [`COLUMNS`]).
fn from_row(row: &postgres::Row) -> Result<Record, StoreError> {
    let bad = |err: serde_json::Error| {
        StoreError::from_message(&format!("postgres: a malformed conflict record: {err}"))
    };
    let mut record: Record = serde_json::from_str(row.get::<_, &str>(2)).map_err(bad)?;
    record.seq = to_u64(row.get(0));
    record.id = conflict_id(record.seq);
    record.resolved_seq = row.get::<_, Option<i64>>(1).map(to_u64);
    record.resolution = row
        .get::<_, Option<&str>>(3)
        .map(serde_json::from_str::<Resolution>)
        .transpose()
        .map_err(bad)?;
    record.state = if record.resolution.is_some() {
        State::Resolved
    } else {
        State::Open
    };
    record.doc_id = row.get(4);
    record.origin = row.get(5);
    Ok(record)
}

/// Records `draft`, keeping the newest `capacity` records, and says whether it is new: a draft
/// whose `origin` is recorded already gives that record and adds nothing.
pub(super) fn record(
    tx: &mut Transaction<'_>,
    draft: Draft,
    at_ms: u64,
    capacity: usize,
) -> Result<(Record, bool), StoreError> {
    lock(tx)?;
    if let Some(origin) = &draft.origin {
        let sql = format!("SELECT {COLUMNS} FROM ifmatch_conflicts WHERE origin = $1");
        if let Some(row) = tx.query_opt(&sql, &[origin])? {
            return Ok((from_row(&row)?, false));
        }
    }
    let seq = next_seq(tx)?;
    let record = Record::new(draft, seq, at_ms);
    tx.execute(
        "INSERT INTO ifmatch_conflicts (seq, origin, doc_id, record) VALUES ($1, $2, $3, $4)",
        &[
            &to_i64(seq)?,
            &record.origin,
            &record.doc_id,
            &record.to_json(),
        ],
    )?;
    trim(tx, capacity)?;
    notify(tx, seq)?;
    Ok((record, true))
}

/// Forgets all but the newest `capacity` records, and notes the highest event number forgotten.
fn trim(tx: &mut Transaction<'_>, capacity: usize) -> Result<(), StoreError> {
    // The newest record to forget is the one after the `capacity` newest.
    let skip = i64::try_from(capacity.max(1) - 1).unwrap_or(i64::MAX);
    let forgotten: i64 = tx
        .query_one(
            "WITH gone AS (
                 DELETE FROM ifmatch_conflicts WHERE seq < (
                     SELECT seq FROM ifmatch_conflicts ORDER BY seq DESC OFFSET $1 LIMIT 1)
                 RETURNING greatest(seq, coalesce(resolved_seq, 0)) AS last)
             SELECT coalesce(max(last), 0) FROM gone",
            &[&skip],
        )?
        .get(0);
    if forgotten > 0 {
        note_forgotten(tx, to_u64(forgotten))?;
    }
    Ok(())
}

fn note_forgotten(tx: &mut Transaction<'_>, seq: u64) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO ifmatch_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE
         SET value = greatest(ifmatch_meta.value::BIGINT, excluded.value::BIGINT)::TEXT",
        &[&FORGOTTEN, &seq.to_string()],
    )?;
    Ok(())
}

/// What resolving a conflict in the database came to.
pub(super) enum Resolved {
    /// Resolved now: the record as resolved.
    Now(Record),
    /// Someone resolved it first: the record as they resolved it.
    Already(Record),
}

/// Marks `fallback` (the record as the resolver read it) resolved, unless someone did first.
/// When the log forgot it meanwhile (the write is done), the answer still describes it, but
/// no replica's stream tells of it.
pub(super) fn resolve(
    tx: &mut Transaction<'_>,
    fallback: &Record,
    resolution: &Resolution,
) -> Result<Resolved, StoreError> {
    lock(tx)?;
    let json = serde_json::to_string(resolution).unwrap_or_default();
    let seq = to_i64(fallback.seq)?;
    let sql = format!(
        "UPDATE ifmatch_conflicts SET resolved_seq = nextval('ifmatch_conflict_seq'),
             resolution = $2
         WHERE seq = $1 AND resolved_seq IS NULL RETURNING {COLUMNS}"
    );
    if let Some(row) = tx.query_opt(&sql, &[&seq, &json])? {
        let record = from_row(&row)?;
        notify(tx, record.resolved_seq.unwrap_or(record.seq))?;
        return Ok(Resolved::Now(record));
    }
    let sql = format!("SELECT {COLUMNS} FROM ifmatch_conflicts WHERE seq = $1");
    if let Some(row) = tx.query_opt(&sql, &[&seq])? {
        return Ok(Resolved::Already(from_row(&row)?));
    }
    let resolved_seq = next_seq(tx)?;
    note_forgotten(tx, resolved_seq)?;
    Ok(Resolved::Now(Record {
        state: State::Resolved,
        resolution: Some(resolution.clone()),
        resolved_seq: Some(resolved_seq),
        ..fallback.clone()
    }))
}

/// What the database holds after event `after`.
pub(super) struct Events {
    /// The events after `after`, in number order.
    pub(super) events: Vec<(Kind, Record)>,
    /// The highest event number forgotten.
    pub(super) forgotten: u64,
    /// The highest event number handed out (some may have rolled back).
    pub(super) last: u64,
}

/// The events after `after`: in one snapshot (REPEATABLE READ), so `last` and the events agree.
pub(super) fn events_after(tx: &mut Transaction<'_>, after: u64) -> Result<Events, StoreError> {
    let sql =
        format!("SELECT {COLUMNS} FROM ifmatch_conflicts WHERE seq > $1 OR resolved_seq > $1");
    let after_i64 = to_i64(after)?;
    let mut events = Vec::new();
    for row in tx.query(&sql, &[&after_i64])? {
        let record = from_row(&row)?;
        if let Some(resolved) = record.resolved_seq.filter(|&seq| seq > after) {
            if record.seq > after {
                events.push((record.seq, Kind::Conflict, record.clone()));
            }
            events.push((resolved, Kind::Resolved, record));
        } else if record.seq > after {
            events.push((record.seq, Kind::Conflict, record));
        }
    }
    events.sort_by_key(|(seq, _, _)| *seq);
    let forgotten = tx
        .query_opt(
            "SELECT value::BIGINT FROM ifmatch_meta WHERE key = $1",
            &[&FORGOTTEN],
        )?
        .map_or(0, |row| to_u64(row.get(0)));
    // The highest number among committed events (the lock orders them), or 0.
    let last: i64 = tx
        .query_one(
            "SELECT greatest(coalesce(max(seq), 0), coalesce(max(resolved_seq), 0))
             FROM ifmatch_conflicts",
            &[],
        )?
        .get(0);
    Ok(Events {
        events: events.into_iter().map(|(_, k, r)| (k, r)).collect(),
        forgotten,
        last: to_u64(last).max(forgotten),
    })
}
