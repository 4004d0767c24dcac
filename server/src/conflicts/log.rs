//! The bounded conflict log and its subscribers, behind one mutex.
//!
//! Every event (a conflict recorded, a conflict resolved) takes the next number of one
//! sequence, and is handed to the subscribers whose filter matches while the mutex is held.
//! A subscriber registers and takes its replay from the log in the same critical section, so
//! it sees every event exactly once: those before it subscribed in the replay, those after
//! in its queue, none in both and none in neither.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;

use super::observer::ConflictObserver;
use super::query::Filter;
use super::record::{Draft, Record, Resolution, State};
use crate::idempotency::Client;

/// The queue of each subscriber: one that falls this far behind is disconnected.
pub(crate) const SUBSCRIBER_QUEUE: usize = 1024;

/// What an event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Conflict,
    Resolved,
    /// Events after the client's last one were forgotten (not a numbered event).
    Gap,
}

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Conflict => "conflict",
            Self::Resolved => "resolved",
            Self::Gap => "gap",
        }
    }
}

/// One event of the stream, serialized once for every subscriber.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Event {
    /// The event's number (`None` for a gap).
    pub(crate) seq: Option<u64>,
    pub(crate) kind: Kind,
    /// One line of JSON.
    pub(crate) data: String,
}

/// Why a resolution could not be recorded.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum NotResolved {
    /// Someone resolved it first: the record as resolved.
    Already(Box<Record>),
}

/// The log.
#[derive(Debug)]
pub(crate) struct Log {
    inner: Mutex<Inner>,
    capacity: usize,
    queue: usize,
}

#[derive(Debug, Default)]
struct Inner {
    /// The last event number handed out.
    last_seq: u64,
    /// Oldest first, by `seq`.
    records: VecDeque<Record>,
    /// The highest event number that was forgotten (0: none).
    forgotten: u64,
    subscribers: Vec<Subscriber>,
    next_subscriber: u64,
    /// The server is shutting down: streams end.
    closed: bool,
    /// Told about new records and dropped subscribers (the server's metrics).
    observer: Option<Arc<dyn ConflictObserver>>,
}

#[derive(Debug)]
struct Subscriber {
    id: u64,
    /// Who opened it: counted against that client's cap.
    client: Client,
    filter: Filter,
    queue: mpsc::Sender<Arc<Event>>,
}

/// Who asks to subscribe, and the caps the new subscription must fit under.
#[derive(Debug, Clone)]
pub(crate) struct Admission {
    /// The client (its token's name, else its peer address). [`Client::Unknown`] (no way to
    /// tell clients apart) is held to the total only.
    pub(crate) client: Client,
    /// Subscribers open at once, all clients together.
    pub(crate) max_total: usize,
    /// Subscribers open at once of one client.
    pub(crate) max_per_client: usize,
}

#[cfg(test)]
impl Admission {
    /// Any client, up to `max_total` subscribers in all.
    pub(crate) fn anyone(max_total: usize) -> Self {
        Self {
            client: Client::Unknown,
            max_total,
            max_per_client: max_total,
        }
    }
}

/// Why a subscription was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// `max_per_client` of this client's subscribers are open.
    Client,
    /// `max_total` subscribers are open.
    Total,
}

/// An open subscription: the replay, then the live queue. Dropping it unsubscribes.
#[derive(Debug)]
pub(crate) struct Subscription {
    pub(crate) replay: Vec<Arc<Event>>,
    pub(crate) live: mpsc::Receiver<Arc<Event>>,
    pub(crate) guard: Unsubscribe,
}

/// Removes its subscriber from the log when dropped.
#[derive(Debug)]
pub(crate) struct Unsubscribe {
    log: Arc<Log>,
    id: u64,
}

impl Drop for Unsubscribe {
    fn drop(&mut self) {
        self.log.lock().subscribers.retain(|s| s.id != self.id);
    }
}

