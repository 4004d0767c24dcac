//! One transaction's state: the versions it pinned, its own staged writes, and how it ended.
//! Pure data, no I/O: the routes read the store and hand the versions in.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::id::TxId;
use super::outcome::Ended;
use crate::etag::EntityTag;
use crate::lock::{LockToken, Now};
use crate::storage::Document;

/// What the transaction sees of one document.
#[derive(Debug, Clone)]
pub(super) enum View {
    /// The committed version it pinned.
    Pinned,
    /// Its own last write; `None` after a delete.
    Own(Option<Document>),
}

#[derive(Debug, Clone)]
pub(super) struct Tracked {
    /// The committed version seen first (`None`: absent); the commit checks it is still there.
    pub(super) pinned: Option<Document>,
    pub(super) view: View,
    /// The `Lock-Token` of the last write, checked again at commit.
    pub(super) lock_token: Option<LockToken>,
}

/// Whether the transaction still runs.
#[derive(Debug, Clone)]
pub(crate) enum Phase {
    Open,
    Ended(Arc<Ended>),
}

/// A document the transaction holds more of than the server allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooLarge {
    pub(crate) limit: usize,
}

/// One open (or just ended) transaction.
#[derive(Debug)]
pub(crate) struct Tx {
    pub(crate) id: TxId,
    pub(crate) ttl: Duration,
    pub(crate) expires_at: Instant,
    pub(crate) expires_at_ms: u64,
    pub(crate) phase: Phase,
    pub(super) docs: HashMap<String, Tracked>,
    /// Ids in the order the transaction first touched them.
    pub(super) touched: Vec<String>,
    /// Ids in the order the transaction first wrote them.
    pub(super) written: Vec<String>,
    pub(super) provisional: u64,
}

/// A staged write as the commit applies it.
#[derive(Debug, Clone)]
pub(crate) struct Staged {
    pub(crate) id: String,
    /// The document to store, or `None` to delete.
    pub(crate) body: Option<Vec<u8>>,
    pub(crate) lock_token: Option<LockToken>,
}

/// Everything a commit checks and applies.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// Every document read or written, with the tag it had when pinned (`None`: absent).
    pub(crate) pins: Vec<(String, Option<EntityTag>)>,
    /// The writes, in first-write order.
    pub(crate) writes: Vec<Staged>,
}

/// What `GET /transactions/{id}` shows of the documents: `(id, tag)` pairs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Summary {
    /// Every pinned document and the tag the commit will check (`None`: absent).
    pub(crate) reads: Vec<(String, Option<EntityTag>)>,
    /// Every written document and its provisional tag (`None`: deleted).
    pub(crate) writes: Vec<(String, Option<EntityTag>)>,
}

impl Tx {
    pub(crate) fn new(id: TxId, ttl: Duration, now: Now) -> Self {
        Self {
            id,
            ttl,
            expires_at: now.instant + ttl,
            expires_at_ms: now.unix_ms.saturating_add(crate::lock::millis(ttl)),
            phase: Phase::Open,
            docs: HashMap::new(),
            touched: Vec::new(),
            written: Vec::new(),
            provisional: 0,
        }
    }

    pub(crate) fn expired(&self, now: Instant) -> bool {
        now >= self.expires_at
    }

    /// What the transaction sees of `id`: `None` when it has not touched it yet, else the
    /// document (`Some(None)`: absent in the transaction's view).
    pub(crate) fn view(&self, id: &str) -> Option<Option<&Document>> {
        let tracked = self.docs.get(id)?;
        Some(match &tracked.view {
            View::Pinned => tracked.pinned.as_ref(),
            View::Own(doc) => doc.as_ref(),
        })
    }

    /// Whether one more document may be touched.
    pub(crate) fn room_for_one_more(&self, limit: usize) -> Result<(), TooLarge> {
        if self.docs.len() >= limit {
            return Err(TooLarge { limit });
        }
        Ok(())
    }

    /// Pins the committed version `doc` of `id` (`None`: absent), unless already touched.
    pub(crate) fn pin(
        &mut self,
        id: &str,
        doc: Option<Document>,
        limit: usize,
    ) -> Result<(), TooLarge> {
        if self.docs.contains_key(id) {
            return Ok(());
        }
        self.room_for_one_more(limit)?;
        self.touched.push(id.to_owned());
        self.docs.insert(
            id.to_owned(),
            Tracked {
                pinned: doc,
                view: View::Pinned,
                lock_token: None,
            },
        );
        Ok(())
    }

    /// Stages a write of a pinned document at `at_ms`: `Some(body)` stores, `None` deletes.
    /// Returns the version the transaction now sees, under a provisional tag that only means
    /// something inside this transaction.
    pub(crate) fn stage(
        &mut self,
        id: &str,
        body: Option<Vec<u8>>,
        lock_token: Option<LockToken>,
        at_ms: u64,
    ) -> Option<Document> {
        self.provisional += 1;
        let etag = EntityTag::strong(format!("{}-{}", self.id, self.provisional));
        let doc = body.map(|body| Document { etag, body, at_ms });
        if let Some(tracked) = self.docs.get_mut(id) {
            if matches!(tracked.view, View::Pinned) {
                self.written.push(id.to_owned());
            }
            tracked.view = View::Own(doc.clone());
            tracked.lock_token = lock_token;
        }
        doc
    }

