//! Inside a transaction: beginning one, isolation from outside readers, reading
//! one's own writes, and reading the version first read again.

use serde_json::{json, Value};

use super::{
    begun, create_within, merged, open, path_of, roll_back, staged, try_begin, LONG_TTL_MS,
};
use crate::http::{Exchange, Req};
use crate::rules::context::describe_change;
use crate::rules::{Finding, Fixture};

check!(tx_begin_201, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let (answer, tx) = try_begin(&cx.probe, cx.transactions_url(), LONG_TTL_MS).await?;
    if matches!(answer.status(), 404 | 405 | 501) {
        return Ok(Finding::Skip(format!(
            "the server offers no transactions at {}: POST answered {}, so the transaction rules are skipped. If its transactions begin elsewhere, say where with --transactions-path",
            answer.request.url,
            answer.status()
        )));
    }
    let tx = tx.or_else(|| begun(&answer));
    if let Some(tx) = &tx {
        cx.remember_transaction(&tx.url);
    }
    let body = answer.json();
    let field = |name: &str| body.as_ref().and_then(|b| b.get(name)).cloned();
    let mut wrong = Vec::new();
    if answer.status() != 201 {
        wrong.push(format!("the status is {}", answer.status()));
    }
    if answer.header("location").is_none() {
        wrong.push("there is no Location".to_owned());
    }
    if !field("id").is_some_and(|v| v.is_string()) {
        wrong.push("the body has no id string".to_owned());
    }
    if !field("expires_at_ms").is_some_and(|v| v.is_i64() || v.is_u64()) {
        wrong.push("the body has no numeric expires_at_ms".to_owned());
    }
    let ttl = field("ttl_ms").and_then(|v| v.as_u64());
    if !ttl.is_some_and(|ms| (1..=LONG_TTL_MS).contains(&ms)) {
        wrong.push(format!(
            "ttl_ms is {}, not the lifetime granted for the {LONG_TTL_MS} ms asked",
            field("ttl_ms").map_or("absent".into(), |v| v.to_string())
        ));
    }
    let expectation = "POST {transactions} answers 201 with Location, and a body with the id, expires_at_ms and the ttl_ms granted";
    let Some(tx) = tx.filter(|_| wrong.is_empty()) else {
        return Ok(Finding::violation(expectation, wrong.join("; "), &answer));
    };
    // Judged by use: a read inside the new transaction is answered as outside.
    let inside = cx.send(tx.within(Req::get(&fx.url))).await?;
    roll_back(cx, &tx).await?;
    if inside.status() != 200 || inside.etag_raw() != Some(fx.etag.to_string().as_str()) {
        return Ok(Finding::violation(
            "a GET with the new Transaction-Id reads the document as it is (200, same ETag)",
            format!(
                "GET {} with Transaction-Id {} answered {} with ETag {}",
                path_of(&fx.url),
                tx.id,
                inside.status(),
                inside.etag_raw().unwrap_or("(none)")
            ),
            &inside,
        ));
    }
    Ok(Finding::Pass(format!(
        "201 with Location {}, ttl_ms {}; a GET inside it answered 200 with the document's ETag",
        answer.header("location").unwrap_or_default(),
        ttl.unwrap_or_default()
    )))
});

check!(tx_isolation, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let before = cx.snapshot(&fx.url).await?;
    let tx = open(cx, LONG_TTL_MS).await?;
    let put = Req::put(&fx.url)
        .json(&cx.doc(json!({ "n": 2 })))
        .header("If-Match", fx.etag.to_string());
    staged(cx, &tx, put, "a PUT with the current If-Match").await?;
    let created = create_within(cx, &tx, &cx.doc(json!({ "n": 1 }))).await?;
    let after = cx.snapshot(&fx.url).await?;
    let new = cx.snapshot(&created).await?;
    roll_back(cx, &tx).await?;
    let expectation = "writes inside an open transaction are invisible outside it until the commit: plain GETs show the committed state";
    if let Some(change) = describe_change(&before, &after) {
        return Ok(Finding::violation(
            expectation,
            format!(
                "after a PUT inside the transaction, a GET without Transaction-Id shows {change}"
            ),
            &after.exchange,
        ));
    }
    if new.status != 404 {
        return Ok(Finding::violation(
            expectation,
            format!(
                "after a POST inside the transaction, a GET of {} without Transaction-Id answered {}, not 404",
                path_of(&created),
                new.status
            ),
            &new.exchange,
        ));
    }
    Ok(Finding::Pass(
        "after a PUT and a POST inside the transaction, GETs outside showed the document unchanged and the new one absent (404)".into(),
    ))
});

