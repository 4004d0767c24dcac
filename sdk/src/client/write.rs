//! Writes: choosing the precondition, sending, and keeping the cache truthful afterwards.

use http::{header, HeaderValue, Method};
use serde_json::Value;

use crate::{
    cache::CacheEntry,
    precondition::{after_fetch, plan, Fetched, Plan, Precondition, Unsafe},
    stats::Counters,
    Error, Versioned,
};

use super::{exchange::OpState, response::json_body, Client};

impl Client {
    /// PUT/PATCH/DELETE with the automatic precondition.
    pub(super) async fn write_planned(
        &self,
        method: Method,
        url: &str,
        body: Option<Value>,
    ) -> Result<Versioned<Value>, Error> {
        let mut op = self.op();
        let precondition = self.precondition_for(&mut op, &method, url).await?;
        let mut out = self
            .send_write(&mut op, method, url, precondition, body.as_ref())
            .await?;
        out.attempts = op.requests;
        Ok(out)
    }

    /// POST: no precondition (the resource does not exist yet); safety comes from the key.
    pub(super) async fn write_unplanned(
        &self,
        method: Method,
        url: &str,
        body: Value,
    ) -> Result<Versioned<Value>, Error> {
        let mut op = self.op();
        let mut out = self
            .send_write(&mut op, method, url, Precondition::None, Some(&body))
            .await?;
        out.attempts = op.requests;
        Ok(out)
    }

    async fn precondition_for(
        &self,
        op: &mut OpState,
        method: &Method,
        url: &str,
    ) -> Result<Precondition, Error> {
        let cached = self.inner.cache.get(&self.key(url));
        match plan(cached.as_ref(), self.missing_etag) {
            Plan::Send(precondition) => Ok(precondition),
            Plan::FetchFirst => {
                let fetched = self.fetch(op, url, true).await;
                let decision = match &fetched {
                    Ok(fresh) => after_fetch(method, Fetched::Found(fresh.etag.as_ref())),
                    Err(e) if e.is_not_found() => after_fetch(method, Fetched::Missing),
                    Err(_) => return fetched.map(|_| Precondition::None),
                };
                decision.map_err(|why| match (why, fetched) {
                    (Unsafe::NotFound, Err(not_found)) => not_found,
                    (Unsafe::NoStrongEtag { weak }, _) => Error::MissingEtag {
                        method: method.clone(),
                        url: url.to_owned(),
                        weak,
                    },
                    // after_fetch reports NotFound only for a fetch that failed with 404/410.
                    (Unsafe::NotFound, Ok(_)) => Error::MissingEtag {
                        method: method.clone(),
                        url: url.to_owned(),
                        weak: false,
                    },
                })
            }
        }
    }

    /// Sends one write with `precondition` and updates the cache from the answer.
    pub(super) async fn send_write(
        &self,
        op: &mut OpState,
        method: Method,
        url: &str,
        precondition: Precondition,
        body: Option<&Value>,
    ) -> Result<Versioned<Value>, Error> {
        let inner = &*self.inner;
        let mut request = self.request(method.clone(), url);
        match &precondition {
            Precondition::IfMatch(tag) => {
                let value =
                    HeaderValue::from_str(&tag.to_string()).map_err(|_| Error::InvalidEtag {
                        input: tag.to_string(),
                        reason: "cannot be sent as a header value".into(),
                    })?;
                request.headers.insert(header::IF_MATCH, value);
            }
            Precondition::IfNoneMatchAny => {
                request
                    .headers
                    .insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
            }
            Precondition::None => {}
        }
        if let Some(doc) = body {
            let content_type = if method == Method::PATCH {
                "application/merge-patch+json"
            } else {
                "application/json"
            };
            request
                .headers
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            request.body =
                Some(serde_json::to_vec(doc).map_err(|source| Error::Encode { source })?);
        }
        // An unconditional write is only safe to resend with a key; one key per logical write.
        if precondition == Precondition::None && inner.retry.retries_enabled() {
            let key = inner.keys.idempotency_key();
            if let Ok(value) = HeaderValue::from_str(&key) {
                request.headers.insert("idempotency-key", value);
            }
        }

        let response = self.exchange(op, request).await?;
        let key = self.key(url);
        if !response.status.is_success() {
            let err = self.error_for(&method, url, &response, op.requests);
            if let Some(status) = err.status().filter(|_| err.is_conflict()) {
                let counter = if status == 409 {
                    &inner.counters.conflicts_409
                } else {
                    &inner.counters.conflicts_412
                };
                Counters::bump(counter);
                // The cached validator is stale; keeping it would only earn another refusal.
                inner.cache.remove(&key);
            }
            return Err(err);
        }

        let etag = self.etag_of(&response);
        let returned = json_body(url, &response.body).unwrap_or_else(|e| {
            // The write succeeded; an unreadable body must not turn that into a failure.
            tracing::warn!(error = %e, "ignoring an undecodable body of a successful write");
            None
        });
        let location = response
            .headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|loc| url::Url::parse(url).ok()?.join(loc).ok())
            .map(String::from);

        match (&method, &etag) {
            (&Method::DELETE, _) => inner.cache.remove(&key),
            (&Method::POST, Some(tag)) => {
                if let Some(created) = &location {
                    let entry = CacheEntry {
                        etag: tag.clone(),
                        body: returned.clone().map(Into::into),
                    };
                    inner.cache.put(self.key(created), entry);
                }
            }
            (&Method::POST, None) => {}
            (_, Some(tag)) => {
                // RFC 9110 §9.3.4: a PUT answered with an ETag stored exactly what was sent.
                let stored = returned
                    .clone()
                    .or_else(|| (method == Method::PUT).then(|| body.cloned()).flatten());
                inner.cache.put(
                    key,
                    CacheEntry {
                        etag: tag.clone(),
                        body: stored.map(Into::into),
                    },
                );
            }
            // Written, but the new version is unknown: the old entry would be a lie.
            (_, None) => inner.cache.remove(&key),
        }

        let value = returned.or_else(|| body.cloned()).unwrap_or(Value::Null);
        let mut out = Versioned::new(value, etag);
        out.location = location;
        Ok(out)
    }
}
