//! PostgreSQL storage, shared by any number of server processes (replicas) on one database.
//!
//! - **Conditional writes**: [`Store::apply_as`] runs in one READ COMMITTED transaction that
//!   first takes the document's transaction-scoped advisory lock
//!   (`pg_advisory_xact_lock(hashtextextended(id, 0))`), then reads, decides and writes. Every
//!   write path on every replica takes that lock, so compare-and-swap is atomic across
//!   processes, and it covers ids that do not exist yet: two replicas creating the same id take
//!   turns, and the second sees the first's document (exactly one `If-None-Match: *` winner).
//! - **Units of work** ([`Store::atomically_as`]: batches, transaction commits) first take one
//!   store-wide advisory lock, then lock each document on first touch. Why not SERIALIZABLE
//!   with a retry on `40001`: the work is interactive (its next id depends on what it read)
//!   and its callers run it once, so it cannot be replayed; and locking in a fixed order needs
//!   the ids up front. Holding the store-wide lock, a unit of work waits only for single-document
//!   writers, which never wait for anything, so no two writers can deadlock. Units of work run
//!   one at a time across replicas, as they do on one SQLite file.
//! - **Tags** are `"<epoch>-<generation>"`: the epoch is random per database (in `ifmatch_meta`),
//!   the generation comes from the sequence `ifmatch_generation`, which never hands a value out
//!   twice (not even to a rolled-back transaction), so tags are never reused across replicas,
//!   restarts or undone work.
//! - **History** is kept in `ifmatch_versions` and pruned by the policy in the write's own
//!   transaction (see `history.rs`); the schema is migrated at start (see `schema.rs`).

mod history;
mod listen;
pub(crate) mod pool;
mod schema;
mod txn;

#[cfg(test)]
pub(crate) mod cluster;

use std::cell::Cell;
use std::collections::HashSet;
use std::sync::Arc;

pub(crate) use self::listen::Listener;
use self::pool::Pool;
pub(crate) use self::txn::lock_id;
use self::txn::{read_doc, to_document, Ctx, PgTxn};
use super::{
    Applied, Clock, Decision, Document, Finish, HistoryPolicy, Lookup, Store, StoreError, Txn,
    VersionInfo, Written,
};

/// The first key of every advisory lock this store takes (`"IFMT"`), so they are told apart
/// from an application's own.
pub(crate) const LOCK_SPACE: i32 = 0x4946_4d54;
/// The advisory lock (in [`LOCK_SPACE`]) a unit of work holds.
const UNIT_OF_WORK_LOCK: i32 = 1;
/// Connections per store (per replica).
const POOL_SIZE: usize = 16;
/// How often (in generations) a write also sweeps out the history of deleted documents whose
/// tombstone expired and that nobody asked about since.
const SWEEP_EVERY: u64 = 1024;

/// Documents in a PostgreSQL database.
pub(crate) struct PostgresStore {
    epoch: String,
    policy: HistoryPolicy,
    clock: Arc<dyn Clock>,
    /// The most documents held at once (0: no cap), counted in `ifmatch_meta`.
    max_documents: u64,
    pool: Pool,
}

fn to_i64(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::from_message(&format!("{n} does not fit in a BIGINT")))
}

fn as_u64(n: i64) -> Result<u64, StoreError> {
    u64::try_from(n)
        .map_err(|_| StoreError::from_message(&format!("negative number {n} in database")))
}

/// Where `config` connects, without its password: `user@host:port/dbname`.
pub(crate) fn describe(config: &postgres::Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .zip(config.get_ports().iter().chain(std::iter::repeat(&5432)))
        .map(|(host, port)| match host {
            postgres::config::Host::Tcp(name) => format!("{name}:{port}"),
            postgres::config::Host::Unix(path) => format!("{}:{port}", path.display()),
        })
        .collect();
    format!(
        "{}@{}/{}",
        config.get_user().unwrap_or("(default user)"),
        if hosts.is_empty() {
            "localhost:5432".to_owned()
        } else {
            hosts.join(",")
        },
        config.get_dbname().unwrap_or("(default database)")
    )
}

