//! Requests inside a transaction (`Transaction-Id`) on the emulated server: reads
//! see the transaction's own writes, else the version pinned at first touch;
//! writes are judged against that view and staged with provisional tags.

use std::time::Instant;

use serde_json::{Map, Value};
use wiremock::{Request, ResponseTemplate};

use super::staging::Kind;
use super::tx::Staged;
use super::{Emulator, State};
use crate::support::faults::Fault;
use crate::support::merge::merge_patch;

/// A document as a transaction sees it: its tag (quoted) and body.
type View = Option<(String, Value)>;

impl Emulator {
    /// Answers a request naming transaction `tx`; `None` lets it through as if it
    /// named none (`TxUnknownIdIgnored`, for an id never issued).
    pub(super) fn inside(
        &self,
        st: &mut State,
        req: &Request,
        tx: &str,
        path: &str,
    ) -> Option<ResponseTemplate> {
        if !self.is_open(st, tx, Instant::now()) {
            let unknown = !st.txs.txs.contains_key(tx);
            return (!(unknown && self.has(Fault::TxUnknownIdIgnored)))
                .then(|| self.tx_not_found(tx));
        }
        let method = req.method.as_str();
        let answer = match (method, path.strip_prefix("/items/")) {
            ("POST", None) => self.create_inside(st, req, tx),
            (_, None) => self.problem(400, "invalid-header", "listing is not transactional", None),
            ("GET" | "HEAD", Some(id)) => self.read_inside(st, tx, id, method == "HEAD"),
            ("PUT", Some(id)) => self.write_inside(st, req, tx, id, Kind::Put),
            ("PATCH", Some(id)) => self.write_inside(st, req, tx, id, Kind::Patch),
            ("DELETE", Some(id)) => self.write_inside(st, req, tx, id, Kind::Delete),
            _ => self.problem(
                405,
                "method-not-allowed",
                "use GET, HEAD, PUT, PATCH or DELETE",
                None,
            ),
        };
        Some(
            answer
                .insert_header("Transaction-Id", tx)
                .insert_header("Cache-Control", "no-store"),
        )
    }

    /// Pins `id` in `tx` at its committed version, unless already touched.
    fn pin(st: &mut State, tx: &str, id: &str) {
        let committed = st.docs.get(id).map(|d| (d.version, d.body.clone()));
        let tx = st.txs.txs.get_mut(tx).expect("open transaction");
        if !tx.staged.contains_key(id) {
            tx.pinned.entry(id.to_owned()).or_insert(committed);
        }
    }

    /// The transaction's own write of `id`, else its pinned version.
    fn view(&self, st: &State, tx: &str, id: &str) -> View {
        let tx = &st.txs.txs[tx];
        if let Some(staged) = tx.staged.get(id) {
            return staged.body.clone().map(|b| (staged.tag.clone(), b));
        }
        let pinned = tx.pinned.get(id).cloned().flatten();
        pinned.map(|(v, body)| (self.etag(v), body))
    }

    /// What a read inside sees, with the faults that break isolation levels.
    fn read_view(&self, st: &State, tx: &str, id: &str) -> View {
        let t = &st.txs.txs[tx];
        let own = t.staged.contains_key(id);
        let committed = || {
            st.docs
                .get(id)
                .map(|d| (self.etag(d.version), d.body.clone()))
        };
        if own && self.has(Fault::TxReadsMissOwnWrites) {
            let pinned = t.pinned.get(id).cloned().flatten();
            return pinned.map(|(v, body)| (self.etag(v), body));
        }
        if !own && self.has(Fault::TxReadsCommitted) {
            return committed();
        }
        self.view(st, tx, id)
    }

    fn read_inside(&self, st: &mut State, tx: &str, id: &str, head: bool) -> ResponseTemplate {
        Self::pin(st, tx, id);
        match self.read_view(st, tx, id) {
            None => self.problem(
                404,
                "not-found",
                &format!("no item {id} in this transaction"),
                None,
            ),
            Some((tag, body)) => {
                let answer = ResponseTemplate::new(200).insert_header("ETag", tag.as_str());
                if head {
                    return answer;
                }
                answer.set_body_raw(body.to_string().into_bytes(), "application/json")
            }
        }
    }

