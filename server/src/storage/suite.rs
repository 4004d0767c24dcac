//! One behavioural suite, instantiated once per storage.

use std::collections::HashSet;
use std::sync::Arc;

use super::*;

pub(super) fn write(store: &dyn Store, id: &str, body: &str) -> Document {
    match store
        .apply(id, &mut |_| Decision::Write(body.as_bytes().to_vec()))
        .unwrap()
    {
        Applied::Written { doc, .. } => doc,
        other => panic!("expected a write, got {other:?}"),
    }
}

pub(super) fn insert_new_generates_distinct_ids_and_reads_back(store: &dyn Store) {
    let (a, doc_a) = store.insert_new(b"{\"n\":1}".to_vec()).unwrap();
    let (b, _) = store.insert_new(b"{\"n\":2}".to_vec()).unwrap();
    assert_ne!(a, b);
    assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()), "{a}");
    assert_eq!(store.get(&a).unwrap(), Some(doc_a));
    assert_eq!(store.get("absent").unwrap(), None);
}

pub(super) fn write_creates_then_replaces_with_a_new_tag(store: &dyn Store) {
    let first = store
        .apply("doc", &mut |current| {
            assert!(current.is_none());
            Decision::Write(b"1".to_vec())
        })
        .unwrap();
    let Applied::Written {
        doc: first,
        created: true,
    } = first
    else {
        panic!("expected a creation, got {first:?}");
    };
    let second = store
        .apply("doc", &mut |current| {
            assert_eq!(current, Some(&first));
            Decision::Write(b"2".to_vec())
        })
        .unwrap();
    let Applied::Written {
        doc: second,
        created: false,
    } = second
    else {
        panic!("expected a replacement, got {second:?}");
    };
    assert!(!second.etag.strong_eq(&first.etag));
    assert_eq!(store.get("doc").unwrap(), Some(second));
}

pub(super) fn abort_leaves_the_document_untouched(store: &dyn Store) {
    let doc = write(store, "doc", "1");
    let applied = store.apply("doc", &mut |_| Decision::Abort).unwrap();
    assert_eq!(
        applied,
        Applied::Aborted {
            current: Some(doc.clone())
        }
    );
    assert_eq!(store.get("doc").unwrap(), Some(doc));
}

pub(super) fn delete_removes_and_reports_missing_documents(store: &dyn Store) {
    write(store, "doc", "1");
    assert_eq!(
        store.apply("doc", &mut |_| Decision::Delete).unwrap(),
        Applied::Deleted
    );
    assert_eq!(store.get("doc").unwrap(), None);
    assert_eq!(
        store.apply("doc", &mut |_| Decision::Delete).unwrap(),
        Applied::Aborted { current: None }
    );
}

pub(super) fn tags_are_never_reused_across_delete_and_recreate(store: &dyn Store) {
    let mut seen = HashSet::new();
    for round in 0..5 {
        let doc = write(store, "doc", "{}");
        assert!(
            seen.insert(doc.etag.to_string()),
            "tag reused in round {round}"
        );
        store.apply("doc", &mut |_| Decision::Delete).unwrap();
    }
}

pub(super) fn list_returns_documents_in_creation_order(store: &dyn Store) {
    write(store, "b", "1");
    write(store, "a", "2");
    write(store, "b", "3");
    let ids: Vec<String> = store
        .list()
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(ids, ["b", "a"]);
}

fn snapshot(store: &dyn Store) -> Vec<(String, Document)> {
    store.list().unwrap()
}

pub(super) fn atomically_commits_every_write_together(store: &dyn Store) {
    write(store, "a", "1");
    write(store, "b", "2");
    let mut created = None;
    let finish = store
        .atomically(&mut |txn| {
            txn.write("a", b"10".to_vec())?;
            assert!(txn.delete("b")?);
            created = Some(txn.insert_new(b"30".to_vec())?);
            let fresh = txn.write("c", b"40".to_vec())?;
            assert!(fresh.created);
            Ok(Finish::Commit)
        })
        .unwrap();
    assert_eq!(finish, Finish::Commit);
    let (new_id, new_doc) = created.unwrap();
    assert_eq!(store.get("a").unwrap().unwrap().body, b"10");
    assert_eq!(store.get("b").unwrap(), None);
    assert_eq!(store.get(&new_id).unwrap(), Some(new_doc));
    assert_eq!(store.get("c").unwrap().unwrap().body, b"40");
    let ids: Vec<String> = snapshot(store).into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, ["a", new_id.as_str(), "c"]);
}

