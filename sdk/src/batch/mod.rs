//! Atomic batches and transaction commits as plain data: what the caller asked for, and what
//! the server answered (one result per written document). The I/O lives with the client in
//! `client/batch/` and `client/transaction/`; the JSON shapes are in [`wire`].

pub(crate) mod wire;

use std::ops::Index;

use http::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{EntityTag, Error, Precondition, Versioned};

/// What one operation of a batch does (the `op` member of the server's shape).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BatchOp {
    /// A new document under a server-chosen id, as `POST /items` would create it.
    Create,
    /// Create or replace, as `PUT`.
    Put,
    /// A JSON Merge Patch (RFC 7396), as `PATCH`.
    Patch,
    /// As `DELETE`.
    Delete,
    /// Writes nothing: asserts that the document exists and that the precondition holds, so a
    /// batch can depend on documents it only read.
    Check,
}

impl BatchOp {
    /// The `op` member: `create`, `put`, `patch`, `delete` or `check`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Put => "put",
            Self::Patch => "patch",
            Self::Delete => "delete",
            Self::Check => "check",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "create" => Self::Create,
            "put" => Self::Put,
            "patch" => Self::Patch,
            "delete" => Self::Delete,
            "check" => Self::Check,
            _ => return None,
        })
    }

    /// The single request the operation is judged as, which names it in errors (a `check` is a
    /// conditional read).
    pub(crate) fn method(self) -> Method {
        match self {
            Self::Create => Method::POST,
            Self::Put => Method::PUT,
            Self::Patch => Method::PATCH,
            Self::Delete => Method::DELETE,
            Self::Check => Method::GET,
        }
    }

    /// Whether the operation changes anything (all but `check`).
    pub(crate) fn writes(self) -> bool {
        self != Self::Check
    }
}

impl std::fmt::Display for BatchOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The document a batch operation acts on: a path (or absolute URL) like the other requests
/// take, or the local id (`lid`) of a document created earlier in the same batch.
///
/// ```
/// use ifmatch::Target;
///
/// assert_eq!(Target::from("/items/a"), Target::Path("/items/a".into()));
/// assert_eq!(Target::lid("order"), Target::Lid("order".into()));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// A path resolved against the client's base URL, or an absolute URL under it.
    Path(String),
    /// The `lid` of a `create` earlier in the same batch (sent as `ref`).
    Lid(String),
}

impl Target {
    /// A path resolved against the client's base URL.
    pub fn path(path: impl Into<String>) -> Self {
        Self::Path(path.into())
    }

    /// The document created earlier in the batch under this local id.
    pub fn lid(lid: impl Into<String>) -> Self {
        Self::Lid(lid.into())
    }
}

impl From<&str> for Target {
    fn from(path: &str) -> Self {
        Self::Path(path.to_owned())
    }
}

impl From<String> for Target {
    fn from(path: String) -> Self {
        Self::Path(path)
    }
}

impl From<&String> for Target {
    fn from(path: &String) -> Self {
        Self::Path(path.clone())
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Path(path) => f.write_str(path),
            Self::Lid(lid) => write!(f, "lid {lid:?}"),
        }
    }
}

/// One operation as the caller built it; checked and resolved when the batch is sent.
#[derive(Debug)]
pub(crate) struct Operation {
    pub op: BatchOp,
    /// `None` for `create`, which names no document.
    pub target: Option<Target>,
    /// A `create`'s local id.
    pub lid: Option<String>,
    pub precondition: Precondition,
    /// The document or merge patch (`create`, `put`, `patch`); its encoding error, if any.
    pub body: Option<Result<Value, Error>>,
}

/// What the server answered for one written (or checked) document: in a [`BatchResult`] one
/// per operation, in a transaction commit's results one per document it wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct OpResult {
    pub(crate) op: Option<BatchOp>,
    pub(crate) status: StatusCode,
    pub(crate) path: String,
    pub(crate) url: String,
    pub(crate) etag: Option<EntityTag>,
    pub(crate) body: Option<Value>,
}

