//! `update()`'s read against a server that offers only weak ETags: the
//! [`crate::WeakValidators`] steps (pure, in `crate::weak`) with their reads and pauses.

use std::sync::Arc;

use serde_json::Value;

use crate::{
    precondition::Header,
    weak::{weak_step, WeakStep},
    EntityTag, Error, MissingEtagPolicy,
};

use super::{exchange::OpState, read::Fresh, Client};

/// What an update writes on: the body read, its ETag, and the condition for the write.
pub(crate) type Base = (Arc<Value>, Option<EntityTag>, Header);

impl Client {
    /// Reads `url` as the base for `update()`'s next write: with a strong ETag or a version
    /// in the body, as the precondition rules say; with only a weak ETag (or none), the
    /// client's [`crate::WeakValidators`] policy: read again (bounded), fall back to
    /// `If-Unmodified-Since` when allowed, or stop with [`Error::WeakValidator`].
    pub(crate) async fn read_base(&self, op: &mut OpState, url: &str) -> Result<Base, Error> {
        let mut rereads = 0;
        loop {
            let fresh = self.fetch(op, url, false).await?;
            let pause = match self.weak_decision(url, &fresh, rereads)? {
                Ok(header) => return Ok((fresh.body, fresh.etag, header)),
                Err(pause) => pause,
            };
            // Not kept across the pause (a smaller future).
            drop(fresh);
            self.inner.sleeper.sleep(pause).await;
            rereads += 1;
        }
    }

    /// The header to write with after the read numbered `rereads` (0: the first), or
    /// `Err(pause)` to read again after it. (Synchronous, to keep the async body small.)
    fn weak_decision(
        &self,
        url: &str,
        fresh: &Fresh,
        rereads: u32,
    ) -> Result<Result<Header, std::time::Duration>, Error> {
        // A version in the body, or a field that does not send If-Match: the field rules.
        let by_field = self
            .version_field
            .as_deref()
            .is_some_and(|f| f.read(&fresh.body).is_some() || !f.sends_if_match());
        let etag = fresh.etag.as_ref();
        let weak = etag.filter(|t| t.is_weak() && !by_field);
        if by_field || (weak.is_none() && etag.is_some()) {
            return self.update_header(url, &fresh.body, etag).map(Ok);
        }
        let last_modified = fresh.last_modified.as_ref();
        match weak_step(&self.weak, etag, last_modified, rereads) {
            WeakStep::Reread(pause) => Ok(Err(pause)),
            WeakStep::Send(header) => Ok(Ok(header)),
            WeakStep::Refuse => match weak {
                Some(etag) if self.missing_etag != MissingEtagPolicy::Unconditional => {
                    Err(Error::WeakValidator {
                        url: url.to_owned(),
                        etag: etag.clone(),
                        rereads,
                        last_modified: last_modified.is_some(),
                    })
                }
                // No tag at all, or an explicit opt-in to unconditional writes.
                _ => self.update_header(url, &fresh.body, etag).map(Ok),
            },
        }
    }
}
