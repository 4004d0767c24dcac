//! PostgreSQL under the storage suite (`suite.rs` instantiates every case with
//! [`postgres_store`]), and what only a shared database has: several stores (replicas) on one
//! database, concurrent schema migrations, tags across restarts.
//!
//! One throwaway cluster serves the whole test process (see `postgres/cluster.rs`); each test
//! gets a database of its own. Without PostgreSQL installed every test here prints why it is
//! skipped and passes, except under `CI=true`, where that is a failure.

use std::collections::HashSet;
use std::sync::{Arc, Barrier, OnceLock};

use super::postgres::cluster::{Cluster, FAST_UNSAFE};
use super::suite::write;
use super::*;

/// The cluster of this test process, or `None` when PostgreSQL is not installed.
fn cluster() -> Option<&'static Cluster> {
    static CLUSTER: OnceLock<Option<Cluster>> = OnceLock::new();
    CLUSTER
        .get_or_init(|| Cluster::start_or_skip("the PostgreSQL storage tests", FAST_UNSAFE))
        .as_ref()
}

/// A fresh database's URL, on the one cluster of this test process (other modules' PostgreSQL
/// tests use it too, so that the process runs one cluster).
pub(crate) fn database() -> Option<String> {
    cluster().map(Cluster::create_database)
}

/// A fresh database with the schema migrated (by opening a store on it), for the tests of
/// what else lives in the database: idempotency records, the conflict log, rate limits. Blocks.
pub(crate) fn migrated_database() -> Option<::postgres::Config> {
    let url = database()?;
    let config = super::postgres::parse(&url).unwrap();
    PostgresStore::open(&config, POLICY, system_clock()).unwrap();
    Some(config)
}

fn open_store(url: &str, policy: HistoryPolicy, clock: Arc<dyn Clock>) -> PostgresStore {
    let config = super::postgres::parse(url).unwrap();
    PostgresStore::open(&config, policy, clock).unwrap()
}

/// A store on a fresh database, for the suite's cases.
pub(super) fn postgres_store(
    policy: HistoryPolicy,
    clock: Arc<dyn Clock>,
) -> Option<((), Box<dyn Store>)> {
    let url = database()?;
    Some(((), Box::new(open_store(&url, policy, clock))))
}

/// A store on a fresh database holding at most `max` documents.
pub(super) fn capped_store(max: u64) -> Option<PostgresStore> {
    let url = database()?;
    Some(open_store(&url, POLICY, system_clock()).with_max_documents(max))
}

const POLICY: HistoryPolicy = HistoryPolicy {
    max_versions: 1000,
    max_age_ms: 0,
    tombstone_ttl_ms: u64::MAX,
};

fn replicas(n: usize) -> Option<(String, Vec<Arc<PostgresStore>>)> {
    let url = database()?;
    let stores = (0..n)
        .map(|_| Arc::new(open_store(&url, POLICY, system_clock())))
        .collect();
    Some((url, stores))
}

