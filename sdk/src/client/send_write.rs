//! Sending a write with the caller's precondition, and telling the caller what happened.

use bytes::Bytes;
use http::{header, HeaderValue, Method};
use serde_json::Value;

use crate::{
    cache::CacheEntry,
    outcome::{interpret, landed, Answer, CacheAction, Reread},
    precondition::Header,
    stats::Counters,
    Error, Precondition, Versioned,
};

use crate::transport::{Incoming, Outgoing};

use super::{
    exchange::{location_of, Exchanged, OpState},
    response::json_body,
    Client,
};

/// The header value for an entity tag we are about to send.
fn if_match_value(tag: &crate::EntityTag) -> Result<HeaderValue, Error> {
    HeaderValue::from_str(&tag.to_string()).map_err(|_| Error::InvalidEtag {
        input: tag.to_string(),
        reason: "cannot be sent as a header value".into(),
    })
}

impl Client {
    /// PUT/PATCH/DELETE/POST with the caller's precondition; nothing is fetched first.
    pub(super) async fn write(
        &self,
        op: &mut OpState,
        method: Method,
        url: &str,
        precondition: &Precondition,
        body: Option<&Value>,
    ) -> Result<Versioned<Value>, Error> {
        // With a version field the version may go into the body (`versioned`) or the query.
        let (header, versioned, query) = self.write_conditions(&method, url, precondition, body)?;
        // A repeat of a write that carries its version fails that check if the first landed.
        op.repeatable |= versioned.is_some() || query.is_some();
        op.version_query = query;
        self.send_write(op, method, url, header, versioned.as_ref().or(body))
            .await
    }

    /// Sends one write with `precondition` and keeps the cache truthful afterwards.
    pub(super) async fn send_write(
        &self,
        op: &mut OpState,
        method: Method,
        url: &str,
        precondition: Header,
        body: Option<&Value>,
    ) -> Result<Versioned<Value>, Error> {
        let lock = self.lock_for(url, op.lock.as_ref())?;
        let mut request = self.write_request(op, &method, url, &precondition, body)?;
        if let Some(lock) = &lock {
            request.headers.insert("lock-token", lock.header.clone());
        }
        // Reference-counted: kept to recognise an answer that repeats the body byte for byte.
        let sent_bytes = request.body.clone();
        let Exchanged {
            response,
            attempts,
            resent_after_503,
        } = self.exchange(op, request).await?;
        if response.status.is_success() {
            if op.transaction.is_none() {
                self.lock_used(lock.as_deref(), &method);
            }
            let sent = (body, &sent_bytes);
            return Ok(self.after_success(op, &method, url, sent, &response, attempts));
        }
        let sent_tag = match &precondition {
            Header::IfMatch(tag) => Some(tag),
            _ => None,
        };
        let err = self.error_for(&method, url, &response, attempts, sent_tag);
        let conditional = precondition != Header::None
            || op.version_query.is_some()
            || self.carries_version(body);
        let err = self.shaped_conflict(err, &response.body, conditional, attempts);
        let err = with_create_only(err, precondition == Header::IfNoneMatchAny);
        let err = self.lock_refused(lock.as_deref(), err);
        let refused_own_resend =
            err.is_conflict() || (method == Method::DELETE && err.is_not_found());
        if resent_after_503 && refused_own_resend {
            return self
                .after_ambiguous_refusal(op, &method, url, body, err, attempts)
                .await;
        }
        if let Some(status) = err.status().filter(|_| err.is_conflict()) {
            let counters = &self.inner.counters;
            Counters::bump(if status == http::StatusCode::CONFLICT {
                &counters.conflicts_409
            } else {
                &counters.conflicts_412
            });
            // The cached validator is stale; keeping it would only earn another refusal. (In a
            // transaction the refusal is about the transaction's view, not the cache's.)
            if op.transaction.is_none() {
                self.inner.cache.remove(&self.key(url));
            }
        }
        Err(err)
    }

    /// The request: the precondition header, the JSON body, and a key for an unconditional write.
    fn write_request(
        &self,
        op: &OpState,
        method: &Method,
        url: &str,
        precondition: &Header,
        body: Option<&Value>,
    ) -> Result<Outgoing, Error> {
        let mut request = self.outgoing(op, method.clone(), url);
        if let Some((name, value)) = &op.version_query {
            request.url = with_query(&request.url, name, value);
        }
        let headers = &mut request.headers;
        match precondition {
            Header::IfMatch(tag) => {
                headers.insert(header::IF_MATCH, if_match_value(tag)?);
            }
            Header::IfNoneMatchAny => {
                headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
            }
            Header::IfUnmodifiedSince(date) => {
                headers.insert(header::IF_UNMODIFIED_SINCE, date.clone());
            }
            Header::None => {}
        }
        if let Some(doc) = body {
            let content_type = if method == Method::PATCH {
                "application/merge-patch+json"
            } else {
                "application/json"
            };
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            request.body = serde_json::to_vec(doc)
                .map_err(|source| Error::Encode { source })?
                .into();
        }
        // An unconditional write is only safe to resend with a key; one key per logical write
        // (`exchange` resends this very request). To a server declared to honour keys, every
        // write carries one: then a resend after a lost answer or a 503 gets the first
        // attempt's outcome, not a refusal of its own precondition.
        let keyed = *precondition == Header::None || self.inner.keys_honoured;
        if keyed && self.inner.retry.retries_enabled() {
            let key = self.inner.keys.idempotency_key();
            if let Ok(value) = HeaderValue::from_str(&key) {
                request.headers.insert("idempotency-key", value);
            }
        }
        Ok(request)
    }

