//! The phone's wall clock jumping under the SDK (a user setting it by hand, a time-zone or
//! network-time correction), on a clock the test controls: its wall clock jumps while its
//! monotonic clock keeps time. Waits inside a process follow the monotonic clock; a deadline
//! stored by an earlier process is held to at most `retry_max_delay_secs` from now.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

mod common;

use std::sync::Arc;
use std::time::Duration;

use app_conversions::{Clock, ConversionsClient, ManualClock, SystemClock};
use app_conversions_sandbox::{Fault, Sandbox};
use common::*;

const SECOND: Duration = Duration::from_secs(1);
const DAY_MS: i64 = 86_400_000;
const YEAR_MS: i64 = 365 * DAY_MS;

/// Moves both clocks by `seconds`, one second at a time, letting the SDK catch up.
fn pass_seconds(clock: &ManualClock, client: &ConversionsClient, seconds: u64) {
    for _ in 0..seconds {
        clock.advance(SECOND);
        settle(client);
    }
}

/// Seconds (of both clocks) until the sandbox has accepted `count` events, at most `limit`.
fn seconds_until_accepted(
    sandbox: &Sandbox,
    clock: &ManualClock,
    client: &ConversionsClient,
    count: usize,
    limit: u64,
) -> Option<u64> {
    for second in 0..=limit {
        if sandbox.accepted_count() >= count {
            return Some(second);
        }
        pass_seconds(clock, client, 1);
    }
    None
}

fn retry_after_20() -> Fault {
    Fault::Status {
        status: 503,
        retry_after: Some("20".into()),
        body: None,
    }
}

/// Ten events answered with 503 `Retry-After: 20`, then the wall clock set back by `jump_ms`:
/// the retry comes 20 s later by the monotonic clock, not 20 s plus the jump.
fn retry_after_a_jump_back(jump_ms: i64) {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let client = manual_clock_client(&sandbox, &dir.path().join("buffer.db"), &clock);
    sandbox.inject(retry_after_20());
    for i in 0..10 {
        client.track(checkout(&format!("{i}.00"))).unwrap();
    }
    client.on_background().unwrap();
    settle(&client);
    assert_eq!(sandbox.requests().len(), 1, "the first attempt got the 503");

    clock.set(clock.now_ms() - jump_ms);
    settle(&client);
    let next = client
        .diagnostics()
        .next_attempt_time
        .expect("a retry is scheduled");
    let wall_now = clock.now_secs();
    assert!(
        next <= wall_now + 60,
        "next_attempt_time {next} is {} s after the wall clock",
        next - wall_now
    );
    let took = seconds_until_accepted(&sandbox, &clock, &client, 10, 60);
    assert!(
        took.is_some_and(|s| s <= 20),
        "after a jump back of {jump_ms} ms the retry came after {took:?} s (Retry-After 20)"
    );
    let times: Vec<i64> = sandbox
        .accepted()
        .iter()
        .map(|e| e["event_time"].as_i64().unwrap())
        .collect();
    let real_now = SystemClock.now_secs();
    assert!(
        times
            .iter()
            .all(|t| (real_now - 120..=real_now).contains(t)),
        "the events keep the times they were tracked at: {times:?} (now {real_now})"
    );
}

#[test]
fn a_retry_after_wait_survives_the_clock_set_back_a_day() {
    retry_after_a_jump_back(DAY_MS);
}

#[test]
fn a_retry_after_wait_survives_the_clock_set_back_ten_years() {
    retry_after_a_jump_back(10 * YEAR_MS);
}

#[test]
fn a_flush_waits_for_a_retry_that_a_jump_back_does_not_postpone() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let client = manual_clock_client(&sandbox, &dir.path().join("buffer.db"), &clock);
    sandbox.inject(retry_after_20());
    client.track(checkout("1.00")).unwrap();
    client.on_background().unwrap();
    settle(&client);
    clock.set(clock.now_ms() - DAY_MS);
    settle(&client);
    let ticker = {
        let clock = clock.clone();
        std::thread::spawn(move || {
            for _ in 0..40 {
                std::thread::sleep(Duration::from_millis(25));
                clock.advance(SECOND);
            }
        })
    };
    let report = client.flush(35_000).unwrap();
    ticker.join().unwrap();
    assert_eq!(
        (report.remaining, report.timed_out),
        (0, false),
        "flush(35 s) sees the 20 s retry: {report:?}"
    );
    assert_eq!(sandbox.accepted_count(), 1);
}

/// A backoff stored at `Retry-After: 20`, then the wall clock set back by `jump_ms` while the
/// app is not running: the next process holds the stored deadline to at most
/// `retry_max_delay_secs`.
fn stored_deadline_after_a_restart(jump_ms: i64) {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("buffer.db");
    let first = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let client = manual_clock_client(&sandbox, &db, &first);
    sandbox.inject(retry_after_20());
    for i in 0..10 {
        client.track(checkout(&format!("{i}.00"))).unwrap();
    }
    client.on_background().unwrap();
    settle(&client);
    assert_eq!(sandbox.requests().len(), 1, "the first attempt got the 503");
    client.shutdown(5_000).unwrap();
    drop(client);

    // The clock is set back; the app starts again (a new process, a new monotonic clock).
    let second = Arc::new(ManualClock::new(SystemClock.now_ms() - jump_ms));
    let client = manual_clock_client(&sandbox, &db, &second);
    settle(&client);
    let next = client.diagnostics().next_attempt_time;
    let wall_now = second.now_secs();
    assert!(
        next.is_some_and(|n| n <= wall_now + 60),
        "next_attempt_time {next:?} is {:?} s after the wall clock",
        next.map(|n| n - wall_now)
    );
    let took = seconds_until_accepted(&sandbox, &second, &client, 10, 61);
    assert!(
        took.is_some_and(|s| s <= 60),
        "a deadline stored {jump_ms} ms ahead held delivery for {took:?} s (retry_max 60 s)"
    );
}

#[test]
fn a_stored_deadline_a_day_ahead_waits_at_most_retry_max_after_a_restart() {
    stored_deadline_after_a_restart(DAY_MS);
}

#[test]
fn a_stored_deadline_ten_years_ahead_waits_at_most_retry_max_after_a_restart() {
    stored_deadline_after_a_restart(10 * YEAR_MS);
}

fn opens(sandbox: &Sandbox) -> usize {
    sandbox
        .accepted()
        .iter()
        .filter(|e| e["event_name"] == "app_open")
        .count()
}

/// A background of `background` real seconds with a wall-clock jump of `jump_ms` during it:
/// whether the return to the foreground recorded app_open (threshold 30 s).
fn open_after(background: Duration, jump_ms: i64) -> usize {
    let sandbox = lenient_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let client = manual_clock_client(&sandbox, &dir.path().join("buffer.db"), &clock);
    client.on_background().unwrap();
    clock.advance(background);
    clock.set(clock.now_ms() + jump_ms);
    client.on_foreground().unwrap();
    client.flush(5_000).unwrap();
    opens(&sandbox)
}

#[test]
fn a_jump_forward_during_a_short_background_records_no_open() {
    assert_eq!(open_after(SECOND, 3_600_000), 0, "1 s in the background");
}

#[test]
fn a_jump_back_during_a_long_background_still_records_the_open() {
    assert_eq!(
        open_after(Duration::from_secs(32), -DAY_MS),
        1,
        "32 s in the background"
    );
}
