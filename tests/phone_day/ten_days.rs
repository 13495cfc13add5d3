//! Ten days of a phone, killed twice. The app runs in child processes (the test binary re-run
//! with a role, as `tests/reliability_kill.rs` does), each on a manual clock that starts where
//! the last one stopped:
//!
//! 1. `first-days`: launch, day 1, a six-hour outage on day 2, the clock set back a day during
//!    a backoff and set right, then SIGKILLed mid-session while it tracks and sends.
//! 2. `offline-week`: the restart, a session, then offline; SIGKILLed four days into the week.
//! 3. `back-online`: the restart eight days after going offline, a last session, a normal end.
//!
//! The parent owns the sandbox and answers the child's requests for faults (`ASK` lines on
//! the child's stdout, answered on its stdin). The child reports each event `track()`
//! recorded (`TRACKED <id> <tag>`) and, after each `settle()` (which commits what was tracked
//! before it, as a flush does), `ACK`: what was tracked before it is acknowledged. Events
//! tracked after the last `ACK` before a kill may be lost or, caught in a request in flight,
//! arrive twice; acknowledged ones must arrive exactly once, or expire and be counted.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::process::{Child, ChildStdin, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use app_conversions::{Clock, ConversionsClient, ManualClock};
use app_conversions_sandbox::{Fault, Sandbox};

use super::reliability::process::{read_all, read_lines, sigkill};
use super::reliability::{child, child_role, env, inspect, result_line, result_u64, results, Rng};
use super::{client_at, pass_time, retry_after, session, wakeups, DAY, HOUR, MINUTE};
use crate::common::{checkout, lenient_sandbox, settle, SETTLE_MS};

/// The test's path in its binary, which a child re-runs with a role.
const TEST: &str = "ten_days::ten_days_of_a_phone_deliver_everything_once_or_count_it";
/// Longest a child may go without a line before the parent gives up on it.
const QUIET_LIMIT: Duration = Duration::from_secs(120);

/// One event `track()` recorded in a child.
struct Tracked {
    id: String,
    tag: String,
    acknowledged: bool,
}

/// What the parent learned from the children.
#[derive(Default)]
struct Ledger {
    tracked: Vec<Tracked>,
    /// The manual clock's last reading in the child, Unix milliseconds.
    clock_ms: i64,
    /// When the offline week ends, Unix milliseconds.
    offline_until_ms: i64,
    /// The true time (seconds) at the end of the session tracked on a clock a day behind.
    true_now: i64,
    /// The last child's `RESULT` line.
    results: HashMap<String, String>,
}

