//! Servers that keep the version in the body: where it is, how writes carry it.

use serde_json::{Map, Value};

use super::Version;
use crate::{merge::pointer, Error};

/// Where a server keeps a document's version in its JSON body, and how a write sends it back,
/// for [`crate::ClientBuilder::version_field`] (or one resource's
/// [`crate::Client::with_version_field`]): our v2's `/version`, Kubernetes'
/// `/metadata/resourceVersion`, CouchDB's `/_rev`, GitHub contents' `/sha`, GCS's
/// `/generation`. Without one, the version is the `ETag` and travels back in `If-Match`.
///
/// With it, reads take the version from the body at this JSON Pointer (and still keep the
/// ETag when there is one), and `put`, `patch` and `update()` send the version their document
/// was based on back: by default into the body at the same pointer
/// ([`VersionField::sent_at`] for another member), or as a query parameter
/// ([`VersionField::sent_in_query`]: CouchDB's `?rev=`, GCS's `?ifGenerationMatch=`). Whether
/// they also send `If-Match` is [`VersionField::with_if_match`].
///
/// # Defaults
/// Sent back in the body at the same pointer, no `If-Match`: such servers often ignore
/// `If-Match`, and one that ignores it would turn an `If-Match`-only write into a silent
/// overwrite; the version in the body is the one they check. The whole body is the document
/// (no [`VersionField::document_at`]).
///
/// ```
/// use ifmatch::{Client, VersionField};
///
/// // Kubernetes: the version is metadata.resourceVersion, a stale one is 409 Conflict.
/// let k8s = Client::builder()
///     .version_field(VersionField::at("/metadata/resourceVersion"))
///     .build()?;
/// // Our API v2: reads are {"id", "version", "modified_at_ms", "data"}, writes {"data", "version"}.
/// let v2 = Client::builder()
///     .version_field(VersionField::at("/version").document_at("/data").with_if_match(true))
///     .build()?;
/// // CouchDB with ?rev=: the body's _rev is read, the write carries ?rev=<it>.
/// let couch = Client::builder()
///     .version_field(VersionField::at("/_rev").sent_in_query("rev"))
///     .build()?;
/// // GCS: the object's generation, sent back as ?ifGenerationMatch=.
/// let gcs = Client::builder()
///     .version_field(VersionField::at("/generation").sent_in_query("ifGenerationMatch"))
///     .build()?;
/// // A malformed pointer is refused when the client is built.
/// let err = Client::builder().version_field(VersionField::at("version")).build().unwrap_err();
/// assert_eq!(err.code(), "invalid_config");
/// # Ok::<(), ifmatch::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionField {
    pointer: String,
    if_match: bool,
    document: Option<String>,
    /// Where a write puts the version: a body pointer (`None`: `pointer`), or a query name.
    send: Option<SendBack>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum SendBack {
    Body(String),
    Query(String),
}

impl VersionField {
    /// The version is at this JSON Pointer (RFC 6901, e.g. `/metadata/resourceVersion`; `~1`
    /// for a `/` in a member name, `~0` for `~`). Checked when the client is built.
    pub fn at(pointer: &str) -> Self {
        Self {
            pointer: pointer.to_owned(),
            if_match: false,
            document: None,
            send: None,
        }
    }

    /// Writes put the version into the body at this pointer instead of where reads find it
    /// (for APIs whose reads and writes name it differently). Checked when the client is built.
    pub fn sent_at(mut self, pointer: &str) -> Self {
        self.send = Some(SendBack::Body(pointer.to_owned()));
        self
    }

    /// Writes send the version as the query parameter `name` (`?rev=1-a`,
    /// `?ifGenerationMatch=17`), leaving the body as the document is; a `delete` with a read
    /// that named its version sends it too.
    pub fn sent_in_query(mut self, name: &str) -> Self {
        self.send = Some(SendBack::Query(name.to_owned()));
        self
    }

    /// The query parameter a write sends the version in, if any.
    pub fn query_name(&self) -> Option<&str> {
        match &self.send {
            Some(SendBack::Query(name)) => Some(name),
            _ => None,
        }
    }

