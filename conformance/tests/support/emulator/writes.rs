//! The emulator's write paths: POST, PUT, PATCH, DELETE and the precondition
//! checks they share.

use serde_json::Value;
use wiremock::{Request, ResponseTemplate};

use super::{Cond, Doc, Emulator, State};
use crate::support::faults::Fault;
use crate::support::merge::merge_patch;

impl Emulator {
    pub(super) fn post(&self, st: &mut State, req: &Request) -> ResponseTemplate {
        let body = match self.json_body(req, "application/json") {
            Ok(b) => self.unversioned(b),
            Err(r) => return r,
        };
        if let Some(refused) = self.missing_required(&body) {
            return refused;
        }
        st.next_id += 1;
        let id = st.next_id.to_string();
        let version = Self::next_version(st);
        st.cache.insert(id.clone(), version);
        st.docs.insert(
            id.clone(),
            Doc {
                body: body.clone(),
                version,
                older: vec![],
                reads_since_write: 0,
            },
        );
        Self::wrote(st, &id);
        let shown = self.shown(st, &id, &body, version);
        let mut r = ResponseTemplate::new(if self.has(Fault::CreateReturns200) {
            200
        } else {
            201
        })
        .set_body_raw(shown.to_string().into_bytes(), "application/json");
        r = self.version_header(r, version);
        if !self.shape.post_without_location {
            r = r.insert_header("Location", format!("{}{id}", self.items_prefix()).as_str());
        }
        if let Some(tag) = self
            .written_tag(version)
            .filter(|_| !self.has(Fault::CreateWithoutEtag))
        {
            r = r.insert_header("ETag", tag.as_str());
        }
        r
    }

    /// Evaluates `If-Match` on an existing document; `Err` is the refusal.
    fn check_if_match(
        &self,
        req: &Request,
        st: &State,
        id: &str,
        cond: &Cond,
        accept_stale: bool,
        apply_stale: bool,
    ) -> Result<bool, ResponseTemplate> {
        let doc = &st.docs[id];
        let believed = if self.has(Fault::StaleReadCache) {
            st.cache.get(id).copied().unwrap_or(doc.version)
        } else {
            doc.version
        };
        match cond {
            Cond::Absent | Cond::Any => Ok(false),
            Cond::Invalid => Err(self.problem(
                400,
                "invalid-header",
                "If-Match must be * or quoted entity-tags",
                None,
            )),
            Cond::Tags(tags) if tags.len() > 1 && self.has(Fault::IfMatchListRefused) => {
                Err(self.mismatch(doc.version, "If-Match must name one ETag"))
            }
            Cond::Tags(tags) => {
                let stale = tags.iter().any(|t| {
                    !t.is_weak() && doc.older.iter().any(|v| t.opaque() == format!("e{v}"))
                });
                if tags.iter().any(|t| self.tag_matches(t, believed, false))
                    || (accept_stale && stale)
                {
                    Ok(false)
                } else if stale && apply_stale {
                    Ok(true)
                } else {
                    Err(self.refusal(req, st, id, "the If-Match ETag is not the current one"))
                }
            }
        }
    }

    fn require(
        &self,
        req: &Request,
        im: &Cond,
        inm: &Cond,
        bypass: Fault,
    ) -> Option<ResponseTemplate> {
        // A lock token is a condition too: while it is valid nobody else wrote.
        let unconditional = matches!(im, Cond::Absent)
            && matches!(inm, Cond::Absent)
            && !req.headers.contains_key("lock-token");
        if !(self.options.require_preconditions && unconditional) || self.has(bypass) {
            return None;
        }
        let detail = if self.has(Fault::Bare428) {
            "precondition required"
        } else {
            "send If-Match with the ETag from your last GET"
        };
        Some(self.problem(428, "precondition-required", detail, None))
    }

