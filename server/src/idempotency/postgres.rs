//! Idempotency records in PostgreSQL (`ifmatch_idempotency`), shared by every replica of one
//! database: a retry that reaches another replica is replayed, refused as a mismatch (422) or
//! as in flight (409) exactly as on one server.
//!
//! The claim is one `INSERT … ON CONFLICT DO NOTHING`: of the replicas that begin one key at
//! once, exactly one inserts the in-flight row, the others find it. Expiry (`--idempotency-ttl`)
//! runs before each claim; the count (`--idempotency-max-keys`) and byte budgets
//! (`--idempotency-max-bytes`) evict the oldest records (by arrival ticket) after each claim
//! and completion, as the memory store does. Every method blocks: call them off the async
//! workers.

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use postgres::Transaction;

use super::key::{Client, Fingerprint, Scope};
use super::store::{Begin, IdempotencyStore, Limits, StoredResponse, Ticket};
use crate::storage::{PgBudget, PgPool, StoreError};

/// Connections for idempotency records, per replica.
const POOL_SIZE: usize = 4;

/// The records of one database.
pub(crate) struct PostgresStore {
    limits: Limits,
    pool: PgPool,
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The client as the table keys it: `n:<name>`, `a:<address>` or `u`.
fn client_key(client: &Client) -> String {
    match client {
        Client::Named(name) => format!("n:{name}"),
        Client::Address(ip) => format!("a:{ip}"),
        Client::Unknown => "u".to_owned(),
    }
}

impl PostgresStore {
    /// Records in the database `config` connects to (whose schema the document store migrated).
    pub(crate) fn new(config: &postgres::Config, limits: Limits, budget: PgBudget) -> Self {
        Self {
            limits: Limits {
                max_keys: limits.max_keys.max(1),
                ..limits
            },
            pool: PgPool::new(config.clone(), budget.share(POOL_SIZE)),
        }
    }

    fn ttl_ms(&self) -> i64 {
        i64::try_from(self.limits.ttl.as_millis()).unwrap_or(i64::MAX)
    }

    fn try_begin(
        &self,
        scope: &Scope,
        fingerprint: Fingerprint,
        now_ms: u64,
    ) -> Result<Begin, StoreError> {
        let client = client_key(&scope.client);
        let fp = fingerprint.to_bytes().to_vec();
        let mut conn = self.pool.get()?;
        // A record abandoned between the claim and the look is claimed again.
        for _ in 0..3 {
            let mut tx = conn.transaction()?;
            tx.execute(
                "DELETE FROM ifmatch_idempotency WHERE arrived_ms <= $1::BIGINT - $2::BIGINT",
                &[&to_i64(now_ms), &self.ttl_ms()],
            )?;
            let claimed = tx.query_opt(
                "INSERT INTO ifmatch_idempotency
                     (client, key, fingerprint, ticket, arrived_ms, bytes)
                 VALUES ($1, $2, $3, nextval('ifmatch_idempotency_ticket'), $4, $5)
                 ON CONFLICT (client, key) DO NOTHING RETURNING ticket",
                &[
                    &client,
                    &scope.key,
                    &fp,
                    &to_i64(now_ms),
                    &to_i64(scope.heap_bytes() as u64),
                ],
            )?;
            if let Some(row) = claimed {
                let ticket: i64 = row.get(0);
                self.evict(&mut tx)?;
                tx.commit()?;
                return Ok(Begin::Fresh(Ticket(u64::try_from(ticket).unwrap_or(0))));
            }
            let found = tx.query_opt(
                "SELECT fingerprint, status, header_names, header_values, body
                 FROM ifmatch_idempotency WHERE client = $1 AND key = $2",
                &[&client, &scope.key],
            )?;
            tx.commit()?;
            let Some(row) = found else { continue };
            if row.get::<_, &[u8]>(0) != fp.as_slice() {
                return Ok(Begin::Mismatch);
            }
            let Some(status) = row.get::<_, Option<i16>>(1) else {
                return Ok(Begin::InFlight);
            };
            return stored(status, row.get(2), row.get(3), row.get(4))
                .map(|stored| Begin::Replay(Arc::new(stored)));
        }
        Err(StoreError::from_message(
            "postgres: an idempotency record kept changing under its claim",
        ))
    }

