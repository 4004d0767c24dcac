//! Where the server's endpoints are, and which API version and version field it uses.

#[cfg(doc)]
use crate::Client;

use super::ClientBuilder;

impl ClientBuilder {
    /// Where atomic batches are sent ([`Client::batch`]): a path resolved against the base URL
    /// like any other (default `/batch`), or an absolute URL. The documents a batch names are
    /// sent as paths relative to the base URL (see [`crate::Batch`]).
    pub fn batch_path(mut self, path: &str) -> Self {
        self.batch_path = path.to_owned();
        self
    }

    /// Where transactions begin ([`Client::begin`], [`Client::transaction`]): a path resolved
    /// against the base URL (default `/transactions`), or an absolute URL. Commits and
    /// rollbacks go to the transaction's own URL (its `Location`).
    pub fn transactions_path(mut self, path: &str) -> Self {
        self.transactions_path = path.to_owned();
        self
    }

    /// Where a document's history is ([`Client::versions`], [`Client::version`]), with
    /// `{item}` standing for the document's absolute URL (default `{item}/versions`,
    /// [`crate::DEFAULT_VERSIONS_PATH`]); version `n` is at `<that>/n`. A query of the document's
    /// URL goes after it. Checked when the client is built: it must contain `{item}`.
    pub fn versions_path(mut self, template: &str) -> Self {
        self.versions_path = template.to_owned();
        self
    }

    /// Sends `Api-Version: <version>` with every request (as Azure's `api-version`, GitHub's
    /// `X-GitHub-Api-Version` and Stripe's `Stripe-Version` select an API version); a request
    /// can send another with its own `.api_version(..)`. Versions selected by a URL prefix
    /// (`/v2/items/…`) need nothing here: a prefix is just part of the path. Checked when the
    /// client is built.
    pub fn api_version(mut self, version: &str) -> Self {
        self.api_version = Some(version.to_owned());
        self
    }

    /// For servers that keep the version in the JSON body (our v2's `/version`, Kubernetes'
    /// `/metadata/resourceVersion`, CouchDB's `/_rev`, GitHub contents' `/sha`): reads take it
    /// from there, and `put`, `patch` and `update()` put the version their document was based
    /// on there; see [`crate::VersionField`]. Its pointers are checked when the client is built.
    pub fn version_field(mut self, field: crate::VersionField) -> Self {
        self.version_field = Some(field);
        self
    }

    /// Where the server's conflict log is ([`Client::conflicts`]): a path resolved against the
    /// base URL (default `/conflicts`, [`crate::DEFAULT_CONFLICTS_PATH`]), or an absolute URL;
    /// records, resolutions and the stream are under it (`{path}/{id}`, `{path}/{id}/resolve`,
    /// `{path}/stream`).
    pub fn conflicts_path(mut self, path: &str) -> Self {
        self.conflicts_path = path.to_owned();
        self
    }
}