#[test]
fn concurrent_creates_of_one_id_through_several_replicas_have_exactly_one_winner() {
    let Some((_, stores)) = replicas(3) else {
        return;
    };
    for round in 0..20 {
        let id = format!("doc{round}");
        let start = Arc::new(Barrier::new(6));
        let winners: Vec<bool> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..6)
                .map(|writer| {
                    let store = Arc::clone(&stores[writer % stores.len()]);
                    let (start, id) = (Arc::clone(&start), id.clone());
                    scope.spawn(move || {
                        start.wait();
                        // `If-None-Match: *`: create only when absent.
                        let body = format!("{{\"writer\":{writer}}}").into_bytes();
                        let applied = store
                            .apply(&id, &mut |current| match current {
                                None => Decision::Write(body.clone()),
                                Some(_) => Decision::Abort,
                            })
                            .unwrap();
                        matches!(applied, Applied::Written { created: true, .. })
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(
            winners.iter().filter(|won| **won).count(),
            1,
            "round {round}: {winners:?}"
        );
        assert_eq!(stores[0].history(&id).unwrap().unwrap().len(), 1);
    }
}

fn count(store: &dyn Store, id: &str) -> i64 {
    store.get(id).unwrap().map_or(0, |doc| {
        String::from_utf8(doc.body).unwrap().parse().unwrap()
    })
}

#[test]
fn compare_and_swap_through_several_replicas_loses_no_update() {
    let Some((_, stores)) = replicas(3) else {
        return;
    };
    const WRITERS: usize = 6;
    const INCREMENTS: usize = 30;
    let tags = std::sync::Mutex::new(HashSet::new());
    std::thread::scope(|scope| {
        for writer in 0..WRITERS {
            let store = Arc::clone(&stores[writer % stores.len()]);
            let tags = &tags;
            scope.spawn(move || {
                for _ in 0..INCREMENTS {
                    // Read, then write only if nobody wrote since (If-Match); retry otherwise.
                    loop {
                        let seen = store.get("counter").unwrap();
                        let next = seen.as_ref().map_or(0, |doc| {
                            std::str::from_utf8(&doc.body)
                                .unwrap()
                                .parse::<i64>()
                                .unwrap()
                        }) + 1;
                        let applied = store
                            .apply("counter", &mut |current| {
                                if current.map(|d| &d.etag) == seen.as_ref().map(|d| &d.etag) {
                                    Decision::Write(next.to_string().into_bytes())
                                } else {
                                    Decision::Abort
                                }
                            })
                            .unwrap();
                        if let Applied::Written { doc, .. } = applied {
                            assert!(tags.lock().unwrap().insert(doc.etag.to_string()));
                            break;
                        }
                    }
                }
            });
        }
    });
    let expected = i64::try_from(WRITERS * INCREMENTS).unwrap();
    for store in &stores {
        assert_eq!(count(&**store, "counter"), expected);
    }
}

#[test]
fn units_of_work_on_several_replicas_are_serializable() {
    let Some((_, stores)) = replicas(2) else {
        return;
    };
    write(&*stores[0], "a", "100");
    write(&*stores[0], "b", "0");
    // Each unit moves 1 from a to b; single writes on the other replica add 1 to b and take it
    // back from a, through apply. The sum a + b never changes if nothing is lost.
    std::thread::scope(|scope| {
        for replica in 0..2 {
            let store = Arc::clone(&stores[replica]);
            scope.spawn(move || {
                for _ in 0..25 {
                    store
                        .atomically(&mut |txn| {
                            let a = txn.get("a")?.unwrap();
                            let b = txn.get("b")?.unwrap();
                            let parse = |doc: &Document| -> i64 {
                                std::str::from_utf8(&doc.body).unwrap().parse().unwrap()
                            };
                            txn.write("a", (parse(&a) - 1).to_string().into_bytes())?;
                            txn.write("b", (parse(&b) + 1).to_string().into_bytes())?;
                            Ok(Finish::Commit)
                        })
                        .unwrap();
                }
            });
            let store = Arc::clone(&stores[1 - replica]);
            scope.spawn(move || {
                for _ in 0..25 {
                    for (id, delta) in [("b", -1), ("a", 1)] {
                        store
                            .apply(id, &mut |current| {
                                let n: i64 = std::str::from_utf8(&current.unwrap().body)
                                    .unwrap()
                                    .parse()
                                    .unwrap();
                                Decision::Write((n + delta).to_string().into_bytes())
                            })
                            .unwrap();
                    }
                }
            });
        }
    });
    let (a, b) = (count(&*stores[1], "a"), count(&*stores[1], "b"));
    assert_eq!((a, b), (100, 0), "50 moves each way");
}

#[test]
fn tags_are_never_reused_across_restarts_and_replicas() {
    let Some(url) = database() else {
        return;
    };
    let mut seen = HashSet::new();
    let mut epochs = HashSet::new();
    for _restart in 0..3 {
        let first = open_store(&url, POLICY, system_clock());
        let second = open_store(&url, POLICY, system_clock());
        for store in [&first, &second] {
            let doc = write(store, "doc", "{}");
            epochs.insert(doc.etag.opaque().rsplit_once('-').unwrap().0.to_owned());
            assert!(seen.insert(doc.etag.to_string()), "tag {} reused", doc.etag);
            store
                .atomically(&mut |txn| {
                    seen.insert(txn.write("doc", b"{}".to_vec())?.doc.etag.to_string());
                    Ok(Finish::Rollback)
                })
                .unwrap();
        }
        assert_eq!(first.get("doc").unwrap(), second.get("doc").unwrap());
    }
    assert_eq!(epochs.len(), 1, "one epoch per database: {epochs:?}");
}

#[test]
fn replicas_starting_together_migrate_the_schema_once() {
    let Some(url) = database() else {
        return;
    };
    let start = Barrier::new(4);
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                start.wait();
                open_store(&url, POLICY, system_clock());
            });
        }
    });
    let mut client = ::postgres::Client::connect(&url, ::postgres::NoTls).unwrap();
    let versions: Vec<i32> = client
        .query(
            "SELECT version FROM ifmatch_schema_migrations ORDER BY version",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(
        versions,
        (1..=super::postgres::latest_schema()).collect::<Vec<_>>()
    );
    let epochs: i64 = client
        .query_one("SELECT count(*) FROM ifmatch_meta WHERE key = 'epoch'", &[])
        .unwrap()
        .get(0);
    assert_eq!(epochs, 1);
}