    /// Keeps the newest `max_keys` records and, of those, the newest within `max_bytes`.
    fn evict(&self, tx: &mut Transaction<'_>) -> Result<(), StoreError> {
        tx.execute(
            "DELETE FROM ifmatch_idempotency WHERE ticket <= (
                 SELECT ticket FROM ifmatch_idempotency ORDER BY ticket DESC OFFSET $1 LIMIT 1)",
            &[&to_i64(self.limits.max_keys as u64)],
        )?;
        tx.execute(
            "DELETE FROM ifmatch_idempotency WHERE ticket IN (
                 SELECT ticket FROM (
                     SELECT ticket, sum(bytes) OVER (ORDER BY ticket DESC)::BIGINT AS running
                     FROM ifmatch_idempotency) newest_first
                 WHERE running > $1)",
            &[&to_i64(self.limits.max_bytes as u64)],
        )?;
        Ok(())
    }

    fn try_complete(
        &self,
        scope: &Scope,
        ticket: Ticket,
        response: &StoredResponse,
    ) -> Result<(), StoreError> {
        let size = response.bytes();
        if size > self.limits.max_bytes {
            return self.try_abandon(scope, ticket);
        }
        let names: Vec<String> = response
            .headers
            .iter()
            .map(|(name, _)| name.as_str().to_owned())
            .collect();
        let values: Vec<Vec<u8>> = response
            .headers
            .iter()
            .map(|(_, value)| value.as_bytes().to_vec())
            .collect();
        let status = i16::try_from(response.status.as_u16()).unwrap_or(500);
        let mut conn = self.pool.get()?;
        let mut tx = conn.transaction()?;
        tx.execute(
            "UPDATE ifmatch_idempotency
             SET status = $4, header_names = $5, header_values = $6, body = $7,
                 bytes = bytes + $8
             WHERE client = $1 AND key = $2 AND ticket = $3",
            &[
                &client_key(&scope.client),
                &scope.key,
                &to_i64(ticket.0),
                &status,
                &names,
                &values,
                &response.body.as_ref(),
                &to_i64(size as u64),
            ],
        )?;
        self.evict(&mut tx)?;
        tx.commit()?;
        Ok(())
    }

    fn try_abandon(&self, scope: &Scope, ticket: Ticket) -> Result<(), StoreError> {
        self.pool.get()?.execute(
            "DELETE FROM ifmatch_idempotency WHERE client = $1 AND key = $2 AND ticket = $3",
            &[&client_key(&scope.client), &scope.key, &to_i64(ticket.0)],
        )?;
        Ok(())
    }
}

/// A stored answer from its columns.
fn stored(
    status: i16,
    names: Option<Vec<String>>,
    values: Option<Vec<Vec<u8>>>,
    body: Option<Vec<u8>>,
) -> Result<StoredResponse, StoreError> {
    let bad = || StoreError::from_message("postgres: a malformed idempotency record");
    let status = u16::try_from(status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or_else(bad)?;
    let headers = names
        .unwrap_or_default()
        .into_iter()
        .zip(values.unwrap_or_default())
        .map(|(name, value)| {
            Ok((
                HeaderName::try_from(name).map_err(|_| bad())?,
                HeaderValue::try_from(value).map_err(|_| bad())?,
            ))
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(StoredResponse {
        status,
        headers,
        body: Bytes::from(body.unwrap_or_default()),
    })
}

impl IdempotencyStore for PostgresStore {
    fn begin(&self, scope: &Scope, fingerprint: Fingerprint, now_ms: u64) -> Begin {
        self.try_begin(scope, fingerprint, now_ms)
            .unwrap_or_else(|err| {
                tracing::error!(error = %err, "idempotency records unreachable");
                Begin::Unavailable
            })
    }

    fn complete(&self, scope: &Scope, ticket: Ticket, response: StoredResponse, _now_ms: u64) {
        if let Err(err) = self.try_complete(scope, ticket, &response) {
            // The record stays in flight until it expires: retries get 409, never a second
            // application.
            tracing::error!(error = %err, "storing an idempotent answer failed");
        }
    }

    fn abandon(&self, scope: &Scope, ticket: Ticket) {
        if let Err(err) = self.try_abandon(scope, ticket) {
            tracing::error!(error = %err, "forgetting an abandoned idempotency record failed");
        }
    }

    fn blocks(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::super::suite::Probe;
    use super::*;
    use crate::storage::pg_migrated_database;

    impl Probe for PostgresStore {
        fn usage(&self) -> (usize, usize) {
            let row = self
                .pool
                .get()
                .unwrap()
                .query_one(
                    "SELECT count(*), coalesce(sum(bytes), 0)::BIGINT FROM ifmatch_idempotency",
                    &[],
                )
                .unwrap();
            let (count, bytes): (i64, i64) = (row.get(0), row.get(1));
            (count as usize, bytes as usize)
        }
    }

    /// Records on a fresh database (the document store migrates its schema), or `None`
    /// without PostgreSQL.
    fn store(max_keys: usize, max_bytes: usize) -> Option<PostgresStore> {
        let config = pg_migrated_database()?;
        let limits = Limits {
            ttl: std::time::Duration::from_secs(60),
            max_keys,
            max_bytes,
        };
        Some(PostgresStore::new(&config, limits, PgBudget::DEFAULT))
    }

    crate::idempotency_suite!(store);
}
