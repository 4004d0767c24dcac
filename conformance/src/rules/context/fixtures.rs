//! Creating test resources the way the target's shape says, reading them back
//! (waiting, bounded, for a strong `ETag` after a write), inventing URLs, and
//! cleaning up afterwards.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{Abort, Cx, Fixture, Snapshot, Write};
use crate::etag::EntityTag;
use crate::http::{Exchange, Req};
use crate::rules::urls::{break_url, resolve};
use crate::rules::Finding;
use crate::target::{CreateMethod, LocationFrom};

/// The longest wait for a strong `ETag` after a write.
pub const STRONG_WAIT: Duration = Duration::from_secs(3);
/// How often the suite re-reads while it waits for a strong `ETag`.
const STRONG_POLL: Duration = Duration::from_millis(250);

impl Cx {
    /// Sends a request.
    pub async fn send(&self, req: Req) -> Result<Exchange, Abort> {
        Ok(self.probe.send(req).await?)
    }

    /// A document that says which rule wrote it, with the `[body] fixture`
    /// members every body the suite sends carries (`extra` wins over them).
    pub fn doc(&self, extra: Value) -> Value {
        let mut doc = Value::Object(self.shape().body.fixture.clone());
        let target = doc.as_object_mut().expect("an object");
        target.insert("suite".into(), json!("ifmatch-conformance"));
        target.insert("rule".into(), json!(self.rule_id));
        if let Value::Object(extra) = extra {
            target.extend(extra);
        }
        doc
    }

    /// The URL of the resource with `id`: `[create] url` with the collection
    /// exactly as given (a trailing slash is kept, and not doubled by the
    /// template's own `/`).
    pub fn item_url(&self, id: &str) -> String {
        let collection = self.collection_url();
        let template = &self.shape().create.url;
        if collection.ends_with('/') && template.contains("{collection}/") {
            let shape = crate::target::TargetShape {
                create: crate::target::CreateShape {
                    url: template.replace("{collection}/", "{collection}"),
                    ..self.shape().create.clone()
                },
                ..crate::target::TargetShape::default()
            };
            return shape.item_url(collection, id);
        }
        self.shape().item_url(collection, id)
    }

