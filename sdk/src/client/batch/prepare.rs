//! Checking a batch's operations and resolving them for the wire before anything is sent.

use std::sync::Arc;

use url::Url;

use crate::{
    batch::{
        check_lids,
        wire::{server_path, Prepared},
        Operation, Target,
    },
    lock::LockState,
    precondition::{header_for, Unusable},
    Error,
};

use super::{answer::batch_error, Client};

/// The lock each operation is made under.
pub(super) type Held = Vec<Option<Arc<LockState>>>;

impl Client {
    /// Checks every operation and resolves it for the wire (paths, preconditions, lock
    /// tokens), refusing the batch before sending at the first operation that cannot go.
    pub(super) fn prepare(
        &self,
        url: &str,
        root: &Url,
        ops: Vec<Operation>,
        locks: &[Arc<LockState>],
    ) -> Result<(Vec<Prepared>, Held), Error> {
        match check_lids(&ops) {
            Err((_, reason)) if ops.is_empty() => {
                return Err(Error::Config {
                    field: "batch",
                    reason,
                })
            }
            Err((index, reason)) => {
                let op = &ops[index];
                let target = op.target.as_ref().map_or_else(
                    || {
                        op.lid
                            .as_ref()
                            .map_or_else(String::new, |l| format!("as {l:?}"))
                    },
                    ToString::to_string,
                );
                let error = Error::Config {
                    field: "batch",
                    reason,
                };
                return Err(batch_error(url, index, op.op, target, false, error));
            }
            Ok(()) => {}
        }
        let mut prepared = Vec::with_capacity(ops.len());
        let mut held = Vec::with_capacity(ops.len());
        for (index, op) in ops.into_iter().enumerate() {
            let target = op.describe_target();
            let fail = |error| batch_error(url, index, op.op, target.clone(), false, error);
            let (path, doc_url, reference) = match &op.target {
                Some(Target::Path(path)) => {
                    let doc_url = self.resolve(path, &[]).map_err(fail)?;
                    let server = server_path(root, &doc_url).ok_or_else(|| {
                        fail(Error::InvalidUrl {
                            input: doc_url.clone(),
                            reason: format!(
                                "is not under {root}, so a batch sent there cannot name it"
                            ),
                        })
                    })?;
                    (Some(server), Some(doc_url), None)
                }
                Some(Target::Lid(lid)) => (None, None, Some(lid.clone())),
                None => (None, None, None),
            };
            let precondition =
                header_for(&op.precondition).map_err(|Unusable::NoStrongEtag { weak }| {
                    fail(Error::MissingEtag {
                        method: op.op.method(),
                        url: doc_url.clone().unwrap_or_else(|| target.clone()),
                        weak,
                    })
                })?;
            let lock = match &doc_url {
                Some(doc_url) if op.op.writes() => {
                    let under = locks.iter().find(|lock| lock.url == *doc_url);
                    self.lock_for(doc_url, under).map_err(fail)?
                }
                _ => None,
            };
            let body = op.body.transpose().map_err(fail)?;
            prepared.push(Prepared {
                op: op.op,
                path,
                url: doc_url,
                reference,
                lid: op.lid,
                precondition,
                lock_token: lock.as_ref().map(|lock| token_value(lock)),
                body,
            });
            held.push(lock);
        }
        Ok((prepared, held))
    }
}

/// The `Lock-Token` value as the server gave it (quoted), for the `lock_token` member.
fn token_value(lock: &LockState) -> String {
    lock.header
        .to_str()
        .map_or_else(|_| format!("\"{}\"", lock.token), str::to_owned)
}

impl Operation {
    /// How errors name the document before it is resolved.
    fn describe_target(&self) -> String {
        match (&self.target, &self.lid) {
            (Some(target), _) => target.to_string(),
            (None, Some(lid)) => format!("as {lid:?}"),
            (None, None) => String::new(),
        }
    }
}
