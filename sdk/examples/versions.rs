//! A document's history: write a few versions, list them, diff two, restore an old one; then
//! the same document through API v2, whose version is in the body, with concurrent updates on
//! one client; and v1's deprecation notice.
//!
//! Run with `cargo run -p ifmatch --example versions`. It starts the reference server in-process.

use ifmatch::{ChangeError, Client, Event, VersionField};
use serde_json::{json, Value};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = ifmatch_server::spawn(ifmatch_server::Config::new()).await?;
    let base = server.base_url();
    let client = Client::builder()
        .base_url(&base)?
        .on_event(|event| {
            if let Event::Deprecated { notice } = event {
                println!(
                    "deprecated API at {} (sunset {:?}); successor: {:?}",
                    notice.url, notice.sunset, notice.successor
                );
            }
        })
        .build()?;

    // Three versions of one document.
    let doc = client
        .create("/items", &json!({"title": "draft", "tags": []}))
        .await?
        .location
        .ok_or("the server names the new item")?;
    for (title, tag) in [("review", "a"), ("final", "b")] {
        client
            .update::<Value>(&doc, move |d| {
                d["title"] = title.into();
                d["tags"]
                    .as_array_mut()
                    .ok_or_else(|| ChangeError::msg("tags is a list"))?
                    .push(tag.into());
                Ok(())
            })
            .await?;
    }

    let history = client.versions(&doc).await?;
    for entry in &history.versions {
        println!(
            "v{} by {:?}, {} bytes",
            entry.version, entry.author, entry.size
        );
    }
    let (newest, oldest) = (history.versions[0].version, history.versions[2].version);
    let patch = client.diff(&doc, oldest, newest).await?;
    println!("v{oldest} -> v{newest}: {}", serde_json::to_string(&patch)?);

    // Restoring is a new write, conditional on the current version.
    let restored = client.restore(&doc, oldest).await?;
    println!(
        "restored v{oldest} as v{}: {}",
        shown(&restored.version),
        restored.value
    );

    // API v2 keeps the version in the body: {"id", "version", "modified_at_ms", "data"}.
    let v2 = Client::builder()
        .base_url(&base)?
        .version_field(VersionField::at("/version").document_at("/data"))
        .build()?;
    let v2_path = doc.replacen("/items/", "/v2/items/", 1);
    let mut tasks = Vec::new();
    for n in 0..4 {
        let (v2, path) = (v2.clone(), v2_path.clone());
        tasks.push(tokio::spawn(async move {
            v2.update::<Value>(&path, move |envelope| {
                let tags = envelope["data"]["tags"]
                    .as_array_mut()
                    .ok_or_else(|| ChangeError::msg("tags is a list"))?;
                tags.push(format!("from task {n}").into());
                Ok(())
            })
            .await
        }));
    }
    for task in tasks {
        task.await??;
    }
    let now = v2.get::<Value>(&v2_path).await?;
    println!(
        "v2 version {}: {} ({} version conflicts recovered)",
        shown(&now.version),
        now.value["data"],
        v2.stats().conflicts_412 + v2.stats().conflicts_409
    );
    println!(
        "deprecated answers seen: {}",
        client.stats().deprecated_responses
    );
    server.shutdown().await;
    Ok(())
}

fn shown(version: &Option<ifmatch::Version>) -> String {
    version
        .as_ref()
        .map_or_else(|| "?".into(), ToString::to_string)
}
