//! The version-field mode's hooks into reads, writes and `update()`; without a
//! [`crate::VersionField`] each one does exactly what the ETag rules alone do.

use http::{HeaderMap, Method, StatusCode};
use serde_json::Value;

use crate::{
    outcome::{CacheAction, Interpreted},
    precondition::{for_update, header_for, Header, Read, Unsafe, Unusable},
    versions::{for_update_of, for_write, Refused, VERSION_HEADER},
    EntityTag, Error, Precondition, Version, Versioned,
};

use super::super::Client;

impl Client {
    fn refused(&self, method: &Method, url: &str, refused: Refused) -> Error {
        match (refused, &self.inner.version_field) {
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
            .inner
            .version_field
            .as_ref()
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
        self.inner
            .version_field
            .as_ref()
            .and_then(|field| body.pointer(field.document()?))
            .unwrap_or(body)
    }

    /// The header a `put`/`patch`/`delete`/`request` sends for `precondition`, and the body to
    /// send instead of `body` when the version goes into it.
    pub(crate) fn write_conditions(
        &self,
        method: &Method,
        url: &str,
        precondition: &Precondition,
        body: Option<&Value>,
    ) -> Result<(Header, Option<Value>), Error> {
        let Some(field) = &self.inner.version_field else {
            let header = header_for(precondition).map_err(|Unusable::NoStrongEtag { weak }| {
                self.refused(method, url, Refused::NoStrongEtag { weak })
            })?;
            return Ok((header, None));
        };
        let (header, version) = for_write(field, body.is_some(), precondition)
            .map_err(|refused| self.refused(method, url, refused))?;
        let sent = match (body, version) {
            (Some(body), Some(version)) => Some(field.write(body, &version)?),
            _ => None,
        };
        Ok((header, sent))
    }

    /// `update()`'s header for a write based on `base`, read with `etag`.
    pub(crate) fn update_header(
        &self,
        url: &str,
        base: &Value,
        etag: Option<&EntityTag>,
    ) -> Result<Header, Error> {
        let refused = |refused| self.refused(&Method::PUT, url, refused);
        match &self.inner.version_field {
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
                .inner
                .version_field
                .as_ref()
                .is_some_and(|field| field.read(body).is_some())
    }

    /// What `update()` sends for `mine`, computed from `base`: `Some` with the base's version
    /// in the body when there is a version field (and a version in `base`).
    pub(crate) fn update_body(&self, base: &Value, mine: &Value) -> Result<Option<Value>, Error> {
        let Some(field) = &self.inner.version_field else {
            return Ok(None);
        };
        field
            .read(base)
            .map(|version| field.write(mine, &version))
            .transpose()
    }

    /// Whether the body sent carries a version at the field.
    fn carries_version(&self, sent: Option<&Value>) -> bool {
        self.inner
            .version_field
            .as_ref()
            .zip(sent)
            .is_some_and(|(field, body)| field.read(body).is_some())
    }

    /// A 409 to a write that carried its version in the body is a version conflict (what
    /// Kubernetes' `Status` with reason `Conflict` and CouchDB's `{"error":"conflict"}` mean),
    /// unless its problem type names another problem (a business rule).
    pub(crate) fn body_version_conflict(
        &self,
        err: Error,
        sent: Option<&Value>,
        attempts: u32,
    ) -> Error {
        let Error::Status {
            method,
            url,
            status: StatusCode::CONFLICT,
            problem,
        } = err
        else {
            return err;
        };
        let named_otherwise = problem.as_ref().is_some_and(|p| p.type_ != "about:blank");
        if named_otherwise || !self.carries_version(sent) {
            return Error::Status {
                method,
                url,
                status: StatusCode::CONFLICT,
                problem,
            };
        }
        Error::Conflict {
            method,
            url,
            status: StatusCode::CONFLICT,
            attempts,
            create_only: false,
            current_etag: problem.as_ref().and_then(|p| p.current_etag.clone()),
            problem,
        }
    }

    /// With a version field, a document the client sent is never cached under the answer's
    /// ETag: it carries the version it was based on, not the new one.
    pub(crate) fn settle_written(&self, interpreted: &mut Interpreted, sent: Option<&Value>) {
        if self.inner.version_field.is_none() {
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
        match &self.inner.version_field {
            Some(field) if representation => field.read(&out.value).or_else(header),
            _ => header(),
        }
    }
}
