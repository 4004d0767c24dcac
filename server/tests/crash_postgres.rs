//! Crash durability with PostgreSQL: the writers of `crash.rs` run against
//! `ifmatch-server --storage postgres://…` on a throwaway cluster with PostgreSQL's default
//! durability settings (`fsync=on`, `synchronous_commit=on`); the server is killed with SIGKILL
//! mid-run and restarted on the same database. Every acknowledged write must be there, versions
//! not lower, no ETag handed out again. Skipped (with a message) when PostgreSQL is not
//! installed, a failure under `CI=true`.
#![cfg(unix)]

#[path = "../src/storage/postgres/cluster.rs"]
#[allow(dead_code)]
mod cluster;
#[path = "support/crash_run.rs"]
mod crash_run;

use crash_run::{sigkill_and_restart, WRITERS};

#[tokio::test]
async fn sigkill_of_the_server_on_postgres_loses_no_acknowledged_write() {
    let test = "sigkill_of_the_server_on_postgres_loses_no_acknowledged_write";
    // "": PostgreSQL's defaults, durable commits (not the tests' usual FAST_UNSAFE).
    let Some(cluster) = cluster::Cluster::start_or_skip(test, "") else {
        return;
    };
    let url = cluster.create_database();
    let before = sigkill_and_restart(&url).await;
    eprintln!(
        "crash (postgres): {before} writes acknowledged by {WRITERS} writers before SIGKILL, all present after restart"
    );
}

/// A cluster this test starts with `pg_ctl` so it can crash and restart it (the shared
/// [`cluster::Cluster`] removes its directory when its server exits). Stopped and removed on drop.
struct Crashable {
    dir: std::path::PathBuf,
    port: u16,
    bindir: std::path::PathBuf,
}

/// `program` run as the `postgres` user when this process is root (PostgreSQL refuses root).
fn as_postgres(program: &std::path::Path) -> std::process::Command {
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0");
    if root {
        let mut command = std::process::Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        std::process::Command::new(program)
    }
}

fn succeeds(command: &mut std::process::Command) -> bool {
    command
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl Crashable {
    fn start(bindir: std::path::PathBuf) -> Self {
        let dir = std::env::temp_dir().join(format!("ifmatch-pg-crash-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let _ = std::process::Command::new("chown")
            .arg("postgres:postgres")
            .arg(&dir)
            .status();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        assert!(succeeds(
            as_postgres(&bindir.join("initdb"))
                .arg("-D")
                .arg(&dir)
                .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale", "C"])
        ));
        let cluster = Crashable { dir, port, bindir };
        cluster.pg_start();
        assert!(succeeds(
            std::process::Command::new(cluster.bindir.join("createdb")).args([
                "-h",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-U",
                "postgres",
                "t0"
            ])
        ));
        cluster
    }

    /// Starts the server and waits until it accepts connections; after a crash the old
    /// backends may hold the shared memory a moment, so it tries a few times.
    fn pg_start(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={}",
            self.port,
            self.dir.display()
        );
        for _ in 0..20 {
            let started = succeeds(
                as_postgres(&self.bindir.join("pg_ctl"))
                    .arg("-D")
                    .arg(&self.dir)
                    .args(["-o", &options, "-l"])
                    .arg(self.dir.join("log"))
                    .args(["-w", "-t", "60", "start"]),
            );
            if started {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(250));
        }
        panic!(
            "PostgreSQL did not start:\n{}",
            std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
        );
    }

    /// SIGKILL to the postmaster: no shutdown checkpoint, the next start replays the WAL.
    /// Kills the postmaster and every backend it started with SIGKILL, as a crash of the
    /// database's machine would, and waits until they are gone. (Killing the postmaster alone
    /// leaves its backends serving their open connections for a moment.)
    fn crash(&self) {
        let pid = std::fs::read_to_string(self.dir.join("postmaster.pid")).unwrap();
        let pid = pid.lines().next().unwrap().trim().to_owned();
        let mut doomed = children_of(&pid);
        doomed.push(pid);
        // A backend may exit on its own meanwhile, making `kill` report failure: the wait
        // below is the check.
        let _ = succeeds(std::process::Command::new("kill").arg("-9").args(&doomed));
        for _ in 0..500 {
            if !doomed.iter().any(|p| running(p)) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("PostgreSQL processes {doomed:?} outlived SIGKILL for 5 s");
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/t0", self.port)
    }
}

/// The pids whose parent is `pid` (from /proc).
fn children_of(pid: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.bytes().all(|b| b.is_ascii_digit()))
        .filter(|child| parent_of(child).as_deref() == Some(pid))
        .collect()
}

/// The parent pid of `pid` from /proc/PID/stat (the field after the parenthesised name).
fn parent_of(pid: &str) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(1).map(str::to_owned)
}

/// Whether `pid` still runs (a zombie, dead but not yet reaped, does not).
fn running(pid: &str) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    stat.rfind(')')
        .and_then(|end| stat[end + 1..].split_whitespace().next())
        .is_some_and(|state| state != "Z")
}

