//! Who may resolve a conflict: the client that caused it or an admin. An
//! anonymous request (or an unknown token) is 401 with a `WWW-Authenticate`
//! challenge, another client is 403, and neither changes anything.

use serde_json::json;

use super::resolve::{judge_refused, judge_resolved, resolve_as, After};
use super::{conflict, needs, text_at, Who};
use crate::rules::Finding;

check!(resolve_requires_auth, |cx| {
    needs(cx, &[Who::Writer])?;
    let c = conflict(cx).await?;
    let before = cx.snapshot(&c.doc.url).await?;
    let expectation = "resolving without credentials (or with a token the server never issued) answers 401 with a WWW-Authenticate challenge and changes nothing";
    for who in [Who::Anonymous, Who::Unknown] {
        let answer = resolve_as(cx, &c, json!({ "resolution": "mine" }), who).await?;
        if let Some(finding) =
            judge_refused(cx, &c, &answer, 401, &before, "open", expectation).await?
        {
            return Ok(finding);
        }
        if answer
            .header("www-authenticate")
            .is_none_or(|v| v.trim().is_empty())
        {
            return Ok(Finding::violation(expectation, "the resolution answered 401 without a WWW-Authenticate header naming the scheme (RFC 9110 §11.6.1)", &answer));
        }
    }
    Ok(Finding::Pass(format!("resolving {} anonymously and with an unknown token both answered 401 with WWW-Authenticate; the document is unchanged and the conflict open", c.id)))
});

check!(resolve_other_client_403, |cx| {
    needs(cx, &[Who::Writer, Who::Other])?;
    let c = conflict(cx).await?;
    let before = cx.snapshot(&c.doc.url).await?;
    let answer = resolve_as(cx, &c, json!({ "resolution": "mine" }), Who::Other).await?;
    let expectation =
        "a client may not resolve another client's conflict: 403, and nothing changes";
    if let Some(finding) = judge_refused(cx, &c, &answer, 403, &before, "open", expectation).await?
    {
        return Ok(finding);
    }
    Ok(Finding::Pass(format!("the other client's resolution of {} answered 403; the document is unchanged and the conflict open", c.id)))
});

check!(resolve_admin, |cx| {
    needs(cx, &[Who::Writer, Who::Admin])?;
    let c = conflict(cx).await?;
    let answer = resolve_as(cx, &c, json!({ "resolution": "mine" }), Who::Admin).await?;
    let expectation = "an admin may resolve any client's conflict";
    let seen =
        match judge_resolved(cx, &c, &answer, "mine", After::Body(&c.mine), expectation).await? {
            Ok(seen) => seen,
            Err(finding) => return Ok(finding),
        };
    let admin = cx
        .notify()
        .admin
        .as_ref()
        .map(|a| a.name.as_str())
        .unwrap_or_default();
    let record = answer.json().unwrap_or_default();
    if let Some(by) = text_at(&record, &["resolution", "by"]).filter(|by| *by != admin) {
        return Ok(Finding::violation(
            expectation,
            format!("{seen}, but resolution.by is {by:?} instead of the admin's name {admin:?}"),
            &answer,
        ));
    }
    Ok(Finding::Pass(format!(
        "as the admin, {seen}; the document holds the refused body"
    )))
});
