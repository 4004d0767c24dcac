//! Events numbered elsewhere: on shared (PostgreSQL) storage every replica's log is a copy of
//! the database's, fed in number order by `conflicts/shared`, which hands out the numbers.

use super::{Inner, Kind, Log};
use crate::conflicts::record::{Record, State};

impl Log {
    /// Applies `events` (in number order, each newer than any applied before) and hands them
    /// to the subscribers; then takes `forgotten`, the highest event number the database
    /// forgot, and `last`, the highest number it handed out, as known. A `Conflict` event
    /// carries the record (its resolution, if any, is dropped); a `Resolved` one the record
    /// as resolved.
    pub(crate) fn ingest(&self, events: Vec<(Kind, Record)>, forgotten: u64, last: u64) {
        let mut inner = self.lock();
        for (kind, record) in events {
            match kind {
                Kind::Conflict => self.ingest_recorded(&mut inner, record.as_recorded()),
                Kind::Resolved => ingest_resolved(&mut inner, record),
                Kind::Gap => {}
            }
        }
        inner.forgotten = inner.forgotten.max(forgotten);
        inner.last_seq = inner.last_seq.max(last);
    }

    fn ingest_recorded(&self, inner: &mut Inner, record: Record) {
        inner.last_seq = inner.last_seq.max(record.seq);
        inner.records.push_back(record.clone());
        while inner.records.len() > self.capacity {
            if let Some(old) = inner.records.pop_front() {
                let last = old.resolved_seq.unwrap_or(old.seq);
                inner.forgotten = inner.forgotten.max(last);
            }
        }
        inner.publish(Kind::Conflict, &record);
    }

    /// Counts a conflict this process recorded in the shared log (the metrics are per
    /// process, as the refusals they count).
    pub(crate) fn count_recorded(&self, kind: &str) {
        if let Some(observer) = &self.lock().observer {
            observer.recorded(kind);
        }
    }
}

fn ingest_resolved(inner: &mut Inner, resolved: Record) {
    let Some(seq) = resolved.resolved_seq else {
        return;
    };
    inner.last_seq = inner.last_seq.max(seq);
    let resolved = match inner.find(resolved.seq) {
        Some(index) => {
            let record = &mut inner.records[index];
            record.state = State::Resolved;
            record.resolution.clone_from(&resolved.resolution);
            record.resolved_seq = Some(seq);
            record.clone()
        }
        None => {
            inner.forgotten = inner.forgotten.max(seq);
            resolved
        }
    };
    inner.publish(Kind::Resolved, &resolved);
}