/// The connection settings `url` gives.
pub(crate) fn parse(url: &str) -> Result<postgres::Config, StoreError> {
    url.parse().map_err(StoreError::from)
}

/// Where `url` connects, without its password (the URL's text when it does not parse).
pub(crate) fn describe_url(url: &str) -> String {
    parse(url).map_or_else(
        |_| "(a malformed URL)".to_owned(),
        |config| describe(&config),
    )
}

/// The schema version this build migrates to.
#[cfg(test)]
pub(crate) fn latest_schema() -> i32 {
    schema::latest()
}

impl PostgresStore {
    /// Connects to `url` (`postgres://…` or `postgresql://…`) and migrates the schema (pools at
    /// their default sizes: the tests' stores).
    #[cfg(test)]
    pub(crate) fn open(
        config: &postgres::Config,
        policy: HistoryPolicy,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StoreError> {
        Self::open_within(config, policy, clock, pool::Budget::DEFAULT)
    }

    /// [`PostgresStore::open`], its pool sized by the replica's connection `budget`.
    pub(crate) fn open_within(
        config: &postgres::Config,
        policy: HistoryPolicy,
        clock: Arc<dyn Clock>,
        budget: pool::Budget,
    ) -> Result<Self, StoreError> {
        let pool = Pool::new(config.clone(), budget.share(POOL_SIZE));
        // The client blocks on a runtime of its own, which must not run on an async worker
        // thread (the router is built inside one): connect and migrate on a thread of ours.
        std::thread::scope(|scope| {
            scope
                .spawn(move || {
                    let epoch = {
                        let mut conn = pool.get()?;
                        schema::migrate(&mut conn)?
                    };
                    Ok(Self {
                        epoch,
                        policy,
                        clock,
                        max_documents: 0,
                        pool,
                    })
                })
                .join()
                .unwrap_or_else(|_| Err(StoreError::from_message("postgres: connecting panicked")))
        })
    }

    /// Holds at most `max` documents (0: no cap); a write that would take the count past it
    /// fails with [`StoreError::full`] and is rolled back.
    pub(crate) fn with_max_documents(mut self, max: u64) -> Self {
        self.max_documents = max;
        self
    }

    fn ctx<'a>(&'a self, author: Option<&'a str>) -> Ctx<'a> {
        Ctx {
            store: self,
            author,
            now_ms: self.clock.now_ms(),
            sweep_due: Cell::new(false),
            added: Cell::new(0),
        }
    }

    /// Sweeps expired tombstones when a write of `ctx` asked for it; best effort (a failure is
    /// logged, and the next sweep, or a read of that history, prunes instead).
    fn sweep_if_due(&self, ctx: &Ctx<'_>) {
        if !ctx.sweep_due.get() {
            return;
        }
        let swept = self.pool.get().and_then(|mut conn| {
            let mut tx = conn.transaction()?;
            history::sweep(&mut tx, self.policy, ctx.now_ms)?;
            tx.commit()?;
            Ok(())
        });
        if let Err(err) = swept {
            tracing::warn!(error = %err, "sweeping expired tombstones failed; retried later");
        }
    }
}

impl Store for PostgresStore {
    fn list(&self) -> Result<Vec<(String, Document)>, StoreError> {
        let rows = self.pool.get()?.query(
            "SELECT id, etag, body, at_ms FROM ifmatch_items ORDER BY created",
            &[],
        )?;
        rows.into_iter()
            .map(|row| Ok((row.get(0), to_document(row.get(1), row.get(2), row.get(3))?)))
            .collect()
    }

    fn get(&self, id: &str) -> Result<Option<Document>, StoreError> {
        let row = self.pool.get()?.query_opt(
            "SELECT etag, body, at_ms FROM ifmatch_items WHERE id = $1",
            &[&id],
        )?;
        row.map(|row| to_document(row.get(0), row.get(1), row.get(2)))
            .transpose()
    }