    /// The query pair a write based on `version` sends, in query mode.
    pub(crate) fn query(&self, version: &Version) -> Option<(String, String)> {
        self.query_name()
            .map(|name| (name.to_owned(), version.to_string()))
    }

    /// Also send `If-Match` with the ETag the document was read with, when it has a strong one
    /// (both must then hold, as on our v2). Default `false`: the body alone.
    pub fn with_if_match(mut self, if_match: bool) -> Self {
        self.if_match = if_match;
        self
    }

    /// The document is the member at this pointer of what reads return, and a write's body is
    /// only that member and the version: for APIs whose reads return an envelope with
    /// read-only members (our v2's `id` and `modified_at_ms`) that writes refuse. A body
    /// without a member at this pointer is sent whole.
    pub fn document_at(mut self, pointer: &str) -> Self {
        self.document = Some(pointer.to_owned());
        self
    }

    /// The version's JSON Pointer.
    pub fn pointer(&self) -> &str {
        &self.pointer
    }

    /// Whether writes also send `If-Match`.
    pub fn sends_if_match(&self) -> bool {
        self.if_match
    }

    /// The document's pointer, when it is a member of the body.
    pub(crate) fn document(&self) -> Option<&str> {
        self.document.as_deref().filter(|d| !d.is_empty())
    }

    /// Checks both pointers, for the builder.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        let invalid = |reason: String| Error::Config {
            field: "version_field",
            reason,
        };
        if pointer::tokens(&self.pointer).map_err(invalid)?.is_empty() {
            return Err(invalid(
                "the version cannot be the whole body: give the JSON Pointer of the member that holds it, e.g. \"/version\" or \"/metadata/resourceVersion\"".into(),
            ));
        }
        if let Some(document) = &self.document {
            pointer::tokens(document).map_err(invalid)?;
        }
        match &self.send {
            Some(SendBack::Body(at)) if at.is_empty() => Err(invalid(
                "sent_at needs a member's JSON Pointer, e.g. \"/sha\"".into(),
            )),
            Some(SendBack::Body(at)) => pointer::tokens(at).map_err(invalid).map(drop),
            Some(SendBack::Query(name)) if name.is_empty() => Err(invalid(
                "sent_in_query needs the parameter's name, e.g. \"rev\"".into(),
            )),
            _ => Ok(()),
        }
    }

    /// The version in `body`, if it has one there (a number or a string).
    pub(crate) fn read(&self, body: &Value) -> Option<Version> {
        body.pointer(&self.pointer).and_then(Version::from_json)
    }

    /// The body a write sends: `body` (or its document member, see
    /// [`VersionField::document_at`]) with `version` at the pointer it is sent at (none in
    /// query mode). Intermediate objects are created; `Err` when a member on the way is not an
    /// object.
    pub(crate) fn write(&self, body: &Value, version: &Version) -> Result<Value, Error> {
        let mut out = match self.document() {
            Some(document) => match body.pointer(document) {
                Some(doc) => {
                    let mut envelope = Value::Object(Map::new());
                    set(&mut envelope, document, doc.clone())?;
                    envelope
                }
                None => body.clone(),
            },
            None => body.clone(),
        };
        match &self.send {
            Some(SendBack::Query(_)) => {}
            Some(SendBack::Body(at)) => set(&mut out, at, version.to_json())?,
            None => set(&mut out, &self.pointer, version.to_json())?,
        }
        Ok(out)
    }
}