pub(super) fn atomically_reads_its_own_earlier_writes(store: &dyn Store) {
    let before = write(store, "a", "1");
    store
        .atomically(&mut |txn| {
            assert_eq!(txn.get("a")?, Some(before.clone()));
            let first = txn.write("a", b"2".to_vec())?;
            assert!(!first.created);
            assert_eq!(txn.get("a")?, Some(first.doc.clone()));
            let second = txn.write("a", b"3".to_vec())?;
            assert!(!second.doc.etag.strong_eq(&first.doc.etag));
            assert!(txn.delete("a")?);
            assert_eq!(txn.get("a")?, None);
            assert!(!txn.delete("a")?);
            assert!(txn.write("a", b"4".to_vec())?.created);
            Ok(Finish::Commit)
        })
        .unwrap();
    assert_eq!(store.get("a").unwrap().unwrap().body, b"4");
}

/// Everything a unit of work can do, then undone: the store must look exactly as before.
fn touch_everything(txn: &mut dyn Txn) -> Result<(), StoreError> {
    txn.write("a", b"changed".to_vec())?;
    txn.delete("b")?;
    txn.insert_new(b"new".to_vec())?;
    txn.write("c", b"created".to_vec())?;
    txn.delete("c")?;
    txn.write("c", b"created again".to_vec())?;
    Ok(())
}

pub(super) fn rollback_leaves_nothing_changed(store: &dyn Store) {
    write(store, "a", "1");
    write(store, "b", "2");
    let before = snapshot(store);
    let finish = store
        .atomically(&mut |txn| {
            touch_everything(txn)?;
            Ok(Finish::Rollback)
        })
        .unwrap();
    assert_eq!(finish, Finish::Rollback);
    assert_eq!(snapshot(store), before);
}

pub(super) fn failed_work_is_rolled_back_and_reported(store: &dyn Store) {
    write(store, "a", "1");
    let before = snapshot(store);
    let err = store
        .atomically(&mut |txn| {
            touch_everything(txn)?;
            Err(StoreError::from_message("disk on fire"))
        })
        .unwrap_err();
    assert_eq!(err.to_string(), "disk on fire");
    assert_eq!(snapshot(store), before);
}

pub(super) fn panicking_work_is_rolled_back(store: &dyn Store) {
    write(store, "a", "1");
    let before = snapshot(store);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = store.atomically(&mut |txn| {
            touch_everything(txn)?;
            panic!("work panicked on purpose");
        });
    }));
    assert!(result.is_err());
    assert_eq!(snapshot(store), before);
}

pub(super) fn tags_of_rolled_back_writes_are_never_reused(store: &dyn Store) {
    let mut seen = HashSet::new();
    for _ in 0..3 {
        store
            .atomically(&mut |txn| {
                let written = txn.write("doc", b"{}".to_vec())?;
                seen.insert(written.doc.etag.to_string());
                let (_, doc) = txn.insert_new(b"{}".to_vec())?;
                seen.insert(doc.etag.to_string());
                Ok(Finish::Rollback)
            })
            .unwrap();
        let doc = write(store, "doc", "{}");
        assert!(seen.insert(doc.etag.to_string()), "tag {} reused", doc.etag);
        let (_, doc) = store.insert_new(b"{}".to_vec()).unwrap();
        assert!(seen.insert(doc.etag.to_string()), "tag {} reused", doc.etag);
    }
}

macro_rules! storage_suite {
    ($module:ident, $make:expr) => {
        mod $module {
            use super::super::suite_history as history;
            #[allow(unused_imports)]
            use super::super::*;
            use super::FakeClock;

            macro_rules! case {
                ($name:ident) => {
                    #[test]
                    fn $name() {
                        let Some((_guard, store)) = $make(super::POLICY, FakeClock::new().clock())
                        else {
                            return;
                        };
                        super::$name(&*store);
                    }
                };
            }

            macro_rules! history_case {
                ($name:ident) => {
                    #[test]
                    fn $name() {
                        let clock = FakeClock::new();
                        let Some((_guard, store)) = $make(history::POLICY, clock.clock()) else {
                            return;
                        };
                        history::$name(&*store, &clock);
                    }
                };
            }

            case!(insert_new_generates_distinct_ids_and_reads_back);
            case!(write_creates_then_replaces_with_a_new_tag);
            case!(abort_leaves_the_document_untouched);
            case!(delete_removes_and_reports_missing_documents);
            case!(tags_are_never_reused_across_delete_and_recreate);
            case!(list_returns_documents_in_creation_order);
            case!(atomically_commits_every_write_together);
            case!(atomically_reads_its_own_earlier_writes);
            case!(rollback_leaves_nothing_changed);
            case!(failed_work_is_rolled_back_and_reported);
            case!(panicking_work_is_rolled_back);
            case!(tags_of_rolled_back_writes_are_never_reused);

            history_case!(every_kind_of_write_records_a_version_with_its_author);
            history_case!(past_versions_read_back_byte_for_byte);
            history_case!(unknown_and_tombstone_versions_name_the_oldest_kept);
            history_case!(retention_keeps_at_most_max_versions);
            history_case!(retention_drops_old_versions_but_keeps_the_current_one);
            history_case!(a_tombstone_keeps_the_history_until_its_ttl);
            history_case!(recreating_continues_the_history_after_the_tombstone);
            history_case!(rolled_back_work_leaves_no_history);
        }
    };
}