#[test]
fn a_database_from_a_newer_server_is_refused_with_a_clear_error() {
    let Some(url) = database() else {
        return;
    };
    drop(open_store(&url, POLICY, system_clock()));
    let mut client = ::postgres::Client::connect(&url, ::postgres::NoTls).unwrap();
    client
        .execute(
            "INSERT INTO ifmatch_schema_migrations (version) VALUES (999)",
            &[],
        )
        .unwrap();
    drop(client);
    let err = open(&Storage::Postgres(url), POLICY, 0, PgBudget::DEFAULT)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("schema is at version 999"), "{err}");
}

#[test]
fn an_unreachable_database_fails_cleanly_without_printing_the_password() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://alice:s3cret@127.0.0.1:{port}/items?connect_timeout=5");
    let err = open(&Storage::Postgres(url), POLICY, 0, PgBudget::DEFAULT)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.starts_with(&format!(
            "cannot open the PostgreSQL database alice@127.0.0.1:{port}/items: postgres: error connecting to server"
        )),
        "{err}"
    );
    assert!(!err.contains("s3cret"), "{err}");
}

#[test]
fn history_is_shared_by_the_replicas() {
    let Some((_, stores)) = replicas(2) else {
        return;
    };
    let first = write(&*stores[0], "doc", "1");
    let second = write(&*stores[1], "doc", "2");
    let history = stores[0].history("doc").unwrap().unwrap();
    assert_eq!(
        history.iter().map(|v| v.version).collect::<Vec<_>>(),
        [second.version(), first.version()]
    );
    assert_eq!(
        stores[1].version("doc", first.version()).unwrap(),
        Lookup::Found(first)
    );
}

#[test]
fn a_cluster_that_cannot_start_fails_with_its_log_and_leaves_no_directory() {
    if super::postgres::cluster::bindir().is_none() {
        eprintln!("SKIPPED: PostgreSQL is not installed");
        return;
    }
    let failed = std::panic::catch_unwind(|| {
        Cluster::start_or_skip("a broken cluster", "-c no_such_setting=1")
    })
    .err()
    .expect("a server with an unknown setting does not start");
    let message = failed.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("did not start in 3 attempts"), "{message}");
    assert!(message.contains("no_such_setting"), "{message}");
    let prefix = format!("ifmatch-pg-{}-", std::process::id());
    let left: Vec<_> = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.starts_with(&prefix))
        .collect();
    // The shared cluster of the other tests may be running; a failed one leaves nothing.
    assert!(left.len() <= 2, "{left:?}");
}

#[test]
fn concurrent_creates_through_several_replicas_stop_exactly_at_the_cap() {
    let Some((_, stores)) = replicas(3) else {
        return;
    };
    let stores: Vec<Arc<dyn Store>> = stores
        .into_iter()
        .map(|store| {
            let store = Arc::into_inner(store).unwrap().with_max_documents(10);
            Arc::new(store) as Arc<dyn Store>
        })
        .collect();
    let refused = super::suite_cap::concurrent_creates(&stores, 8);
    assert_eq!(refused, 3 * 8 - 10, "no replica overshoots the cap");
    assert_eq!(stores[0].list().unwrap().len(), 10);
    // A delete on one replica makes room on another.
    let (id, _) = stores[0].list().unwrap().remove(0);
    stores[1].apply(&id, &mut |_| Decision::Delete).unwrap();
    stores[2].insert_new(b"{}".to_vec()).unwrap();
    let err = stores[0].insert_new(b"{}".to_vec()).unwrap_err();
    assert_eq!(err.document_cap(), Some(10));
}
