//! The history half of the storage suite (instantiated per storage in `suite.rs`): every kind
//! of write records a version, retention by count, age and tombstone TTL, and undone work
//! leaves no trace. Time is a [`FakeClock`] moved by hand.

use super::suite::{write, FakeClock};
use super::*;

/// Small limits, so that the cases reach them.
pub(super) const POLICY: HistoryPolicy = HistoryPolicy {
    max_versions: 4,
    max_age_ms: 10_000,
    tombstone_ttl_ms: 5_000,
};

fn versions(store: &dyn Store, id: &str) -> Vec<u64> {
    store
        .history(id)
        .unwrap()
        .unwrap_or_default()
        .iter()
        .map(|info| info.version)
        .collect()
}

fn delete(store: &dyn Store, id: &str) {
    assert_eq!(
        store.apply("doc", &mut |_| Decision::Delete).unwrap(),
        Applied::Deleted,
        "deleting {id}"
    );
}

pub(super) fn every_kind_of_write_records_a_version_with_its_author(
    store: &dyn Store,
    clock: &FakeClock,
) {
    let (id, first) = store
        .insert_new_as(Some("alice"), b"{\"n\":1}".to_vec())
        .unwrap();
    clock.advance(10);
    let Applied::Written { doc: second, .. } = store
        .apply_as(&id, Some("bob"), &mut |_| {
            Decision::Write(b"{\"n\":22}".to_vec())
        })
        .unwrap()
    else {
        panic!("expected a write");
    };
    clock.advance(10);
    let mut third = None;
    store
        .atomically_as(Some("carol"), &mut |txn| {
            third = Some(txn.write(&id, b"3".to_vec())?.doc);
            Ok(Finish::Commit)
        })
        .unwrap();
    let third = third.unwrap();
    clock.advance(10);
    let Applied::Deleted = store.apply(&id, &mut |_| Decision::Delete).unwrap() else {
        panic!("expected a delete");
    };
    let history = store.history(&id).unwrap().unwrap();
    assert_eq!(history.len(), 4, "{history:?}");
    let tombstone = &history[0];
    assert!(tombstone.deleted);
    assert_eq!((tombstone.size, tombstone.author.as_deref()), (0, None));
    assert!(tombstone.version > third.version());
    assert_eq!(tombstone.at_ms, clock.now());
    let expected = [
        (&third, "carol", 1usize),
        (&second, "bob", 8),
        (&first, "alice", 7),
    ];
    for (info, (doc, author, size)) in history[1..].iter().zip(expected) {
        assert_eq!(info.version, doc.version());
        assert_eq!(info.at_ms, doc.at_ms);
        assert_eq!(info.author.as_deref(), Some(author));
        assert_eq!((info.deleted, info.size), (false, size));
    }
    assert!(first.at_ms < second.at_ms && second.at_ms < third.at_ms);
}

pub(super) fn past_versions_read_back_byte_for_byte(store: &dyn Store, _clock: &FakeClock) {
    let first = write(store, "doc", "{\"v\":1}");
    let second = write(store, "doc", "{\"v\":2}");
    assert_eq!(
        store.version("doc", first.version()).unwrap(),
        Lookup::Found(first.clone())
    );
    assert_eq!(
        store.version("doc", second.version()).unwrap(),
        Lookup::Found(second)
    );
    assert_eq!(store.version("absent", 1).unwrap(), Lookup::NoHistory);
    assert_eq!(store.history("absent").unwrap(), None);
}

pub(super) fn unknown_and_tombstone_versions_name_the_oldest_kept(
    store: &dyn Store,
    _clock: &FakeClock,
) {
    let other = write(store, "other", "{}");
    let first = write(store, "doc", "1");
    let oldest = Lookup::NotKept {
        oldest: first.version(),
    };
    assert_eq!(store.version("doc", other.version()).unwrap(), oldest);
    assert_eq!(store.version("doc", u64::MAX).unwrap(), oldest);
    assert_eq!(store.version("doc", 0).unwrap(), oldest);
    delete(store, "doc");
    let tombstone = versions(store, "doc")[0];
    assert_eq!(store.version("doc", tombstone).unwrap(), oldest);
}