/// The retention of the behavioural cases: generous, so nothing is pruned.
const POLICY: HistoryPolicy = HistoryPolicy {
    max_versions: 1000,
    max_age_ms: 0,
    tombstone_ttl_ms: u64::MAX,
};

/// A clock the test moves by hand.
#[derive(Clone)]
pub(super) struct FakeClock(Arc<std::sync::atomic::AtomicU64>);

impl FakeClock {
    pub(super) fn new() -> Self {
        Self(Arc::new(std::sync::atomic::AtomicU64::new(1_000_000)))
    }

    pub(super) fn clock(&self) -> Arc<dyn Clock> {
        let time = Arc::clone(&self.0);
        Arc::new(move || time.load(std::sync::atomic::Ordering::SeqCst))
    }

    pub(super) fn now(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub(super) fn advance(&self, ms: u64) {
        self.0.fetch_add(ms, std::sync::atomic::Ordering::SeqCst);
    }
}

fn memory_store(policy: HistoryPolicy, clock: Arc<dyn Clock>) -> Option<((), Box<dyn Store>)> {
    Some(((), Box::new(MemoryStore::new(policy, clock))))
}

fn sqlite_store(
    policy: HistoryPolicy,
    clock: Arc<dyn Clock>,
) -> Option<(tempfile::TempDir, Box<dyn Store>)> {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("items.db"), policy, clock).unwrap();
    Some((dir, Box::new(store)))
}

storage_suite!(memory, super::memory_store);
storage_suite!(sqlite, super::sqlite_store);
// Skipped (with a printed reason) only where PostgreSQL is not installed; see suite_postgres.rs.
storage_suite!(postgres, super::super::suite_postgres::postgres_store);

#[test]
fn sqlite_keeps_documents_and_tag_generation_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("items.db");
    let before = {
        let store = SqliteStore::open(&path, POLICY, system_clock()).unwrap();
        write(&store, "doc", "{\"kept\":true}")
    };
    let store = SqliteStore::open(&path, POLICY, system_clock()).unwrap();
    assert_eq!(store.get("doc").unwrap(), Some(before.clone()));
    let after = write(&store, "other", "{}");
    assert!(!after.etag.strong_eq(&before.etag));
    store.apply("doc", &mut |_| Decision::Delete).unwrap();
    let recreated = write(&store, "doc", "{\"kept\":true}");
    assert!(!recreated.etag.strong_eq(&before.etag));
}

#[test]
fn sqlite_open_fails_cleanly_on_a_directory_path() {
    let dir = tempfile::tempdir().unwrap();
    let err = open(
        &Storage::Sqlite(dir.path().to_path_buf()),
        POLICY,
        0,
        PgBudget::DEFAULT,
    )
    .err()
    .unwrap();
    assert!(
        err.to_string().contains("cannot open the SQLite database"),
        "{err}"
    );
}

#[test]
fn sqlite_open_fails_cleanly_on_a_file_that_is_not_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("not-a.db");
    std::fs::write(
        &path,
        b"this is plain text, not SQLite, and long enough to have a header",
    )
    .unwrap();
    let err = open(&Storage::Sqlite(path), POLICY, 0, PgBudget::DEFAULT)
        .err()
        .unwrap();
    assert!(err.to_string().contains("not-a.db"), "{err}");
}

#[test]
fn sqlite_keeps_history_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("items.db");
    let clock = FakeClock::new();
    let before = {
        let store = SqliteStore::open(&path, POLICY, clock.clock()).unwrap();
        let first = write(&store, "doc", "{\"v\":1}");
        store
            .apply_as("doc", Some("alice"), &mut |_| {
                Decision::Write(b"{\"v\":2}".to_vec())
            })
            .unwrap();
        store
            .apply("gone", &mut |_| Decision::Write(b"0".to_vec()))
            .unwrap();
        store.apply("gone", &mut |_| Decision::Delete).unwrap();
        (
            first,
            store.history("doc").unwrap(),
            store.history("gone").unwrap(),
        )
    };
    let store = SqliteStore::open(&path, POLICY, clock.clock()).unwrap();
    assert_eq!(store.history("doc").unwrap(), before.1);
    assert_eq!(store.history("gone").unwrap(), before.2);
    assert_eq!(
        before.1.as_ref().unwrap()[0].author.as_deref(),
        Some("alice")
    );
    assert_eq!(
        store.version("doc", before.0.version()).unwrap(),
        Lookup::Found(before.0)
    );
}
