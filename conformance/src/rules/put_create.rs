//! Whether the server creates resources by PUT, learned from the target's shape
//! or from one unconditional probe, never from a conditional request.
//!
//! RFC 9110 §13.2.1: a server ignores preconditions when the request without them
//! would not have succeeded. A server that answers an unconditional `PUT` to a new
//! URL with 404 is right to answer 404 with `If-Match` or `If-None-Match` too, so the
//! rules about conditional PUTs to missing URLs apply only where PUT creates.

use serde_json::json;

use super::{Abort, Cx, Finding};
use crate::http::Req;
use crate::target::CreateMethod;

/// What the suite learned about PUT-creation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum PutCreation {
    /// PUT creates (declared, or an unconditional PUT to a fresh URL succeeded), or
    /// the server demands preconditions (428) so only a conditional PUT can tell.
    Creates,
    /// The verdict text of a rule that cannot apply or cannot be judged.
    Skip(String),
}

/// Learns whether PUT creates: `[create] method = "put"` says so; otherwise one
/// unconditional `PUT` of a suite document to a fresh URL (cleaned up afterwards)
/// decides: 2xx creates, 404/405/501 does not. A 428 (the server demands
/// preconditions) is followed by the one conditional PUT that can create,
/// `If-None-Match: *` to another fresh URL: 404/405/501 there means PUT never
/// creates; any other answer leaves the rule to be judged.
pub(super) async fn put_creation(cx: &Cx) -> Result<PutCreation, Abort> {
    if cx.shape().create.method == CreateMethod::Put {
        return Ok(PutCreation::Creates);
    }
    let probe = || cx.doc(json!({ "n": 0, "probe": "put-create" }));
    let put = cx.send(Req::put(&cx.fresh_url()).json(&probe())).await?;
    let status = put.status();
    if status == 428 {
        let create = cx
            .send(
                Req::put(&cx.fresh_url())
                    .json(&probe())
                    .header("If-None-Match", "*"),
            )
            .await?;
        return Ok(match create.status() {
            404 | 405 | 501 => PutCreation::Skip(format!(
                "not applicable: this server does not create by PUT (an unconditional PUT to a fresh URL answered 428, and one with If-None-Match: * answered {})",
                create.status()
            )),
            _ => PutCreation::Creates,
        });
    }
    if let (400 | 422, Some(id)) = (status, &cx.shape().body.missing_id) {
        // The invented id is not valid here (integer ids): ask again at the id the
        // target description says names no resource.
        let url = cx.shape().item_url(cx.collection_url(), id);
        let again = cx.send(Req::put(&url).json(&probe())).await?;
        let again_status = again.status();
        if (200..300).contains(&again_status) {
            cx.remember(url);
            return Ok(PutCreation::Creates);
        }
        if matches!(again_status, 404 | 405 | 501) {
            return Ok(PutCreation::Skip(format!(
                "not applicable: this server does not create by PUT (an unconditional PUT to the configured missing id {id} answered {again_status}; the invented id got {status})"
            )));
        }
    }
    Ok(match status {
        200..=299 => PutCreation::Creates,
        404 | 405 | 501 => PutCreation::Skip(format!(
            "not applicable: this server does not create by PUT (an unconditional PUT to a fresh URL answered {status}); by RFC 9110 §13.2.1 a conditional PUT there may answer {status} too"
        )),
        _ => PutCreation::Skip(format!(
            "could not tell whether this server creates by PUT: an unconditional PUT to a fresh URL answered {status}; if it does, set [create] method = \"put\" in ifmatch-conformance.toml{}",
            if matches!(status, 400 | 422) {
                " (and [body] fixture if the server requires members, or [body] missing-id if the invented id is not valid here)"
            } else {
                ""
            }
        )),
    })
}

/// `Some(skip)` when the rule about a PUT to a missing URL does not apply here.
pub(super) async fn skip_unless_put_creates(cx: &Cx) -> Result<Option<Finding>, Abort> {
    Ok(match put_creation(cx).await? {
        PutCreation::Creates => None,
        PutCreation::Skip(reason) => Some(Finding::Skip(reason)),
    })
}
