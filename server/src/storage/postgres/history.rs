//! The history table `ifmatch_versions`: one row per kept version (a `NULL` body is a
//! tombstone), written and pruned inside the write's own transaction, under the document's
//! advisory lock.

use postgres::Transaction;

use super::super::history::Entry as Age;
use super::super::{version_tag, Document, HistoryPolicy, Lookup, StoreError, VersionInfo};
use super::{as_u64, to_i64};

/// What one write records.
pub(super) struct Row<'a> {
    pub(super) id: &'a str,
    pub(super) version: u64,
    pub(super) at_ms: u64,
    pub(super) author: Option<&'a str>,
    /// `None` for a tombstone.
    pub(super) body: Option<&'a [u8]>,
}

/// Records one version (or tombstone) and prunes the document's history by `policy`.
pub(super) fn record(
    tx: &mut Transaction<'_>,
    row: &Row<'_>,
    policy: HistoryPolicy,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO ifmatch_versions (id, version, at_ms, author, body)
         VALUES ($1, $2, $3, $4, $5)",
        &[
            &row.id,
            &to_i64(row.version)?,
            &to_i64(row.at_ms)?,
            &row.author,
            &row.body,
        ],
    )?;
    prune(tx, row.id, policy, row.at_ms)
}

/// Drops the entries of `id` that `policy` no longer keeps at `now_ms`.
pub(super) fn prune(
    tx: &mut Transaction<'_>,
    id: &str,
    policy: HistoryPolicy,
    now_ms: u64,
) -> Result<(), StoreError> {
    let rows = tx.query(
        "SELECT version, at_ms, body IS NULL FROM ifmatch_versions WHERE id = $1
         ORDER BY version DESC",
        &[&id],
    )?;
    let mut versions = Vec::with_capacity(rows.len());
    let mut ages = Vec::with_capacity(rows.len());
    for row in rows {
        versions.push(row.get::<_, i64>(0));
        ages.push(Age {
            at_ms: as_u64(row.get(1))?,
            deleted: row.get(2),
        });
    }
    let dropped: Vec<i64> = versions
        .into_iter()
        .zip(policy.kept(&ages, now_ms))
        .filter_map(|(version, keep)| (!keep).then_some(version))
        .collect();
    if !dropped.is_empty() {
        tx.execute(
            "DELETE FROM ifmatch_versions WHERE id = $1 AND version = ANY($2)",
            &[&id, &dropped],
        )?;
    }
    Ok(())
}

/// Forgets every deleted document whose tombstone expired at `now_ms`. Runs in a transaction
/// of its own that gives up after a short lock wait, so it never holds up a writer for long.
pub(super) fn sweep(
    tx: &mut Transaction<'_>,
    policy: HistoryPolicy,
    now_ms: u64,
) -> Result<(), StoreError> {
    let Some(deadline) = now_ms.checked_sub(policy.tombstone_ttl_ms) else {
        return Ok(());
    };
    tx.batch_execute("SET LOCAL lock_timeout = '100ms'")?;
    tx.execute(
        "DELETE FROM ifmatch_versions WHERE id IN (
             SELECT v.id FROM ifmatch_versions v
             WHERE v.body IS NULL AND v.at_ms <= $1
               AND v.version = (SELECT max(w.version) FROM ifmatch_versions w WHERE w.id = v.id))",
        &[&to_i64(deadline)?],
    )?;
    Ok(())
}

/// The kept history of `id`, newest first.
pub(super) fn list(
    tx: &mut Transaction<'_>,
    epoch: &str,
    id: &str,
) -> Result<Vec<VersionInfo>, StoreError> {
    let rows = tx.query(
        "SELECT version, at_ms, author, body IS NULL, coalesce(length(body), 0)
         FROM ifmatch_versions WHERE id = $1 ORDER BY version DESC",
        &[&id],
    )?;
    let mut infos = Vec::with_capacity(rows.len());
    for row in rows {
        let version = as_u64(row.get(0))?;
        let deleted: bool = row.get(3);
        infos.push(VersionInfo {
            version,
            etag: (!deleted).then(|| version_tag(epoch, version)),
            at_ms: as_u64(row.get(1))?,
            author: row.get(2),
            deleted,
            size: usize::try_from(row.get::<_, i32>(4)).unwrap_or(0),
        });
    }
    Ok(infos)
}

/// Version `version` of `id`.
pub(super) fn read(
    tx: &mut Transaction<'_>,
    epoch: &str,
    id: &str,
    version: u64,
) -> Result<Lookup, StoreError> {
    let oldest: Option<i64> = tx
        .query_one(
            "SELECT min(version) FROM ifmatch_versions WHERE id = $1",
            &[&id],
        )?
        .get(0);
    let Some(oldest) = oldest else {
        return Ok(Lookup::NoHistory);
    };
    let oldest = as_u64(oldest)?;
    let Ok(wanted) = i64::try_from(version) else {
        return Ok(Lookup::NotKept { oldest });
    };
    let row = tx.query_opt(
        "SELECT at_ms, body FROM ifmatch_versions WHERE id = $1 AND version = $2",
        &[&id, &wanted],
    )?;
    let found = row.and_then(|row| Some((row.get::<_, i64>(0), row.get::<_, Option<Vec<u8>>>(1)?)));
    Ok(match found {
        Some((at_ms, body)) => Lookup::Found(Document {
            etag: version_tag(epoch, version),
            body,
            at_ms: as_u64(at_ms)?,
        }),
        None => Lookup::NotKept { oldest },
    })
}
