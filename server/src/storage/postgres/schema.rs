//! Versioned schema migrations, run when a store opens.
//!
//! Each migration runs once per database and is recorded in `ifmatch_schema_migrations`. The
//! whole run holds a transaction-scoped advisory lock, so replicas starting together take
//! turns: the first applies what is missing, the others find it applied. Migrations are only
//! ever appended; a database whose recorded version is newer than this build knows is refused.

use postgres::Client;

use super::super::{random_hex, StoreError};
use super::LOCK_SPACE;

/// The advisory lock (in [`LOCK_SPACE`]) that serializes migration runs.
const MIGRATION_LOCK: i32 = 2;

/// The migrations in order; number `n` is at index `n - 1`.
const MIGRATIONS: &[&str] = &[
    // 1: documents, history, the tag counter and the per-database tag epoch.
    "
    CREATE TABLE ifmatch_meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE SEQUENCE ifmatch_generation AS BIGINT MINVALUE 1;
    CREATE TABLE ifmatch_items (
        id TEXT PRIMARY KEY,
        etag TEXT NOT NULL,
        body BYTEA NOT NULL,
        created BIGINT NOT NULL,
        at_ms BIGINT NOT NULL
    );
    CREATE INDEX ifmatch_items_created ON ifmatch_items (created);
    CREATE TABLE ifmatch_versions (
        id TEXT NOT NULL,
        version BIGINT NOT NULL,
        at_ms BIGINT NOT NULL,
        author TEXT,
        body BYTEA,
        PRIMARY KEY (id, version)
    );
    ",
    // 2: the conflict log shared by the replicas (see `conflicts/shared`). Every event (a
    // conflict recorded, a conflict resolved) takes the next number of one sequence.
    "
    CREATE SEQUENCE ifmatch_conflict_seq AS BIGINT MINVALUE 1;
    CREATE TABLE ifmatch_conflicts (
        seq BIGINT PRIMARY KEY,
        origin TEXT UNIQUE,
        doc_id TEXT,
        record TEXT NOT NULL,
        resolved_seq BIGINT UNIQUE,
        resolution TEXT
    );
    ",
    // 3: idempotency records shared by the replicas (see `idempotency/postgres.rs`). `ticket`
    // orders them by arrival, for eviction; `status` is NULL while the request is in flight.
    "
    CREATE SEQUENCE ifmatch_idempotency_ticket AS BIGINT MINVALUE 1;
    CREATE TABLE ifmatch_idempotency (
        client TEXT NOT NULL,
        key TEXT NOT NULL,
        fingerprint BYTEA NOT NULL,
        ticket BIGINT NOT NULL UNIQUE,
        arrived_ms BIGINT NOT NULL,
        status SMALLINT,
        header_names TEXT[],
        header_values BYTEA[],
        body BYTEA,
        bytes BIGINT NOT NULL,
        PRIMARY KEY (client, key)
    );
    CREATE INDEX ifmatch_idempotency_arrived ON ifmatch_idempotency (arrived_ms);
    ",
    // 4: pessimistic locks shared by every replica (see `lock/shared`). Times come from the
    // database clock, so replicas whose clocks disagree still agree on expiry.
    "
    CREATE SEQUENCE ifmatch_lock_grant AS BIGINT MINVALUE 1;
    CREATE SEQUENCE ifmatch_lock_ticket AS BIGINT MINVALUE 1;
    CREATE TABLE ifmatch_locks (
        id TEXT PRIMARY KEY,
        token TEXT NOT NULL,
        owner TEXT,
        fencing BIGINT NOT NULL,
        ttl_ms BIGINT NOT NULL,
        granted_at TIMESTAMPTZ NOT NULL,
        expires_at TIMESTAMPTZ NOT NULL,
        ticket BIGINT
    );
    CREATE TABLE ifmatch_lock_waiters (
        ticket BIGINT PRIMARY KEY,
        id TEXT NOT NULL,
        owner TEXT,
        ttl_ms BIGINT NOT NULL,
        queued_at TIMESTAMPTZ NOT NULL,
        deadline TIMESTAMPTZ NOT NULL
    );
    CREATE INDEX ifmatch_lock_waiters_id ON ifmatch_lock_waiters (id, ticket);
    ",
    // 5: rate-limit buckets shared by every replica (see `rate_limit/shared.rs`): one row per
    // policy and client whose bucket is not full, with its theoretical arrival time (GCRA) in
    // nanoseconds of the database clock. No index on `tat_ns`, so that updates stay HOT.
    // UNLOGGED: no WAL per request; a crash (or a failover) empties it, which refills every
    // bucket, the same as a restart of a server keeping its buckets in memory.
    "
    CREATE UNLOGGED TABLE ifmatch_rate_limits (
        policy TEXT NOT NULL,
        client TEXT NOT NULL,
        tat_ns BIGINT NOT NULL,
        now_ns BIGINT NOT NULL,
        admitted BOOLEAN NOT NULL,
        PRIMARY KEY (policy, client)
    );
    ",
    // 6: interactive transactions shared by every replica (see `txn/shared`). `open` rows
    // carry the staged state, ended ones how they ended (remembered until `forget_at`); times
    // come from the database clock.
    "
    CREATE TABLE ifmatch_txns (
        id TEXT PRIMARY KEY,
        client TEXT NOT NULL,
        ttl_ms BIGINT NOT NULL,
        expires_at TIMESTAMPTZ NOT NULL,
        open BOOLEAN NOT NULL,
        state TEXT NOT NULL,
        forget_at TIMESTAMPTZ
    );
    CREATE INDEX ifmatch_txns_open ON ifmatch_txns (open, client);
    ",
];