    /// The result of a successful write, and what the cache learns from it. `sent` is the
    /// document written (if any) and the request body it went out as.
    fn after_success(
        &self,
        op: &OpState,
        method: &Method,
        url: &str,
        (sent, sent_bytes): (Option<&Value>, &Bytes),
        response: &Incoming,
        attempts: u32,
    ) -> Versioned<Value> {
        let returned = match sent {
            // The answer repeats the request's bytes (a server that stores and returns the
            // document as sent): it is that document, with no need to parse it again. For a
            // large document the parse was a good part of a write's cost.
            Some(doc) if response.body == sent_bytes => Some(doc.clone()),
            _ => json_body(url, &response.body).unwrap_or_else(|e| {
                // The write succeeded; an unreadable body must not turn that into a failure.
                tracing::warn!(error = %e, "ignoring an undecodable body of a successful write");
                None
            }),
        };
        let location = location_of(response, header::LOCATION, url);
        let interpreted = interpret(
            Answer {
                method,
                target: url,
                sent,
                etag: self.etag_of(response),
                content_location: location_of(response, header::CONTENT_LOCATION, url),
                location: location.clone(),
                body: returned,
            },
            self.inner.trust_write_bodies,
        );
        let mut interpreted = interpreted;
        self.settle_written(&mut interpreted, sent);
        for action in interpreted.cache {
            // A write in a transaction is staged, its tag provisional: the cache learns the
            // real one at the commit, with the body recorded here.
            if let Some(tx) = &op.transaction {
                match action {
                    CacheAction::Store { url, body, .. } => tx.stage(&url, Some(body)),
                    CacheAction::Forget { url } => tx.stage(&url, None),
                }
                continue;
            }
            match action {
                CacheAction::Store { url, etag, body } => self.inner.cache.put(
                    self.key(&url),
                    CacheEntry {
                        etag,
                        body: body.into(),
                    },
                ),
                CacheAction::Forget { url } => self.inner.cache.remove(&self.key(&url)),
            }
        }
        let mut out = Versioned::new(interpreted.value, interpreted.etag);
        out.location = location;
        out.attempts = attempts;
        out.version = self.written_version(&out, sent, &response.headers);
        out.headers = response.headers.clone();
        out.status = response.status;
        out
    }

    /// The write was resent after a 503 and the resend was refused: perhaps by the write's own
    /// first attempt, which the origin applied before a proxy answered 503. Re-read and report
    /// success only if the stored state is what the write asked for; never apply it twice.
    async fn after_ambiguous_refusal(
        &self,
        op: &mut OpState,
        method: &Method,
        url: &str,
        sent: Option<&Value>,
        refusal: Error,
        attempts: u32,
    ) -> Result<Versioned<Value>, Error> {
        let status = refusal
            .status()
            .unwrap_or(http::StatusCode::PRECONDITION_FAILED);
        let unknown = |reason: String| Error::OutcomeUnknown {
            method: method.clone(),
            url: url.to_owned(),
            status,
            reason,
        };
        let reread = self.fetch(op, url, false).await;
        let (stored, etag) = match &reread {
            Ok(fresh) => (Reread::Found(&fresh.body), fresh.etag.clone()),
            Err(e) if e.is_not_found() => (Reread::Missing, None),
            Err(e) => return Err(unknown(format!("re-reading it failed ({})", e.code()))),
        };
        if !landed(method, sent, stored) {
            return Err(unknown(match &reread {
                Ok(_) => "the stored state differs from what was sent".to_owned(),
                Err(_) => "the resource no longer exists".to_owned(),
            }));
        }
        tracing::debug!(%method, url, "an earlier attempt answered 503 had landed");
        let (value, headers, status) = reread
            .map(|fresh| ((*fresh.body).clone(), fresh.headers, fresh.status))
            .unwrap_or_default();
        let mut out = Versioned::new(value, etag);
        out.attempts = attempts;
        // The re-read's: the answers to the write itself were a 503 and a refusal.
        out.headers = headers;
        out.status = status;
        Ok(out)
    }
}

/// Marks a refusal of a create-only write, whose message is "already exists", not "changed".
pub(super) fn with_create_only(mut err: Error, create_only: bool) -> Error {
    if let Error::Conflict {
        create_only: flag, ..
    } = &mut err
    {
        *flag = create_only;
    }
    err
}

/// `url` with `name=value` appended to its query (percent-encoded).
fn with_query(url: &str, name: &str, value: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            parsed.query_pairs_mut().append_pair(name, value);
            parsed.into()
        }
        Err(_) => url.to_owned(),
    }
}
