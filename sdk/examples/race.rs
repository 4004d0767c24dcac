//! Two writers race on one document; the loser recovers by three-way merge.
//!
//! Run with `cargo run -p ifmatch --example race`. It starts the reference server in-process,
//! so nothing else is needed.

use ifmatch::{Client, Event, Strategy};
use serde_json::{json, Value};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = ifmatch_server::spawn(ifmatch_server::Config::new()).await?;
    let writer = |name: &'static str| {
        Client::builder()
            .base_url(&server.base_url())?
            .on_event(move |event: &Event| {
                if let Event::Conflict {
                    status,
                    strategy,
                    outcome,
                    ..
                } = event
                {
                    println!("{name}: got {status}, {strategy} -> {outcome:?}");
                }
            })
            .build()
    };
    let (alice, bob) = (writer("alice")?, writer("bob")?);

    let created = alice
        .create(
            "/items",
            &json!({"title": "Draft", "body": "Hello", "tags": ["new"]}),
        )
        .await?;
    let doc = created.location.ok_or("the server sent no Location")?;

    // Both read version 1, so both hold the same ETag in their caches.
    alice.get::<Value>(&doc).await?;
    bob.get::<Value>(&doc).await?;

    // Alice writes first and wins the race.
    alice
        .update::<Value>(&doc, |d| {
            d["title"] = "Final title".into();
            Ok(())
        })
        .strategy(Strategy::ThreeWayMerge)
        .send()
        .await?;

    // Bob's write carries the old ETag, is refused with 412, and is merged with Alice's edit.
    let merged = bob
        .update::<Value>(&doc, |d| {
            d["body"] = "Hello, world".into();
            Ok(())
        })
        .strategy(Strategy::ThreeWayMerge)
        .send()
        .await?;

    println!("final after {} write(s): {}", merged.attempts, merged.value);
    assert_eq!(
        merged.value["title"], "Final title",
        "Alice's edit survived"
    );
    assert_eq!(merged.value["body"], "Hello, world", "Bob's edit survived");
    println!("bob's stats: {:?}", bob.stats());
    server.shutdown().await;
    Ok(())
}
