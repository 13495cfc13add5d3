//! A phone whose clock is off, or set a year ahead, against a sandbox that keeps true time
//! and says so in its `Date` header: events reach the API with the server's time on the
//! wire, nothing the server would still take expires, and the buffer keeps the event_time
//! each `track()` recorded.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

mod common;

use std::sync::Arc;
use std::time::Duration;

use app_conversions::{Clock, ConversionsClient, ManualClock, SystemClock};
use app_conversions_sandbox::{Fault, Sandbox};
use common::*;

const HOUR_MS: i64 = 3_600_000;
const YEAR_MS: i64 = 365 * 86_400_000;

/// event_time of each accepted event, by event_id.
fn accepted_times(sandbox: &Sandbox) -> Vec<(String, i64)> {
    sandbox
        .accepted()
        .iter()
        .map(|e| {
            (
                e["event_id"].as_str().unwrap().to_string(),
                e["event_time"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// Every accepted event carries a time within two minutes before the true time.
fn assert_true_times(sandbox: &Sandbox, what: &str) {
    let now = SystemClock.now_secs();
    let times = accepted_times(sandbox);
    assert!(
        times.iter().all(|(_, t)| (now - 120..=now + 5).contains(t)),
        "{what}: event times {times:?}, true time {now}"
    );
}

fn tracked(client: &ConversionsClient, id: &str) {
    let mut event = checkout("1.00");
    event.event_id = Some(id.into());
    client.track(event).unwrap();
}

#[test]
fn a_clock_two_hours_ahead_on_a_fresh_install_loses_no_event() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms() + 2 * HOUR_MS));
    let client = manual_clock_client(&sandbox, &dir.path().join("buffer.db"), &clock);
    for i in 0..3 {
        tracked(&client, &format!("ahead-{i}"));
    }
    let report = client.flush(5_000).unwrap();
    assert_eq!(report.remaining, 0, "{report:?}");
    tracked(&client, "after-the-first-answer");
    client.flush(5_000).unwrap();
    let d = client.diagnostics();
    assert_eq!(
        (sandbox.accepted_count(), d.dead_lettered),
        (4, 0),
        "dead letters: {:?}",
        d.recent_dead_letters
    );
    assert_true_times(&sandbox, "two hours ahead");
    assert_eq!(d.sent_late, 0, "sent on true time, none late");
}

#[test]
fn a_clock_two_hours_behind_is_corrected_once_the_server_has_answered() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms() - 2 * HOUR_MS));
    let client = manual_clock_client(&sandbox, &dir.path().join("buffer.db"), &clock);
    tracked(&client, "before-any-answer");
    client.flush(5_000).unwrap();
    assert_eq!(
        client.diagnostics().sent_late,
        1,
        "sent before any answer, it reached the API two hours after its event_time"
    );
    sandbox.reset();
    tracked(&client, "after-the-first-answer");
    client.flush(5_000).unwrap();
    assert_eq!(sandbox.accepted_count(), 1);
    assert_true_times(&sandbox, "two hours behind");

    // The offset is kept in the buffer: the next start corrects from its first event.
    client.shutdown(5_000).unwrap();
    drop(client);
    sandbox.reset();
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms() - 2 * HOUR_MS));
    let client = manual_clock_client(&sandbox, &dir.path().join("buffer.db"), &clock);
    tracked(&client, "next-start");
    client.flush(5_000).unwrap();
    assert_eq!(sandbox.accepted_count(), 1);
    assert_true_times(&sandbox, "after a restart");
}

/// A queue with the pending app_install, kept by a server that answered 503, then the clock
/// set a year ahead: nothing expires, and what is tracked afterwards goes out on true time.
#[test]
fn a_clock_set_a_year_ahead_keeps_the_queue_and_the_pending_install() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let client = manual_clock_client(&sandbox, &dir.path().join("buffer.db"), &clock);
    sandbox.inject(Fault::Status {
        status: 503,
        retry_after: Some("20".into()),
        body: None,
    });
    client.on_launch().unwrap();
    for i in 0..5 {
        tracked(&client, &format!("queued-{i}"));
    }
    client.on_background().unwrap();
    settle(&client);
    assert_eq!(sandbox.requests().len(), 1, "the 503");
    assert_eq!(
        client.diagnostics().queued,
        6,
        "app_install and five events"
    );

    clock.set(clock.now_ms() + YEAR_MS);
    tracked(&client, "after-the-jump");
    clock.advance(Duration::from_secs(21));
    settle(&client);
    client.flush(5_000).unwrap();
    let d = client.diagnostics();
    assert_eq!(
        (sandbox.accepted_count(), d.dropped_expired, d.dead_lettered),
        (7, 0, 0),
        "dead letters: {:?}",
        d.recent_dead_letters
    );
    let names: Vec<String> = sandbox
        .accepted()
        .iter()
        .map(|e| e["event_name"].as_str().unwrap().to_string())
        .collect();
    assert!(names.contains(&"app_install".to_string()), "{names:?}");
    assert_true_times(&sandbox, "a year ahead");
}

/// The same, with the clock set ahead while the app was not running: the stored offset
/// cannot tell that from a year passing, so nothing expires before the server answers.
#[test]
fn a_clock_set_a_year_ahead_between_two_runs_keeps_the_queue() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("buffer.db");
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let client = manual_clock_client(&sandbox, &db, &clock);
    tracked(&client, "answered");
    client.flush(5_000).unwrap();
    sandbox.reset();
    sandbox.inject(Fault::Status {
        status: 503,
        retry_after: Some("600".into()),
        body: None,
    });
    for i in 0..5 {
        tracked(&client, &format!("queued-{i}"));
    }
    client.flush(5_000).unwrap();
    assert_eq!(client.diagnostics().queued, 5);
    client.shutdown(5_000).unwrap();
    drop(client);

    let clock = Arc::new(ManualClock::new(SystemClock.now_ms() + YEAR_MS));
    let client = manual_clock_client(&sandbox, &db, &clock);
    tracked(&client, "after-the-jump");
    // The stored 600 s backoff is held to retry_max_delay (60 s).
    clock.advance(Duration::from_secs(61));
    settle(&client);
    client.flush(5_000).unwrap();
    let d = client.diagnostics();
    assert_eq!(
        (sandbox.accepted_count(), d.dropped_expired, d.dead_lettered),
        (6, 0, 0),
        "dead letters: {:?}",
        d.recent_dead_letters
    );
    assert_true_times(&sandbox, "a year ahead after a restart");
}

/// A request that went unanswered, then two days offline: the re-send is past the API's
/// 48-hour dedup window, which diagnostics() counts (and the late delivery with it).
#[test]
fn a_resend_past_the_dedup_window_is_counted() {
    let sandbox = lenient_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let client = manual_clock_client(&sandbox, &dir.path().join("buffer.db"), &clock);
    sandbox.inject(Fault::DropConnection);
    tracked(&client, "unanswered-once");
    tracked(&client, "second");
    client.on_background().unwrap();
    settle(&client);
    assert_eq!(sandbox.accepted_count(), 0, "the connection was dropped");
    clock.advance(Duration::from_secs(49 * 3_600));
    settle(&client);
    client.flush(5_000).unwrap();
    assert_eq!(sandbox.accepted_count(), 2);
    let d = client.diagnostics();
    assert_eq!((d.resent_after_dedup_window, d.sent_late), (2, 2));

    tracked(&client, "on-time");
    client.flush(5_000).unwrap();
    let d = client.diagnostics();
    assert_eq!(
        (d.resent_after_dedup_window, d.sent_late),
        (2, 2),
        "on time"
    );
}