    pub(crate) fn plan(&self) -> Plan {
        let pins = self
            .touched
            .iter()
            .filter_map(|id| {
                let tracked = self.docs.get(id)?;
                Some((id.clone(), tracked.pinned.as_ref().map(|d| d.etag.clone())))
            })
            .collect();
        let writes = self
            .written
            .iter()
            .filter_map(|id| {
                let tracked = self.docs.get(id)?;
                let View::Own(doc) = &tracked.view else {
                    return None;
                };
                Some(Staged {
                    id: id.clone(),
                    body: doc.as_ref().map(|d| d.body.clone()),
                    lock_token: tracked.lock_token.clone(),
                })
            })
            .collect();
        Plan { pins, writes }
    }

    pub(crate) fn summary(&self) -> Summary {
        let tag_of = |doc: Option<&Document>| doc.map(|d| d.etag.clone());
        Summary {
            reads: self
                .touched
                .iter()
                .filter_map(|id| Some((id.clone(), tag_of(self.docs.get(id)?.pinned.as_ref()))))
                .collect(),
            writes: self
                .written
                .iter()
                .filter_map(|id| Some((id.clone(), tag_of(self.view(id)?))))
                .collect(),
        }
    }

    /// Ends the transaction; its staged documents are dropped at once.
    pub(crate) fn end(&mut self, ended: Arc<Ended>) {
        self.phase = Phase::Ended(ended);
        self.docs = HashMap::new();
        self.touched = Vec::new();
        self.written = Vec::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tx() -> Tx {
        let now = Now {
            instant: Instant::now(),
            unix_ms: 1_000,
        };
        Tx::new(TxId::mint("e", 1), Duration::from_secs(10), now)
    }

    fn doc(tag: &str, body: &str) -> Document {
        Document {
            etag: EntityTag::strong(tag.to_owned()),
            body: body.as_bytes().to_vec(),
            at_ms: 0,
        }
    }

    #[test]
    fn pins_are_kept_and_own_writes_shadow_them() {
        let mut tx = tx();
        assert_eq!(tx.expires_at_ms, 11_000);
        assert!(tx.view("a").is_none());
        tx.pin("a", Some(doc("e-1", "1")), 10).unwrap();
        tx.pin("a", Some(doc("e-2", "2")), 10).unwrap();
        assert_eq!(tx.view("a"), Some(Some(&doc("e-1", "1"))));
        let staged = tx.stage("a", Some(b"3".to_vec()), None, 0).unwrap();
        assert!(staged
            .etag
            .to_string()
            .starts_with(&format!("\"{}-", tx.id)));
        assert_eq!(tx.view("a"), Some(Some(&staged)));
        let deleted = tx.stage("a", None, None, 0);
        assert_eq!(deleted, None);
        assert_eq!(tx.view("a"), Some(None));
        let plan = tx.plan();
        assert_eq!(
            plan.pins,
            [("a".to_owned(), Some(EntityTag::strong("e-1".to_owned())))]
        );
        assert_eq!(plan.writes.len(), 1);
        assert_eq!(plan.writes[0].body, None);
    }

    #[test]
    fn provisional_tags_are_new_for_every_write() {
        let mut tx = tx();
        tx.pin("a", None, 10).unwrap();
        let first = tx.stage("a", Some(b"1".to_vec()), None, 0).unwrap();
        let second = tx.stage("a", Some(b"1".to_vec()), None, 0).unwrap();
        assert!(!first.etag.strong_eq(&second.etag));
    }

    #[test]
    fn writes_keep_first_write_order_and_reads_first_touch_order() {
        let mut tx = tx();
        for id in ["r", "b", "a"] {
            tx.pin(id, None, 10).unwrap();
        }
        tx.stage("a", Some(b"1".to_vec()), None, 0);
        tx.stage("b", Some(b"2".to_vec()), None, 0);
        tx.stage("a", Some(b"3".to_vec()), None, 0);
        let summary = tx.summary();
        let reads: Vec<_> = summary.reads.iter().map(|(id, _)| id.as_str()).collect();
        let writes: Vec<_> = summary.writes.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(reads, ["r", "b", "a"]);
        assert_eq!(writes, ["a", "b"]);
    }

    #[test]
    fn the_document_limit_counts_reads_and_writes() {
        let mut tx = tx();
        tx.pin("a", None, 2).unwrap();
        tx.pin("b", None, 2).unwrap();
        tx.pin("a", None, 2).unwrap();
        assert_eq!(tx.pin("c", None, 2), Err(TooLarge { limit: 2 }));
    }
}