/// What is wrong with a read inside the transaction that should show `body` with `tag`.
fn sees(read: &Exchange, body: &Value, tag: Option<&str>) -> Option<String> {
    if read.status() != 200 || read.json().as_ref() != Some(body) {
        return Some(format!(
            "GET {} inside answered {} without that body",
            path_of(&read.request.url),
            read.status()
        ));
    }
    match (tag, read.etag_raw()) {
        (Some(tag), Some(seen)) if seen != tag => Some(format!(
            "GET {} inside answered ETag {seen}, not the write's {tag}",
            path_of(&read.request.url)
        )),
        _ => None,
    }
}

check!(tx_read_own_writes, |cx| {
    let fx = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let tx = open(cx, LONG_TTL_MS).await?;
    let expectation = "reads inside a transaction see its own writes: the body and provisional ETag of a PUT, then of a PATCH with that ETag, and a document it POSTed";
    let body = cx.doc(json!({ "n": 2 }));
    let put = Req::put(&fx.url)
        .json(&body)
        .header("If-Match", fx.etag.to_string());
    let put = staged(cx, &tx, put, "a PUT with the current If-Match").await?;
    let read = cx.send(tx.within(Req::get(&fx.url))).await?;
    if let Some(wrong) = sees(&read, &body, put.etag_raw()) {
        return Ok(Finding::violation(
            expectation,
            format!("after a PUT inside, {wrong}"),
            &read,
        ));
    }
    let patch = json!({ "patched": true });
    let mut patching = Req::patch(&fx.url).merge_patch(&patch);
    if let Some(tag) = put.etag_raw() {
        patching = patching.header("If-Match", tag);
    }
    let patched = cx.send(tx.within(patching)).await?;
    if patched.status() != 200 {
        return Ok(Finding::violation(
            expectation,
            format!(
                "a PATCH inside with If-Match: the PUT's ETag {} answered {}",
                put.etag_raw().unwrap_or("(none)"),
                patched.status()
            ),
            &patched,
        ));
    }
    let read = cx.send(tx.within(Req::get(&fx.url))).await?;
    if let Some(wrong) = sees(&read, &merged(&body, &patch), patched.etag_raw()) {
        return Ok(Finding::violation(
            expectation,
            format!("after a PATCH inside, {wrong}"),
            &read,
        ));
    }
    let new_body = cx.doc(json!({ "made": "inside" }));
    let created = create_within(cx, &tx, &new_body).await?;
    let read = cx.send(tx.within(Req::get(&created))).await?;
    roll_back(cx, &tx).await?;
    if let Some(wrong) = sees(&read, &new_body, None) {
        return Ok(Finding::violation(
            expectation,
            format!("after a POST inside, {wrong}"),
            &read,
        ));
    }
    Ok(Finding::Pass(
        "inside the transaction, GETs showed the PUT's and the PATCH's bodies and ETags, and the POSTed document".into(),
    ))
});

check!(tx_repeatable_read, |cx| {
    let fx: Fixture = cx.fixture(cx.doc(json!({ "n": 1 }))).await?;
    let tx = open(cx, LONG_TTL_MS).await?;
    let first = cx.send(tx.within(Req::get(&fx.url))).await?;
    let tag = fx.etag.to_string();
    if first.status() != 200 || first.etag_raw() != Some(tag.as_str()) {
        return Err(crate::rules::Abort::Prerequisite(format!(
            "a GET inside a new transaction answered {} with ETag {}, not the document's {tag}",
            first.status(),
            first.etag_raw().unwrap_or("(none)")
        )));
    }
    let outside = cx
        .send(
            Req::put(&fx.url)
                .json(&cx.doc(json!({ "n": 2 })))
                .header("If-Match", tag.clone()),
        )
        .await?;
    if outside.status() / 100 != 2 {
        return Err(crate::rules::Abort::Prerequisite(format!(
            "a PUT outside the transaction with the current If-Match answered {}",
            outside.status()
        )));
    }
    let again = cx.send(tx.within(Req::get(&fx.url))).await?;
    roll_back(cx, &tx).await?;
    if again.status() == 200
        && again.etag_raw() == Some(tag.as_str())
        && again.json() == Some(fx.body.clone())
    {
        return Ok(Finding::Pass(format!(
            "after a write outside, a second read inside the transaction still showed the version it first read ({tag})"
        )));
    }
    Ok(Finding::violation(
        "a document read inside a transaction reads the same again there, even after a write outside (repeatable read)",
        format!(
            "after a PUT outside answered {} with ETag {}, the second GET inside answered {} with ETag {}",
            outside.status(),
            outside.etag_raw().unwrap_or("(none)"),
            again.status(),
            again.etag_raw().unwrap_or("(none)")
        ),
        &again,
    ))
});
