//! `client.versions(path)`: the kept versions of a document and the retention policy.

use std::future::IntoFuture;

use http::Method;

use crate::{
    rt::{traced, BoxFuture},
    versions::parse_history,
    Error, History,
};

use super::super::{
    options::{request_options, Options},
    Client,
};

/// A request for a document's history (`GET {item}/versions`, see
/// [`crate::ClientBuilder::versions_path`]); built by [`Client::versions`]. Await it for a
/// [`History`]: the kept versions newest first (a deleted document's tombstone first) and the
/// retention policy. A document that never existed, or whose tombstone has gone, is a 404
/// ([`Error::is_not_found`]). The list is read in full every time (never from the cache).
#[must_use = "a request does nothing until it is awaited"]
#[derive(Debug)]
pub struct ListVersions {
    client: Client,
    path: String,
    options: Options,
}

request_options!(ListVersions);

impl ListVersions {
    pub(super) fn new(client: Client, path: &str) -> Self {
        Self {
            client,
            path: path.to_owned(),
            options: Options::default(),
        }
    }

    /// Sends the request.
    ///
    /// # Errors
    /// [`Error::Status`] (404 for an unknown document), [`Error::Decode`] for a body that is
    /// not a version list, and the throttling, timeout and transport errors.
    pub async fn send(self) -> Result<History, Error> {
        let Self {
            client,
            path,
            options,
        } = self;
        let (_, url) = client.history_of(&path, &options)?;
        let span = tracing::debug_span!("ifmatch.versions", url = %url);
        let work = async {
            let mut op = client.op(&options);
            let request = client.outgoing(&op, Method::GET, &url);
            let response = client.exchange(&mut op, request).await?.response;
            if !response.status.is_success() {
                return Err(client.error_for(&Method::GET, &url, &response, op.requests, None));
            }
            parse_history(&url, &response.body)
        };
        client
            .bounded(format!("GET {url}"), &url, true, traced(span, work))
            .await
    }
}

impl IntoFuture for ListVersions {
    type Output = Result<History, Error>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}
