//! The emulator's read path: GET and HEAD of an item, with `If-None-Match`.

use wiremock::{Request, ResponseTemplate};

use super::{Cond, Emulator, State};
use crate::support::faults::Fault;

impl Emulator {
    pub(super) fn get(
        &self,
        st: &mut State,
        req: &Request,
        id: &str,
        head: bool,
    ) -> ResponseTemplate {
        let inm = self.cond(req, "if-none-match");
        if !st.docs.contains_key(id) {
            return self.problem(404, "not-found", &format!("no item {id}"), None);
        }
        if let Some(refused) = self.read_gate(st, req, id) {
            return refused;
        }
        let doc = st.docs.get_mut(id).expect("checked above");
        if !head {
            doc.reads_since_write += 1;
        }
        let (version, body, reads) = (doc.version, doc.body.clone(), doc.reads_since_write);
        let mut tag = self.read_tag(st, id, version, reads);
        if self.has(Fault::EtagDriftsOnRepeatedReads) && reads >= 4 {
            tag = Some(format!("\"e{version}-r{reads}\""));
        }
        let body = self.shown(st, id, &body, version);
        st.cache.insert(id.to_owned(), version);
        let not_modified = match &inm {
            Cond::Absent => false,
            _ if self.has(Fault::AlwaysNotModified) => true,
            _ if self.has(Fault::IgnoreIfNoneMatch) => false,
            Cond::Any => true,
            // Comparing the whole header with the ETag, as hand-written checks do.
            Cond::Tags(tags) if tags.len() > 1 && self.has(Fault::IfNoneMatchListIgnored) => false,
            Cond::Tags(tags) => tags.iter().any(|t| {
                (!t.is_weak() || !self.has(Fault::WeakIfNoneMatchIgnored))
                    && self.tag_matches(t, version, true)
            }),
            Cond::Invalid => {
                return self.problem(400, "invalid-header", "malformed If-None-Match", None)
            }
        };
        let mut r = self.version_header(
            ResponseTemplate::new(if not_modified { 304 } else { 200 }),
            version,
        );
        if let Some(tag) = tag.filter(|_| !(head && self.has(Fault::HeadWithoutEtag))) {
            r = r.insert_header("ETag", tag.as_str());
        }
        if not_modified || head {
            return r;
        }
        r.set_body_raw(body.to_string().into_bytes(), "application/json")
    }
}
