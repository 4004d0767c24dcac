//! Memory over many distinct keys: starts the release `ifmatch-server` binary, writes up to
//! 200,000 distinct documents through `POST /batch` (50 creates and 50 deletes per batch: the 100-operation batch limit; 4 writers), deletes
//! each document again once 20,000 newer ones exist, sends one stale write per batch (a
//! conflict record), and samples the server's RSS (`/proc/PID/status` `VmRSS`) and its store
//! gauges from `/metrics` every 500 ms. Stops after 200,000 documents or 30 s.
//!
//! ```sh
//! cargo build --release -p ifmatch-server --bins --examples
//! target/release/examples/bounds_rss [--keep] [-- SERVER FLAGS…]
//! ```
//!
//! `--keep` skips the deletes (every document stays), to show what the caps prevent.
//! The table it prints is the one in `docs/reliability.md` ("Bounds").

use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

const DOCUMENTS: u64 = 200_000;
const PER_BATCH: u64 = 50;
const WINDOW: u64 = 20_000;
const WRITERS: usize = 4;
const DEADLINE: Duration = Duration::from_secs(30);

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let keep = args.first().is_some_and(|a| a == "--keep");
    if keep {
        args.remove(0);
    }
    if args.first().is_some_and(|a| a == "--") {
        args.remove(0);
    }
    let exe = std::env::current_exe()?;
    let binary = exe
        .parent()
        .and_then(|dir| dir.parent())
        .map(|dir| dir.join("ifmatch-server"))
        .ok_or("cannot locate the ifmatch-server binary next to this example")?;
    let mut child = Command::new(&binary)
        .args(["--addr", "127.0.0.1:0"])
        .args(&args)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|err| format!("starting {}: {err}", binary.display()))?;
    let pid = child.id().ok_or("the server exited at once")?;
    let mut lines = BufReader::new(child.stdout.take().ok_or("no stdout")?).lines();
    let base = loop {
        let line = lines
            .next_line()
            .await?
            .ok_or("the server exited before listening")?;
        if let Some(at) = line.find("listening on ") {
            break line[at + "listening on ".len()..].trim().to_owned();
        }
    };
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

    let client = reqwest::Client::new();
    let next_batch = Arc::new(AtomicU64::new(0));
    let written = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut writers = Vec::new();
    for _ in 0..WRITERS {
        let (client, base) = (client.clone(), base.clone());
        let (next_batch, written, refused) = (
            Arc::clone(&next_batch),
            Arc::clone(&written),
            Arc::clone(&refused),
        );
        writers.push(tokio::spawn(async move {
            loop {
                let batch = next_batch.fetch_add(1, Ordering::Relaxed);
                if batch * PER_BATCH >= DOCUMENTS || started.elapsed() >= DEADLINE {
                    return;
                }
                let first = batch * PER_BATCH;
                let mut operations: Vec<Value> = (first..first + PER_BATCH)
                    .map(|n| json!({"op": "put", "path": format!("/items/d{n}"), "body": {"n": n, "pad": "x".repeat(150)}}))
                    .collect();
                if !keep && first >= WINDOW {
                    let old = first - WINDOW;
                    operations.extend((old..old + PER_BATCH).map(|n| json!({"op": "delete", "path": format!("/items/d{n}")})));
                }
                let answer = client
                    .post(format!("{base}/batch"))
                    .json(&json!({"operations": operations}))
                    .send()
                    .await;
                match answer {
                    Ok(response) if response.status() == 200 => {
                        written.fetch_add(PER_BATCH, Ordering::Relaxed);
                    }
                    _ => {
                        refused.fetch_add(1, Ordering::Relaxed);
                    }
                }
                // A stale write: refused with 412 and recorded in the conflict log.
                let _ = client
                    .put(format!("{base}/items/d{first}"))
                    .header("if-match", "\"stale-0\"")
                    .json(&json!({"stale": true}))
                    .send()
                    .await;
            }
        }));
    }

    println!("| t (s) | documents written | refused batches | RSS (MiB) | history versions | conflict records |");
    println!("|---:|---:|---:|---:|---:|---:|");
    let mut samples = Vec::new();
    loop {
        let done = writers.iter().all(|w| w.is_finished());
        let rss = rss_kib(pid).unwrap_or(0);
        let metrics = client
            .get(format!("{base}/metrics"))
            .send()
            .await?
            .text()
            .await?;
        let row = (
            started.elapsed().as_secs_f64(),
            written.load(Ordering::Relaxed),
            refused.load(Ordering::Relaxed),
            rss,
            gauge(&metrics, "ifmatch_history_versions"),
            gauge(&metrics, "ifmatch_conflict_log_records"),
        );
        println!(
            "| {:.1} | {} | {} | {:.1} | {} | {} |",
            row.0,
            row.1,
            row.2,
            row.3 as f64 / 1024.0,
            row.4,
            row.5
        );
        samples.push(row);
        if done {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let peak = samples.iter().map(|s| s.3).max().unwrap_or(0);
    let quarter = samples.get(samples.len() / 4).map_or(0, |s| s.3);
    println!(
        "\npeak RSS {:.1} MiB; at 25% of the run {:.1} MiB; final {:.1} MiB",
        peak as f64 / 1024.0,
        quarter as f64 / 1024.0,
        samples.last().map_or(0, |s| s.3) as f64 / 1024.0
    );
    child.kill().await?;
    Ok(())
}

/// `VmRSS` of `pid` in KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The value of an unlabelled gauge in OpenMetrics text.
fn gauge(metrics: &str, name: &str) -> String {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or("?")
        .to_owned()
}