#[test]
fn ten_days_of_a_phone_deliver_everything_once_or_count_it() {
    match child_role().as_deref() {
        Some("first-days") => return first_days(),
        Some("offline-week") => return offline_week(),
        Some("back-online") => return back_online(),
        _ => {}
    }
    let sandbox = lenient_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("buffer.db");
    let mut rng = Rng::from_env(TEST);
    let mut ledger = Ledger::default();

    let start = app_conversions::SystemClock.now_ms();
    assert!(run_phone(
        &sandbox,
        &db,
        "first-days",
        start,
        &mut ledger,
        &mut rng
    ));
    assert_eq!(inspect(&db).integrity, "ok", "after the kill mid-session");
    let restart = ledger.clock_ms + MINUTE.as_millis() as i64;
    assert!(run_phone(
        &sandbox,
        &db,
        "offline-week",
        restart,
        &mut ledger,
        &mut rng
    ));
    assert_eq!(inspect(&db).integrity, "ok", "after the kill offline");
    // The network is back when the phone starts again.
    sandbox.clear_faults();
    let back = ledger.offline_until_ms;
    assert!(!run_phone(
        &sandbox,
        &db,
        "back-online",
        back,
        &mut ledger,
        &mut rng
    ));

    let mut arrivals: HashMap<String, usize> = HashMap::new();
    for event in sandbox.accepted() {
        *arrivals
            .entry(event["event_id"].as_str().unwrap_or_default().into())
            .or_default() += 1;
    }
    let arrived = |id: &str| arrivals.get(id).copied().unwrap_or(0);
    let acknowledged: Vec<&Tracked> = ledger.tracked.iter().filter(|t| t.acknowledged).collect();
    let expired = acknowledged.iter().filter(|t| t.tag == "expires").count();
    for event in &acknowledged {
        let expected = usize::from(event.tag != "expires");
        assert_eq!(
            arrived(&event.id),
            expected,
            "acknowledged {} ({}) arrived {} times",
            event.id,
            event.tag,
            arrived(&event.id)
        );
    }
    for event in ledger.tracked.iter().filter(|t| !t.acknowledged) {
        assert!(
            arrived(&event.id) <= 2,
            "{} arrived more than once after its request was caught by a kill",
            event.id
        );
    }
    assert!(
        expired > 0 && acknowledged.len() > 20,
        "too little to prove anything"
    );
    let result = |key| result_u64(&ledger.results, key);
    assert_eq!(result("dropped_expired"), expired as u64);
    assert_eq!(
        (
            result("queued"),
            result("dead_lettered"),
            result("worker_panics")
        ),
        (0, 0, 0)
    );
    let installs = sandbox
        .accepted()
        .iter()
        .filter(|e| e["event_name"] == "app_install")
        .count();
    assert_eq!(installs, 1, "one app_install across kills and restarts");
    for event in sandbox.accepted() {
        let id = event["event_id"].as_str().unwrap_or_default();
        if ledger
            .tracked
            .iter()
            .any(|t| t.id == id && t.tag == "wrong-clock")
        {
            let sent = event["event_time"].as_i64().unwrap_or_default();
            let true_now = ledger.true_now;
            assert!(
                (true_now - 600..=true_now).contains(&sent),
                "tracked on a clock a day behind, sent at {sent}, true time {true_now}"
            );
        }
    }
    let twice = arrivals.values().filter(|n| **n > 1).count();
    println!(
        "ten days: {} events tracked ({} acknowledged), 2 SIGKILLs, {} requests, {} expired, \
         {} unacknowledged events lost, {} arrived twice",
        ledger.tracked.len(),
        acknowledged.len(),
        sandbox.requests().len(),
        expired,
        ledger
            .tracked
            .iter()
            .filter(|t| !t.acknowledged && arrived(&t.id) == 0)
            .count(),
        twice
    );
}

/// Runs the child playing `role` from `clock_ms` on, answering its requests, until it ends or
/// asks to be killed (then SIGKILLed 0-200 ms later, in the middle of what it does). Returns
/// whether it was killed; a child that fails fails the test with its output.
fn run_phone(
    sandbox: &Sandbox,
    db: &Path,
    role: &str,
    clock_ms: i64,
    ledger: &mut Ledger,
    rng: &mut Rng,
) -> bool {
    let mut command = child(TEST, role);
    command
        .env("PHONE_ENDPOINT", sandbox.base_url())
        .env("PHONE_DB", db)
        .env("PHONE_CLOCK_MS", clock_ms.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut process: Child = command.spawn().expect("start the phone");
    let mut stdin = process.stdin.take().expect("child stdin");
    let lines = read_lines(process.stdout.take().expect("child stdout"));
    let stderr = read_all(process.stderr.take().expect("child stderr"));
    // An `ACK` covers what this child tracked before it, nothing an earlier one did.
    let first = ledger.tracked.len();
    let mut killed = false;
    loop {
        let line = match lines.recv_timeout(QUIET_LIMIT) {
            Ok(line) => line,
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                sigkill(&mut process);
                panic!("{role}: silent for {QUIET_LIMIT:?}");
            }
        };
        if line == "KILL-ME" {
            std::thread::sleep(Duration::from_millis(rng.range(0, 200)));
            killed = sigkill(&mut process);
            assert!(killed, "{role}: the child ended before the kill");
            // Lines written before it died still count.
            for line in lines.iter() {
                note(&line, first, ledger, sandbox, &mut stdin);
            }
            break;
        }
        note(&line, first, ledger, sandbox, &mut stdin);
    }
    if !killed {
        let status = process.wait().expect("reap the phone");
        let errors = stderr.join().unwrap_or_default();
        assert!(status.success(), "{role} failed ({status}):\n{errors}");
    }
    killed
}

