//! Lock queues and concurrent lockers: first come first served, waiters that go away, a full
//! queue, mutual exclusion and fencing under contention (shown to matter by the same
//! increments losing updates without locks).

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ifmatch_server::Config;
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::locks::{retry_after, Held};
use support::{expect_problem, Backend, TestServer};
use tokio::sync::{mpsc, Barrier};

both_storages!(
    waiters_are_served_in_arrival_order,
    a_waiter_that_disconnects_leaves_the_queue,
    a_full_queue_answers_503_with_retry_after,
    waiters_for_a_deleted_document_get_404,
    locked_increments_lose_nothing_and_never_overlap,
    holders_whose_lock_expired_cannot_write,
    unlocked_unconditional_increments_lose_updates,
);

/// Starts a task that waits for the lock as `owner` and reports its grant on `granted`.
fn queue_for(
    server: &Arc<TestServer>,
    owner: &'static str,
    granted: &mpsc::UnboundedSender<(&'static str, Held)>,
) {
    let (server, granted) = (Arc::clone(server), granted.clone());
    tokio::spawn(async move {
        let body = json!({"owner": owner, "wait_ms": 60_000}).to_string();
        let held = server.acquire("/items/doc", &body).await;
        granted.send((owner, held)).unwrap();
    });
}

async fn waiters_are_served_in_arrival_order(backend: Backend) {
    let server = Arc::new(TestServer::start_default(backend).await);
    server.seed("/items/doc", "{}").await;
    let mut holder = server.acquire("/items/doc", r#"{"owner":"first"}"#).await;
    let (granted, mut grants) = mpsc::unbounded_channel();
    for (index, owner) in ["b", "c", "d"].into_iter().enumerate() {
        queue_for(&server, owner, &granted);
        server.until_waiters("/items/doc", index as u64 + 1).await;
    }
    for (expected, left) in [("b", 2), ("c", 1), ("d", 0)] {
        assert!(
            grants.try_recv().is_err(),
            "nobody is served before a release"
        );
        server.release("/items/doc", &holder).await;
        let (owner, held) = grants.recv().await.unwrap();
        assert_eq!(owner, expected);
        assert_eq!(held.body["owner"], expected);
        let state = server.lock_state("/items/doc").await.unwrap();
        assert_eq!(
            (state["owner"].clone(), state["waiters"].clone()),
            (json!(expected), json!(left))
        );
        holder = held;
    }
    server.release("/items/doc", &holder).await;
    Arc::into_inner(server)
        .expect("tasks done")
        .shutdown()
        .await;
}

async fn a_waiter_that_disconnects_leaves_the_queue(backend: Backend) {
    let server = Arc::new(TestServer::start_default(backend).await);
    server.seed("/items/doc", "{}").await;
    let holder = server.acquire("/items/doc", "{}").await;
    let impatient = {
        let request = server
            .client
            .post(server.url("/items/doc/lock"))
            .header("content-type", "application/json")
            .body(r#"{"owner":"impatient","wait_ms":60000}"#)
            .timeout(Duration::from_millis(1500));
        tokio::spawn(request.send())
    };
    server.until_waiters("/items/doc", 1).await;
    let (granted, mut grants) = mpsc::unbounded_channel();
    queue_for(&server, "patient", &granted);
    server.until_waiters("/items/doc", 2).await;
    let gave_up = impatient.await.unwrap().expect_err("the client gives up");
    assert!(gave_up.is_timeout(), "{gave_up}");
    // The server drops the handler when the connection closes; the queue shrinks by itself.
    server.until_waiters("/items/doc", 1).await;
    server.release("/items/doc", &holder).await;
    let (owner, held) = grants.recv().await.unwrap();
    assert_eq!(owner, "patient");
    server.release("/items/doc", &held).await;
    Arc::into_inner(server)
        .expect("tasks done")
        .shutdown()
        .await;
}

async fn a_full_queue_answers_503_with_retry_after(backend: Backend) {
    let server = Arc::new(TestServer::start(backend, Config::new().with_max_lock_waiters(2)).await);
    server.seed("/items/doc", "{}").await;
    server.acquire("/items/doc", r#"{"ttl_ms":20000}"#).await;
    let (granted, mut grants) = mpsc::unbounded_channel();
    for (index, owner) in ["b", "c"].into_iter().enumerate() {
        queue_for(&server, owner, &granted);
        server.until_waiters("/items/doc", index as u64 + 1).await;
    }
    let full = server.lock("/items/doc", r#"{"wait_ms":1000}"#).await;
    let seconds = retry_after(&full);
    assert!((1..=20).contains(&seconds), "Retry-After {seconds}");
    let body = expect_problem(full, 503, "lock-queue-full").await;
    assert!(body["expires_at_ms"].is_u64(), "{body}");
    let not_waiting = server.lock("/items/doc", "{}").await;
    expect_problem(not_waiting, 423, "locked").await;
    // Breaking the lock moves the queue on like a release.
    server.delete("/items/doc/lock?break=true", &[]).await;
    let (owner, b) = grants.recv().await.unwrap();
    assert_eq!(owner, "b");
    server.release("/items/doc", &b).await;
    let (owner, c) = grants.recv().await.unwrap();
    assert_eq!(owner, "c");
    server.release("/items/doc", &c).await;
    Arc::into_inner(server)
        .expect("tasks done")
        .shutdown()
        .await;
}

async fn waiters_for_a_deleted_document_get_404(backend: Backend) {
    let server = Arc::new(TestServer::start_default(backend).await);
    server.seed("/items/doc", "{}").await;
    let holder = server.acquire("/items/doc", "{}").await;
    let waiter = {
        let server = Arc::clone(&server);
        tokio::spawn(async move { server.lock("/items/doc", r#"{"wait_ms":60000}"#).await })
    };
    server.until_waiters("/items/doc", 1).await;
    let (name, value) = holder.header();
    assert_eq!(
        server
            .delete("/items/doc", &[(name, &value)])
            .await
            .status(),
        204
    );
    expect_problem(waiter.await.unwrap(), 404, "not-found").await;
    Arc::into_inner(server)
        .expect("tasks done")
        .shutdown()
        .await;
}

const LOCKERS: usize = 16;
const ROUNDS: usize = 5;

/// How the increments guard themselves.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Guard {
    /// No lock: plain read-then-write.
    Unlocked,
    /// A lock that outlasts every cycle.
    Locked,
    /// A 50 ms lock, while a quarter of the tasks pause 0, 40, 80 or 120 ms between read and
    /// write: many locks expire mid-cycle and go to the next in line.
    Expiring,
}

/// What the increments saw: acknowledged writes, refused ones, and the final counter.
struct Tally {
    acknowledged: usize,
    refused: usize,
    final_count: u64,
}

/// Each of `LOCKERS` tasks, `ROUNDS` times: (lock, waiting) → read → pause → write `n + 1`
/// and its own id as `holder`, WITHOUT If-Match → (re-read: still mine?) → (release). All
/// tasks start each round together. With lasting locks, the `holders` gauge also checks that
/// two tasks never hold the lock at once.
async fn increments(backend: Backend, guard: Guard) -> Tally {
    let server = Arc::new(TestServer::start_default(backend).await);
    server
        .seed("/items/counter", r#"{"n":0,"holder":null}"#)
        .await;
    let start = Arc::new(Barrier::new(LOCKERS));
    let holders = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for id in 0..LOCKERS {
        let (server, start, holders) = (
            Arc::clone(&server),
            Arc::clone(&start),
            Arc::clone(&holders),
        );
        let (ttl_ms, pause_ms) = match guard {
            Guard::Expiring => (50, 40 * (id as u64 % 4)),
            _ => (60_000, 2),
        };
        tasks.push(tokio::spawn(async move {
            let (mut acknowledged, mut refused) = (0, 0);
            for _ in 0..ROUNDS {
                start.wait().await;
                let held = match guard {
                    Guard::Unlocked => None,
                    _ => {
                        let body = json!({"owner": format!("t{id}"), "wait_ms": 120_000, "ttl_ms": ttl_ms});
                        Some(server.acquire("/items/counter", &body.to_string()).await)
                    }
                };
                if guard == Guard::Locked {
                    assert_eq!(holders.fetch_add(1, Ordering::SeqCst), 0, "two holders at once");
                }
                let token = held.as_ref().map(Held::header);
                let headers: Vec<(&str, &str)> =
                    token.iter().map(|(n, v)| (*n, v.as_str())).collect();
                let (doc, _) = server.read("/items/counter").await;
                tokio::time::sleep(Duration::from_millis(pause_ms)).await;
                let next = json!({"n": doc["n"].as_u64().unwrap() + 1, "holder": id}).to_string();
                let response = server.put("/items/counter", &headers, &next).await;
                match response.status() {
                    StatusCode::OK => acknowledged += 1,
                    _ if guard == Guard::Expiring => {
                        expect_problem(response, 412, "lock-token-invalid").await;
                        refused += 1;
                    }
                    other => panic!("unexpected status {other}"),
                }
                if guard == Guard::Locked {
                    let (after, _) = server.read("/items/counter").await;
                    assert_eq!(after["holder"], json!(id), "another holder wrote under my lock");
                    holders.fetch_sub(1, Ordering::SeqCst);
                }
                if let Some(held) = held {
                    // An expired lock is no longer the task's to release (412); that is fine.
                    let (name, value) = held.header();
                    server.delete("/items/counter/lock", &[(name, &value)]).await;
                }
            }
            (acknowledged, refused)
        }));
    }
    let (mut acknowledged, mut refused) = (0, 0);
    for task in tasks {
        let (a, r) = task.await.expect("task completes");
        acknowledged += a;
        refused += r;
    }
    let (doc, _): (Value, _) = server.read("/items/counter").await;
    Arc::into_inner(server)
        .expect("tasks done")
        .shutdown()
        .await;
    Tally {
        acknowledged,
        refused,
        final_count: doc["n"].as_u64().unwrap(),
    }
}

async fn locked_increments_lose_nothing_and_never_overlap(backend: Backend) {
    let tally = increments(backend, Guard::Locked).await;
    assert_eq!(tally.acknowledged, LOCKERS * ROUNDS);
    assert_eq!(tally.final_count, tally.acknowledged as u64);
}

/// The fencing rule under contention: a holder whose lock expired while it paused is refused,
/// so however the locks change hands, every acknowledged increment is in the counter.
async fn holders_whose_lock_expired_cannot_write(backend: Backend) {
    let tally = increments(backend, Guard::Expiring).await;
    assert_eq!(
        tally.final_count, tally.acknowledged as u64,
        "an acknowledged increment was lost"
    );
    assert_eq!(tally.acknowledged + tally.refused, LOCKERS * ROUNDS);
    assert!(
        tally.refused > 0,
        "no lock expired mid-cycle; the test proves nothing"
    );
    assert!(tally.acknowledged > 0, "no increment went through");
}

/// The control: the same increments without locks. If this ever stopped losing updates, the
/// tests above would prove nothing.
async fn unlocked_unconditional_increments_lose_updates(backend: Backend) {
    let tally = increments(backend, Guard::Unlocked).await;
    assert_eq!(tally.acknowledged, LOCKERS * ROUNDS);
    assert!(
        tally.final_count < tally.acknowledged as u64,
        "{} acknowledged, counter at {}",
        tally.acknowledged,
        tally.final_count
    );
}
