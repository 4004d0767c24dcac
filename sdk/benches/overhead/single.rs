//! One request at a time: the SDK's cost over hand-written reqwest calls, and what its ETag
//! cache saves.

use std::sync::Arc;

use ifmatch::{Client, RetryConfig};
use reqwest::header::{CONTENT_TYPE, ETAG, IF_MATCH, IF_NONE_MATCH};
use reqwest::StatusCode;
use serde_json::Value;

use crate::bed::{bump, large_doc, small_doc, Bed, BoxError};
use crate::support::{compare_async, Comparison, Plan, Row};

/// `update()` of one uncontended document vs raw `GET` + `PUT If-Match`.
pub async fn update(bed: &Bed, plan: Plan) -> Result<Comparison, BoxError> {
    let raw_url = bed.create(&small_doc()).await?;
    let cold_url = bed.create(&small_doc()).await?;
    let warm_url = bed.create(&small_doc()).await?;
    let cold = bed.client(false, RetryConfig::default())?;
    let warm = bed.client(true, RetryConfig::default())?;
    // Fill the cache so every timed update finds the document there.
    warm.get::<Value>(&warm_url).await?;
    let (cold, warm) = (&cold, &warm);
    let (raw_url, cold_url, warm_url) = (&raw_url, &cold_url, &warm_url);
    let summaries = compare_async(plan, 3, |case| async move {
        match case {
            0 => raw_update(bed, raw_url).await,
            1 => sdk_update(cold, cold_url, 2).await,
            _ => sdk_update(warm, warm_url, 1).await,
        }
    })
    .await?;
    Ok(Comparison {
        name: "update",
        title: "one uncontended read-change-write of a ~300-byte document".into(),
        samples: plan.samples(),
        baseline: Row::latency("raw reqwest: GET, change, PUT If-Match", &summaries[0]),
        measured: vec![
            Row::latency("SDK update(), cache off (GET + PUT)", &summaries[1]),
            Row::latency("SDK update(), warm cache (PUT only)", &summaries[2]),
        ],
    })
}

async fn raw_update(bed: &Bed, url: &str) -> Result<(), BoxError> {
    let read = bed.raw.get(url).send().await?.error_for_status()?;
    let etag = read
        .headers()
        .get(ETAG)
        .ok_or("the GET answer has no ETag")?
        .clone();
    let mut doc: Value = read.json().await?;
    bump(&mut doc, "n");
    let written = bed
        .raw
        .put(url)
        .header(IF_MATCH, etag)
        .header(CONTENT_TYPE, "application/json")
        .body(serde_json::to_vec(&doc)?)
        .send()
        .await?;
    expect_status(written.status(), StatusCode::OK, "raw PUT If-Match")?;
    let _stored: Value = written.json().await?;
    Ok(())
}

async fn sdk_update(client: &Client, url: &str, requests_each: u64) -> Result<(), BoxError> {
    let before = client.stats().requests;
    let out = client
        .update::<Value>(url, |doc| {
            bump(doc, "n");
            Ok(())
        })
        .send()
        .await?;
    let sent = client.stats().requests - before;
    if out.attempts != 1 || sent != requests_each {
        return Err(format!(
            "an uncontended update sent {sent} request(s) in {} write(s); expected {requests_each} in 1",
            out.attempts
        )
        .into());
    }
    Ok(())
}

/// `get()` of a 200 KiB document served from the ETag cache (304) vs an unconditional raw GET.
pub async fn get_cached(bed: &Bed, plan: Plan) -> Result<Comparison, BoxError> {
    let doc = large_doc(200);
    let bytes = serde_json::to_vec(&doc)?.len();
    let url = bed.create(&doc).await?;
    let cold = bed.client(false, RetryConfig::default())?;
    let warm = bed.client(true, RetryConfig::default())?;
    warm.get::<Value>(&url).await?;
    // A warm `get_shared()` must hand out the cache's own `Arc`, not a copy of the document.
    let (first, second) = (warm.get_shared(&url).await?, warm.get_shared(&url).await?);
    if !(second.from_cache && Arc::ptr_eq(&first.value, &second.value)) {
        return Err("get_shared() on a warm cache did not return the cached Arc".into());
    }
    let etag = bed
        .raw
        .get(&url)
        .send()
        .await?
        .headers()
        .get(ETAG)
        .ok_or("the GET answer has no ETag")?
        .clone();
    let (cold, warm, url, etag) = (&cold, &warm, &url, &etag);
    let summaries = compare_async(plan, 5, |case| async move {
        match case {
            0 => {
                let _doc: Value = bed.raw.get(url).send().await?.json().await?;
                Ok(())
            }
            1 => sdk_get(cold, url, false).await,
            2 => sdk_get(warm, url, true).await,
            3 => sdk_get_shared(warm, url).await,
            _ => {
                let answer = bed.raw.get(url).header(IF_NONE_MATCH, etag).send().await?;
                expect_status(
                    answer.status(),
                    StatusCode::NOT_MODIFIED,
                    "raw GET If-None-Match",
                )
            }
        }
    })
    .await?;
    Ok(Comparison {
        name: "get_cached",
        title: format!("GET of a {} KiB document", bytes / 1024),
        samples: plan.samples(),
        baseline: Row::latency("raw reqwest: GET 200, parse body", &summaries[0]),
        measured: vec![
            Row::latency("SDK get(), cache off (GET 200, parse)", &summaries[1]),
            Row::latency("SDK get(), warm cache (304, cached body)", &summaries[2]),
            Row::latency(
                "SDK get_shared(), warm cache (304, the cached Arc)",
                &summaries[3],
            ),
            Row::latency("raw reqwest: GET If-None-Match -> 304", &summaries[4]),
        ],
    })
}

async fn sdk_get(client: &Client, url: &str, from_cache: bool) -> Result<(), BoxError> {
    let got = client.get::<Value>(url).await?;
    if got.from_cache != from_cache {
        return Err(format!(
            "get() answered from_cache = {}, expected {from_cache}",
            got.from_cache
        )
        .into());
    }
    Ok(())
}

async fn sdk_get_shared(client: &Client, url: &str) -> Result<(), BoxError> {
    if !client.get_shared(url).await?.from_cache {
        return Err("get_shared() on a warm cache was not answered from the cache".into());
    }
    Ok(())
}

fn expect_status(got: StatusCode, want: StatusCode, what: &str) -> Result<(), BoxError> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what} answered {got}, expected {want}").into())
    }
}
