//! Delivery over a phone's days, on a clock the test controls: wake-ups counted against their
//! targets, and a simulated ten days (sessions, nights, a six-hour outage with `Retry-After`,
//! the clock set back a day by hand and set right, a week offline, kills and restarts) that runs in seconds and checks at the end that every
//! accepted event was delivered once or counted as dropped, with one app_install.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use app_conversions::{Clock, ManualClock};
use app_conversions::{ConversionsClient, EventName, PrivacyState};
use app_conversions_sandbox::{Fault, Sandbox};
use common::*;

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86_400);

fn manual_clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(app_conversions::SystemClock.now_ms()))
}

fn client_on(sandbox: &Sandbox, db: &Path, clock: &Arc<ManualClock>) -> Arc<ConversionsClient> {
    let clock: Arc<dyn Clock> = clock.clone();
    ConversionsClient::with_clock(
        config(&sandbox.base_url(), db),
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

/// What the simulated phone did, to check against what arrived.
#[derive(Default)]
struct Ledger {
    /// Event ids accepted by `track` (recorded), by name.
    tracked: Vec<(String, String)>,
}

/// One session: the app comes to the foreground, the user does a few things, the app goes
/// to the background (which sends what waits).
fn session(clock: &ManualClock, client: &ConversionsClient, ledger: &mut Ledger, n: usize) {
    client.on_foreground().unwrap();
    for i in 0..n {
        let name = if i % 2 == 0 {
            EventName::Lead
        } else {
            EventName::Checkout
        };
        let mut event = checkout("9.99");
        event.name = name;
        let result = client.track(event).unwrap();
        assert!(result.recorded);
        ledger.tracked.push((result.event_id, format!("{name:?}")));
        pass_time(clock, client, MINUTE, MINUTE);
    }
    client.on_background().unwrap();
    settle(client);
}

#[test]
fn ten_days_of_a_phone_deliver_everything_once_or_count_it() {
    let sandbox = lenient_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("buffer.db");
    let clock = manual_clock();
    let mut ledger = Ledger::default();
    let mut client = client_on(&sandbox, &db, &clock);
    client.on_launch().unwrap();
    settle(&client);

    // Day 1: sessions every three hours, a quiet night.
    for _ in 0..4 {
        session(&clock, &client, &mut ledger, 3);
        pass_time(&clock, &client, 3 * HOUR, 10 * MINUTE);
    }
    let night_start = wakeups(&client);
    pass_time(&clock, &client, 10 * HOUR, 10 * MINUTE);
    assert_eq!(wakeups(&client), night_start, "a quiet night costs nothing");

    // Day 2: the server is down for six hours and asks for an hour between tries.
    for _ in 0..12 {
        sandbox.inject(retry_after(3600));
    }
    session(&clock, &client, &mut ledger, 4);
    let outage_start = sandbox.requests().len();
    pass_time(&clock, &client, 6 * HOUR, 5 * MINUTE);
    let outage_requests = sandbox.requests().len() - outage_start;
    assert!(
        (5..=7).contains(&outage_requests),
        "about one try an hour: {outage_requests}"
    );
    sandbox.clear_faults();
    pass_time(&clock, &client, 2 * HOUR, 5 * MINUTE);
    assert_eq!(client.diagnostics().queued, 0, "delivered after the outage");

    // The user sets the clock back a day in the middle of a ten-minute backoff, tracks a
    // session on the wrong clock, then sets it right: the retry keeps its ten minutes, and
    // the session goes out on true time (the jump is seen against the monotonic clock).
    sandbox.inject(retry_after(600));
    for _ in 0..2 {
        let result = client.track(checkout("4.50")).unwrap();
        ledger.tracked.push((result.event_id, "Checkout".into()));
    }
    client.on_background().unwrap();
    settle(&client);
    let retry_requests = sandbox.requests().len();
    assert_eq!(client.diagnostics().last_status, Some(503));
    clock.set(clock.now_ms() - DAY.as_millis() as i64);
    pass_time(&clock, &client, 9 * MINUTE, MINUTE);
    assert_eq!(
        sandbox.requests().len(),
        retry_requests,
        "the backoff holds"
    );
    pass_time(&clock, &client, 2 * MINUTE, MINUTE);
    assert_eq!(
        client.diagnostics().queued,
        0,
        "retried ten minutes after the 503"
    );
    let wrong_clock_from = ledger.tracked.len();
    session(&clock, &client, &mut ledger, 2);
    let true_now = (clock.now_ms() + DAY.as_millis() as i64).div_euclid(1000);
    let wrong_clock_ids: Vec<&String> = ledger.tracked[wrong_clock_from..]
        .iter()
        .map(|(id, _)| id)
        .collect();
    for event in sandbox.accepted() {
        if wrong_clock_ids.contains(&&event["event_id"].as_str().unwrap_or_default().to_string()) {
            let sent = event["event_time"].as_i64().unwrap_or_default();
            assert!(
                (true_now - 600..=true_now).contains(&sent),
                "tracked on a clock a day behind, sent at {sent}, true time {true_now}"
            );
        }
    }
    clock.set(clock.now_ms() + DAY.as_millis() as i64);
    pass_time(&clock, &client, HOUR, 10 * MINUTE);

    // The app is killed mid-session and started again.
    session(&clock, &client, &mut ledger, 2);
    client.shutdown(SETTLE_MS).unwrap();
    client = client_on(&sandbox, &db, &clock);
    client.on_launch().unwrap();
    settle(&client);

    // Days 3 to 10: the phone is offline for eight days; what it tracked on day 3 expires.
    let offline = (8 * DAY).as_secs() / 3600 + 24;
    for _ in 0..offline {
        sandbox.inject(Fault::DropConnection);
    }
    session(&clock, &client, &mut ledger, 3);
    let expired = 3;
    pass_time(&clock, &client, 8 * DAY, HOUR);
    sandbox.clear_faults();
    client.shutdown(SETTLE_MS).unwrap();
    client = client_on(&sandbox, &db, &clock);
    client.on_launch().unwrap();
    session(&clock, &client, &mut ledger, 2);
    pass_time(&clock, &client, HOUR, 10 * MINUTE);

    // Every tracked event arrived exactly once, or expired and was counted.
    let d = client.diagnostics();
    let mut arrivals: HashMap<String, usize> = HashMap::new();
    for event in sandbox.accepted() {
        *arrivals
            .entry(event["event_id"].as_str().unwrap_or_default().into())
            .or_default() += 1;
    }
    let delivered = ledger
        .tracked
        .iter()
        .filter(|(id, _)| arrivals.get(id) == Some(&1))
        .count();
    assert!(arrivals.values().all(|n| *n == 1), "an event arrived twice");
    assert_eq!(delivered + expired, ledger.tracked.len(), "{d:?}");
    assert_eq!(d.dropped_expired, expired as u64);
    assert_eq!((d.queued, d.dead_lettered, d.worker_panics), (0, 0, 0));
    let installs = sandbox
        .accepted()
        .iter()
        .filter(|e| e["event_name"] == "app_install")
        .count();
    assert_eq!(installs, 1, "one app_install across restarts");
    println!(
        "ten days: {} events tracked, {} requests, {} expired, {} wake-ups since the last start",
        ledger.tracked.len(),
        sandbox.requests().len(),
        expired,
        d.upload_wakeups
    );
    let _ = PrivacyState::default();
}
