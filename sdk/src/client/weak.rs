//! `update()`'s read against a server that offers only weak ETags: the
//! [`crate::WeakValidators`] steps (pure, in `crate::weak`) with their reads and pauses.

use std::sync::Arc;

use serde_json::Value;

use crate::{
    precondition::Header,
    rt::BoxFuture,
    weak::{weak_step, WeakStep},
    EntityTag, Error, MissingEtagPolicy,
};

use super::{exchange::OpState, read::Fresh, Client};

/// What an update writes on: the body read, its ETag, and the condition for the write.
pub(crate) type Base = (Arc<Value>, Option<EntityTag>, Header);

impl Client {
    /// The base for `update()`'s next write after reading `fresh`: with a strong ETag or a
    /// version in the body, as the precondition rules say; with only a weak ETag (or none),
    /// the client's [`crate::WeakValidators`] policy: read again (bounded), fall back to
    /// `If-Unmodified-Since` when allowed, or stop with [`Error::WeakValidator`].
    ///
    /// Boxed and never inlined, as `fetch` is, so that its two callers share one body (the
    /// size of the WebAssembly module).
    #[inline(never)]
    pub(crate) fn base_after_read<'a>(
        &'a self,
        op: &'a mut OpState,
        url: &'a str,
        fresh: Fresh,
    ) -> BoxFuture<'a, Result<Base, Error>> {
        Box::pin(self.base_after_read_unboxed(op, url, fresh))
    }

    async fn base_after_read_unboxed(
        &self,
        op: &mut OpState,
        url: &str,
        mut fresh: Fresh,
    ) -> Result<Base, Error> {
        let mut rereads = 0;
        loop {
            let ruled_by_field = self
                .version_field
                .as_deref()
                .is_some_and(|f| f.read(&fresh.body).is_some() || !f.sends_if_match());
            let strong = fresh.etag.as_ref().is_some_and(|t| !t.is_weak());
            let step = match ruled_by_field || strong {
                true => WeakStep::Refuse,
                false => weak_step(
                    &self.weak,
                    fresh.etag.as_ref(),
                    fresh.last_modified.as_ref(),
                    rereads,
                ),
            };
            match step {
                WeakStep::Reread(pause) => {
                    tracing::debug!(
                        url,
                        rereads,
                        "only a weak ETag; reading again for a strong one"
                    );
                    self.inner.sleeper.sleep(pause).await;
                    rereads += 1;
                    fresh = self.fetch(op, url, false).await?;
                }
                WeakStep::Send(header) => return Ok((fresh.body, fresh.etag, header)),
                WeakStep::Refuse => {
                    let weak = fresh.etag.as_ref().filter(|t| t.is_weak());
                    if let Some(etag) = weak.filter(|_| {
                        !ruled_by_field && self.missing_etag != MissingEtagPolicy::Unconditional
                    }) {
                        return Err(Error::WeakValidator {
                            url: url.to_owned(),
                            etag: etag.clone(),
                            rereads,
                            last_modified: fresh.last_modified.is_some(),
                        });
                    }
                    let header = self.update_header(url, &fresh.body, fresh.etag.as_ref())?;
                    return Ok((fresh.body, fresh.etag, header));
                }
            }
        }
    }
}
