//! Crash safety: a child process tracks and flushes continuously and is SIGKILLed at random
//! moments, again and again, against one database file.
//!
//! "Acknowledged" means: the event's `track()` returned before a `flush()` call that then
//! returned (whatever that flush achieved). The child prints the ids it may call acknowledged
//! after each flush returns (`ACK <id>` lines, flushed), so the parent — which runs the sandbox
//! endpoint and therefore survives every kill — knows a lower bound of what was promised.
//!
//! After every kill the parent opens the file with its own connection and checks:
//! `PRAGMA integrity_check` is `ok`, and every acknowledged event is still queued or was
//! accepted by the sandbox. It also notes the events that were accepted *and* still queued:
//! the batch in flight when the kill landed, the only events allowed to arrive twice. At the
//! end a last child flushes everything; every acknowledged event must have been delivered, and
//! every duplicate must be explained by such an in-flight batch.
//!
//! Kills: 50 by default (about half a minute in a debug build), `RELIABILITY_KILLS=N` or
//! `RELIABILITY_SOAK=1` (300) for more. `RELIABILITY_SEED` replays a run.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
mod common;
mod reliability;

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app_conversions::{ClientConfig, ConversionsClient};
use app_conversions_sandbox::{Fault, Sandbox};
use common::{app, config, device, privacy_with_id, sandbox, GAID};
use reliability::process::{read_all, read_lines, sigkill, wait_or_exit};
use reliability::*;

const TEST: &str = "acknowledged_events_survive_repeated_sigkill";
/// A child that was not killed stops by itself after this long.
const CHILD_LIFETIME: Duration = Duration::from_secs(30);
/// Longest injected server delay; the parent waits longer than this for the sandbox to settle.
const MAX_SERVER_DELAY_MS: u64 = 60;

fn child_config(endpoint: &str, db: &Path) -> ClientConfig {
    let mut cfg = config(endpoint, db);
    // No eviction may interfere: a lost event must be a crash-safety failure.
    cfg.max_queued_events = 1_000_000;
    cfg.retry_max_delay_secs = 2;
    cfg
}

