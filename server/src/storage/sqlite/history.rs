//! The history table `ifmatch_versions`: one row per kept version (a `NULL` body is a
//! tombstone), written and pruned inside the write's own SQLite transaction.

use rusqlite::{params, Connection, OptionalExtension};

use super::super::history::Entry as Age;
use super::super::{version_tag, Document, HistoryPolicy, Lookup, StoreError, VersionInfo};
use super::{as_u64, to_i64};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS ifmatch_versions (
    id TEXT NOT NULL,
    version INTEGER NOT NULL,
    at_ms INTEGER NOT NULL,
    author TEXT,
    body BLOB,
    PRIMARY KEY (id, version)
) WITHOUT ROWID;
";

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
    conn: &Connection,
    row: &Row<'_>,
    policy: HistoryPolicy,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO ifmatch_versions (id, version, at_ms, author, body)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        row.id,
        to_i64(row.version)?,
        to_i64(row.at_ms)?,
        row.author,
        row.body
    ])?;
    prune(conn, row.id, policy, row.at_ms)
}

/// What pruning reads of a document's history, newest first.
pub(super) const KEPT: &str = "SELECT version, at_ms, body IS NULL FROM ifmatch_versions
     WHERE id = ?1 ORDER BY version DESC";

/// Drops the entries of `id` that `policy` no longer keeps at `now_ms`.
pub(super) fn prune(
    conn: &Connection,
    id: &str,
    policy: HistoryPolicy,
    now_ms: u64,
) -> Result<(), StoreError> {
    let mut statement = conn.prepare_cached(KEPT)?;
    let rows = statement.query_map(params![id], |row| {
        Ok((
            row.get::<_, i64>(0)?,
            row.get::<_, i64>(1)?,
            row.get::<_, bool>(2)?,
        ))
    })?;
    let mut versions = Vec::new();
    let mut ages = Vec::new();
    for row in rows {
        let (version, at_ms, deleted) = row?;
        versions.push(version);
        ages.push(Age {
            at_ms: as_u64(at_ms)?,
            deleted,
        });
    }
    let kept = policy.kept(&ages, now_ms);
    for (version, keep) in versions.into_iter().zip(kept) {
        if !keep {
            conn.prepare_cached("DELETE FROM ifmatch_versions WHERE id = ?1 AND version = ?2")?
                .execute(params![id, version])?;
        }
    }
    Ok(())
}

/// Forgets every deleted document whose tombstone expired at `now_ms`.
pub(super) fn sweep(
    conn: &Connection,
    policy: HistoryPolicy,
    now_ms: u64,
) -> Result<(), StoreError> {
    let Some(deadline) = now_ms.checked_sub(policy.tombstone_ttl_ms) else {
        return Ok(());
    };
    conn.execute(
        "DELETE FROM ifmatch_versions WHERE id IN (
             SELECT v.id FROM ifmatch_versions v
             WHERE v.body IS NULL AND v.at_ms <= ?1
               AND v.version = (SELECT max(w.version) FROM ifmatch_versions w WHERE w.id = v.id))",
        params![to_i64(deadline)?],
    )?;
    Ok(())
}

/// The kept history of `id`, newest first.
pub(super) fn list(
    conn: &Connection,
    epoch: &str,
    id: &str,
) -> Result<Vec<VersionInfo>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT version, at_ms, author, body IS NULL, coalesce(length(body), 0)
         FROM ifmatch_versions WHERE id = ?1 ORDER BY version DESC",
    )?;
    let rows = statement.query_map(params![id], |row| {
        Ok((
            row.get::<_, i64>(0)?,
            row.get::<_, i64>(1)?,
            row.get::<_, Option<String>>(2)?,
            row.get::<_, bool>(3)?,
            row.get::<_, i64>(4)?,
        ))
    })?;
    let mut infos = Vec::new();
    for row in rows {
        let (version, at_ms, author, deleted, size) = row?;
        let version = as_u64(version)?;
        infos.push(VersionInfo {
            version,
            etag: (!deleted).then(|| version_tag(epoch, version)),
            at_ms: as_u64(at_ms)?,
            author,
            deleted,
            size: usize::try_from(size).unwrap_or(0),
        });
    }
    Ok(infos)
}

/// Version `version` of `id`.
pub(super) fn read(
    conn: &Connection,
    epoch: &str,
    id: &str,
    version: u64,
) -> Result<Lookup, StoreError> {
    let oldest: Option<i64> = conn.query_row(
        "SELECT min(version) FROM ifmatch_versions WHERE id = ?1",
        params![id],
        |row| row.get(0),
    )?;
    let Some(oldest) = oldest else {
        return Ok(Lookup::NoHistory);
    };
    let Ok(wanted) = i64::try_from(version) else {
        return Ok(Lookup::NotKept {
            oldest: as_u64(oldest)?,
        });
    };
    let row: Option<(i64, Option<Vec<u8>>)> = conn
        .query_row(
            "SELECT at_ms, body FROM ifmatch_versions WHERE id = ?1 AND version = ?2",
            params![id, wanted],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    Ok(match row {
        Some((at_ms, Some(body))) => Lookup::Found(Document {
            etag: version_tag(epoch, version),
            body,
            at_ms: as_u64(at_ms)?,
        }),
        _ => Lookup::NotKept {
            oldest: as_u64(oldest)?,
        },
    })
}

/// Gives documents stored before history existed (an older database file) their current
/// version as the start of their history.
pub(super) fn backfill(conn: &Connection, now_ms: u64) -> Result<(), StoreError> {
    let mut statement = conn.prepare(
        "SELECT i.id, i.etag FROM ifmatch_items i
         WHERE NOT EXISTS (SELECT 1 FROM ifmatch_versions v WHERE v.id = i.id)",
    )?;
    let rows = statement.query_map([], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
    })?;
    let missing: Vec<(String, String)> = rows.collect::<Result<_, _>>()?;
    for (id, etag) in missing {
        let version = super::to_document(&etag, Vec::new(), 0)?.version();
        conn.execute(
            "UPDATE ifmatch_items SET at_ms = ?2 WHERE id = ?1 AND at_ms = 0",
            params![id, to_i64(now_ms)?],
        )?;
        conn.execute(
            "INSERT INTO ifmatch_versions (id, version, at_ms, author, body)
             SELECT id, ?2, at_ms, NULL, body FROM ifmatch_items WHERE id = ?1",
            params![id, to_i64(version)?],
        )?;
    }
    Ok(())
}
