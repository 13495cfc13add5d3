//! Helpers shared by the reliability suite (`tests/reliability_*.rs`).
//!
//! The suite's main device is the *child process*: a test re-runs itself (the same test binary,
//! `--exact <test>`) with [`ROLE`] set, and the child plays a part the parent cannot play in its
//! own process — being SIGKILLed, measuring its own peak memory cleanly, or running inside a
//! private mount namespace where it may mount a tiny or read-only tmpfs. A child reports to the
//! parent through `RESULT key=value ...` lines on stdout.
//!
//! Sizes are small by default (CI, debug build, 2 cores) and grow with `RELIABILITY_SOAK=1`;
//! each test prints one `RELIABILITY <scenario> key=value ...` line that
//! `scripts/reliability-report` collects into docs/RELIABILITY.md.
#![allow(dead_code)] // each test binary uses a different subset

pub mod process;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use app_conversions::{Event, EventName};

/// Environment variable that turns a test into a child process playing this role.
pub const ROLE: &str = "RELIABILITY_CHILD_ROLE";

/// The role this process plays, when it is a child of a reliability test.
pub fn child_role() -> Option<String> {
    std::env::var(ROLE).ok().filter(|r| !r.is_empty())
}

/// True when `RELIABILITY_SOAK=1`: full sizes (a million events, hundreds of kills).
pub fn soak() -> bool {
    std::env::var("RELIABILITY_SOAK").is_ok_and(|v| v == "1")
}

/// A size: the environment variable `name` if set, else the soak or the CI default.
pub fn size(name: &str, ci: u64, soak_size: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if soak() { soak_size } else { ci })
}

/// A required environment variable of a child.
pub fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("child needs {name}"))
}

fn child_args(test: &str) -> [&str; 4] {
    ["--exact", test, "--nocapture", "--test-threads=1"]
}

/// The command that re-runs `test` of this test binary as a child playing `role`.
pub fn child(test: &str, role: &str) -> Command {
    let exe = std::env::current_exe().expect("path of the test binary");
    let mut command = Command::new(exe);
    command.args(child_args(test)).env(ROLE, role);
    command
}

/// Like [`child`], inside a private mount namespace (`unshare --mount`), so the child may
/// mount file systems that nobody else sees and that vanish when it exits. Needs root with
/// CAP_SYS_ADMIN, as the CI machine has.
pub fn child_in_mount_namespace(test: &str, role: &str) -> Command {
    let exe = std::env::current_exe().expect("path of the test binary");
    let mut command = Command::new("unshare");
    command
        .args(["--mount", "--propagation", "private", "--"])
        .arg(exe)
        .args(child_args(test))
        .env(ROLE, role);
    command
}

/// Runs a child to its end; fails with its output unless it succeeded. Returns its stdout.
pub fn run_child(mut command: Command, what: &str) -> String {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot start the {what} child: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the {what} child failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status
    );
    stdout
}

/// The `RESULT key=value ...` pairs a child printed (later keys win). The test harness may
/// have written its `test name ... ` header in front of the first line.
pub fn results(stdout: &str) -> HashMap<String, String> {
    stdout
        .lines()
        .filter_map(|l| l.split_once("RESULT ").map(|(_, pairs)| pairs))
        .flat_map(|l| l.split_whitespace())
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A numeric `RESULT` value.
pub fn result_u64(results: &HashMap<String, String>, key: &str) -> u64 {
    results
        .get(key)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("child reported no numeric {key}: {results:?}"))
}

/// Prints one `RESULT` line (child side), on a line of its own.
pub fn result_line(pairs: &[(&str, String)]) {
    println!("\nRESULT {}", join_pairs(pairs));
}

/// Prints the scenario's metrics for `scripts/reliability-report` (parent side).
pub fn metric(scenario: &str, pairs: &[(&str, String)]) {
    println!("RELIABILITY {scenario} {}", join_pairs(pairs));
}

fn join_pairs(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A small seeded generator (xorshift64*): reproducible fault timings without a dependency.
/// The seed comes from `RELIABILITY_SEED` or the clock, and is printed so a failure replays.
pub struct Rng(u64);

impl Rng {
    /// Seeded from `RELIABILITY_SEED`, else from the clock; prints the seed.
    pub fn from_env(what: &str) -> Rng {
        let seed = std::env::var("RELIABILITY_SEED")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| {
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(1)
            });
        eprintln!("{what}: RELIABILITY_SEED={seed}");
        Rng::new(seed)
    }

    /// A generator with this seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }
}

