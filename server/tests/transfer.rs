//! Serializability under load: concurrent transfers between a few accounts, through
//! interactive transactions (retried on 409) and through batches with `if_match` (retried on
//! 412), while readers take consistent snapshots. Money is never created or lost, every
//! account ends at its initial balance plus the transfers that succeeded, and no reader whose
//! own commit (or `check` batch) succeeded ever saw a partial transfer.

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{etag_of, Backend, TestServer};

both_storages!(
    transfers_through_transactions_and_batches_conserve_money,
    transfers_through_transactions_alone_conserve_money,
);

const ACCOUNTS: usize = 4;
const INITIAL: i64 = 1_000;
const TASKS: usize = 16;
const TRANSFERS: usize = 20;
/// Generous bound so that a broken server fails the test instead of looping forever.
const MAX_ATTEMPTS: usize = 10_000;
/// Consistent snapshots each reader must see; it keeps reading while writers run.
const MIN_SNAPSHOTS: usize = 5;

fn account(index: usize) -> String {
    format!("/items/account-{index}")
}

/// A transfer that succeeded: `amount` from one account to another.
#[derive(Debug, Clone, Copy)]
struct Done {
    from: usize,
    to: usize,
    amount: i64,
}

/// The transfer number `n` of task `task`: deterministic, between different accounts.
fn plan(task: usize, n: usize) -> Done {
    let from = (task + n) % ACCOUNTS;
    let to = (from + 1 + (task * 7 + n) % (ACCOUNTS - 1)) % ACCOUNTS;
    let amount = i64::try_from((task * 13 + n * 7) % 50 + 1).unwrap();
    Done { from, to, amount }
}

fn balance(doc: &Value) -> i64 {
    doc["balance"].as_i64().expect("a balance")
}

fn tx_header(tx: &str) -> (&'static str, &str) {
    ("transaction-id", tx)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    Transaction,
    Batch,
}

/// One transfer inside a transaction: read both, refuse an overdraft, write both, commit;
/// again from the start on 409. `None` when the balance did not allow it.
async fn transfer_in_transaction(server: &TestServer, transfer: Done) -> Option<Done> {
    for _ in 0..MAX_ATTEMPTS {
        let tx = server.begin().await;
        let mut seen = Vec::new();
        for index in [transfer.from, transfer.to] {
            let response = server.get(&account(index), &[tx_header(&tx)]).await;
            assert_eq!(response.status(), StatusCode::OK);
            let etag = etag_of(response.headers());
            seen.push((balance(&response.json().await.unwrap()), etag));
        }
        if seen[0].0 < transfer.amount {
            let rolled_back = server.delete(&format!("/transactions/{tx}"), &[]).await;
            assert_eq!(rolled_back.status(), StatusCode::NO_CONTENT);
            return None;
        }
        let changes = [
            (transfer.from, seen[0].0 - transfer.amount, &seen[0].1),
            (transfer.to, seen[1].0 + transfer.amount, &seen[1].1),
        ];
        for (index, next, etag) in changes {
            let body = json!({ "balance": next }).to_string();
            let response = server
                .put(
                    &account(index),
                    &[tx_header(&tx), ("if-match", etag)],
                    &body,
                )
                .await;
            assert_eq!(response.status(), StatusCode::OK, "write inside");
        }
        let committed = server.commit(&tx).await;
        match committed.status() {
            StatusCode::OK => return Some(transfer),
            StatusCode::CONFLICT => continue,
            other => panic!("commit answered {other}"),
        }
    }
    panic!("transfer starved after {MAX_ATTEMPTS} attempts");
}

/// One transfer as a batch of two conditional puts; again from the start on 412.
async fn transfer_in_batch(server: &TestServer, transfer: Done) -> Option<Done> {
    for _ in 0..MAX_ATTEMPTS {
        let (from, from_tag) = server.read(&account(transfer.from)).await;
        let (to, to_tag) = server.read(&account(transfer.to)).await;
        if balance(&from) < transfer.amount {
            return None;
        }
        let response = server
            .batch(json!([
                {"op": "put", "path": account(transfer.from), "if_match": from_tag,
                 "body": {"balance": balance(&from) - transfer.amount}},
                {"op": "put", "path": account(transfer.to), "if_match": to_tag,
                 "body": {"balance": balance(&to) + transfer.amount}},
            ]))
            .await;
        match response.status() {
            StatusCode::OK => return Some(transfer),
            StatusCode::PRECONDITION_FAILED => continue,
            other => panic!("batch answered {other}"),
        }
    }
    panic!("transfer starved after {MAX_ATTEMPTS} attempts");
}

