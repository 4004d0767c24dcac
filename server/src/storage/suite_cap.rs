//! The document cap (`--max-documents`), on every storage: creates stop at the cap with
//! [`StoreError::full`], updates and deletes still work, deletes free room, and a unit of work
//! is judged by what it leaves behind.

use std::sync::Arc;

use super::suite::write;
use super::*;

fn create(store: &dyn Store, id: &str) -> Result<Applied, StoreError> {
    store.apply(id, &mut |_| Decision::Write(b"{}".to_vec()))
}

fn ids(store: &dyn Store) -> Vec<String> {
    store
        .list()
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect()
}

/// `store` holds at most 3 documents.
pub(super) fn creates_stop_at_the_cap_and_deletes_free_room(store: &dyn Store) {
    write(store, "a", "1");
    store.insert_new(b"{}".to_vec()).unwrap();
    write(store, "c", "1");

    let err = store.insert_new(b"{}".to_vec()).unwrap_err();
    assert_eq!(err.document_cap(), Some(3), "{err}");
    let err = create(store, "d").unwrap_err();
    assert_eq!(err.document_cap(), Some(3), "{err}");
    assert_eq!(
        store.get("d").unwrap(),
        None,
        "nothing of a refused create is stored"
    );
    assert_eq!(store.history("d").unwrap(), None, "nor its history");
    assert_eq!(ids(store).len(), 3);

    // A full store still takes updates of what it holds.
    let updated = write(store, "c", "2");
    assert_eq!(updated.body, b"2");

    assert_eq!(
        store.apply("a", &mut |_| Decision::Delete).unwrap(),
        Applied::Deleted
    );
    assert!(matches!(
        create(store, "d").unwrap(),
        Applied::Written { created: true, .. }
    ));
    assert_eq!(create(store, "e").unwrap_err().document_cap(), Some(3));
    assert_eq!(ids(store).len(), 3);
}

/// `store` holds at most 3 documents.
pub(super) fn a_unit_of_work_is_judged_by_what_it_leaves_behind(store: &dyn Store) {
    write(store, "a", "1");
    write(store, "b", "1");
    write(store, "c", "1");

    // As many deletes as creates: fits in a full store, whatever the order.
    let finish = store
        .atomically(&mut |txn| {
            txn.write("x", b"{}".to_vec())?;
            txn.delete("a")?;
            Ok(Finish::Commit)
        })
        .unwrap();
    assert_eq!(finish, Finish::Commit);
    assert_eq!(ids(store), ["b", "c", "x"]);

    // One more than it deletes: refused as a whole, nothing of it kept.
    let before = store.list().unwrap();
    let err = store
        .atomically(&mut |txn| {
            txn.delete("b")?;
            txn.write("b", b"2".to_vec())?;
            txn.write("y", b"{}".to_vec())?;
            txn.insert_new(b"{}".to_vec())?;
            txn.delete("c")?;
            Ok(Finish::Commit)
        })
        .unwrap_err();
    assert_eq!(err.document_cap(), Some(3), "{err}");
    assert_eq!(store.list().unwrap(), before);
    assert_eq!(store.history("y").unwrap(), None);

    // The count is right after the refusal: one delete makes room for exactly one create.
    assert_eq!(
        store.apply("b", &mut |_| Decision::Delete).unwrap(),
        Applied::Deleted
    );
    create(store, "y").unwrap();
    assert_eq!(create(store, "z").unwrap_err().document_cap(), Some(3));
}

/// `store` holds at most 3 documents; a rolled-back unit of work gives its creates back.
pub(super) fn rolled_back_creates_do_not_count(store: &dyn Store) {
    for _ in 0..5 {
        let finish = store
            .atomically(&mut |txn| {
                txn.write("a", b"{}".to_vec())?;
                txn.write("b", b"{}".to_vec())?;
                Ok(Finish::Rollback)
            })
            .unwrap();
        assert_eq!(finish, Finish::Rollback);
    }
    write(store, "a", "1");
    write(store, "b", "1");
    write(store, "c", "1");
    assert_eq!(create(store, "d").unwrap_err().document_cap(), Some(3));
}

