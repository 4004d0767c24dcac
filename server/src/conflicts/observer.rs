//! What the conflict log tells the outside world (the server's metrics). Called under the
//! log's mutex: an observer must be quick and must never take the log.

use std::fmt::Debug;

/// Told about every new record and every subscriber dropped for falling behind.
pub(crate) trait ConflictObserver: Send + Sync + Debug {
    /// A conflict of `kind` (the problem type's last segment) was added to the log (a repeated
    /// refusal that names an earlier record is not a new one).
    fn recorded(&self, kind: &str);
    /// A subscriber's queue was full: it was disconnected.
    fn subscriber_dropped(&self);
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::ConflictObserver;
    use crate::conflicts::log::{Admission, Log};
    use crate::conflicts::query::Filter;
    use crate::conflicts::record::Draft;

    #[derive(Debug, Default)]
    struct Recorded {
        kinds: Mutex<Vec<String>>,
        dropped: Mutex<usize>,
    }

    impl ConflictObserver for Recorded {
        fn recorded(&self, kind: &str) {
            self.kinds.lock().unwrap().push(kind.to_owned());
        }

        fn subscriber_dropped(&self) {
            *self.dropped.lock().unwrap() += 1;
        }
    }

    fn draft(kind: &str, origin: Option<&str>) -> Draft {
        Draft {
            kind: kind.into(),
            status: 412,
            method: "PUT".into(),
            doc_id: Some("a".into()),
            resource: "/items/a".into(),
            client: None,
            based_on: None,
            current: None,
            rejected: None,
            origin: origin.map(str::to_owned),
        }
    }

    #[test]
    fn new_records_and_full_subscribers_are_reported_and_repeats_and_leavers_are_not() {
        let log = Arc::new(Log::new(10, 1));
        let observer = Arc::new(Recorded::default());
        log.observe(Arc::clone(&observer) as Arc<dyn ConflictObserver>);
        let slow = log
            .subscribe(Filter::default(), None, &Admission::anyone(10))
            .expect("room");
        let gone = log
            .subscribe(Filter::default(), None, &Admission::anyone(10))
            .expect("room");
        drop(gone.live);
        assert_eq!(log.subscribers(), 2);

        log.record(draft("precondition-failed", None), 0);
        // The same commit answered again names the same record: not a new conflict.
        log.record(
            draft("transaction-conflict", Some("/transactions/t/commit")),
            0,
        );
        log.record(
            draft("transaction-conflict", Some("/transactions/t/commit")),
            0,
        );
        assert_eq!(
            *observer.kinds.lock().unwrap(),
            ["precondition-failed", "transaction-conflict"]
        );
        assert_eq!(log.records_kept(), 2);
        // `slow` (queue of one, never read) was dropped for falling behind; `gone` had left,
        // which is no drop.
        assert_eq!(*observer.dropped.lock().unwrap(), 1);
        assert_eq!(log.subscribers(), 0);
        drop(slow);
    }
}