/// Takes one line of the child's into the ledger (its events from `first` on), or answers its
/// request.
fn note(line: &str, first: usize, ledger: &mut Ledger, sandbox: &Sandbox, stdin: &mut ChildStdin) {
    let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
    let number = || rest.parse::<i64>().unwrap_or_default();
    match word {
        "TRACKED" => {
            let (id, tag) = rest.split_once(' ').unwrap_or((rest, ""));
            ledger.tracked.push(Tracked {
                id: id.into(),
                tag: tag.into(),
                acknowledged: false,
            });
        }
        "ACK" => ledger.tracked[first..]
            .iter_mut()
            .for_each(|t| t.acknowledged = true),
        "CLOCK" => ledger.clock_ms = number(),
        "OFFLINE-UNTIL" => ledger.offline_until_ms = number(),
        "TRUE-NOW" => ledger.true_now = number(),
        "RESULT" => ledger.results = results(line),
        "ASK" => {
            match rest {
                "outage" => (0..12).for_each(|_| sandbox.inject(retry_after(3600))),
                "retry-600" => sandbox.inject(retry_after(600)),
                "offline" => (0..5_000).for_each(|_| sandbox.inject(Fault::DropConnection)),
                "clear" => sandbox.clear_faults(),
                "requests" => {}
                other => panic!("unknown request {other}"),
            }
            // A failed write means the child died; the caller reports how it ended.
            let _ = writeln!(stdin, "{}", sandbox.requests().len());
        }
        _ => {}
    }
}

/// Child side: asks the parent for a change to the server; returns the requests it has seen.
fn ask(what: &str) -> usize {
    println!("ASK {what}");
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .expect("the parent answers");
    answer.trim().parse().expect("a request count")
}

/// Child side: the phone at the clock the parent gave.
fn phone() -> (Arc<ManualClock>, Arc<ConversionsClient>) {
    // The test harness's `test name ... ` header has no line end: start a fresh line.
    println!();
    let clock_ms: i64 = env("PHONE_CLOCK_MS").parse().expect("a clock");
    let clock = Arc::new(ManualClock::new(clock_ms));
    let db = env("PHONE_DB");
    let client = client_at(&env("PHONE_ENDPOINT"), Path::new(&db), &clock);
    (clock, client)
}

/// Child side: a session (see [`session`]) whose events are reported with `tag`, then `ACK`.
fn reported_session(clock: &ManualClock, client: &ConversionsClient, n: usize, tag: &str) {
    for id in session(clock, client, n) {
        println!("TRACKED {id} {tag}");
    }
    println!("ACK");
}

/// Child side: tracks and sends on and on, a minute at a time, until the parent kills it.
fn until_killed(clock: &ManualClock, client: &ConversionsClient, tag: &str) {
    println!("KILL-ME");
    let give_up = Instant::now() + Duration::from_secs(60);
    let mut n = 0u64;
    while Instant::now() < give_up {
        let result = client.track(checkout("7.00")).unwrap();
        println!("TRACKED {} {tag}", result.event_id);
        n += 1;
        if n % 3 == 0 {
            client.on_background().unwrap();
            client.on_foreground().unwrap();
        }
        pass_time(clock, client, MINUTE, MINUTE);
        println!("CLOCK {}", clock.now_ms());
    }
}