pub(super) fn retention_keeps_at_most_max_versions(store: &dyn Store, _clock: &FakeClock) {
    let docs: Vec<Document> = (0..6)
        .map(|n| write(store, "doc", &n.to_string()))
        .collect();
    let expected: Vec<u64> = docs.iter().rev().take(4).map(Document::version).collect();
    assert_eq!(versions(store, "doc"), expected);
    assert_eq!(
        store.version("doc", docs[0].version()).unwrap(),
        Lookup::NotKept {
            oldest: docs[2].version()
        }
    );
}

pub(super) fn retention_drops_old_versions_but_keeps_the_current_one(
    store: &dyn Store,
    clock: &FakeClock,
) {
    let old = write(store, "doc", "1");
    clock.advance(6_000);
    let middle = write(store, "doc", "2");
    clock.advance(6_000);
    let current = write(store, "doc", "3");
    // `old` is 12 s old now, past the 10 s limit; it was pruned by the write.
    assert_eq!(
        versions(store, "doc"),
        [current.version(), middle.version()]
    );
    assert!(matches!(
        store.version("doc", old.version()).unwrap(),
        Lookup::NotKept { .. }
    ));
    // Reads prune too, and the current version stays whatever its age.
    clock.advance(60_000);
    assert_eq!(versions(store, "doc"), [current.version()]);
    assert_eq!(
        store.version("doc", current.version()).unwrap(),
        Lookup::Found(current)
    );
}

pub(super) fn a_tombstone_keeps_the_history_until_its_ttl(store: &dyn Store, clock: &FakeClock) {
    let doc = write(store, "doc", "1");
    delete(store, "doc");
    let history = store.history("doc").unwrap().unwrap();
    assert!(history[0].deleted);
    assert_eq!(history[1].version, doc.version());
    assert_eq!(
        store.version("doc", doc.version()).unwrap(),
        Lookup::Found(doc.clone())
    );
    clock.advance(4_999);
    assert_eq!(versions(store, "doc").len(), 2);
    clock.advance(1);
    assert_eq!(store.history("doc").unwrap(), None);
    assert_eq!(
        store.version("doc", doc.version()).unwrap(),
        Lookup::NoHistory
    );
    // Forgotten for good: a new document under the id starts a new history.
    let fresh = write(store, "doc", "2");
    assert_eq!(versions(store, "doc"), [fresh.version()]);
}

pub(super) fn recreating_continues_the_history_after_the_tombstone(
    store: &dyn Store,
    _clock: &FakeClock,
) {
    let before = write(store, "doc", "1");
    delete(store, "doc");
    let after = write(store, "doc", "2");
    let history = store.history("doc").unwrap().unwrap();
    let kinds: Vec<(u64, bool)> = history.iter().map(|i| (i.version, i.deleted)).collect();
    assert_eq!(kinds.len(), 3);
    assert_eq!(kinds[0], (after.version(), false));
    assert!(kinds[1].1, "the tombstone sits between: {kinds:?}");
    assert_eq!(kinds[2], (before.version(), false));
    assert_eq!(
        store.version("doc", before.version()).unwrap(),
        Lookup::Found(before)
    );
}

pub(super) fn rolled_back_work_leaves_no_history(store: &dyn Store, _clock: &FakeClock) {
    let kept = write(store, "doc", "1");
    for finish in [Ok(Finish::Rollback), Err(StoreError::from_message("no"))] {
        let mut finish = Some(finish);
        let _ = store.atomically_as(Some("mallory"), &mut |txn| {
            txn.write("doc", b"2".to_vec())?;
            txn.delete("doc")?;
            txn.write("new", b"3".to_vec())?;
            finish.take().unwrap_or(Ok(Finish::Rollback))
        });
        assert_eq!(versions(store, "doc"), [kept.version()]);
        assert_eq!(store.history("new").unwrap(), None);
    }
}