    /// The lock's verdict on a write; with the holder's token and `TokenSkipsIfMatch`,
    /// `If-Match` is forgotten.
    fn gated(
        &self,
        st: &mut State,
        req: &Request,
        id: &str,
        im: Cond,
    ) -> Result<Cond, ResponseTemplate> {
        let holder = self.write_gate(st, req, id)?;
        Ok(if holder && self.has(Fault::TokenSkipsIfMatch) {
            Cond::Absent
        } else {
            im
        })
    }

    fn store(st: &mut State, id: &str, body: Value, bump: bool) -> u64 {
        let version = if bump {
            Self::next_version(st)
        } else {
            st.docs[id].version
        };
        let doc = st.docs.get_mut(id).expect("document exists");
        if bump {
            doc.older.push(doc.version);
        }
        doc.body = body;
        doc.version = version;
        doc.reads_since_write = 0;
        version
    }

    pub(super) fn put(&self, st: &mut State, req: &Request, id: &str) -> ResponseTemplate {
        let (im, inm) = (self.cond(req, "if-match"), self.cond(req, "if-none-match"));
        let im = self.write_cond(st, id, req, im);
        if let Some(r) = self.require(req, &im, &inm, Fault::AllowUnconditionalPut) {
            return r;
        }
        let im = match self.gated(st, req, id, im) {
            Ok(im) => im,
            Err(r) => return r,
        };
        let exists = st.docs.contains_key(id);
        let mut refuse_after_write = false;
        if exists {
            match (&im, self.has(Fault::RejectIfMatchStar)) {
                (Cond::Any, true) => {
                    return self.mismatch(st.docs[id].version, "If-Match: * refused")
                }
                (Cond::Tags(_), _) if self.has(Fault::RejectCurrentPut) => {
                    return self.mismatch(st.docs[id].version, "refused")
                }
                _ => match self.check_if_match(
                    req,
                    st,
                    id,
                    &im,
                    self.has(Fault::StalePutAccepted),
                    self.has(Fault::RefuseStalePutButApply),
                ) {
                    Ok(refuse) => refuse_after_write = refuse,
                    Err(r) => {
                        self.touch_on_refusal(st, id);
                        return r;
                    }
                },
            }
            if matches!(inm, Cond::Any) && !self.has(Fault::IgnoreIfNoneMatchOnPut) {
                let status = if self.shape.exists_409 { 409 } else { 412 };
                return self.problem(status, "precondition-failed", "the resource exists", None);
            }
        } else {
            let creates = match &im {
                Cond::Any => self.has(Fault::IfMatchStarCreates),
                Cond::Tags(_) => self.has(Fault::IfMatchTagCreates),
                Cond::Invalid => {
                    return self.problem(400, "invalid-header", "malformed If-Match", None)
                }
                Cond::Absent => true,
            };
            if !creates {
                let invented = self.has(Fault::EtagOn412ForMissing).then(|| self.etag(0));
                return self.problem(
                    412,
                    "precondition-failed",
                    "no such resource to match",
                    invented,
                );
            }
            if matches!(inm, Cond::Any) && self.has(Fault::IfNoneMatchStarRefusedOnMissing) {
                return self.problem(412, "precondition-failed", "If-None-Match: *", None);
            }
            if self.has(Fault::PutCannotCreate) {
                return self.problem(404, "not-found", "PUT does not create here", None);
            }
        }
        let mut body = match self.json_body(req, "application/json") {
            Ok(b) => self.unversioned(b),
            Err(r) => return r,
        };
        if let Some(refused) = self.missing_required(&body) {
            return refused;
        }
        if exists && self.has(Fault::DropsSentMember) {
            if let Some(members) = body.as_object_mut() {
                members.remove("suite");
            }
        }
        if !exists {
            let version = Self::next_version(st);
            st.cache.insert(id.to_owned(), version);
            st.docs.insert(
                id.to_owned(),
                Doc {
                    body: body.clone(),
                    version,
                    older: vec![],
                    reads_since_write: 0,
                },
            );
            Self::wrote(st, id);
            let shown = self.shown(st, id, &body, version);
            return self.write_response(201, version, Some(&shown));
        }
        let version = Self::store(st, id, body.clone(), !self.has(Fault::EtagUnchangedOnPut));
        Self::wrote(st, id);
        if refuse_after_write {
            return self.mismatch(version, "the If-Match ETag is not the current one");
        }
        let shown = self.shown(st, id, &body, version);
        self.write_response(200, version, Some(&shown))
    }

