//! A throwaway PostgreSQL cluster for tests, from Debian's `postgresql` package: `initdb` into
//! a fresh directory, `postgres` on a free loopback port with trust authentication, one
//! database per test. PostgreSQL refuses to run as root, so as root both run as the `postgres`
//! user (`runuser`), in a directory owned by it.
//!
//! The server runs under a small shell that waits on a pipe from this process: when the
//! [`Cluster`] is dropped, or this process ends however it ends, the pipe closes and the shell
//! stops the server (fast shutdown) and removes the directory. So a static cluster shared by
//! the tests of one process is cleaned up too. A server that fails to start (its port taken in
//! the meantime) is retried on another port, twice.
//!
//! Only std: the conformance crate's replica test includes this file by path.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long the server may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs the server until this process closes its end of the pipe (then stops it, fast
/// shutdown), or until the server exits by itself (then prints its log); either way removes the
/// cluster. A background job's standard input is `/dev/null` unless redirected, hence fd 3.
const SUPERVISOR: &str = r#"
"$2/postgres" -D "$0" -p "$1" -c listen_addresses=127.0.0.1 -c unix_socket_directories="$0" \
    -c max_connections=300 $3 >"$0.log" 2>&1 &
pid=$!
exec 3<&0
(read _ignored <&3 || true; kill -INT "$pid" 2>/dev/null) &
reader=$!
wait "$pid" || cat "$0.log" >&2
kill "$reader" 2>/dev/null
rm -rf "$0" "$0.log"
"#;

/// Attempts to start a cluster (a port taken between the probe and the server's bind fails one).
const ATTEMPTS: usize = 3;

/// A running throwaway cluster; stopped and removed on drop.
pub struct Cluster {
    port: u16,
    dir: PathBuf,
    bindir: PathBuf,
    /// Closing it stops the server.
    stdin: Option<ChildStdin>,
    supervisor: Child,
}

/// Settings that trade durability for speed; right for throwaway test data only.
pub const FAST_UNSAFE: &str = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off";

/// The directory of `initdb` and `postgres`: `$IFMATCH_PG_BINDIR`, else `pg_config --bindir`,
/// else the newest `/usr/lib/postgresql/*/bin`.
pub fn bindir() -> Option<PathBuf> {
    let has_server = |dir: &Path| dir.join("initdb").is_file() && dir.join("postgres").is_file();
    if let Some(dir) = std::env::var_os("IFMATCH_PG_BINDIR") {
        return Some(PathBuf::from(dir)).filter(|dir| has_server(dir));
    }
    let from_pg_config = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    if let Some(dir) = from_pg_config.filter(|dir| has_server(dir)) {
        return Some(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, dir)| has_server(dir))
        .collect();
    versions.sort();
    versions.pop().map(|(_, dir)| dir)
}

/// Whether this process runs as root (and so must run PostgreSQL as `postgres`).
fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free loopback port")
}

impl Cluster {
    /// Starts a cluster with `settings` (e.g. [`FAST_UNSAFE`], or "" for the defaults), or
    /// returns `None` after printing why `test` is skipped when PostgreSQL is not installed.
    /// With `CI=true` a missing PostgreSQL is a failure: CI installs it
    /// (`scripts/install-tools.sh`).
    pub fn start_or_skip(test: &str, settings: &str) -> Option<Self> {
        let Some(bindir) = bindir() else {
            let why = "PostgreSQL's initdb and postgres were not found (pg_config --bindir, \
                       /usr/lib/postgresql/*/bin or $IFMATCH_PG_BINDIR); install Debian's \
                       `postgresql` package (scripts/install-tools.sh does)";
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{test}: {why}; CI must not skip it"
            );
            eprintln!("SKIPPED {test}: {why}");
            return None;
        };
        Some(Self::start(bindir, settings))
    }

    fn start(bindir: PathBuf, settings: &str) -> Self {
        let mut failures = Vec::new();
        for _ in 0..ATTEMPTS {
            match Self::try_start(&bindir, settings) {
                Ok(cluster) => return cluster,
                Err(failure) => failures.push(failure),
            }
        }
        panic!(
            "PostgreSQL did not start in {ATTEMPTS} attempts:\n{}",
            failures.join("\n---\n")
        );
    }

    fn try_start(bindir: &Path, settings: &str) -> Result<Self, String> {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "ifmatch-pg-{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the cluster directory");
        let as_postgres = is_root();
        if as_postgres {
            run(Command::new("chown").arg("postgres:postgres").arg(&dir));
        }
        let mut initdb = command(as_postgres, &bindir.join("initdb"));
        initdb
            .arg("-D")
            .arg(&dir)
            .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"])
            .args(["--no-instructions", "--locale", "C"]);
        if let Err(failure) = try_run(&mut initdb) {
            let _ = std::fs::remove_dir_all(&dir);
            panic!("{failure}");
        }
        let port = free_port();
        let mut child = command(as_postgres, Path::new("sh"))
            .args(["-c", SUPERVISOR])
            .arg(&dir)
            .arg(port.to_string())
            .arg(bindir)
            .arg(settings)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the PostgreSQL supervisor shell");
        let stdin = child.stdin.take();
        let mut cluster = Self {
            port,
            dir,
            bindir: bindir.to_owned(),
            stdin,
            supervisor: child,
        };
        cluster.wait_until_ready()?;
        Ok(cluster)
    }

    fn wait_until_ready(&mut self) -> Result<(), String> {
        let started = Instant::now();
        loop {
            let ready = Command::new(self.bindir.join("pg_isready"))
                .args(["-q", "-h", "127.0.0.1", "-p", &self.port.to_string()])
                .status()
                .is_ok_and(|status| status.success());
            if ready {
                return Ok(());
            }
            if let Ok(Some(status)) = self.supervisor.try_wait() {
                let mut log = String::new();
                if let Some(mut stderr) = self.supervisor.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut stderr, &mut log);
                }
                return Err(format!(
                    "PostgreSQL on port {} exited ({status}) before accepting connections:\n{log}",
                    self.port
                ));
            }
            if started.elapsed() >= START_TIMEOUT {
                return Err(format!(
                    "PostgreSQL did not accept connections within {START_TIMEOUT:?}:\n{}",
                    std::fs::read_to_string(self.dir.with_extension("log")).unwrap_or_default()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A new empty database; returns its URL.
    pub fn create_database(&self) -> String {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let name = format!("t{}", COUNT.fetch_add(1, Ordering::SeqCst));
        let mut createdb = Command::new(self.bindir.join("createdb"));
        createdb
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
            ])
            .arg(&name);
        run(&mut createdb);
        self.url(&name)
    }

    /// The URL of database `name`.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.supervisor.wait();
    }
}

fn command(as_postgres: bool, program: &Path) -> Command {
    if as_postgres {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn run(command: &mut Command) {
    if let Err(failure) = try_run(command) {
        panic!("{failure}");
    }
}

fn try_run(command: &mut Command) -> Result<(), String> {
    let out = command.output().expect("run a PostgreSQL command");
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "{command:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}