impl OpResult {
    /// The operation (in a batch); `None` in a commit's results, where the server does not say.
    pub fn op(&self) -> Option<BatchOp> {
        self.op
    }

    /// What the single request would have answered: 201 (created), 200 or 204 (deleted).
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The document's path as the server named it (`/items/k3j0c2…`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The document's absolute URL: [`OpResult::path`] resolved against the client's base URL,
    /// ready for `client.get(result.url())`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The document's new (or, for `check`, current) entity tag; `None` after a delete.
    pub fn etag(&self) -> Option<&EntityTag> {
        self.etag.as_ref()
    }

    /// The stored document (for `create`, `put`, `patch` in a batch); `None` otherwise.
    pub fn body(&self) -> Option<&Value> {
        self.body.as_ref()
    }

    /// The stored document as `T` with its version, ready to be the precondition of the next
    /// write (`&versioned` converts to `If-Match`).
    ///
    /// # Errors
    /// [`Error::Decode`] when there is no body (a delete, a check, a commit's result) or it is
    /// not a `T`.
    pub fn versioned<T: DeserializeOwned>(&self) -> Result<Versioned<T>, Error> {
        let decode = |source| Error::Decode {
            url: self.url.clone(),
            source,
        };
        let body = self.body.as_ref().ok_or_else(|| {
            decode(serde::de::Error::custom(format!(
                "the {} result carries no document",
                self.op.map_or("commit", BatchOp::as_str)
            )))
        })?;
        let value = T::deserialize(body).map_err(decode)?;
        Ok(Versioned::new(value, self.etag.clone()))
    }
}

/// `If-Match` with the result's entity tag; a result without one (a delete) converts too, and
/// a write with it is then refused with [`Error::MissingEtag`] before anything is sent.
impl From<&OpResult> for Precondition {
    fn from(result: &OpResult) -> Self {
        result.etag.as_ref().into()
    }
}

/// The answer to a batch that was applied: one [`OpResult`] per operation, in order.
///
/// Index it (`result[1]`), iterate it, or look a created document up by its local id.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchResult {
    pub(crate) results: Vec<OpResult>,
    /// The local ids of `create` operations and their index.
    pub(crate) lids: Vec<(String, usize)>,
    pub(crate) attempts: u32,
}

impl BatchResult {
    /// Every operation's result, in the order the operations were added.
    pub fn results(&self) -> &[OpResult] {
        &self.results
    }

    /// The result of operation `index` (from 0).
    pub fn get(&self, index: usize) -> Option<&OpResult> {
        self.results.get(index)
    }

    /// The result of the `create` that was given this local id.
    pub fn created(&self, lid: &str) -> Option<&OpResult> {
        self.lids
            .iter()
            .find(|(name, _)| name == lid)
            .and_then(|(_, index)| self.results.get(*index))
    }

    /// How many operations there were.
    pub fn len(&self) -> usize {
        self.results.len()
    }

    /// Whether there were none (never, for a batch the server applied).
    pub fn is_empty(&self) -> bool {
        self.results.is_empty()
    }

    /// The results, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, OpResult> {
        self.results.iter()
    }

    /// The results, owned.
    pub fn into_results(self) -> Vec<OpResult> {
        self.results
    }

    /// How many times the batch was sent (resends after 429/503 included).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
}

impl Index<usize> for BatchResult {
    type Output = OpResult;

    fn index(&self, index: usize) -> &OpResult {
        &self.results[index]
    }
}

impl<'a> IntoIterator for &'a BatchResult {
    type Item = &'a OpResult;
    type IntoIter = std::slice::Iter<'a, OpResult>;

    fn into_iter(self) -> Self::IntoIter {
        self.results.iter()
    }
}