/// Sets `value` at `at` in `doc`, creating objects on the way (and `doc` itself when `null`).
fn set(doc: &mut Value, at: &str, value: Value) -> Result<(), Error> {
    let cannot = |reason: String| Error::Config {
        field: "version_field",
        reason,
    };
    let tokens = pointer::tokens(at).map_err(cannot)?;
    let mut node = doc;
    for token in tokens {
        if node.is_null() {
            *node = Value::Object(Map::new());
        }
        node = match node {
            Value::Object(members) => members.entry(token).or_insert(Value::Null),
            Value::Array(items) => {
                let len = items.len();
                pointer::index(&token)
                    .and_then(|i| items.get_mut(i))
                    .ok_or_else(|| {
                        cannot(format!(
                            "cannot write at {at:?}: the body's array has no element {token:?} (length {len})"
                        ))
                    })?
            }
            _ => {
                return Err(cannot(format!(
                    "cannot write at {at:?}: a member on the way is not a JSON object"
                )))
            }
        };
    }
    *node = value;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pointers_are_checked_with_a_clear_reason() {
        assert!(VersionField::at("/metadata/resourceVersion")
            .validate()
            .is_ok());
        assert!(VersionField::at("/a~1b").validate().is_ok());
        for (bad, why) in [
            ("version", "start with `/`"),
            ("", "whole body"),
            ("/a~x", "~0"),
        ] {
            let err = VersionField::at(bad).validate().unwrap_err();
            assert_eq!(err.code(), "invalid_config");
            assert!(err.to_string().contains(why), "{bad:?}: {err}");
        }
        let err = VersionField::at("/v")
            .document_at("data")
            .validate()
            .unwrap_err();
        assert!(err.to_string().contains("start with `/`"), "{err}");
    }

    #[test]
    fn reads_take_numbers_and_strings_at_the_pointer() {
        let k8s = VersionField::at("/metadata/resourceVersion");
        let pod = json!({"metadata": {"name": "a", "resourceVersion": "4711"}});
        assert_eq!(k8s.read(&pod), Some(Version::text("4711")));
        assert_eq!(k8s.read(&json!({"metadata": {}})), None);
        assert_eq!(
            VersionField::at("/version").read(&json!({"version": 57})),
            Some(Version::number(57))
        );
    }

    #[test]
    fn writes_put_the_version_at_the_pointer_creating_objects() {
        let k8s = VersionField::at("/metadata/resourceVersion");
        assert_eq!(
            k8s.write(&json!({"spec": 1}), &Version::text("9")).unwrap(),
            json!({"spec": 1, "metadata": {"resourceVersion": "9"}})
        );
        let couch = VersionField::at("/_rev");
        assert_eq!(
            couch
                .write(
                    &json!({"_id": "a", "_rev": "1-x", "n": 2}),
                    &Version::text("2-y")
                )
                .unwrap(),
            json!({"_id": "a", "_rev": "2-y", "n": 2})
        );
        let err = k8s
            .write(&json!({"metadata": "x"}), &Version::number(1))
            .unwrap_err();
        assert!(err.to_string().contains("not a JSON object"), "{err}");
    }

    #[test]
    fn the_version_is_sent_back_where_configured() {
        let couch = VersionField::at("/_rev").sent_in_query("rev");
        let doc = json!({"_id": "a", "_rev": "1-x", "n": 2});
        assert_eq!(couch.write(&doc, &Version::text("1-x")).unwrap(), doc);
        assert_eq!(
            couch.query(&Version::text("1-x")),
            Some(("rev".to_owned(), "1-x".to_owned()))
        );
        assert_eq!(VersionField::at("/_rev").query(&Version::number(1)), None);
        let renamed = VersionField::at("/sha").sent_at("/base/sha");
        assert_eq!(
            renamed
                .write(&json!({"c": 1}), &Version::text("ab"))
                .unwrap(),
            json!({"c": 1, "base": {"sha": "ab"}})
        );
        for bad in [
            VersionField::at("/v").sent_at(""),
            VersionField::at("/v").sent_at("v"),
            VersionField::at("/v").sent_in_query(""),
        ] {
            assert_eq!(bad.validate().unwrap_err().code(), "invalid_config");
        }
    }

    #[test]
    fn a_document_member_is_sent_alone_with_the_version() {
        let v2 = VersionField::at("/version").document_at("/data");
        let envelope = json!({"id": "a", "version": 3, "modified_at_ms": 1, "data": {"n": 1}});
        assert_eq!(
            v2.write(&envelope, &Version::number(3)).unwrap(),
            json!({"data": {"n": 1}, "version": 3})
        );
        // A body that is not an envelope is sent as it is, with the version.
        assert_eq!(
            v2.write(&json!({"n": 1}), &Version::number(3)).unwrap(),
            json!({"n": 1, "version": 3})
        );
    }
}
