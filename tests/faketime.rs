//! A real SDK process whose wall clock is moved under it by libfaketime (the distribution's
//! package; its monotonic clock is left alone), against a sandbox in this process that keeps
//! true time: a 503 with `Retry-After: 2`, then the clock set back a day or ten years, in the
//! running process and between two runs. Delivery comes within `retry_max_delay_secs` (3 s)
//! of the jump, not the size of the jump. The process is `examples/clock_probe.rs`.
//!
//! Without libfaketime installed these tests have nothing to run and say so on stderr; with
//! `APP_CONVERSIONS_TESTS_REQUIRE_FAKETIME` set (CI installs the package and sets it), a
//! missing library fails them instead.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use app_conversions::{Clock, SystemClock};
use app_conversions_sandbox::{Fault, Sandbox};
use common::*;
use serde_json::Value;

/// Set when the tests must find libfaketime rather than pass without it.
const REQUIRE_FAKETIME: &str = "APP_CONVERSIONS_TESTS_REQUIRE_FAKETIME";

/// Where Debian-based systems put the multi-threaded libfaketime.
const LIBFAKETIME: &[&str] = &[
    "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
    "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1",
    "/usr/lib/faketime/libfaketimeMT.so.1",
];

fn libfaketime() -> Option<PathBuf> {
    let found = LIBFAKETIME.iter().map(PathBuf::from).find(|p| p.exists());
    if found.is_none() {
        assert!(
            std::env::var_os(REQUIRE_FAKETIME).is_none(),
            "{REQUIRE_FAKETIME} is set but libfaketime is not installed (apt-get install libfaketime)"
        );
        eprintln!("libfaketime is not installed: nothing to run (apt-get install libfaketime)");
    }
    found
}

fn probe_binary() -> PathBuf {
    let mut path = std::env::current_exe().unwrap();
    path.pop();
    if path.ends_with("deps") {
        path.pop();
    }
    path.join("examples")
        .join(format!("clock_probe{}", std::env::consts::EXE_SUFFIX))
}

/// The probe process, its wall clock offset by what `clock_file` says (re-read on every
/// reading, so the test can move it while the process runs).
struct Probe {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

impl Probe {
    fn start(lib: &Path, sandbox: &Sandbox, db: &Path, clock_file: &Path) -> Probe {
        let mut child = Command::new(probe_binary())
            .env("LD_PRELOAD", lib)
            .env("FAKETIME_TIMESTAMP_FILE", clock_file)
            .env("FAKETIME_NO_CACHE", "1")
            .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
            .env("PROBE_ENDPOINT", sandbox.base_url())
            .env("PROBE_DB", db)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the clock probe starts (built with the tests)");
        let input = child.stdin.take().unwrap();
        let output = BufReader::new(child.stdout.take().unwrap());
        Probe {
            child,
            input,
            output,
        }
    }

    fn ask(&mut self, command: &str) -> Value {
        writeln!(self.input, "{command}").unwrap();
        let mut line = String::new();
        self.output.read_line(&mut line).unwrap();
        serde_json::from_str(&line).unwrap_or_else(|_| panic!("{command}: answered {line:?}"))
    }

    fn quit(mut self) {
        writeln!(self.input, "quit").unwrap();
        assert!(self.child.wait().unwrap().success(), "the probe shut down");
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn set_clock(file: &Path, offset: &str) {
    std::fs::write(file, format!("{offset}\n")).unwrap();
}

fn retry_after_2() -> Fault {
    Fault::Status {
        status: 503,
        retry_after: Some("2".into()),
        body: None,
    }
}

/// Every accepted event carries the true time it was tracked at.
fn assert_true_times(sandbox: &Sandbox) {
    let now = SystemClock.now_secs();
    for event in sandbox.accepted() {
        let t = event["event_time"].as_i64().unwrap();
        assert!((now - 60..=now).contains(&t), "event_time {t}, now {now}");
    }
}

fn jump_back_while_running(offset: &str) {
    let Some(lib) = libfaketime() else { return };
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let clock_file = dir.path().join("faketime");
    set_clock(&clock_file, "+0");
    let mut probe = Probe::start(&lib, &sandbox, &dir.path().join("buffer.db"), &clock_file);
    sandbox.inject(retry_after_2());
    probe.ask("track 10");
    let first = probe.ask("flush 500");
    assert_eq!(first["remaining"], 10, "the 503 kept them: {first}");

    set_clock(&clock_file, offset);
    let d = probe.ask("diagnostics");
    let ahead = d["next_attempt_time"].as_i64().unwrap() - d["wall_now"].as_i64().unwrap();
    assert!(
        ahead <= 3,
        "clock {offset}: the next attempt is {ahead} s after the wall clock"
    );
    let report = probe.ask("flush 10000");
    assert_eq!(
        (report["remaining"].as_u64(), report["timed_out"].as_bool()),
        (Some(0), Some(false)),
        "clock {offset}: {report}"
    );
    assert!(report["elapsed_ms"].as_u64().unwrap() <= 3_500, "{report}");
    assert_eq!(sandbox.accepted_count(), 10);
    assert_true_times(&sandbox);
    probe.quit();
}

#[test]
fn a_real_process_retries_on_time_after_its_clock_goes_back_a_day() {
    jump_back_while_running("-1d");
}

#[test]
fn a_real_process_retries_on_time_after_its_clock_goes_back_ten_years() {
    jump_back_while_running("-10y");
}

#[test]
fn a_backoff_stored_before_the_clock_went_back_holds_the_next_run_at_most_retry_max() {
    let Some(lib) = libfaketime() else { return };
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("buffer.db");
    let clock_file = dir.path().join("faketime");
    set_clock(&clock_file, "+0");
    let mut first = Probe::start(&lib, &sandbox, &db, &clock_file);
    sandbox.inject(retry_after_2());
    first.ask("track 5");
    assert_eq!(first.ask("flush 500")["remaining"], 5);
    first.quit();

    set_clock(&clock_file, "-1d");
    let mut second = Probe::start(&lib, &sandbox, &db, &clock_file);
    let report = second.ask("flush 10000");
    assert_eq!(
        (report["remaining"].as_u64(), report["timed_out"].as_bool()),
        (Some(0), Some(false)),
        "{report}"
    );
    assert!(report["elapsed_ms"].as_u64().unwrap() <= 3_500, "{report}");
    assert_eq!(sandbox.accepted_count(), 5);
    assert_true_times(&sandbox);
    second.quit();
}