/// Child 1: days 1 and 2, killed mid-session.
fn first_days() {
    let (clock, client) = phone();
    client.on_launch().unwrap();
    settle(&client);

    // Day 1: sessions every three hours, a quiet night.
    for _ in 0..4 {
        reported_session(&clock, &client, 3, "day-1");
        pass_time(&clock, &client, 3 * HOUR, 10 * MINUTE);
    }
    let night_start = wakeups(&client);
    pass_time(&clock, &client, 10 * HOUR, 10 * MINUTE);
    assert_eq!(wakeups(&client), night_start, "a quiet night costs nothing");

    // Day 2: the server is down for six hours and asks for an hour between tries.
    ask("outage");
    reported_session(&clock, &client, 4, "outage");
    let outage_start = ask("requests");
    pass_time(&clock, &client, 6 * HOUR, 5 * MINUTE);
    let outage_requests = ask("clear") - outage_start;
    assert!(
        (5..=7).contains(&outage_requests),
        "about one try an hour: {outage_requests}"
    );
    pass_time(&clock, &client, 2 * HOUR, 5 * MINUTE);
    assert_eq!(client.diagnostics().queued, 0, "delivered after the outage");

    // The user sets the clock back a day in the middle of a ten-minute backoff, tracks a
    // session on the wrong clock, then sets it right: the retry keeps its ten minutes, and
    // the session goes out on true time (the jump is seen against the monotonic clock).
    ask("retry-600");
    for _ in 0..2 {
        let result = client.track(checkout("4.50")).unwrap();
        println!("TRACKED {} backoff", result.event_id);
    }
    client.on_background().unwrap();
    settle(&client);
    println!("ACK");
    let retry_requests = ask("requests");
    assert_eq!(client.diagnostics().last_status, Some(503));
    clock.set(clock.now_ms() - DAY.as_millis() as i64);
    pass_time(&clock, &client, 9 * MINUTE, MINUTE);
    assert_eq!(ask("requests"), retry_requests, "the backoff holds");
    pass_time(&clock, &client, 2 * MINUTE, MINUTE);
    assert_eq!(client.diagnostics().queued, 0, "retried after the 503");
    reported_session(&clock, &client, 2, "wrong-clock");
    println!(
        "TRUE-NOW {}",
        (clock.now_ms() + DAY.as_millis() as i64).div_euclid(1000)
    );
    clock.set(clock.now_ms() + DAY.as_millis() as i64);
    pass_time(&clock, &client, HOUR, 10 * MINUTE);

    // A session, everything sent; then the app is killed in the middle of the next one.
    reported_session(&clock, &client, 2, "before-kill");
    assert_eq!(client.diagnostics().queued, 0);
    until_killed(&clock, &client, "mid-session");
}

/// Child 2: the restart after the kill, then a week offline, killed four days in.
fn offline_week() {
    let (clock, client) = phone();
    client.on_launch().unwrap();
    settle(&client);
    ask("offline");
    println!(
        "OFFLINE-UNTIL {}",
        clock.now_ms() + (8 * DAY).as_millis() as i64
    );
    // Tracked on the first offline day: older than seven days when the network is back.
    reported_session(&clock, &client, 3, "expires");
    pass_time(&clock, &client, 4 * DAY, HOUR);
    until_killed(&clock, &client, "offline");
}

/// Child 3: back online eight days after going offline; a session, then a normal end.
fn back_online() {
    let (clock, client) = phone();
    client.on_launch().unwrap();
    reported_session(&clock, &client, 2, "back-online");
    pass_time(&clock, &client, HOUR, 10 * MINUTE);
    let d = client.diagnostics();
    client.shutdown(SETTLE_MS).unwrap();
    result_line(&[
        ("queued", d.queued.to_string()),
        ("dropped_expired", d.dropped_expired.to_string()),
        ("dead_lettered", d.dead_lettered.to_string()),
        ("worker_panics", d.worker_panics.to_string()),
    ]);
}