/// Brings the schema up to date and returns the database's tag epoch.
pub(super) fn migrate(client: &mut Client) -> Result<String, StoreError> {
    let mut tx = client.transaction()?;
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, $2)",
        &[&LOCK_SPACE, &MIGRATION_LOCK],
    )?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS ifmatch_schema_migrations (
             version INTEGER PRIMARY KEY,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
         )",
    )?;
    let applied: i32 = tx
        .query_one(
            "SELECT coalesce(max(version), 0) FROM ifmatch_schema_migrations",
            &[],
        )?
        .get(0);
    let known = i32::try_from(MIGRATIONS.len()).unwrap_or(i32::MAX);
    if applied > known {
        return Err(StoreError::from_message(&format!(
            "postgres: the database schema is at version {applied}, newer than this server \
             knows ({known}); run a newer ifmatch-server"
        )));
    }
    for (number, sql) in (1..=known)
        .zip(MIGRATIONS)
        .skip_while(|(n, _)| *n <= applied)
    {
        tx.batch_execute(sql)?;
        tx.execute(
            "INSERT INTO ifmatch_schema_migrations (version) VALUES ($1)",
            &[&number],
        )?;
    }
    tx.execute(
        "INSERT INTO ifmatch_meta (key, value) VALUES ('epoch', $1) ON CONFLICT (key) DO NOTHING",
        &[&random_hex()],
    )?;
    // The document count is kept up to date by every write from here on (see
    // `Ctx::settle_count`); a database made before it existed is counted once.
    tx.execute(
        "INSERT INTO ifmatch_meta (key, value)
         SELECT 'documents', count(*)::text FROM ifmatch_items
         ON CONFLICT (key) DO NOTHING",
        &[],
    )?;
    let epoch: String = tx
        .query_one("SELECT value FROM ifmatch_meta WHERE key = 'epoch'", &[])?
        .get(0);
    tx.commit()?;
    Ok(epoch)
}

/// The schema version this build migrates to.
#[cfg(test)]
pub(super) fn latest() -> i32 {
    i32::try_from(MIGRATIONS.len()).unwrap_or(i32::MAX)
}