    fn write_inside(
        &self,
        st: &mut State,
        req: &Request,
        tx: &str,
        id: &str,
        kind: Kind,
    ) -> ResponseTemplate {
        Self::pin(st, tx, id);
        let view = self.view(st, tx, id);
        let (im, inm) = (self.cond(req, "if-match"), self.cond(req, "if-none-match"));
        if let Err(refusal) = self.judge(kind, view.as_ref().map(|(t, _)| t.as_str()), &im, &inm) {
            return self.refused(refusal, Map::new());
        }
        let body = match kind {
            Kind::Delete => None,
            Kind::Patch => match self.json_body(req, "application/merge-patch+json") {
                Ok(patch) => {
                    let mut body = view.clone().map(|(_, b)| b).unwrap_or_default();
                    merge_patch(&mut body, &patch);
                    Some(body)
                }
                Err(refused) => return refused,
            },
            _ => match self.json_body(req, "application/json") {
                Ok(body) => Some(body),
                Err(refused) => return refused,
            },
        };
        let status = match (kind, &view) {
            (Kind::Delete, _) => 204,
            (_, None) => 201,
            _ => 200,
        };
        let tag = Self::stage(st, tx, id, body.clone());
        let mut answer = ResponseTemplate::new(status);
        if let Some(body) = body {
            answer = answer
                .insert_header("ETag", tag.as_str())
                .set_body_raw(body.to_string().into_bytes(), "application/json");
        }
        answer
    }

    fn create_inside(&self, st: &mut State, req: &Request, tx: &str) -> ResponseTemplate {
        let body = match self.json_body(req, "application/json") {
            Ok(body) => body,
            Err(refused) => return refused,
        };
        st.next_id += 1;
        let id = st.next_id.to_string();
        Self::pin(st, tx, &id);
        let tag = Self::stage(st, tx, &id, Some(body.clone()));
        ResponseTemplate::new(201)
            .insert_header("Location", format!("/items/{id}").as_str())
            .insert_header("ETag", tag.as_str())
            .set_body_raw(body.to_string().into_bytes(), "application/json")
    }

    /// Stages a write of `id` in `tx`: its provisional tag.
    fn stage(st: &mut State, tx: &str, id: &str, body: Option<Value>) -> String {
        let t = st.txs.txs.get_mut(tx).expect("open transaction");
        t.writes += 1;
        let tag = format!("\"{tx}-w{}\"", t.writes);
        if !t.order.iter().any(|d| d == id) {
            t.order.push(id.to_owned());
        }
        t.staged.insert(
            id.to_owned(),
            Staged {
                body,
                tag: tag.clone(),
            },
        );
        tag
    }

    /// `TxDirtyReads`: a plain GET of `id` shows an open transaction's staged write.
    pub(super) fn dirty_read(&self, st: &State, id: &str) -> Option<ResponseTemplate> {
        if !self.has(Fault::TxDirtyReads) {
            return None;
        }
        let now = Instant::now();
        let staged = st
            .txs
            .txs
            .iter()
            .filter(|(tx, _)| self.is_open(st, tx, now))
            .find_map(|(_, t)| t.staged.get(id))?;
        Some(match &staged.body {
            Some(body) => ResponseTemplate::new(200)
                .insert_header("ETag", staged.tag.as_str())
                .set_body_raw(body.to_string().into_bytes(), "application/json"),
            None => self.problem(404, "not-found", &format!("no item {id}"), None),
        })
    }
}

impl Emulator {
    /// The batch and transaction routes, and requests naming a transaction; `None`
    /// for every other request (or when the server is emulated without them).
    pub(super) fn transactional(
        &self,
        st: &mut State,
        req: &Request,
        path: &str,
    ) -> Option<ResponseTemplate> {
        Self::apply_due(st);
        if path == "/batch" && !self.options.no_batches {
            return Some(match req.method.as_str() {
                "POST" => self.batch(st, req),
                _ => self.problem(405, "method-not-allowed", "use POST", None),
            });
        }
        if self.options.no_transactions {
            return None;
        }
        if let Some(rest) = path
            .strip_prefix("/transactions")
            .filter(|r| r.is_empty() || r.starts_with('/'))
        {
            return Some(self.tx_route(st, req, rest));
        }
        let item = path == "/items"
            || path
                .strip_prefix("/items/")
                .is_some_and(|id| !id.contains('/'));
        if !item {
            return None;
        }
        match req
            .headers
            .get("transaction-id")
            .and_then(|v| v.to_str().ok())
        {
            Some(tx) => self.inside(st, req, tx.trim(), path),
            None if req.method.as_str() == "GET" => {
                self.dirty_read(st, path.strip_prefix("/items/")?)
            }
            None => None,
        }
    }
}
