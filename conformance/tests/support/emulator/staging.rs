//! How batches and transactions judge one write against the version of a document
//! they see, as the single request would be judged: 404 for a missing document
//! (except a put, which creates), then `If-Match`, then `If-None-Match`.

use ifmatch_conformance::etag::{self, EntityTag};
use serde_json::{Map, Value};
use wiremock::ResponseTemplate;

use super::{Cond, Emulator};

/// The kinds of write (and `check`) a batch or a transaction makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Create,
    Put,
    Patch,
    Delete,
    Check,
}

impl Kind {
    pub fn parse(name: &str) -> Option<Kind> {
        Some(match name {
            "create" => Kind::Create,
            "put" => Kind::Put,
            "patch" => Kind::Patch,
            "delete" => Kind::Delete,
            "check" => Kind::Check,
            _ => return None,
        })
    }
}

/// Why a write was refused: the problem to answer with.
#[derive(Debug, Clone)]
pub(super) struct Refusal {
    pub status: u16,
    pub kind: &'static str,
    pub detail: String,
    /// The current tag, for `current_etag` and the `ETag` header.
    pub current: Option<String>,
}

impl Refusal {
    pub fn new(status: u16, kind: &'static str, detail: impl Into<String>) -> Self {
        Refusal {
            status,
            kind,
            detail: detail.into(),
            current: None,
        }
    }
}

/// A condition's value as a batch operation carries it (the header's syntax).
pub(super) fn parse_cond(value: Option<&str>) -> Cond {
    let Some(value) = value else {
        return Cond::Absent;
    };
    if value.trim() == "*" {
        return Cond::Any;
    }
    let tags: Option<Vec<EntityTag>> = value.split(',').map(etag::parse).collect();
    tags.map_or(Cond::Invalid, Cond::Tags)
}

impl Emulator {
    /// Judges a write of `kind` against the document's current tag (`None`: it
    /// does not exist), quoted as the server sends it.
    pub(super) fn judge(
        &self,
        kind: Kind,
        current: Option<&str>,
        im: &Cond,
        inm: &Cond,
    ) -> Result<(), Refusal> {
        if matches!(im, Cond::Invalid) || matches!(inm, Cond::Invalid) {
            return Err(Refusal::new(
                400,
                "invalid-header",
                "malformed if_match or if_none_match",
            ));
        }
        let Some(current) = current else {
            return match (kind, im) {
                (Kind::Patch | Kind::Delete | Kind::Check, _) => {
                    Err(Refusal::new(404, "not-found", "no such document"))
                }
                (_, Cond::Absent) => Ok(()),
                _ => Err(Refusal::new(
                    412,
                    "precondition-failed",
                    "no such document to match",
                )),
            };
        };
        let matches = |tags: &[EntityTag]| {
            tags.iter()
                .any(|t| !t.is_weak() && t.to_string() == current)
        };
        if let Cond::Tags(tags) = im {
            if !matches(tags) {
                let status = if self.options.mismatch_status == 409 {
                    409
                } else {
                    412
                };
                let kind = if status == 409 {
                    "version-conflict"
                } else {
                    "precondition-failed"
                };
                return Err(Refusal {
                    current: Some(current.to_owned()),
                    ..Refusal::new(status, kind, "if_match is not the current entity tag")
                });
            }
        }
        let none_match = match inm {
            Cond::Any => true,
            Cond::Tags(tags) => matches(tags),
            _ => false,
        };
        if none_match {
            return Err(Refusal {
                current: Some(current.to_owned()),
                ..Refusal::new(412, "precondition-failed", "the document exists")
            });
        }
        Ok(())
    }

    /// The problem answer of a refusal, with extension `members`.
    pub(super) fn refused(
        &self,
        refusal: Refusal,
        members: Map<String, Value>,
    ) -> ResponseTemplate {
        self.problem_with(
            refusal.status,
            refusal.kind,
            &refusal.detail,
            refusal.current,
            members,
        )
    }
}
