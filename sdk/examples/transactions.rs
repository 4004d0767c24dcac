//! Transfers between accounts: many tasks move money at once with `client.transaction(...)`,
//! which runs a transfer again whenever its commit finds that an account changed since it was
//! read. No money is created or lost. Then an atomic batch opens two accounts and records the
//! opening in a ledger, all or nothing.
//!
//! Run with `cargo run -p ifmatch --example transactions`. It starts the reference server
//! in-process.

use ifmatch::{Client, Precondition, RetryConfig, Target, Transaction};
use serde_json::{json, Value};

/// Moves `amount` from one account to the other inside `tx`, if the source has it.
async fn transfer(
    tx: Transaction,
    from: String,
    to: String,
    amount: i64,
) -> Result<bool, ifmatch::Error> {
    let source = tx.get::<Value>(&from).await?;
    let target = tx.get::<Value>(&to).await?;
    let balance = |doc: &Value| doc["balance"].as_i64().unwrap_or(0);
    if balance(&source.value) < amount {
        return Ok(false);
    }
    tx.patch(
        &from,
        &json!({"balance": balance(&source.value) - amount}),
        &source,
    )
    .await?;
    tx.patch(
        &to,
        &json!({"balance": balance(&target.value) + amount}),
        &target,
    )
    .await?;
    Ok(true)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = ifmatch_server::spawn(ifmatch_server::Config::new()).await?;
    let client = Client::builder()
        .base_url(&server.base_url())?
        .retry(RetryConfig::contended()) // up to 32 runs per transfer, short pauses
        .build()?;

    // Open two accounts and a ledger entry in one atomic batch.
    let opened = client
        .batch()
        .create_as("alice", &json!({"owner": "alice", "balance": 500}))
        .create_as("bob", &json!({"owner": "bob", "balance": 500}))
        .create(&json!({"event": "opened", "accounts": 2}))
        .patch(
            Target::lid("bob"),
            &json!({"note": "opened with alice"}),
            Precondition::unconditional(),
        )
        .await?;
    let alice = opened
        .created("alice")
        .ok_or("alice was created")?
        .url()
        .to_owned();
    let bob = opened
        .created("bob")
        .ok_or("bob was created")?
        .url()
        .to_owned();
    println!(
        "opened {alice} and {bob} in one batch of {} operations",
        opened.len()
    );

    // Eight tasks move money back and forth on one shared client.
    let mut tasks = Vec::new();
    for task in 0..8i64 {
        let (client, alice, bob) = (client.clone(), alice.clone(), bob.clone());
        tasks.push(tokio::spawn(async move {
            let mut moved = 0;
            for round in 0..5 {
                let (from, to) = if (task + round) % 2 == 0 {
                    (alice.clone(), bob.clone())
                } else {
                    (bob.clone(), alice.clone())
                };
                let amount = 10 + task;
                let done = client
                    .transaction(move |tx| transfer(tx, from.clone(), to.clone(), amount))
                    .await?;
                moved += i64::from(done);
            }
            Ok::<i64, ifmatch::Error>(moved)
        }));
    }
    let mut transfers = 0;
    for task in tasks {
        transfers += task.await??;
    }

    let a = client.get::<Value>(&alice).await?.value["balance"].as_i64();
    let b = client.get::<Value>(&bob).await?.value["balance"].as_i64();
    let stats = client.stats();
    println!(
        "{transfers} transfers committed ({} commits refused and run again)",
        stats.transaction_conflicts
    );
    println!(
        "alice {a:?} + bob {b:?} = {:?} (expected 1000)",
        a.zip(b).map(|(a, b)| a + b)
    );
    server.shutdown().await;
    Ok(())
}
