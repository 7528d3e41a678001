//! PostgreSQL for tests: a fresh database per test on one cluster per test
//! process. The cluster is `$DROPLY_TEST_POSTGRES` (a server URL; `.ci/run`
//! starts one) or, when that is unset, a private one this module makes with
//! Debian's `initdb` and `postgres` on a free loopback port, under a watchdog
//! that stops it and removes its files when the test process is gone. There
//! is no skipping: with neither, a test that asks for PostgreSQL fails and
//! says how to get one.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// A server URL (without a database) the tests may create databases on.
pub const SERVER_ENV: &str = "DROPLY_TEST_POSTGRES";

/// The directory of `initdb` and `postgres`, when not found by themselves.
pub const BIN_ENV: &str = "DROPLY_POSTGRES_BIN";

static SERVER: OnceLock<String> = OnceLock::new();
static NEXT_DATABASE: AtomicU32 = AtomicU32::new(0);

/// The URL of a new, empty database of its own.
pub fn fresh_database() -> String {
    let server = SERVER.get_or_init(|| match std::env::var(SERVER_ENV) {
        Ok(url) if !url.trim().is_empty() => url.trim().trim_end_matches('/').to_owned(),
        _ => start_private_cluster(),
    });
    let name = format!(
        "droply_test_{}_{}",
        std::process::id(),
        NEXT_DATABASE.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin = connect_when_up(&format!("{server}/postgres"));
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create a test database");
    format!("{server}/{name}")
}

/// Connects, retrying for a while as the server starts.
fn connect_when_up(url: &str) -> postgres::Client {
    let started = Instant::now();
    loop {
        match postgres::Client::connect(url, postgres::NoTls) {
            Ok(client) => return client,
            Err(err) if started.elapsed() < Duration::from_secs(30) => {
                let _ = err;
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(err) => panic!("PostgreSQL at {url} did not answer: {err}"),
        }
    }
}

/// Where `initdb` and `postgres` are.
fn binaries() -> PathBuf {
    if let Ok(dir) = std::env::var(BIN_ENV) {
        return PathBuf::from(dir);
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dirs| {
            dirs.filter_map(|d| d.ok())
                .map(|d| d.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    versions.retain(|bin| bin.join("initdb").exists());
    versions.sort();
    versions.pop().unwrap_or_else(|| {
        panic!(
            "PostgreSQL is needed: install Debian's `postgresql` (what .ci/run does), \
             or set {SERVER_ENV} to a server URL, or {BIN_ENV} to the directory of initdb"
        )
    })
}

/// Whether this process runs as root, whom PostgreSQL refuses to run as.
fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
        .unwrap_or(false)
}

/// `program args…`, as the `postgres` user when this process is root.
fn command_as_owner(program: &Path) -> Command {
    if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

/// Makes and starts a cluster of this test process's own; returns its URL.
fn start_private_cluster() -> String {
    let bin = binaries();
    let dir = tempfile::Builder::new()
        .prefix("droply-pg-")
        .tempdir()
        .expect("a directory for the cluster")
        .keep();
    if is_root() {
        let status = Command::new("chown")
            .args(["-R", "postgres"])
            .arg(&dir)
            .status()
            .expect("chown");
        assert!(status.success(), "chown the cluster directory");
    }
    let data = dir.join("data");
    let out = command_as_owner(&bin.join("initdb"))
        .arg("-D")
        .arg(&data)
        .args([
            "--auth=trust",
            "-U",
            "droply",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ])
        .output()
        .expect("run initdb");
    assert!(
        out.status.success(),
        "initdb failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    // The watchdog: runs the server, and stops it and removes its files once
    // the test process (this one) is gone.
    let script = format!(
        r#""{postgres}" -D "{data}" -p {port} -k "{dir}" -c listen_addresses=127.0.0.1 \
             -c fsync=off -c full_page_writes=off -c max_connections=300 > "{dir}/log" 2>&1 &
           server=$!
           while [ -d /proc/{parent} ] && kill -0 $server 2>/dev/null; do sleep 1; done
           kill -INT $server 2>/dev/null; wait $server; rm -rf "{dir}""#,
        postgres = bin.join("postgres").display(),
        data = data.display(),
        dir = dir.display(),
        parent = std::process::id(),
    );
    // Never waited for: the watchdog outlives this process on purpose.
    #[allow(clippy::zombie_processes)]
    command_as_owner(Path::new("/bin/sh"))
        .args(["-c", &script])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start PostgreSQL");
    let url = format!("postgres://droply@127.0.0.1:{port}");
    drop(connect_when_up(&format!("{url}/postgres")));
    url
}
