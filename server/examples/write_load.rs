//! Conditional writes per second through one reference server, and the server's CPU cost per
//! write (issue #14 item 6; the table in `docs/performance.md`, "Reference server throughput").
//!
//! Starts the release `ifmatch-server` (or the command after `--`, e.g. the server under
//! `valgrind`) on 127.0.0.1, creates the documents, then sends `--writes` conditional `PUT`s
//! (`If-Match` with the ETag the previous answer gave), one at a time from one client, so no
//! write conflicts and the figure is the server's cost per write, not contention:
//!
//! - `--mode hot`: every write replaces the same document;
//! - `--mode distinct`: writes go round-robin over `--docs` documents.
//!
//! It prints one JSON object: writes/s, and the server's CPU time (`utime + stime` from
//! `/proc/PID/stat`) over the measured phase, as a share of wall time and per write.
//!
//! ```sh
//! cargo build --release -p ifmatch-server --bins --examples
//! target/release/examples/write_load --storage memory --mode hot --writes 20000
//! target/release/examples/write_load --storage sqlite --mode distinct --docs 1000
//! target/release/examples/write_load --callgrind --writes 2000 -- \
//!     valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out target/release/ifmatch-server
//! ```
//!
//! A profiler can wrap the server the same way (`-- perf record -e cpu-clock -g -o perf.data
//! target/release/ifmatch-server`): the server is stopped with SIGINT, so the wrapper writes its
//! data; the CPU share then reads the wrapper's process, not the server's.
//!
//! `--callgrind`: the server runs under callgrind; its counters are zeroed (`callgrind_control
//! --zero`) after setup and dumped (`--dump`) after the measured writes, so the dump holds the
//! measured writes only.

use std::process::Stdio;
use std::time::Instant;

use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

/// Most writes one run may send (the run stays bounded whatever the flags say).
const MAX_WRITES: u64 = 1_000_000;
/// Most documents of `--mode distinct`.
const MAX_DOCS: u64 = 100_000;

/// What to run, from the command line.
struct Options {
    storage: String,
    distinct: bool,
    writes: u64,
    docs: u64,
    callgrind: bool,
    command: Vec<String>,
}

fn usage() -> String {
    "usage: write_load [--storage memory|sqlite] [--mode hot|distinct] [--writes N] [--docs N] \
     [--callgrind] [-- SERVER COMMAND...]"
        .to_owned()
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        storage: "memory".to_owned(),
        distinct: false,
        writes: 10_000,
        docs: 1_000,
        callgrind: false,
        command: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .ok_or(format!("{name} needs a value; {}", usage()))
        };
        let number = |text: String, name: &str, max: u64| match text.parse::<u64>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(format!(
                "{name} must be a number from 1 to {max}, not {text:?}"
            )),
        };
        match arg.as_str() {
            "--storage" => options.storage = value("--storage")?,
            "--mode" => {
                options.distinct = match value("--mode")?.as_str() {
                    "hot" => false,
                    "distinct" => true,
                    other => return Err(format!("--mode is hot or distinct, not {other:?}")),
                }
            }
            "--writes" => options.writes = number(value("--writes")?, "--writes", MAX_WRITES)?,
            "--docs" => options.docs = number(value("--docs")?, "--docs", MAX_DOCS)?,
            "--callgrind" => options.callgrind = true,
            "--" => options.command = args.by_ref().collect(),
            other => return Err(format!("unknown argument {other:?}; {}", usage())),
        }
    }
    if !options.distinct {
        options.docs = 1;
    }
    Ok(options)
}

/// The server's command: the one after `--`, else `ifmatch-server` next to this example.
fn server_command(options: &Options) -> Result<Command, String> {
    let mut words = options.command.clone();
    if words.is_empty() {
        let exe = std::env::current_exe().map_err(|err| err.to_string())?;
        let binary = exe
            .parent()
            .and_then(|dir| dir.parent())
            .map(|dir| dir.join("ifmatch-server"))
            .ok_or("cannot locate the ifmatch-server binary next to this example")?;
        words.push(binary.display().to_string());
    }
    let storage = match options.storage.as_str() {
        "memory" => "memory".to_owned(),
        "sqlite" => {
            let dir = std::env::temp_dir().join(format!("write_load-{}", std::process::id()));
            std::fs::create_dir_all(&dir).map_err(|err| format!("{}: {err}", dir.display()))?;
            format!("sqlite:{}", dir.join("items.db").display())
        }
        other => return Err(format!("--storage is memory or sqlite, not {other:?}")),
    };
    let mut command = Command::new(&words[0]);
    command
        .args(&words[1..])
        .args(["--addr", "127.0.0.1:0", "--storage", &storage]);
    Ok(command)
}