/// Whether a local id has the server's form: 1 to 64 of `[A-Za-z0-9_.-]`.
pub(crate) fn valid_lid(lid: &str) -> bool {
    (1..=64).contains(&lid.len())
        && lid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Checks the operations as the server would before running any: local ids valid and unique,
/// every `ref` naming an earlier `create`. Returns the first bad operation and why.
pub(crate) fn check_lids(ops: &[Operation]) -> Result<(), (usize, String)> {
    if ops.is_empty() {
        return Err((0, "a batch needs at least one operation".into()));
    }
    let mut seen: Vec<&str> = Vec::new();
    for (index, op) in ops.iter().enumerate() {
        if let Some(Target::Lid(lid)) = &op.target {
            if !seen.contains(&lid.as_str()) {
                return Err((
                    index,
                    format!("it refers to lid {lid:?}, which no earlier create of this batch has"),
                ));
            }
        }
        if let Some(lid) = &op.lid {
            if !valid_lid(lid) {
                return Err((
                    index,
                    format!("lid {lid:?} is not 1 to 64 characters of A-Z, a-z, 0-9, _, . or -"),
                ));
            }
            if seen.contains(&lid.as_str()) {
                return Err((
                    index,
                    format!("lid {lid:?} is used twice; each create needs its own"),
                ));
            }
            seen.push(lid);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn op(op: BatchOp, target: Option<Target>, lid: Option<&str>) -> Operation {
        Operation {
            op,
            target,
            lid: lid.map(str::to_owned),
            precondition: Precondition::unconditional(),
            body: None,
        }
    }

    #[test]
    fn ops_round_trip_their_names() {
        for op in [
            BatchOp::Create,
            BatchOp::Put,
            BatchOp::Patch,
            BatchOp::Delete,
            BatchOp::Check,
        ] {
            assert_eq!(BatchOp::parse(op.as_str()), Some(op));
        }
        assert_eq!(BatchOp::parse("PUT"), None);
    }

    #[test]
    fn lids_have_the_servers_form() {
        assert!(valid_lid("order-1.a_b"));
        assert!(valid_lid(&"a".repeat(64)));
        for bad in ["", "has space", "ü", &"a".repeat(65)] {
            assert!(!valid_lid(bad), "{bad:?}");
        }
    }

    #[test]
    fn refs_must_name_an_earlier_create_and_lids_be_unique() {
        let lid = |l: &str| Some(Target::lid(l));
        let ok = [
            op(BatchOp::Create, None, Some("order")),
            op(BatchOp::Patch, lid("order"), None),
        ];
        assert_eq!(check_lids(&ok), Ok(()));
        let later = [
            op(BatchOp::Patch, lid("order"), None),
            op(BatchOp::Create, None, Some("order")),
        ];
        assert_eq!(check_lids(&later).unwrap_err().0, 0);
        let twice = [
            op(BatchOp::Create, None, Some("a")),
            op(BatchOp::Create, None, Some("a")),
        ];
        assert!(check_lids(&twice).unwrap_err().1.contains("twice"));
        assert!(check_lids(&[]).unwrap_err().1.contains("at least one"));
    }

    #[test]
    fn a_result_gives_its_document_and_version() {
        let result = OpResult {
            op: Some(BatchOp::Put),
            status: StatusCode::OK,
            path: "/items/a".into(),
            url: "http://h/items/a".into(),
            etag: Some(EntityTag::strong("v2").unwrap()),
            body: Some(json!({"n": 2})),
        };
        let read = result.versioned::<Value>().unwrap();
        assert_eq!(read.value, json!({"n": 2}));
        assert_eq!(
            Precondition::from(&result),
            Precondition::from(&read),
            "both are If-Match: \"v2\""
        );
        let deleted = OpResult {
            body: None,
            etag: None,
            ..result
        };
        assert_eq!(deleted.versioned::<Value>().unwrap_err().code(), "decode");
    }
}
