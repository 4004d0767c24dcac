//! `client.diff(path, from, to)`: the JSON Patch between two versions of a document.

use std::future::IntoFuture;

use crate::{
    merge::{diff, JsonPatch},
    rt::{traced, BoxFuture},
    Error,
};

use super::{
    super::{
        options::{request_options, Options},
        Client,
    },
    version_url,
};

/// The JSON Patch (RFC 6902) that turns version `from` of a document into version `to`; built
/// by [`Client::diff`]. Both versions are read (through the cache: they never change) and
/// compared with [`crate::merge::diff`] (objects member by member, arrays by index). With a
/// [`crate::VersionField`] that has a [`crate::VersionField::document_at`], the documents are
/// compared, not the envelopes (whose version members always differ).
///
/// ```no_run
/// # async fn demo(client: ifmatch::Client) -> Result<(), ifmatch::Error> {
/// let patch = client.diff("/items/doc", 41, 57).await?;
/// println!("{}", serde_json::to_string(&patch).unwrap()); // [{"op":"replace","path":"/title",…}]
/// # Ok(()) }
/// ```
#[must_use = "a request does nothing until it is awaited"]
#[derive(Debug)]
pub struct Diff {
    client: Client,
    path: String,
    from: u64,
    to: u64,
    options: Options,
}

request_options!(Diff);

impl Diff {
    pub(super) fn new(client: Client, path: &str, from: u64, to: u64) -> Self {
        Self {
            client,
            path: path.to_owned(),
            from,
            to,
            options: Options::default(),
        }
    }

    /// Reads both versions and compares them.
    ///
    /// # Errors
    /// [`Error::VersionNotFound`] for a version the server does not keep, and the errors of
    /// [`Client::version`].
    pub async fn send(self) -> Result<JsonPatch, Error> {
        let Self {
            client,
            path,
            from,
            to,
            options,
        } = self;
        let (item, history) = client.history_of(&path, &options)?;
        let span = tracing::debug_span!("ifmatch.diff", url = %item, from, to);
        let work = async {
            let mut op = client.op(&options);
            let old = client
                .read_version(&mut op, &version_url(&history, from), from)
                .await?;
            let new = client
                .read_version(&mut op, &version_url(&history, to), to)
                .await?;
            Ok(diff(
                client.document_of(&old.value),
                client.document_of(&new.value),
            ))
        };
        client
            .bounded(format!("diff of {item}"), &item, true, traced(span, work))
            .await
    }
}

impl IntoFuture for Diff {
    type Output = Result<JsonPatch, Error>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}