/// `utime + stime` of `pid` in clock ticks (`/proc/PID/stat` fields 14 and 15).
fn cpu_ticks(pid: u32) -> Result<u64, String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_err(|err| format!("/proc/{pid}/stat: {err}"))?;
    // The command name (field 2) may hold spaces; the fields after its `)` are plain.
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok());
    match (field(14), field(15)) {
        (Some(user), Some(system)) => Ok(user + system),
        _ => Err(format!("/proc/{pid}/stat has no utime and stime: {stat:?}")),
    }
}

/// Clock ticks per second (`getconf CLK_TCK`), for `/proc/PID/stat`.
fn ticks_per_second() -> Result<f64, String> {
    let out = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .map_err(|err| format!("getconf CLK_TCK: {err}"))?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|_| "getconf CLK_TCK printed no number".to_owned())
}

fn callgrind_control(flag: &str, pid: u32) -> Result<(), String> {
    let status = std::process::Command::new("callgrind_control")
        .args([flag, &pid.to_string()])
        .stdout(Stdio::null())
        .status()
        .map_err(|err| format!("callgrind_control {flag}: {err}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("callgrind_control {flag} {pid} failed: {status}"))
    }
}

/// Stops the server with SIGINT, as Ctrl-C would, so a wrapper such as `perf record` can
/// write its data before exiting; kills it if it is still running after 20 seconds.
async fn stop(child: &mut tokio::process::Child, pid: u32) -> Result<(), String> {
    let _ = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status();
    if tokio::time::timeout(std::time::Duration::from_secs(20), child.wait())
        .await
        .is_err()
    {
        child.kill().await.map_err(|err| err.to_string())?;
    }
    Ok(())
}

/// One conditional write; the new ETag.
async fn put(
    client: &reqwest::Client,
    url: &str,
    precondition: (&str, &str),
    n: u64,
) -> Result<String, String> {
    let answer = client
        .put(url)
        .header(precondition.0, precondition.1)
        .json(&json!({"n": n, "note": "write_load"}))
        .send()
        .await
        .map_err(|err| format!("PUT {url}: {err}"))?;
    let status = answer.status();
    if !status.is_success() {
        return Err(format!(
            "PUT {url} answered {status}; no write may conflict here"
        ));
    }
    answer
        .headers()
        .get("etag")
        .and_then(|tag| tag.to_str().ok())
        .map(str::to_owned)
        .ok_or(format!("PUT {url} answered without an ETag"))
}

async fn run(options: Options) -> Result<serde_json::Value, String> {
    let mut child = server_command(&options)?
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|err| format!("starting the server: {err}"))?;
    let pid = child.id().ok_or("the server exited at once")?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let base = loop {
        let line = lines
            .next_line()
            .await
            .map_err(|err| err.to_string())?
            .ok_or("the server exited before listening")?;
        if let Some(at) = line.find("listening on http://127.0.0.1:") {
            break line[at + "listening on ".len()..].trim().to_owned();
        }
    };
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

    let client = reqwest::Client::new();
    let urls: Vec<String> = (0..options.docs)
        .map(|n| format!("{base}/items/load-{n}"))
        .collect();
    let mut tags = Vec::with_capacity(urls.len());
    for url in &urls {
        tags.push(put(&client, url, ("if-none-match", "*"), 0).await?);
    }

    if options.callgrind {
        callgrind_control("--zero", pid)?;
    }
    let ticks = ticks_per_second()?;
    let cpu_before = cpu_ticks(pid)?;
    let started = Instant::now();
    for n in 0..options.writes {
        let slot = (n % options.docs) as usize;
        let tag = put(&client, &urls[slot], ("if-match", &tags[slot]), n + 1).await?;
        tags[slot] = tag;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let server_cpu = (cpu_ticks(pid)? - cpu_before) as f64 / ticks;
    if options.callgrind {
        callgrind_control("--dump=measured", pid)?;
    }
    stop(&mut child, pid).await?;
    if options.storage == "sqlite" {
        let dir = std::env::temp_dir().join(format!("write_load-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(dir);
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    Ok(json!({
        "storage": options.storage,
        "mode": if options.distinct { "distinct" } else { "hot" },
        "documents": options.docs,
        "writes": options.writes,
        "elapsed_seconds": elapsed,
        "writes_per_second": options.writes as f64 / elapsed,
        "server_cpu_seconds": server_cpu,
        "server_cpu_share": server_cpu / elapsed,
        "server_cpu_us_per_write": server_cpu * 1e6 / options.writes as f64,
        "load_average_1m": load.split_whitespace().next().and_then(|l| l.parse::<f64>().ok()),
    }))
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let outcome = match options() {
        Ok(options) => run(options).await,
        Err(err) => Err(err),
    };
    match outcome {
        Ok(report) => println!("{report}"),
        Err(err) => {
            eprintln!("write_load: {err}");
            std::process::exit(1);
        }
    }
}
