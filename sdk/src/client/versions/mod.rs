//! Versions: a document's history (`versions`, `version`), restoring and diffing past versions,
//! the `Api-Version` setting, the version-field mode's hooks into reads and writes, and the
//! deprecation notices of any answer.

mod diff;
mod field;
mod get;
mod list;
mod notice;
mod restore;

use http::{HeaderMap, HeaderValue};
use serde::de::DeserializeOwned;

use crate::{Error, VersionField};

use super::Client;

pub use diff::Diff;
pub use get::GetVersion;
pub use list::ListVersions;
pub use restore::Restore;

/// Where a document's history is when not configured: `{item}/versions` (the reference
/// server's), `{item}` standing for the document's absolute URL.
pub const DEFAULT_VERSIONS_PATH: &str = "{item}/versions";

/// The builder's checks of this module's settings; the `Api-Version` header joins the client's.
pub(super) fn check_settings(
    versions_path: &str,
    field: Option<&VersionField>,
    api_version: Option<&str>,
    headers: &mut HeaderMap,
) -> Result<(), Error> {
    if !versions_path.contains("{item}") {
        return Err(Error::Config {
            field: "versions_path",
            reason: format!(
                "{versions_path:?} does not say where the document's URL goes: include {{item}}, e.g. \"{{item}}/versions\""
            ),
        });
    }
    if let Some(field) = field {
        field.validate()?;
    }
    if let Some(version) = api_version {
        let value = HeaderValue::from_str(version)
            .ok()
            .filter(|_| !version.trim().is_empty())
            .ok_or_else(|| Error::Config {
                field: "api_version",
                reason: format!(
                    "{version:?} cannot be sent as an Api-Version header; give e.g. \"2\""
                ),
            })?;
        headers.insert("api-version", value);
    }
    Ok(())
}

/// The history's URL for the document at `item` (absolute): `{item}` replaced by the
/// document's URL without its query, which goes after.
fn history_url(template: &str, item: &str) -> String {
    let (path, query) = match item.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (item, None),
    };
    let mut url = template.replace("{item}", path.trim_end_matches('/'));
    if let Some(query) = query {
        url.push('?');
        url.push_str(query);
    }
    url
}

/// Version `n` under a history URL (before its query).
fn version_url(history: &str, n: u64) -> String {
    match history.split_once('?') {
        Some((path, query)) => format!("{path}/{n}?{query}"),
        None => format!("{history}/{n}"),
    }
}

impl Client {
    /// The absolute URLs of a document and of its history.
    fn history_of(
        &self,
        path: &str,
        options: &super::options::Options,
    ) -> Result<(String, String), Error> {
        let item = self.target(path, options)?;
        let history = history_url(&self.inner.versions_path, &item);
        Ok((item, history))
    }

    /// Lists the versions the server keeps of a document, newest first, with its retention
    /// policy; see [`ListVersions`].
    ///
    /// ```no_run
    /// # async fn demo(client: ifmatch::Client) -> Result<(), ifmatch::Error> {
    /// let history = client.versions("/items/doc").await?;
    /// for entry in &history.versions {
    ///     println!("v{} by {:?}, {} bytes{}", entry.version, entry.author, entry.size,
    ///         if entry.deleted { " (deleted)" } else { "" });
    /// }
    /// # Ok(()) }
    /// ```
    pub fn versions(&self, path: &str) -> ListVersions {
        ListVersions::new(self.clone(), path)
    }

    /// Reads version `n` of a document as it was, decoded as `T`; see [`GetVersion`]. Its
    /// `version` is `n`; a version the server does not keep is [`Error::VersionNotFound`].
    pub fn version<T: DeserializeOwned>(&self, path: &str, n: u64) -> GetVersion<T> {
        GetVersion::new(self.clone(), path, n)
    }

    /// Writes version `n`'s content back as the document's new version, conditional on the
    /// current version; see [`Restore`] (and why a conflict is not retried by default).
    pub fn restore(&self, path: &str, n: u64) -> Restore {
        Restore::new(self.clone(), path, n)
    }

    /// The JSON Patch (RFC 6902) from version `from` to version `to` of a document; see
    /// [`Diff`] and [`crate::merge::diff`].
    pub fn diff(&self, path: &str, from: u64, to: u64) -> Diff {
        Diff::new(self.clone(), path, from, to)
    }

    /// The distinct deprecation notices answers to this client carried (`Deprecation`,
    /// `Sunset`), in the order they were first seen: the last is the latest. Each was also
    /// reported once as [`crate::Event::Deprecated`]; `stats()` counts every such answer.
    pub fn deprecations(&self) -> Vec<crate::DeprecationNotice> {
        self.inner.notices.all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_history_is_beside_the_document_and_keeps_its_query() {
        let t = DEFAULT_VERSIONS_PATH;
        assert_eq!(
            history_url(t, "http://h/items/a"),
            "http://h/items/a/versions"
        );
        assert_eq!(
            history_url(t, "http://h/items/a/"),
            "http://h/items/a/versions"
        );
        assert_eq!(
            history_url(t, "http://h/items/a?x=1"),
            "http://h/items/a/versions?x=1"
        );
        assert_eq!(
            history_url("{item}/_history", "http://h/Patient/7"),
            "http://h/Patient/7/_history"
        );
        assert_eq!(
            version_url("http://h/items/a/versions?x=1", 41),
            "http://h/items/a/versions/41?x=1"
        );
        assert_eq!(
            version_url("http://h/items/a/versions", 41),
            "http://h/items/a/versions/41"
        );
    }

    #[test]
    fn settings_are_checked_with_the_fix() {
        let mut headers = HeaderMap::new();
        let err = check_settings("/versions", None, None, &mut headers).unwrap_err();
        assert!(err.to_string().contains("{item}"), "{err}");
        for bad in ["", "2\n"] {
            let err =
                check_settings(DEFAULT_VERSIONS_PATH, None, Some(bad), &mut headers).unwrap_err();
            assert_eq!(err.code(), "invalid_config", "{bad:?}");
        }
        check_settings(DEFAULT_VERSIONS_PATH, None, Some("2"), &mut headers).unwrap();
        assert_eq!(headers["api-version"], "2");
    }
}