/// Reads every account in a transaction and commits it: a successful commit proves the
/// versions read were all current at one moment, so they must add up. Returns the snapshots
/// seen and the attempts made.
async fn read_in_transactions(server: &TestServer, writers_done: &AtomicBool) -> (usize, usize) {
    let (mut snapshots, mut attempts) = (0, 0);
    while snapshots < MIN_SNAPSHOTS || !writers_done.load(Ordering::SeqCst) {
        attempts += 1;
        assert!(attempts <= MAX_ATTEMPTS * 10, "reader starved");
        let tx = server.begin().await;
        let mut total = 0;
        for index in 0..ACCOUNTS {
            let response = server.get(&account(index), &[tx_header(&tx)]).await;
            total += balance(&response.json().await.unwrap());
        }
        match server.commit(&tx).await.status() {
            StatusCode::OK => {
                assert_eq!(
                    total,
                    INITIAL * 4,
                    "a committed read saw a partial transfer"
                );
                snapshots += 1;
            }
            StatusCode::CONFLICT => {}
            other => panic!("read-only commit answered {other}"),
        }
    }
    (snapshots, attempts)
}

/// Reads every account outside, then asserts with `check` operations that all the versions
/// read are still current: when the batch succeeds, the reads were one consistent snapshot.
async fn read_with_checks(server: &TestServer, writers_done: &AtomicBool) -> (usize, usize) {
    let (mut snapshots, mut attempts) = (0, 0);
    while snapshots < MIN_SNAPSHOTS || !writers_done.load(Ordering::SeqCst) {
        attempts += 1;
        assert!(attempts <= MAX_ATTEMPTS * 10, "reader starved");
        let mut total = 0;
        let mut checks = Vec::new();
        for index in 0..ACCOUNTS {
            let (doc, etag) = server.read(&account(index)).await;
            total += balance(&doc);
            checks.push(json!({"op": "check", "path": account(index), "if_match": etag}));
        }
        match server.batch(Value::Array(checks)).await.status() {
            StatusCode::OK => {
                assert_eq!(total, INITIAL * 4, "a checked read saw a partial transfer");
                snapshots += 1;
            }
            StatusCode::PRECONDITION_FAILED => {}
            other => panic!("check batch answered {other}"),
        }
    }
    (snapshots, attempts)
}

async fn run_transfers(backend: Backend, batches_too: bool) {
    let server = Arc::new(TestServer::start_default(backend).await);
    for index in 0..ACCOUNTS {
        server
            .seed(&account(index), &json!({ "balance": INITIAL }).to_string())
            .await;
    }
    let writers_done = Arc::new(AtomicBool::new(false));
    let readers = [Via::Transaction, Via::Batch].map(|via| {
        let (server, done) = (Arc::clone(&server), Arc::clone(&writers_done));
        tokio::spawn(async move {
            match via {
                Via::Transaction => read_in_transactions(&server, &done).await,
                Via::Batch => read_with_checks(&server, &done).await,
            }
        })
    });
    let mut writers = Vec::new();
    for task in 0..TASKS {
        let server = Arc::clone(&server);
        let via = if batches_too && task % 2 == 1 {
            Via::Batch
        } else {
            Via::Transaction
        };
        writers.push(tokio::spawn(async move {
            let mut done = Vec::new();
            for n in 0..TRANSFERS {
                let transfer = plan(task, n);
                let outcome = match via {
                    Via::Transaction => transfer_in_transaction(&server, transfer).await,
                    Via::Batch => transfer_in_batch(&server, transfer).await,
                };
                done.extend(outcome);
            }
            done
        }));
    }
    let mut succeeded = Vec::new();
    for writer in writers {
        succeeded.extend(writer.await.expect("writer completes"));
    }
    writers_done.store(true, Ordering::SeqCst);
    for reader in readers {
        let (snapshots, attempts) = reader.await.expect("reader completes");
        assert!(snapshots >= MIN_SNAPSHOTS && attempts >= snapshots);
    }

    let mut expected = [INITIAL; ACCOUNTS];
    for transfer in &succeeded {
        expected[transfer.from] -= transfer.amount;
        expected[transfer.to] += transfer.amount;
    }
    let mut total = 0;
    for (index, want) in expected.iter().enumerate() {
        let (doc, _) = server.read(&account(index)).await;
        assert_eq!(balance(&doc), *want, "account {index}");
        total += balance(&doc);
    }
    assert_eq!(total, INITIAL * 4, "money conserved");
    // Balances are judged inside each transfer, so with amounts of at most 50 and 1000 each,
    // nearly all transfers go through; at least most of them must have.
    assert!(
        succeeded.len() > TASKS * TRANSFERS / 2,
        "{}",
        succeeded.len()
    );
    assert_eq!(
        server.list().await["items"].as_array().unwrap().len(),
        ACCOUNTS
    );
    Arc::into_inner(server)
        .expect("tasks done")
        .shutdown()
        .await;
}

async fn transfers_through_transactions_and_batches_conserve_money(backend: Backend) {
    run_transfers(backend, true).await;
}

async fn transfers_through_transactions_alone_conserve_money(backend: Backend) {
    run_transfers(backend, false).await;
}
