//! Delivery over a phone's days, on a clock the test controls: wake-ups counted against their
//! targets, and a simulated ten days (sessions, nights, a six-hour outage with `Retry-After`,
//! the clock set back a day by hand and set right, a week offline) that runs in seconds. The
//! ten days run in child processes (the test binary re-run with a role, as the kill suite
//! does), and the app is SIGKILLed twice mid-run: mid-session while it tracks and sends, and in
//! the middle of the offline week. The parent keeps the sandbox and the ledger of what the app
//! tracked, and checks at the end that every acknowledged event was delivered exactly once or
//! expired and was counted, with one app_install.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

mod common;
mod reliability;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use app_conversions::{Clock, ManualClock};
use app_conversions::{ConversionsClient, EventName};
use app_conversions_sandbox::{Fault, Sandbox};
use common::*;

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86_400);

fn manual_clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(app_conversions::SystemClock.now_ms()))
}

fn client_on(sandbox: &Sandbox, db: &Path, clock: &Arc<ManualClock>) -> Arc<ConversionsClient> {
    client_at(&sandbox.base_url(), db, clock)
}

fn client_at(endpoint: &str, db: &Path, clock: &Arc<ManualClock>) -> Arc<ConversionsClient> {
    let clock: Arc<dyn Clock> = clock.clone();
    ConversionsClient::with_clock(
        config(endpoint, db),
        app(),
        device(),
        privacy_with_id(GAID),
        clock,
    )
    .expect("client")
}

/// Moves the clock by `by` in steps of `step`, letting the SDK catch up after each.
fn pass_time(clock: &ManualClock, client: &ConversionsClient, by: Duration, step: Duration) {
    let mut left = by;
    while !left.is_zero() {
        let now = left.min(step);
        clock.advance(now);
        settle(client);
        left -= now;
    }
}

fn wakeups(client: &ConversionsClient) -> u64 {
    client.diagnostics().upload_wakeups
}

fn retry_after(seconds: u64) -> Fault {
    Fault::Status {
        status: 503,
        retry_after: Some(seconds.to_string()),
        body: None,
    }
}

#[test]
fn an_empty_queue_with_nothing_scheduled_never_wakes() {
    let sandbox = lenient_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let clock = manual_clock();
    let client = client_on(&sandbox, &dir.path().join("buffer.db"), &clock);
    settle(&client);
    pass_time(&clock, &client, DAY, HOUR);
    assert_eq!(wakeups(&client), 0, "a day with nothing queued");

    client.track(checkout("1.00")).unwrap();
    client.on_background().unwrap();
    settle(&client);
    assert_eq!(sandbox.accepted_count(), 1);
    let after_send = wakeups(&client);
    pass_time(&clock, &client, DAY, HOUR);
    assert_eq!(
        wakeups(&client),
        after_send,
        "a day after the queue emptied"
    );
}

#[test]
fn events_in_backoff_wake_once_per_scheduled_attempt() {
    let sandbox = lenient_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let clock = manual_clock();
    let client = client_on(&sandbox, &dir.path().join("buffer.db"), &clock);
    for _ in 0..3 {
        sandbox.inject(retry_after(600));
    }
    client.track(checkout("2.00")).unwrap();
    client.on_background().unwrap();
    settle(&client);
    assert_eq!(sandbox.requests().len(), 1);
    let start = wakeups(&client);
    for attempt in 2..=4u64 {
        // Nothing wakes during the ten minutes, then one wake-up makes the attempt.
        pass_time(&clock, &client, Duration::from_secs(599), MINUTE);
        assert_eq!(
            wakeups(&client),
            start + attempt - 2,
            "during backoff {attempt}"
        );
        pass_time(&clock, &client, Duration::from_secs(1), MINUTE);
        assert_eq!(sandbox.requests().len() as u64, attempt);
        assert_eq!(wakeups(&client), start + attempt - 1, "attempt {attempt}");
    }
    assert_eq!(sandbox.accepted_count(), 1);
    let d = client.diagnostics();
    assert_eq!((d.queued, d.paused_reason), (0, None));
    pass_time(&clock, &client, DAY, HOUR);
    assert_eq!(wakeups(&client), start + 3, "nothing after the success");
}

#[test]
fn a_flush_interval_with_events_waiting_costs_at_most_two_wakeups() {
    let sandbox = lenient_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let clock = manual_clock();
    let client = client_on(&sandbox, &dir.path().join("buffer.db"), &clock);
    settle(&client);
    const INTERVALS: u64 = 10;
    for interval in 0..INTERVALS {
        // Five events spread over each 30 s interval, none of them urgent.
        for _ in 0..5 {
            client.track(checkout("3.00")).unwrap();
            settle(&client);
            pass_time(
                &clock,
                &client,
                Duration::from_secs(6),
                Duration::from_secs(6),
            );
        }
        assert_eq!(sandbox.accepted_count() as u64, 5 * (interval + 1));
    }
    let used = wakeups(&client);
    println!("{used} wake-ups for {INTERVALS} intervals of 30 s with events waiting");
    assert!(used <= 2 * INTERVALS, "{used} wake-ups");
}

/// One session: the app comes to the foreground, the user does a few things, the app goes
/// to the background (which sends what waits). Returns the ids `track()` recorded.
fn session(clock: &ManualClock, client: &ConversionsClient, n: usize) -> Vec<String> {
    client.on_foreground().unwrap();
    let mut ids = Vec::new();
    for i in 0..n {
        let mut event = checkout("9.99");
        event.name = if i % 2 == 0 {
            EventName::Lead
        } else {
            EventName::Checkout
        };
        let result = client.track(event).unwrap();
        assert!(result.recorded);
        ids.push(result.event_id);
        pass_time(clock, client, MINUTE, MINUTE);
    }
    client.on_background().unwrap();
    settle(client);
    ids
}

#[path = "phone_day/ten_days.rs"]
mod ten_days;