impl Drop for Crashable {
    fn drop(&mut self) {
        let _ = succeeds(
            as_postgres(&self.bindir.join("pg_ctl"))
                .arg("-D")
                .arg(&self.dir)
                .args(["-m", "immediate", "stop"]),
        );
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test]
async fn a_postgres_crash_loses_no_acknowledged_write_and_the_server_reconnects() {
    use reqwest::header::{ETAG, IF_MATCH};
    use serde_json::{json, Value};

    let Some(bindir) = cluster::bindir() else {
        eprintln!("SKIPPED: PostgreSQL is not installed");
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI must not skip it"
        );
        return;
    };
    let pg = tokio::task::spawn_blocking(move || Crashable::start(bindir))
        .await
        .unwrap();
    let (mut server, base) = crash_run::start(&pg.url()).await;
    // Bounded: a request that hangs while PostgreSQL is down fails the test.
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap();
    let url = format!("{base}/items/pgcrash");
    let created = http
        .put(&url)
        .json(&json!({"seq": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let mut etag = created.headers()[ETAG].to_str().unwrap().to_owned();
    let mut seen = std::collections::HashSet::from([etag.clone()]);
    let mut last_seq = 0;
    for seq in 1..=50 {
        let written = http
            .put(&url)
            .header(IF_MATCH, &etag)
            .json(&json!({ "seq": seq }))
            .send()
            .await
            .unwrap();
        assert_eq!(written.status(), 200);
        etag = written.headers()[ETAG].to_str().unwrap().to_owned();
        assert!(seen.insert(etag.clone()));
        last_seq = seq;
    }

    pg.crash();
    // While PostgreSQL is down the server answers 503 with Retry-After at once, reads and
    // writes alike.
    for _ in 0..3 {
        let read = http.get(&url).send().await.expect("an answer, not a hang");
        assert_eq!(read.status(), 503, "{}", read.status());
        assert_eq!(read.headers()["retry-after"], "1");
        let write = http
            .put(&url)
            .header(IF_MATCH, &etag)
            .json(&json!({ "seq": 999 }))
            .send()
            .await
            .expect("an answer, not a hang");
        assert_eq!(write.status(), 503, "{}", write.status());
        let problem: Value = write.json().await.unwrap();
        assert_eq!(problem["type"], "urn:ifmatch:problem:storage-unavailable");
        eprintln!("PostgreSQL down: GET and PUT answered 503");
    }

    let restart = pg;
    let pg = tokio::task::spawn_blocking(move || {
        restart.pg_start();
        restart
    })
    .await
    .unwrap();
    // The pool replaces its broken connections: the same server process answers again.
    let mut doc = None;
    for attempt in 1..=100 {
        let read = http.get(&url).send().await.unwrap();
        if read.status() == 200 {
            eprintln!("answered 200 again at read {attempt} after PostgreSQL restarted");
            let tag = read.headers()[ETAG].to_str().unwrap().to_owned();
            doc = Some((tag, read.json::<Value>().await.unwrap()));
            break;
        }
        assert!(read.status().is_server_error(), "{}", read.status());
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (tag, doc) = doc.expect("the server reconnects after PostgreSQL restarts");
    assert_eq!(
        doc,
        json!({ "seq": last_seq }),
        "every acknowledged write survived"
    );
    assert_eq!(tag, etag);
    let mut etag = tag;
    let mut unavailable = 0;
    for n in 1..=5 {
        // Each of the server's pools finds its dead connections on first use after the
        // restart: that request gets 503 with Retry-After (nothing written: the retry with the
        // same If-Match succeeds, which a write that had been applied could not).
        let written = loop {
            let written = http
                .put(&url)
                .header(IF_MATCH, &etag)
                .json(&json!({ "seq": last_seq + n }))
                .send()
                .await
                .unwrap();
            if written.status() != 503 || unavailable == 10 {
                break written;
            }
            unavailable += 1;
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        };
        assert_eq!(written.status(), 200);
        etag = written.headers()[ETAG].to_str().unwrap().to_owned();
        assert!(
            seen.insert(etag.clone()),
            "{etag} was handed out before the crash"
        );
    }
    server.start_kill().unwrap();
    let _ = server.wait().await;
    tokio::task::spawn_blocking(move || drop(pg)).await.unwrap();
}