    fn insert_new_as(
        &self,
        author: Option<&str>,
        body: Vec<u8>,
    ) -> Result<(String, Document), StoreError> {
        let ctx = self.ctx(author);
        let mut conn = self.pool.get()?;
        let mut tx = conn.transaction()?;
        let id = ctx.fresh_id(&mut tx)?;
        let written = ctx.store_doc(&mut tx, &id, body, true)?;
        ctx.settle_count(&mut tx)?;
        tx.commit()?;
        self.sweep_if_due(&ctx);
        Ok((id, written.doc))
    }

    fn apply_as(
        &self,
        id: &str,
        author: Option<&str>,
        decide: &mut dyn FnMut(Option<&Document>) -> Decision,
    ) -> Result<Applied, StoreError> {
        let ctx = self.ctx(author);
        let mut conn = self.pool.get()?;
        let mut tx = conn.transaction()?;
        lock_id(&mut tx, id)?;
        let current = read_doc(&mut tx, id)?;
        let applied = match decide(current.as_ref()) {
            Decision::Abort => return Ok(Applied::Aborted { current }),
            Decision::Delete if current.is_none() => return Ok(Applied::Aborted { current }),
            Decision::Delete => {
                ctx.delete_doc(&mut tx, id)?;
                Applied::Deleted
            }
            Decision::Write(body) => {
                let Written { doc, created } =
                    ctx.store_doc(&mut tx, id, body, current.is_none())?;
                Applied::Written { doc, created }
            }
        };
        ctx.settle_count(&mut tx)?;
        tx.commit()?;
        self.sweep_if_due(&ctx);
        Ok(applied)
    }

    fn atomically_as(
        &self,
        author: Option<&str>,
        work: &mut dyn FnMut(&mut dyn Txn) -> Result<Finish, StoreError>,
    ) -> Result<Finish, StoreError> {
        let ctx = self.ctx(author);
        let mut conn = self.pool.get()?;
        let mut tx = conn.transaction()?;
        tx.execute(
            "SELECT pg_advisory_xact_lock($1, $2)",
            &[&LOCK_SPACE, &UNIT_OF_WORK_LOCK],
        )?;
        let mut outcome = work(&mut PgTxn {
            ctx: &ctx,
            tx: &mut tx,
            locked: HashSet::new(),
        });
        if outcome
            .as_ref()
            .is_ok_and(|finish| *finish == Finish::Commit)
        {
            if let Err(err) = ctx.settle_count(&mut tx) {
                outcome = Err(err);
            }
        }
        match outcome {
            Ok(Finish::Commit) => {
                tx.commit()?;
                self.sweep_if_due(&ctx);
            }
            Ok(Finish::Rollback) => tx.rollback()?,
            // The failure is what the caller needs to hear; dropping the transaction rolls
            // it back.
            Err(_) => drop(tx),
        }
        outcome
    }

    fn policy(&self) -> HistoryPolicy {
        self.policy
    }

    fn history_versions(&self) -> Result<u64, StoreError> {
        let kept: i64 = self
            .pool
            .get()?
            .query_one("SELECT count(*) FROM ifmatch_versions", &[])?
            .get(0);
        Ok(u64::try_from(kept).unwrap_or(0))
    }

    fn history(&self, id: &str) -> Result<Option<Vec<VersionInfo>>, StoreError> {
        let mut conn = self.pool.get()?;
        let mut tx = conn.transaction()?;
        lock_id(&mut tx, id)?;
        history::prune(&mut tx, id, self.policy, self.clock.now_ms())?;
        let infos = history::list(&mut tx, &self.epoch, id)?;
        tx.commit()?;
        Ok((!infos.is_empty()).then_some(infos))
    }

    fn version(&self, id: &str, version: u64) -> Result<Lookup, StoreError> {
        let mut conn = self.pool.get()?;
        let mut tx = conn.transaction()?;
        lock_id(&mut tx, id)?;
        history::prune(&mut tx, id, self.policy, self.clock.now_ms())?;
        let lookup = history::read(&mut tx, &self.epoch, id, version)?;
        tx.commit()?;
        Ok(lookup)
    }
}