impl Log {
    /// A log keeping `capacity` records, each subscriber with a queue of `queue` events.
    pub(crate) fn new(capacity: usize, queue: usize) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            capacity: capacity.max(1),
            queue: queue.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every change below is complete before anything can panic, so a poisoned log is
        // still consistent.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records a refusal and tells the subscribers. A draft whose `origin` is already in the
    /// log (the same refusal answered again) returns that record and adds nothing.
    pub(crate) fn record(&self, draft: Draft, at_ms: u64) -> Record {
        let mut inner = self.lock();
        if let Some(origin) = &draft.origin {
            let earlier = inner
                .records
                .iter()
                .find(|r| r.origin.as_ref() == Some(origin));
            if let Some(earlier) = earlier {
                return earlier.clone();
            }
        }
        inner.last_seq += 1;
        let record = Record::new(draft, inner.last_seq, at_ms);
        if let Some(observer) = &inner.observer {
            observer.recorded(&record.kind);
        }
        inner.records.push_back(record.clone());
        while inner.records.len() > self.capacity {
            if let Some(old) = inner.records.pop_front() {
                let last = old.resolved_seq.unwrap_or(old.seq);
                inner.forgotten = inner.forgotten.max(last);
            }
        }
        inner.publish(Kind::Conflict, &record);
        record
    }

    /// The record `seq`, if still kept.
    pub(crate) fn get(&self, seq: u64) -> Option<Record> {
        let inner = self.lock();
        inner.find(seq).map(|index| inner.records[index].clone())
    }

    /// Up to `limit` matching records after `after`, oldest first, and the seq to page on
    /// from when more match.
    pub(crate) fn list(
        &self,
        filter: &Filter,
        after: u64,
        limit: usize,
    ) -> (Vec<Record>, Option<u64>) {
        let inner = self.lock();
        let mut matching = inner
            .records
            .iter()
            .filter(|r| r.seq > after && filter.matches(r));
        let page: Vec<Record> = matching.by_ref().take(limit).cloned().collect();
        let more = matching.next().is_some();
        let next = more.then(|| page.last().map(|r| r.seq)).flatten();
        (page, next)
    }

    /// Marks `seq` resolved and tells the subscribers. `fallback` is the record as the
    /// resolver read it, used when the log forgot it meanwhile (the write is done; the answer
    /// and the event still describe it).
    pub(crate) fn resolve(
        &self,
        fallback: &Record,
        resolution: Resolution,
    ) -> Result<Record, NotResolved> {
        let mut inner = self.lock();
        let index = inner.find(fallback.seq);
        if let Some(earlier) = index.map(|i| &inner.records[i]) {
            if earlier.state == State::Resolved {
                return Err(NotResolved::Already(Box::new(earlier.clone())));
            }
        }
        inner.last_seq += 1;
        let seq = inner.last_seq;
        let resolved = match index {
            Some(index) => {
                let record = &mut inner.records[index];
                record.state = State::Resolved;
                record.resolution = Some(resolution);
                record.resolved_seq = Some(seq);
                record.clone()
            }
            None => {
                inner.forgotten = inner.forgotten.max(seq);
                Record {
                    state: State::Resolved,
                    resolution: Some(resolution),
                    resolved_seq: Some(seq),
                    ..fallback.clone()
                }
            }
        };
        inner.publish(Kind::Resolved, &resolved);
        Ok(resolved)
    }

    /// Subscribes with `filter`, unless the client's own subscribers or all subscribers are
    /// at their cap already (the client's cap is checked first: a client at its cap is told so
    /// even when the server is full too). With `last`, the replay holds every matching event
    /// after it that the log still holds, in order, after a gap event when some were forgotten.
    pub(crate) fn subscribe(
        self: &Arc<Self>,
        filter: Filter,
        last: Option<u64>,
        admission: &Admission,
    ) -> Result<Subscription, Refused> {
        let mut inner = self.lock();
        let client = &admission.client;
        if *client != Client::Unknown {
            let held = inner.subscribers.iter().filter(|s| s.client == *client);
            if held.count() >= admission.max_per_client {
                return Err(Refused::Client);
            }
        }
        if inner.subscribers.len() >= admission.max_total {
            return Err(Refused::Total);
        }
        let replay = last
            .map(|last| inner.replay(&filter, last))
            .unwrap_or_default();
        let (queue, live) = mpsc::channel(self.queue);
        inner.next_subscriber += 1;
        let id = inner.next_subscriber;
        if !inner.closed {
            inner.subscribers.push(Subscriber {
                id,
                client: client.clone(),
                filter,
                queue,
            });
        }
        Ok(Subscription {
            replay,
            live,
            guard: Unsubscribe {
                log: Arc::clone(self),
                id,
            },
        })
    }