    /// Creates a resource with `body` the way `[create]` says — `POST` to the
    /// collection, or `PUT` at a new URL with `If-None-Match: *` — and returns
    /// the raw exchange and the new resource's URL (from `Location`, the
    /// `body:/…` id, or the URL the suite chose). A resource it creates is
    /// remembered for cleanup.
    pub async fn create(&self, body: &Value) -> Result<(Exchange, Option<String>), Abort> {
        let create = &self.shape().create;
        let (exchange, chosen) = match create.method {
            CreateMethod::Post => (
                self.send(Req::post(self.collection_url()).json(body))
                    .await?,
                None,
            ),
            CreateMethod::Put => {
                let url = self.fresh_url();
                let sent = self
                    .send(Req::put(&url).json(body).header("If-None-Match", "*"))
                    .await?;
                (sent, Some(url))
            }
        };
        let from_header = || {
            exchange
                .header("location")
                .and_then(|loc| resolve(self.collection_url(), loc))
        };
        let url = match &create.location {
            LocationFrom::Header => from_header().or(chosen),
            LocationFrom::Template => chosen,
            LocationFrom::Body(pointer) => exchange
                .json()
                .and_then(|b| b.pointer(pointer).cloned())
                .and_then(|id| match id {
                    Value::String(s) => Some(s),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .map(|id| self.item_url(&id)),
        };
        if let (true, Some(url)) = ((200..300).contains(&exchange.status()), &url) {
            self.remember(url.clone());
        }
        Ok((exchange, url))
    }

    /// Creates a resource and returns the create's exchange and the new URL; when
    /// the create gives no usable resource, the rule is skipped saying why and what
    /// to configure.
    pub async fn create_or_skip(&self, body: &Value) -> Result<(Exchange, String), Abort> {
        let (created, url) = self.create(body).await?;
        match (created.status(), url) {
            (200..=299, Some(url)) => Ok((created, url)),
            (_, url) => Err(Abort::Prerequisite(
                self.create_failed(&created, url.as_deref()),
            )),
        }
    }

    /// Why a create did not give a usable resource, with what to configure.
    pub fn create_failed(&self, created: &Exchange, url: Option<&str>) -> String {
        let req = &created.request;
        let status = created.status();
        let advice = match (status, &self.shape().create.location, url) {
            (401 | 403, _, _) => {
                " (the server wants credentials: pass them with --header 'Authorization: ...')"
                    .to_owned()
            }
            (404 | 405, _, _) if self.shape().create.method == CreateMethod::Post => {
                " (if this API creates by PUT, set [create] method = \"put\")".to_owned()
            }
            (200..=299, LocationFrom::Header, None) => " without a usable Location (set [create] location = \"body:/id\" when the response body names the new id, or [create] method = \"put\")".to_owned(),
            (200..=299, LocationFrom::Body(p), None) => {
                format!(" without an id at {p} in its body (check [create] location)")
            }
            _ => String::new(),
        };
        format!(
            "could not create a test resource: {} {} answered {status}{advice}",
            req.method, req.url
        )
    }

    /// Creates a resource and reads it back with its version; skips the rule if
    /// that is impossible. With versions in the `ETag` it waits (at most 3 s)
    /// for a strong one, as servers that send a weak `ETag` for a moment after
    /// a write need.
    pub async fn fixture(&self, body: Value) -> Result<Fixture, Abort> {
        self.fixture_with(body, false).await
    }

    /// As [`Cx::fixture`], but a weak `ETag` that stays weak for the whole
    /// wait is taken as the version (its [`Version::is_weak`](super::Version::is_weak)
    /// says so): for rules that can still be judged on a server with weak
    /// ETags only (a stale write must be refused whatever the tag).
    pub async fn fixture_allowing_weak(&self, body: Value) -> Result<Fixture, Abort> {
        self.fixture_with(body, true).await
    }

    async fn fixture_with(&self, body: Value, weak_ok: bool) -> Result<Fixture, Abort> {
        let (created, url) = self.create_or_skip(&body).await?;
        let read = self.read_settled(&url).await?;
        let version = self.version_of(&read.exchange);
        let strong = read.exchange.etag().filter(|t| !t.is_weak());
        let usable = match &version {
            Some(v) if self.versions_are_etags() => weak_ok || !v.is_weak(),
            Some(_) => true,
            None => false,
        };
        match (read.status, version, read.body) {
            (200, Some(version), Some(body)) if usable => Ok(Fixture {
                has_etag: strong.is_some(),
                etag: strong.unwrap_or_else(|| {
                    EntityTag::strong(version.bare())
                        .or_else(|_| EntityTag::strong("ifmatch-conformance-no-etag"))
                        .expect("a valid opaque tag")
                }),
                version,
                body,
                sent: self.last_sent(&created),
                url,
            }),
            (status, version, _) if self.versions_are_etags() => Err(Abort::Prerequisite(format!(
                "could not read a test resource back with a strong ETag: GET {url} answered {status} with ETag {}{}",
                version.map_or("(none or malformed)".to_owned(), |v| v.text),
                if status == 200 { " (set [version] read = \"body:/…\" if the version is in the body)" } else { "" }
            ))),
            (status, _, _) => Err(Abort::Prerequisite(format!(
                "could not read a test resource's version: GET {url} answered {status} without a version at {} (check [version] read)",
                self.shape().version.read
            ))),
        }
    }

    /// The JSON body a request sent.
    fn last_sent(&self, exchange: &Exchange) -> Value {
        exchange
            .request
            .body
            .as_deref()
            .and_then(|b| serde_json::from_str(b).ok())
            .unwrap_or(Value::Null)
    }

    /// GETs `url`; with versions in the `ETag`, re-reads every 250 ms (at most
    /// 3 s) while the `ETag` is weak, and remembers how long it waited.
    pub async fn read_settled(&self, url: &str) -> Result<Snapshot, Abort> {
        let start = Instant::now();
        let mut read = self.snapshot(url).await?;
        if !self.versions_are_etags() {
            return Ok(read);
        }
        let weak = |r: &Snapshot| r.status == 200 && r.exchange.etag().is_some_and(|t| t.is_weak());
        let mut polled = false;
        while weak(&read) && start.elapsed() < STRONG_WAIT {
            polled = true;
            tokio::time::sleep(STRONG_POLL).await;
            read = self.snapshot(url).await?;
        }
        if polled && !weak(&read) {
            let mut waited = self.waited.lock().expect("wait poisoned");
            *waited += start.elapsed();
        }
        Ok(read)
    }

    /// A pass, saying when the check had to wait for a strong `ETag`.
    pub fn pass(&self, text: impl Into<String>) -> Finding {
        let mut text = text.into();
        let waited = *self.waited.lock().expect("wait poisoned");
        if !waited.is_zero() {
            text.push_str(&format!(
                " (the server sent a weak ETag for a moment after a write; the suite waited {:.1} s for a strong one)",
                waited.as_secs_f64()
            ));
        }
        Finding::Pass(text)
    }

    /// A URL in the collection that no resource has yet (`[create] url` with an
    /// id unique to this run); it is cleaned up afterwards.
    pub fn fresh_url(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let id = format!(
            "ifmatch-conformance-{}-{}-{n}",
            self.token,
            self.rule_id.replace('.', "-")
        );
        let url = self.item_url(&id);
        self.remember(url.clone());
        url
    }

    /// A URL that names no resource, built from `[body] missing-id` when it is
    /// set (a valid id for this API), else a fresh invented id.
    pub fn missing_url(&self) -> String {
        match &self.shape().body.missing_id {
            Some(id) => {
                let url = self.item_url(id);
                self.remember(url.clone());
                url
            }
            None => self.fresh_url(),
        }
    }

    /// Remembers a resource the check made some other way (a batch, a commit), so
    /// that it is deleted afterwards.
    pub fn remember(&self, url: String) {
        self.created
            .lock()
            .expect("fixture list poisoned")
            .push(url);
    }

    /// GETs `url`.
    pub async fn snapshot(&self, url: &str) -> Result<Snapshot, Abort> {
        let exchange = self.send(Req::get(url)).await?;
        Ok(Snapshot {
            status: exchange.status(),
            etag: exchange.etag_raw().map(str::to_owned),
            body: exchange.json(),
            exchange,
        })
    }

    /// Rolls back the transactions this check left open and releases the locks it
    /// still holds, then deletes every resource it created (best effort: `If-Match:
    /// *` works with servers that demand preconditions; a server that wants the
    /// version in the body or the query gets the current one the way `[version]
    /// send` says). A resource someone else still has locked (423) has its lock
    /// broken (`?break=true`) and is deleted again.
    pub async fn cleanup(&self) {
        let open =
            std::mem::take(&mut *self.transactions.lock().expect("transaction list poisoned"));
        for url in open {
            let _ = self.probe.send(Req::delete(&url)).await;
        }
        let locks = std::mem::take(&mut *self.locks.lock().expect("lock list poisoned"));
        for held in locks {
            let _ = self
                .probe
                .send(Req::delete(&held.lock_url).header("Lock-Token", held.token_header))
                .await;
        }
        let urls = std::mem::take(&mut *self.created.lock().expect("fixture list poisoned"));
        for url in urls {
            let delete = || Req::delete(&url).header("If-Match", "*");
            let Ok(answer) = self.probe.send(delete()).await else {
                continue;
            };
            match answer.status() {
                423 => {
                    let lock = break_url(&self.lock_url(&url));
                    let _ = self.probe.send(Req::delete(&lock)).await;
                    let _ = self.probe.send(delete()).await;
                }
                200..=299 | 404 | 410 => {}
                _ => {
                    let Ok(read) = self.probe.send(Req::get(&url)).await else {
                        continue;
                    };
                    if let Some(v) = self.version_of(&read) {
                        if let Ok(req) = self.write_req(&url, Write::Delete, Some(&v)) {
                            let _ = self.probe.send(req).await;
                        }
                    }
                }
            }
        }
    }
}
