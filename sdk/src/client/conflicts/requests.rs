//! Reading the conflict log: `list` (one page, or all) and `get` (one record).

use std::future::IntoFuture;

use http::Method;
use serde_json::Value;

use crate::{
    conflicts::{ConflictPage, ConflictRecord},
    rt::{traced, BoxFuture},
    ConflictFilter, Error,
};

use super::super::{
    options::{request_options, Options},
    response::json_body,
    Client,
};

/// A GET of the conflict log; the absolute URL and the answer's JSON (never cached: the log
/// changes all the time).
pub(super) async fn get_json(
    client: &Client,
    path: &str,
    options: &Options,
    query: Vec<(String, String)>,
) -> Result<(String, Value), Error> {
    let mut options = options.clone();
    options.query.extend(query);
    let url = client.target(path, &options)?;
    let span = tracing::debug_span!("ifmatch.conflicts", url = %url);
    let work = async {
        let mut op = client.op(&options);
        let request = client.outgoing(&op, Method::GET, &url);
        let response = client.exchange(&mut op, request).await?.response;
        if !response.status.is_success() {
            return Err(client.error_for(&Method::GET, &url, &response, op.requests, None));
        }
        Ok((
            url.clone(),
            json_body(&url, &response.body)?.unwrap_or(Value::Null),
        ))
    };
    client
        .bounded(format!("GET {url}"), &url, true, traced(span, work))
        .await
}

/// A JSON answer that is not the expected shape, as a decode error naming what is wrong.
pub(super) fn malformed(url: &str, what: String) -> Error {
    Error::Decode {
        url: url.to_owned(),
        source: serde::de::Error::custom(what),
    }
}

/// One page of the conflict log; built by [`super::Conflicts::list`].
///
/// # Defaults
/// `limit` none (the server's: 100 on the reference server, at most 1000), `after` none (from
/// the oldest record the server keeps).
#[must_use = "a request does nothing until it is awaited"]
#[derive(Debug)]
pub struct ListConflicts {
    client: Client,
    path: String,
    filter: ConflictFilter,
    limit: Option<u32>,
    after: Option<u64>,
    options: Options,
}

request_options!(ListConflicts);

impl ListConflicts {
    pub(super) fn new(client: Client, path: String, filter: ConflictFilter) -> Self {
        Self {
            client,
            path,
            filter,
            limit: None,
            after: None,
            options: Options::default(),
        }
    }

    /// At most this many records.
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Only records after this sequence number (a page's `next_after`).
    pub fn after(mut self, seq: u64) -> Self {
        self.after = Some(seq);
        self
    }

    /// Sends the request.
    ///
    /// # Errors
    /// [`Error::Decode`] when the answer is not a page of records, `unauthorized` /
    /// `forbidden` ([`Error::Auth`]), and the throttling, timeout and transport errors.
    pub async fn send(self) -> Result<ConflictPage, Error> {
        let mut query = self.filter.query();
        if let Some(limit) = self.limit {
            query.push(("limit".into(), limit.to_string()));
        }
        if let Some(after) = self.after {
            query.push(("after".into(), after.to_string()));
        }
        let (url, body) = get_json(&self.client, &self.path, &self.options, query).await?;
        ConflictPage::from_json(&body).map_err(|what| malformed(&url, what))
    }

    /// Every page from `after` on, in one list (the server's log is bounded: 1000 records by
    /// default on the reference server).
    ///
    /// # Errors
    /// As [`ListConflicts::send`], for any page.
    pub async fn all(mut self) -> Result<Vec<ConflictRecord>, Error> {
        let mut all = Vec::new();
        loop {
            let page = Self {
                client: self.client.clone(),
                path: self.path.clone(),
                filter: self.filter.clone(),
                limit: self.limit,
                after: self.after,
                options: self.options.clone(),
            }
            .send()
            .await?;
            all.extend(page.conflicts);
            match page.next_after {
                // A server that does not move forward would loop forever.
                Some(next) if Some(next) != self.after => self.after = Some(next),
                _ => return Ok(all),
            }
        }
    }
}

impl IntoFuture for ListConflicts {
    type Output = Result<ConflictPage, Error>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

/// One conflict record; built by [`super::Conflicts::get`].
#[must_use = "a request does nothing until it is awaited"]
#[derive(Debug)]
pub struct GetConflict {
    client: Client,
    path: String,
    options: Options,
}

request_options!(GetConflict);

impl GetConflict {
    pub(super) fn new(client: Client, path: String) -> Self {
        Self {
            client,
            path,
            options: Options::default(),
        }
    }

    /// Sends the request.
    ///
    /// # Errors
    /// A 404 ([`Error::is_not_found`]) for an unknown id or one the bounded log forgot,
    /// [`Error::Decode`] when the answer is not a record, `unauthorized` / `forbidden`, and the
    /// throttling, timeout and transport errors.
    pub async fn send(self) -> Result<ConflictRecord, Error> {
        let (url, body) = get_json(&self.client, &self.path, &self.options, Vec::new()).await?;
        ConflictRecord::from_json(&body).map_err(|what| malformed(&url, what))
    }
}

impl IntoFuture for GetConflict {
    type Output = Result<ConflictRecord, Error>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}