    /// Drops every subscriber (their streams end once they have read what is queued) and
    /// lets no new one in.
    pub(crate) fn close(&self) {
        let mut inner = self.lock();
        inner.closed = true;
        inner.subscribers.clear();
    }

    /// How many subscribers are open.
    pub(crate) fn subscribers(&self) -> usize {
        self.lock().subscribers.len()
    }

    /// How many records the log keeps now.
    pub(crate) fn records_kept(&self) -> usize {
        self.lock().records.len()
    }

    /// From now on, tells `observer` about new records and dropped subscribers.
    pub(crate) fn observe(&self, observer: Arc<dyn ConflictObserver>) {
        self.lock().observer = Some(observer);
    }
}

impl Inner {
    fn find(&self, seq: u64) -> Option<usize> {
        self.records.binary_search_by_key(&seq, |r| r.seq).ok()
    }

    /// Hands the event to every matching subscriber; one whose queue is full (or gone) is
    /// dropped, which ends its stream once it has read what is queued.
    fn publish(&mut self, kind: Kind, record: &Record) {
        let event = Arc::new(Event {
            seq: record
                .resolved_seq
                .filter(|_| kind == Kind::Resolved)
                .or(Some(record.seq)),
            kind,
            data: record.to_json(),
        });
        self.subscribers.retain(|subscriber| {
            if !subscriber.filter.matches(record) {
                return true;
            }
            match subscriber.queue.try_send(Arc::clone(&event)) {
                Ok(()) => true,
                Err(err) => {
                    if let (TrySendError::Full(_), Some(observer)) = (&err, &self.observer) {
                        observer.subscriber_dropped();
                    }
                    tracing::info!(
                        subscriber = subscriber.id,
                        "conflict subscriber fell behind or left; disconnecting it"
                    );
                    false
                }
            }
        });
    }

    /// The events after `last` that the log holds, matching `filter`, in order.
    fn replay(&self, filter: &Filter, last: u64) -> Vec<Arc<Event>> {
        // A `last` from the future was given by an earlier run of the server: everything
        // this run knows is news, and the earlier run's events are gone.
        let (after, lost) = if last > self.last_seq {
            (0, true)
        } else {
            (last, last < self.forgotten)
        };
        let mut events = Vec::new();
        for record in &self.records {
            if record.seq > after {
                let recorded = record.as_recorded();
                if filter.matches(&recorded) {
                    events.push(Event {
                        seq: Some(record.seq),
                        kind: Kind::Conflict,
                        data: recorded.to_json(),
                    });
                }
            }
            if let Some(seq) = record.resolved_seq.filter(|&seq| seq > after) {
                if filter.matches(record) {
                    events.push(Event {
                        seq: Some(seq),
                        kind: Kind::Resolved,
                        data: record.to_json(),
                    });
                }
            }
        }
        events.sort_by_key(|event| event.seq);
        if lost {
            let oldest = self.records.front().map_or(self.last_seq + 1, |r| r.seq);
            events.insert(
                0,
                Event {
                    seq: None,
                    kind: Kind::Gap,
                    data: serde_json::json!({"after": last, "oldest": oldest}).to_string(),
                },
            );
        }
        events.into_iter().map(Arc::new).collect()
    }
}

#[path = "log_ingest.rs"]
mod ingest;

#[cfg(test)]
#[path = "log_tests.rs"]
mod tests;
