//! Conflict notifications end to end: a reviewer subscribes to the conflict stream, alice's
//! update loses a race and escalates it (no automatic recovery), the reviewer's stream shows the
//! conflict, alice resolves it with a merged document, and the stream shows the resolution. Bob,
//! another client, may not resolve alice's conflict (403).
//!
//! Run with `cargo run -p ifmatch --example conflicts`. It starts the reference server
//! in-process, with tokens for alice, bob and an admin reviewer.

use ifmatch::{conflicts::Resolution, Client, ConflictEvent, ConflictFilter, Strategy};
use serde_json::{json, Value};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = ifmatch_server::Config::new()
        .with_client_token("alice", "t-alice")
        .with_client_token("bob", "t-bob")
        .with_admin_token("reviewer", "t-reviewer");
    let server = ifmatch_server::spawn(config).await?;
    let base = server.base_url();
    let as_user = |token: &str| {
        Client::builder()
            .base_url(&base)?
            .bearer_token(token)?
            .build()
    };
    let (alice, bob, reviewer) = (
        as_user("t-alice")?,
        as_user("t-bob")?,
        as_user("t-reviewer")?,
    );

    let created = alice
        .create("/items", &json!({"title": "draft", "tags": []}))
        .await?;
    let doc = created.location.ok_or("the server names the new item")?;
    let path = url::Url::parse(&doc)?.path().to_owned(); // records name the server's path

    // 1. The reviewer listens for conflicts on this document (from the start of the log).
    let mut events = reviewer
        .conflicts()
        .subscribe(ConflictFilter::new().resource(path.as_str()))
        .after(0);

    // 2. Alice reads, Bob writes meanwhile, Alice's update is refused and escalated.
    let _ = alice.get::<Value>(&doc).await?; // cached: her update starts from this version
    let read = bob.get::<Value>(&doc).await?;
    bob.put(&doc, &json!({"title": "bob's title", "tags": []}), &read)
        .await?;
    let refused = alice
        .update::<Value>(&doc, |d| {
            d["tags"] = json!(["urgent"]);
            Ok(())
        })
        .strategy(Strategy::Escalate)
        .await
        .expect_err("bob's write came first");
    let id = refused
        .conflict_id()
        .ok_or("the server recorded the conflict")?
        .to_owned();
    println!("alice's update was refused and handed over as {id}: {refused}");

    // 3. The reviewer's stream shows it.
    if let Some(event) = events.next().await {
        if let ConflictEvent::Conflict(c) = event? {
            println!(
                "reviewer sees {} on {} by {:?}: {:?}",
                c.id, c.resource, c.client, c.rejected
            );
        }
    }

    // 4. Bob may not resolve alice's conflict; alice resolves it with both edits.
    let err = bob
        .conflicts()
        .resolve(&id, Resolution::Theirs)
        .await
        .unwrap_err();
    println!("bob tried: [{}] {err}", err.code());
    let merged = json!({"title": "bob's title", "tags": ["urgent"]});
    let record = alice
        .conflicts()
        .resolve(&id, Resolution::Merged(merged))
        .await?;
    println!("alice resolved {}: {:?}", record.id, record.resolution);

    // 5. The reviewer's stream shows the resolution.
    if let Some(event) = events.next().await {
        if let ConflictEvent::Resolved(c) = event? {
            println!(
                "reviewer sees {} resolved by {:?}",
                c.id,
                c.resolution.map(|r| r.by)
            );
        }
    }
    println!("document now: {}", alice.get::<Value>(&doc).await?.value);
    drop(events);
    server.shutdown().await;
    Ok(())
}