#[test]
fn acknowledged_events_survive_repeated_sigkill() {
    match child_role().as_deref() {
        Some("track") => return track_and_flush_until_killed(),
        Some("drain") => return drain(),
        _ => {}
    }
    let started = Instant::now();
    let kills = size("RELIABILITY_KILLS", 50, 300);
    let mut rng = Rng::from_env(TEST);
    let sandbox = sandbox();
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("buffer.db");

    let mut acknowledged: Vec<String> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    // event_id -> kills after which it was both accepted and still queued (in flight).
    let mut in_flight: HashMap<String, u32> = HashMap::new();
    let mut kills_with_batch_in_flight = 0u64;
    let mut kills_without_new_ack = 0u64;

    for cycle in 0..kills {
        if rng.range(0, 2) == 0 {
            // Slow answers widen the window in which a kill catches a batch in flight.
            for _ in 0..rng.range(1, 3) {
                let millis = rng.range(5, MAX_SERVER_DELAY_MS);
                sandbox.inject(Fault::Delay { millis });
            }
        }
        let mut command = child(TEST, "track");
        command
            .env("RELIABILITY_ENDPOINT", sandbox.base_url())
            .env("RELIABILITY_DB", &db)
            .env("RELIABILITY_PREFIX", format!("k{cycle}"))
            .env("RELIABILITY_SEED", rng.next_u64().to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut process = command.spawn().expect("start the tracking child");
        let lines = read_lines(process.stdout.take().expect("child stdout"));
        let stderr = read_all(process.stderr.take().expect("child stderr"));

        // Most kills land at a random moment after the child's first flush returned (so
        // acknowledged events accumulate); one in five lands at a random moment of start-up,
        // while the database is being opened, migrated or recovered.
        let started_child = Instant::now();
        let mut output = Vec::new();
        let during_startup = rng.range(0, 4) == 0;
        if !during_startup {
            let first_ack = Instant::now() + Duration::from_secs(15);
            while !output.iter().any(|l: &String| l.starts_with("ACK ")) {
                let left = first_ack.saturating_duration_since(Instant::now());
                match lines.recv_timeout(left) {
                    Ok(line) => output.push(line),
                    Err(_) => break,
                }
            }
        }
        let extra = rng.range(0, if during_startup { 100 } else { 250 });
        let exited_early = wait_or_exit(&mut process, Duration::from_millis(extra));
        let killed = sigkill(&mut process);
        output.extend(lines.iter());
        let errors = stderr.join().expect("stderr reader");
        assert!(
            exited_early.is_none() && killed,
            "cycle {cycle}: the child ended by itself ({exited_early:?}) instead of being \
             killed\n{errors}"
        );
        let alive_for = started_child.elapsed();

        let before = acknowledged.len();
        for id in output.iter().filter_map(|l| l.strip_prefix("ACK ")) {
            if seen.insert(id.to_string()) {
                acknowledged.push(id.to_string());
            }
        }
        if acknowledged.len() == before {
            kills_without_new_ack += 1;
        }

        settle(&sandbox);
        let state = inspect(&db);
        assert_eq!(state.integrity, "ok", "cycle {cycle}: integrity_check");
        assert_eq!(state.dead_letters, 0, "cycle {cycle}: nothing is refused");
        let lost: Vec<&String> = acknowledged
            .iter()
            .filter(|id| !state.queued.contains(*id) && sandbox.times_accepted(id) == 0)
            .collect();
        assert!(
            lost.is_empty(),
            "cycle {cycle} (killed after {alive_for:?}): {} acknowledged events neither queued \
             nor delivered, e.g. {:?}\n{errors}",
            lost.len(),
            &lost[..lost.len().min(5)]
        );
        let mut caught = false;
        for id in &state.queued {
            if sandbox.times_accepted(id) > 0 {
                *in_flight.entry(id.clone()).or_default() += 1;
                caught = true;
            }
        }
        kills_with_batch_in_flight += u64::from(caught);
    }

    let mut command = child(TEST, "drain");
    command
        .env("RELIABILITY_ENDPOINT", sandbox.base_url())
        .env("RELIABILITY_DB", &db);
    let drained = results(&run_child(command, "draining"));
    assert_eq!(result_u64(&drained, "remaining"), 0, "{drained:?}");
    assert_eq!(result_u64(&drained, "worker_panics"), 0, "{drained:?}");
    assert_eq!(result_u64(&drained, "dropped_evicted"), 0, "{drained:?}");
    let state = inspect(&db);
    assert_eq!(state.integrity, "ok");
    assert!(
        state.queued.is_empty(),
        "{} still queued",
        state.queued.len()
    );

    let mut arrivals: HashMap<String, u32> = HashMap::new();
    for event in sandbox.accepted() {
        let id = event["event_id"].as_str().unwrap_or_default().to_string();
        *arrivals.entry(id).or_default() += 1;
    }
    let lost: Vec<&String> = acknowledged
        .iter()
        .filter(|id| !arrivals.contains_key(*id))
        .collect();
    assert!(lost.is_empty(), "never delivered: {lost:?}");
    let duplicates: u32 = arrivals.values().map(|n| n - 1).sum();
    let unexplained: Vec<(&String, &u32)> = arrivals
        .iter()
        .filter(|(id, n)| **n - 1 > in_flight.get(*id).copied().unwrap_or(0))
        .collect();
    assert!(
        unexplained.is_empty(),
        "events delivered twice without a kill catching them in flight: {unexplained:?}"
    );
    assert!(
        acknowledged.len() as u64 > kills,
        "the children acknowledged too little to prove anything: {}",
        acknowledged.len()
    );
    metric(
        "kill",
        &[
            ("kills", kills.to_string()),
            ("acknowledged", acknowledged.len().to_string()),
            ("delivered", arrivals.len().to_string()),
            ("lost", "0".into()),
            ("duplicates", duplicates.to_string()),
            (
                "kills_with_batch_in_flight",
                kills_with_batch_in_flight.to_string(),
            ),
            ("kills_without_new_ack", kills_without_new_ack.to_string()),
            ("integrity_checks_ok", (kills + 1).to_string()),
            (
                "runtime_s",
                format!("{:.1}", started.elapsed().as_secs_f64()),
            ),
        ],
    );
}

/// Child: one thread tracks bursts of events while the main thread flushes in a loop and,
/// after each flush returns, prints the ids tracked before that flush began.
fn track_and_flush_until_killed() {
    let db = env("RELIABILITY_DB");
    let prefix = env("RELIABILITY_PREFIX");
    let cfg = child_config(&env("RELIABILITY_ENDPOINT"), Path::new(&db));
    let client =
        ConversionsClient::new(cfg, app(), device(), privacy_with_id(GAID)).expect("client starts");
    let mut rng = Rng::from_env("track child");
    let tracked: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let deadline = Instant::now() + CHILD_LIFETIME;

    let tracker = {
        let (client, tracked, stop) = (client.clone(), tracked.clone(), stop.clone());
        let mut rng = Rng::new(rng.next_u64());
        std::thread::spawn(move || {
            let mut sequence = 0u64;
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                for _ in 0..rng.range(1, 10) {
                    let id = format!("{prefix}-{sequence}");
                    sequence += 1;
                    client.track(lead(&id)).expect("track");
                    tracked.lock().expect("tracked ids").push(id);
                }
                std::thread::sleep(Duration::from_millis(rng.range(1, 6)));
            }
        })
    };

    let mut printed = 0;
    let mut out = std::io::stdout();
    // The test harness's `test name ... ` header has no line end: start a fresh line.
    out.write_all(b"\n").expect("stdout");
    while Instant::now() < deadline {
        let before_flush = tracked.lock().expect("tracked ids").len();
        let report = client.flush(rng.range(100, 3_000)).expect("flush");
        if report.timed_out {
            // Out of time, perhaps before the commit: this flush promises nothing.
            continue;
        }
        let text: String = tracked.lock().expect("tracked ids")[printed..before_flush]
            .iter()
            .map(|id| format!("ACK {id}\n"))
            .collect();
        out.write_all(text.as_bytes()).expect("stdout");
        out.flush().expect("stdout");
        printed = before_flush;
        std::thread::sleep(Duration::from_millis(rng.range(0, 5)));
    }
    stop.store(true, Ordering::Relaxed);
    tracker.join().expect("tracker thread");
}