/// Polls `done` every `step` until it holds or `timeout` passes; returns whether it held.
pub fn poll(timeout: Duration, step: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(step);
    }
}

/// `http://127.0.0.1:PORT` where nothing listens: a port bound and closed again, so every
/// connection is refused at once.
pub fn closed_endpoint() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let port = listener.local_addr().expect("bound address").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// A `lead` event with an explicit id.
pub fn lead(id: &str) -> Event {
    Event {
        name: EventName::Lead,
        custom_event_name: None,
        event_id: Some(id.into()),
        event_time: None,
        event_source_url: None,
        user_data: None,
        custom_data: None,
    }
}

/// This process's peak resident set size (VmHWM), KiB.
pub fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Size of the database file plus its WAL and shared-memory files, bytes.
pub fn database_bytes(db: &Path) -> (u64, u64) {
    let len = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let side = |suffix: &str| len(Path::new(&format!("{}{suffix}", db.display())));
    (len(db), side("-wal") + side("-shm"))
}

/// What a database file holds, read by an independent connection.
#[derive(Debug)]
pub struct DatabaseState {
    /// `PRAGMA integrity_check` (`"ok"` when healthy).
    pub integrity: String,
    /// event_ids in `events`.
    pub queued: HashSet<String>,
    /// Rows in `dead_letters`.
    pub dead_letters: u64,
}

/// Opens `db` read-only (no checkpoint, nothing changed) and reads its state. A file whose
/// schema was never created (killed before the first migration committed), or that does not
/// exist yet, reads as empty.
pub fn inspect(db: &Path) -> DatabaseState {
    use rusqlite::{Connection, OpenFlags};
    if !db.exists() {
        return DatabaseState {
            integrity: "ok".into(),
            queued: HashSet::new(),
            dead_letters: 0,
        };
    }
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap_or_else(|e| panic!("open {} read-only: {e}", db.display()));
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap_or_else(|e| format!("integrity_check failed: {e}"));
    let tables: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('events', 'dead_letters')",
            [],
            |r| r.get(0),
        )
        .expect("read the schema");
    if tables == 0 {
        return DatabaseState {
            integrity,
            queued: HashSet::new(),
            dead_letters: 0,
        };
    }
    let mut statement = conn
        .prepare("SELECT event_id FROM events")
        .expect("events table");
    let queued = statement
        .query_map([], |r| r.get::<_, String>(0))
        .expect("read events")
        .collect::<Result<HashSet<_>, _>>()
        .expect("event ids");
    let dead_letters: i64 = conn
        .query_row("SELECT COUNT(*) FROM dead_letters", [], |r| r.get(0))
        .expect("dead_letters table");
    DatabaseState {
        integrity,
        queued,
        dead_letters: dead_letters.max(0) as u64,
    }
}

/// A loopback HTTP server that answers every request with what `answer` returns for its
/// `Authorization` header: `(status, body)`. Returns its base URL and the request count.
/// The thread lives as long as the test process.
pub fn loopback_server(
    answer: impl Fn(&str) -> (u16, String) + Send + 'static,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let port = listener.local_addr().expect("bound address").port();
    let requests = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = requests.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let mut reader = BufReader::new(stream);
            loop {
                let (mut length, mut authorization) = (0usize, String::new());
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                loop {
                    line.clear();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                        break;
                    }
                    let lower = line.to_ascii_lowercase();
                    if let Some(v) = lower.strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    if lower.starts_with("authorization:") {
                        authorization = line["authorization:".len()..].trim().to_string();
                    }
                }
                let mut body = vec![0u8; length];
                if reader.read_exact(&mut body).is_err() {
                    break;
                }
                counted.fetch_add(1, Ordering::SeqCst);
                let (status, text) = answer(&authorization);
                let head = format!(
                    "HTTP/1.1 {status} Answer\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                    text.len()
                );
                let stream = reader.get_mut();
                if stream.write_all(head.as_bytes()).is_err()
                    || stream.write_all(text.as_bytes()).is_err()
                {
                    break;
                }
            }
        }
    });
    (format!("http://127.0.0.1:{port}"), requests)
}
