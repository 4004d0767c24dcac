//! The version-field mode's hooks into reads, writes and `update()`; without a
//! [`crate::VersionField`] each one does exactly what the ETag rules alone do.

use http::{HeaderMap, Method, StatusCode};
use serde_json::Value;

use crate::{
    conflict::names_version_conflict,
    outcome::{CacheAction, Interpreted},
    precondition::{for_update, header_for, Header, Read, Unsafe, Unusable},
    versions::{for_update_of, for_write, Refused, VERSION_HEADER},
    EntityTag, Error, Precondition, Version, Versioned,
};

use super::super::Client;

/// What a write sends besides its document: the precondition header, the body with the
/// version in it, and the version's query pair.
pub(crate) type WriteConditions = (Header, Option<Value>, Option<(String, String)>);

impl Client {
    fn refused(&self, method: &Method, url: &str, refused: Refused) -> Error {
        match (refused, self.version_field.as_deref()) {
            (Refused::NoVersion, Some(field)) => Error::MissingVersion {
                method: method.clone(),
                url: url.to_owned(),
                pointer: field.pointer().to_owned(),
            },
            (Refused::NoStrongEtag { weak }, _) => Error::MissingEtag {
                method: method.clone(),
                url: url.to_owned(),
                weak,
            },
            (Refused::NoVersion, None) => Error::MissingEtag {
                method: method.clone(),
                url: url.to_owned(),
                weak: false,
            },
        }
    }

    /// The version of a representation: in the body at the version field, else the `Version`
    /// header.
    pub(crate) fn version_of(&self, headers: &HeaderMap, body: Option<&Value>) -> Option<Version> {
        let in_body = self
            .version_field
            .as_deref()
            .zip(body)
            .and_then(|(field, body)| field.read(body));
        in_body.or_else(|| {
            let raw = headers.get(VERSION_HEADER)?.to_str().ok()?;
            Version::from_header(raw)
        })
    }

    /// The document in a representation: the member at the version field's document pointer,
    /// else the whole body.
    pub(crate) fn document_of<'v>(&self, body: &'v Value) -> &'v Value {
        self.version_field
            .as_deref()
            .and_then(|field| body.pointer(field.document()?))
            .unwrap_or(body)
    }

    /// The header a `put`/`patch`/`delete`/`request` sends for `precondition`, the body to
    /// send instead of `body` when the version goes into it, and the query pair when the
    /// version goes there.
    pub(crate) fn write_conditions(
        &self,
        method: &Method,
        url: &str,
        precondition: &Precondition,
        body: Option<&Value>,
    ) -> Result<WriteConditions, Error> {
        let Some(field) = self.version_field.as_deref() else {
            let header = match (header_for(precondition), precondition.if_match()) {
                // A server that compares weak tags on purpose (FHIR) gets them as they are.
                (Err(_), Some(weak)) if self.weak.sends_as_is() => Header::IfMatch(weak.clone()),
                (header, _) => header.map_err(|Unusable::NoStrongEtag { weak }| {
                    self.refused(method, url, Refused::NoStrongEtag { weak })
                })?,
            };
            return Ok((header, None, None));
        };
        let (header, version) = for_write(field, body.is_some(), precondition)
            .map_err(|refused| self.refused(method, url, refused))?;
        let sent = match (body, &version) {
            (Some(body), Some(version)) => Some(field.write(body, version)?),
            _ => None,
        };
        let query = version.and_then(|version| field.query(&version));
        Ok((header, sent, query))
    }

    /// `update()`'s header for a write based on `base`, read with `etag`.
    pub(crate) fn update_header(
        &self,
        url: &str,
        base: &Value,
        etag: Option<&EntityTag>,
    ) -> Result<Header, Error> {
        let refused = |refused| self.refused(&Method::PUT, url, refused);
        match self.version_field.as_deref() {
            Some(field) => for_update_of(field, base, etag, self.missing_etag)
                .map(|(header, _)| header)
                .map_err(refused),
            None => for_update(Read::Found(etag), self.missing_etag).map_err(|e| match e {
                Unsafe::NoStrongEtag { weak } => refused(Refused::NoStrongEtag { weak }),
                // A resource that was read is not missing.
                Unsafe::NotFound => refused(Refused::NoStrongEtag { weak: false }),
            }),
        }
    }

    /// Whether `update()` may start from a cached pair: a strong ETag, or a version in the body.
    pub(crate) fn usable_base(&self, body: &Value, etag: &EntityTag) -> bool {
        !etag.is_weak()
            || self
                .version_field
                .as_deref()
                .is_some_and(|field| field.read(body).is_some())
    }

    /// What `update()` sends for `mine`, computed from `base`: `Some` with the base's version
    /// in the body when there is a version field (and a version in `base`).
    pub(crate) fn update_body(&self, base: &Value, mine: &Value) -> Result<Option<Value>, Error> {
        let Some(field) = self.version_field.as_deref() else {
            return Ok(None);
        };
        field
            .read(base)
            .map(|version| field.write(mine, &version))
            .transpose()
    }

    /// The query pair `update()` sends with a write based on `base`, in query mode.
    pub(crate) fn update_query(&self, base: &Value) -> Option<(String, String)> {
        let field = self.version_field.as_deref()?;
        field.query(&field.read(base)?)
    }

    /// Whether the body sent carries a version at the field.
    pub(crate) fn carries_version(&self, sent: Option<&Value>) -> bool {
        self.version_field
            .as_deref()
            .zip(sent)
            .is_some_and(|(field, body)| field.read(body).is_some())
    }

    /// A 409 to a conditional write (a precondition header, or a version in the body or the
    /// query) whose body says, in a well-known API's words, that the version was stale
    /// (Kubernetes' `Status` with reason `Conflict`, CouchDB's `{"error":"conflict"}`,
    /// GitHub's "does not match", S3's `ConditionalRequestConflict`) is a version conflict.
    /// Any other 409 stays an [`Error::Status`]: a business rule fails again on retry.
    pub(crate) fn shaped_conflict(
        &self,
        err: Error,
        body: &[u8],
        conditional: bool,
        attempts: u32,
    ) -> Error {
        match err {
            Error::Status {
                method,
                url,
                status: StatusCode::CONFLICT,
                problem,
            } if conditional && names_version_conflict(body) => Error::Conflict {
                method,
                url,
                status: StatusCode::CONFLICT,
                attempts,
                create_only: false,
                current_etag: None,
                problem,
                ended_update: None,
            },
            other => other,
        }
    }

    /// With a version field, a document the client sent is never cached under the answer's
    /// ETag: it carries the version it was based on, not the new one.
    pub(crate) fn settle_written(&self, interpreted: &mut Interpreted, sent: Option<&Value>) {
        if self.version_field.is_none() {
            return;
        }
        for action in &mut interpreted.cache {
            if let CacheAction::Store { url, body, .. } = action {
                if Some(&*body) == sent {
                    *action = CacheAction::Forget {
                        url: std::mem::take(url),
                    };
                }
            }
        }
    }

    /// The version a write's result is at: with a version field, the one in a representation
    /// the server answered with; else the `Version` header, when the result has an ETag.
    pub(crate) fn written_version(
        &self,
        out: &Versioned<Value>,
        sent: Option<&Value>,
        headers: &HeaderMap,
    ) -> Option<Version> {
        let header = || {
            out.etag.as_ref()?;
            self.version_of(headers, None)
        };
        let representation =
            Some(&out.value) != sent && (out.etag.is_some() || self.inner.trust_write_bodies);
        match self.version_field.as_deref() {
            Some(field) if representation => field.read(&out.value).or_else(header),
            _ => header(),
        }
    }
}