/// Child: the app's next start after the last crash: flush until nothing is left.
fn drain() {
    let db = env("RELIABILITY_DB");
    let cfg = child_config(&env("RELIABILITY_ENDPOINT"), Path::new(&db));
    let client =
        ConversionsClient::new(cfg, app(), device(), privacy_with_id(GAID)).expect("client starts");
    let mut remaining = u64::MAX;
    for _ in 0..20 {
        remaining = client.flush(10_000).expect("flush").remaining;
        if remaining == 0 {
            break;
        }
    }
    let d = client.diagnostics();
    client.shutdown(10_000).expect("shutdown");
    result_line(&[
        ("remaining", remaining.to_string()),
        ("delivered", d.delivered.to_string()),
        ("dropped_evicted", d.dropped_evicted.to_string()),
        ("dead_lettered", d.dead_lettered.to_string()),
        ("worker_panics", d.worker_panics.to_string()),
    ]);
}

/// Number of events the sandbox accepted so far, without copying them (probes with
/// `wait_for_accepted` and a zero timeout).
fn accepted_count(sandbox: &Sandbox) -> usize {
    let at_least = |n: usize| sandbox.wait_for_accepted(n, Duration::ZERO);
    let (mut low, mut high) = (0, 1);
    while at_least(high) {
        low = high;
        high *= 2;
    }
    // at_least(low) holds, at_least(high) does not.
    while high - low > 1 {
        let middle = low + (high - low) / 2;
        if at_least(middle) {
            low = middle;
        } else {
            high = middle;
        }
    }
    low
}

/// After a kill, a request the child had fully sent may still be answered (after an injected
/// delay): wait until the accepted count has stayed the same for longer than any delay.
fn settle(sandbox: &Sandbox) {
    let quiet = Duration::from_millis(MAX_SERVER_DELAY_MS * 3);
    let mut count = accepted_count(sandbox);
    let mut since = Instant::now();
    let settled = poll(Duration::from_secs(5), Duration::from_millis(20), || {
        let now = accepted_count(sandbox);
        if now != count {
            count = now;
            since = Instant::now();
        }
        since.elapsed() >= quiet
    });
    assert!(settled, "the sandbox kept accepting events after the kill");
}