/// Without a cap (0) nothing is refused.
#[test]
fn zero_means_no_cap() {
    assert!(fits(0, 5, 6));
    assert!(fits(3, 2, 3));
    assert!(!fits(3, 3, 4));
    // Over the cap (it was lowered): what does not add documents still fits.
    assert!(fits(3, 5, 5));
    assert!(fits(3, 5, 4));
    assert!(!fits(3, 5, 6));
    let store = MemoryStore::new(POLICY, system_clock()).with_max_documents(0);
    for n in 0..50 {
        write(&store, &format!("doc{n}"), "1");
    }
    assert_eq!(ids(&store).len(), 50);
}

const POLICY: HistoryPolicy = HistoryPolicy {
    max_versions: 10,
    max_age_ms: 0,
    tombstone_ttl_ms: u64::MAX,
};

fn sqlite_at(path: &std::path::Path, max: u64) -> SqliteStore {
    SqliteStore::open(path, POLICY, system_clock())
        .unwrap()
        .with_max_documents(max)
}

macro_rules! cap_cases {
    ($($name:ident),*) => {
        mod memory {
            $(#[test]
            fn $name() {
                let store = super::MemoryStore::new(super::POLICY, super::system_clock())
                    .with_max_documents(3);
                super::$name(&store);
            })*
        }
        mod sqlite {
            $(#[test]
            fn $name() {
                let dir = tempfile::tempdir().unwrap();
                super::$name(&super::sqlite_at(&dir.path().join("items.db"), 3));
            })*
        }
        mod postgres {
            $(#[test]
            fn $name() {
                let Some(store) = super::super::suite_postgres::capped_store(3) else {
                    return;
                };
                super::$name(&store);
            })*
        }
    };
}

cap_cases!(
    creates_stop_at_the_cap_and_deletes_free_room,
    a_unit_of_work_is_judged_by_what_it_leaves_behind,
    rolled_back_creates_do_not_count
);

#[test]
fn sqlite_keeps_the_count_across_reopen_and_counts_an_older_file_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("items.db");
    {
        let store = sqlite_at(&path, 0);
        for id in ["a", "b", "c"] {
            write(&store, id, "1");
        }
    }
    assert_eq!(
        create(&sqlite_at(&path, 3), "d")
            .unwrap_err()
            .document_cap(),
        Some(3)
    );
    // A file from before the count existed has no count row: it is counted at open.
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute("DELETE FROM ifmatch_meta WHERE key = 'documents'", [])
        .unwrap();
    let store = sqlite_at(&path, 4);
    create(&store, "d").unwrap();
    assert_eq!(create(&store, "e").unwrap_err().document_cap(), Some(4));
}

#[test]
fn a_memory_store_under_concurrent_creates_stops_exactly_at_the_cap() {
    let store = Arc::new(MemoryStore::new(POLICY, system_clock()).with_max_documents(10));
    let stores: Vec<Arc<dyn Store>> = (0..4).map(|_| Arc::clone(&store) as _).collect();
    let refused = concurrent_creates(&stores, 8);
    assert_eq!(refused, 4 * 8 - 10);
    assert_eq!(ids(&*store).len(), 10);
}

/// Each of `stores` creates `per_store` documents from its own thread, all at once; how many
/// creates were refused at the cap (any other failure fails the test).
pub(super) fn concurrent_creates(stores: &[Arc<dyn Store>], per_store: usize) -> usize {
    let barrier = Arc::new(std::sync::Barrier::new(stores.len()));
    let threads: Vec<_> = stores
        .iter()
        .map(|store| {
            let store = Arc::clone(store);
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                (0..per_store)
                    .filter(|_| match store.insert_new(b"{}".to_vec()) {
                        Ok(_) => false,
                        Err(err) if err.document_cap().is_some() => true,
                        Err(err) => panic!("a create failed: {err}"),
                    })
                    .count()
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).sum()
}
