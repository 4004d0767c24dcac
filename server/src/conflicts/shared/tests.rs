//! The shared conflict log's bound: two replicas' logs on one database with room for two
//! records. Trimming happens in the database, once for every replica: each replica's copy
//! keeps the same newest records, and a subscriber resuming from a forgotten event hears of the
//! gap on either replica, as on one server (`log_tests.rs`).

use std::sync::Arc;

use super::Shared;
use crate::conflicts::log::{Admission, Kind, Log};
use crate::conflicts::query::Filter;
use crate::conflicts::record::Draft;
use crate::storage::{pg_migrated_database, PgBudget, PgListener};

fn draft(n: u32) -> Draft {
    Draft {
        kind: "precondition-failed".into(),
        status: 412,
        method: "PUT".into(),
        doc_id: Some(format!("d{n}")),
        resource: format!("/items/d{n}"),
        client: None,
        based_on: None,
        current: None,
        rejected: None,
        origin: None,
    }
}

/// Two replicas' shared logs holding at most `capacity` records, on a fresh database.
fn replicas(capacity: usize) -> Option<[(Arc<Shared>, Arc<Log>); 2]> {
    let config = pg_migrated_database()?;
    let replica = || {
        let log = Arc::new(Log::new(capacity, 8));
        (
            Shared::open(
                &config,
                Arc::clone(&log),
                capacity,
                PgBudget::DEFAULT,
                &PgListener::start(&config).unwrap(),
            )
            .unwrap(),
            log,
        )
    };
    Some([replica(), replica()])
}

fn seqs(log: &Log) -> Vec<u64> {
    let (page, _) = log.list(&Filter::default(), 0, 100);
    page.iter().map(|r| r.seq).collect()
}

#[test]
fn the_database_keeps_the_newest_records_and_every_replica_sees_the_same_gap() {
    let Some([(a, a_log), (b, b_log)]) = replicas(2) else {
        return;
    };
    for n in 0..5 {
        let shared = if n % 2 == 0 { &a } else { &b };
        shared.record(draft(n), 0).unwrap();
    }
    a.sync().unwrap();
    b.sync().unwrap();
    assert_eq!(seqs(&a_log), [4, 5]);
    assert_eq!(seqs(&b_log), [4, 5]);
    assert_eq!((a_log.records_kept(), b_log.records_kept()), (2, 2));
    let rows: i64 = {
        let mut conn = a.pool.get().unwrap();
        conn.query_one("SELECT count(*) FROM ifmatch_conflicts", &[])
            .unwrap()
            .get(0)
    };
    assert_eq!(rows, 2, "the table itself is trimmed");
    for log in [&a_log, &b_log] {
        let sub = log
            .subscribe(Filter::default(), Some(1), &Admission::anyone(10))
            .unwrap();
        let kinds: Vec<_> = sub.replay.iter().map(|e| (e.seq, e.kind)).collect();
        assert_eq!(
            kinds,
            [
                (None, Kind::Gap),
                (Some(4), Kind::Conflict),
                (Some(5), Kind::Conflict)
            ]
        );
        assert_eq!(sub.replay[0].data, r#"{"after":1,"oldest":4}"#);
    }
    a.close();
    b.close();
}

#[test]
fn a_replica_opened_after_the_trim_starts_from_the_newest_records() {
    let Some([(a, _), (b, _)]) = replicas(3) else {
        return;
    };
    for n in 0..7 {
        a.record(draft(n), 0).unwrap();
    }
    let late_log = Arc::new(Log::new(3, 8));
    let url_config = a.config.clone();
    let late = Shared::open(
        &url_config,
        Arc::clone(&late_log),
        3,
        PgBudget::DEFAULT,
        &PgListener::start(&url_config).unwrap(),
    )
    .unwrap();
    assert_eq!(seqs(&late_log), [5, 6, 7]);
    let sub = late_log
        .subscribe(Filter::default(), Some(2), &Admission::anyone(10))
        .unwrap();
    assert_eq!(sub.replay[0].kind, Kind::Gap);
    for shared in [a, b, late] {
        shared.close();
    }
}