    pub(super) fn patch(&self, st: &mut State, req: &Request, id: &str) -> ResponseTemplate {
        let (im, inm) = (self.cond(req, "if-match"), self.cond(req, "if-none-match"));
        let im = self.write_cond(st, id, req, im);
        if !st.docs.contains_key(id) {
            if self.has(Fault::PreconditionBeforeNotFound) && !matches!(im, Cond::Absent) {
                return self.problem(
                    412,
                    "precondition-failed",
                    "no such resource to match",
                    None,
                );
            }
            return self.problem(404, "not-found", &format!("no item {id}"), None);
        }
        if let Some(r) = self.require(req, &im, &inm, Fault::AllowUnconditionalPatch) {
            return r;
        }
        let im = match self.gated(st, req, id, im) {
            Ok(im) => im,
            Err(r) => return r,
        };
        if self.has(Fault::RejectCurrentPatch) && matches!(im, Cond::Tags(_)) {
            return self.mismatch(st.docs[id].version, "refused");
        }
        if let Err(r) =
            self.check_if_match(req, st, id, &im, self.has(Fault::StalePatchAccepted), false)
        {
            return r;
        }
        let patch = match self.json_body(req, self.patch_media()) {
            Ok(b) => b,
            Err(r) => return r,
        };
        let mut body = st.docs[id].body.clone();
        if self.has(Fault::PatchReplaces) {
            body = self.unversioned(patch);
        } else if self.patch_media() == "application/json-patch+json" {
            let version_at = self.shape.body_version.and_then(|bv| bv.pointer());
            if let Err(why) = super::shapes::apply_json_patch(&mut body, &patch, version_at) {
                return self.problem(422, "unprocessable-patch", &why, None);
            }
        } else {
            merge_patch(&mut body, &self.unversioned(patch));
        }
        let version = Self::store(st, id, body.clone(), !self.has(Fault::EtagUnchangedOnPatch));
        Self::wrote(st, id);
        let shown = self.shown(st, id, &body, version);
        self.write_response(200, version, Some(&shown))
    }

    pub(super) fn delete(&self, st: &mut State, req: &Request, id: &str) -> ResponseTemplate {
        let (im, inm) = (self.cond(req, "if-match"), self.cond(req, "if-none-match"));
        let im = self.write_cond(st, id, req, im);
        if !st.docs.contains_key(id) {
            if self.has(Fault::PreconditionBeforeNotFound) && !matches!(im, Cond::Absent) {
                return self.problem(
                    412,
                    "precondition-failed",
                    "no such resource to match",
                    None,
                );
            }
            return self.problem(404, "not-found", &format!("no item {id}"), None);
        }
        if let Some(r) = self.require(req, &im, &inm, Fault::AllowUnconditionalDelete) {
            return r;
        }
        let im = match self.gated(st, req, id, im) {
            Ok(im) => im,
            Err(r) => return r,
        };
        if self.has(Fault::RejectCurrentDelete) && matches!(im, Cond::Tags(_)) {
            return self.mismatch(st.docs[id].version, "refused");
        }
        if let Err(r) = self.check_if_match(
            req,
            st,
            id,
            &im,
            self.has(Fault::StaleDeleteAccepted),
            false,
        ) {
            return r;
        }
        st.docs.remove(id);
        Self::forget_locks(st, id);
        ResponseTemplate::new(204)
    }
}
