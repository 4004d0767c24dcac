//! The `idempotency` profile (draft-ietf-httpapi-idempotency-key-header-07): a write sent again
//! with the same `Idempotency-Key` is answered with the first outcome and not applied twice; the
//! key on a different request is refused with 422; a retry while the first is still being
//! processed meets 409 (reported, since a generic server cannot be made to hold a request).
//! Judged by re-reading state, not by status codes alone.

use serde_json::json;

use super::{Abort, Cx, Finding};
use crate::http::{Exchange, Req};
use crate::target::CreateMethod;

/// A key unique to this run and check.
fn key(cx: &Cx, purpose: &str) -> String {
    format!("\"ifmatch-conformance-{}-{purpose}\"", cx.run_token())
}

/// The create request of the target's shape, keyed.
fn keyed_create(cx: &Cx, key: &str, body: &serde_json::Value) -> Req {
    match cx.shape().create.method {
        CreateMethod::Post => Req::post(cx.collection_url()).json(body),
        CreateMethod::Put => Req::put(&cx.fresh_url())
            .json(body)
            .header("If-None-Match", "*"),
    }
    .header("Idempotency-Key", key)
}

/// Where a create says the resource is.
fn location(cx: &Cx, sent: &Exchange) -> Option<String> {
    sent.header("location")
        .and_then(|loc| super::resolve(cx.collection_url(), loc))
        .or_else(|| (sent.request.method == "PUT").then(|| sent.request.url.clone()))
}

check!(replay_create, |cx| {
    let body = cx.doc(json!({ "n": 1 }));
    let key = key(cx, "replay-create");
    let first = cx.send(keyed_create(cx, &key, &body)).await?;
    if !(200..300).contains(&first.status()) {
        return Err(Abort::Prerequisite(format!(
            "the keyed create answered {}, not 2xx",
            first.status()
        )));
    }
    let url = location(cx, &first);
    if let Some(url) = &url {
        cx.remember(url.clone());
    }
    // The same request again: for PUT the same URL, so rebuild it from the first.
    let again_req = match cx.shape().create.method {
        CreateMethod::Post => keyed_create(cx, &key, &body),
        CreateMethod::Put => Req::put(&first.request.url)
            .json(&body)
            .header("If-None-Match", "*")
            .header("Idempotency-Key", &key),
    };
    let again = cx.send(again_req).await?;
    let again_url = location(cx, &again);
    if let Some(u) = again_url.as_ref().filter(|u| Some(*u) != url.as_ref()) {
        cx.remember(u.clone());
    }
    let expectation = "the same create sent again with the same Idempotency-Key is answered like the first (same status, same Location) and creates nothing";
    Ok(if again.status() != first.status() {
        Finding::violation(
            expectation,
            format!(
                "the first answered {}, the retry {}",
                first.status(),
                again.status()
            ),
            &again,
        )
    } else if again_url != url {
        Finding::violation(
            expectation,
            format!(
                "a second resource was created: {} and {}",
                url.as_deref().unwrap_or("(no Location)"),
                again_url.as_deref().unwrap_or("(no Location)")
            ),
            &again,
        )
    } else {
        Finding::Pass(format!(
            "the retry answered {} again with the same resource",
            again.status()
        ))
    })
});

check!(replay_conditional_write, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let key = key(cx, "replay-write");
    let write = || {
        Req::put(&fx.url)
            .json(&cx.doc(json!({ "n": 2 })))
            .header("If-Match", fx.etag.to_string())
            .header("Idempotency-Key", &key)
    };
    let first = cx.send(write()).await?;
    if !(200..300).contains(&first.status()) {
        return Err(Abort::Prerequisite(format!(
            "the keyed PUT with the current If-Match answered {}, not 2xx",
            first.status()
        )));
    }
    let written = cx.snapshot(&fx.url).await?;
    let again = cx.send(write()).await?;
    let after = cx.snapshot(&fx.url).await?;
    let expectation = "a conditional PUT sent again with the same Idempotency-Key is answered like the first (not refused by its own new version) and applied once: the version is unchanged by the retry";
    Ok(if again.status() != first.status() {
        Finding::violation(
            expectation,
            format!(
                "the first answered {}, the retry {}",
                first.status(),
                again.status()
            ),
            &again,
        )
    } else if after.etag != written.etag || after.body != written.body {
        Finding::violation_after(
            expectation,
            format!(
                "the retry wrote again: the version went from {} to {}",
                written.etag.as_deref().unwrap_or("(none)"),
                after.etag.as_deref().unwrap_or("(none)")
            ),
            &again,
            &after.exchange,
        )
    } else {
        Finding::Pass(format!(
            "the retry answered {} again; the version stayed {}",
            again.status(),
            after.etag.as_deref().unwrap_or("(none)")
        ))
    })
});

check!(reuse_422, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let key = key(cx, "reuse");
    let first = cx
        .send(
            Req::put(&fx.url)
                .json(&cx.doc(json!({ "n": 2 })))
                .header("If-Match", fx.etag.to_string())
                .header("Idempotency-Key", &key),
        )
        .await?;
    if !(200..300).contains(&first.status()) {
        return Err(Abort::Prerequisite(format!(
            "the keyed PUT with the current If-Match answered {}, not 2xx",
            first.status()
        )));
    }
    let written = cx.snapshot(&fx.url).await?;
    let current = written.etag.clone().unwrap_or_default();
    let reused = cx
        .send(
            Req::put(&fx.url)
                .json(&cx.doc(json!({ "n": 3 })))
                .header("If-Match", current)
                .header("Idempotency-Key", &key),
        )
        .await?;
    let after = cx.snapshot(&fx.url).await?;
    let unchanged = after.etag == written.etag && after.body == written.body;
    let expectation = "the same Idempotency-Key on a different request (another body) is refused with 422 and changes nothing";
    Ok(if reused.status() == 422 && unchanged {
        Finding::Pass("the reused key answered 422; state unchanged".into())
    } else if unchanged {
        Finding::violation(expectation, format!("status {}", reused.status()), &reused)
    } else {
        Finding::violation_after(
            expectation,
            format!(
                "status {}, and the different request was applied",
                reused.status()
            ),
            &reused,
            &after.exchange,
        )
    })
});

check!(concurrent, |cx| {
    let body = cx.doc(json!({ "n": 1 }));
    let key = key(cx, "concurrent");
    let (a, b) = tokio::join!(
        cx.send(keyed_create(cx, &key, &body)),
        cx.send(keyed_create(cx, &key, &body))
    );
    let (a, b) = (a?, b?);
    for sent in [&a, &b] {
        if let Some(url) = location(cx, sent).filter(|_| (200..300).contains(&sent.status())) {
            cx.remember(url);
        }
    }
    let (sa, sb) = (a.status(), b.status());
    let replayed = |e: &Exchange| e.header("idempotent-replayed").is_some();
    Ok(Finding::Info(match (sa, sb) {
        (409, _) | (_, 409) => format!(
            "two identical keyed creates sent at once answered {sa} and {sb}: the retry met the first in flight (409)"
        ),
        _ if location(cx, &a) == location(cx, &b) => format!(
            "two identical keyed creates sent at once answered {sa} and {sb} with one resource{}: the first had finished before the second arrived",
            if replayed(&a) || replayed(&b) { " (one marked Idempotent-Replayed)" } else { "" }
        ),
        _ => format!(
            "two identical keyed creates sent at once answered {sa} and {sb} with different resources: the key did not hold back the second"
        ),
    }))
});
