//! One row per decision, and per kind of per-event result: what each event of a request
//! becomes (store, listener, next step).

use super::*;
use crate::core::record::flags;
use crate::core::server_time::{DEDUP_WINDOW_SECS, LATE_AFTER_SECS};

const NOW: i64 = 1_700_000_000;

fn event(row: i64, flags: i64, unanswered_since: Option<i64>) -> QueuedEvent {
    QueuedEvent {
        row,
        event_id: format!("id-{row}"),
        event_name: "checkout".into(),
        body: "{}".into(),
        attempts: 0,
        flags,
        event_time: NOW - 10,
        server_time: None,
        unanswered_since,
    }
}

fn result(processed: bool, error: Option<&str>, warning: Option<&str>) -> EventResult {
    EventResult {
        processed,
        error_message: error.map(str::to_string),
        warning_message: warning.map(str::to_string),
    }
}

fn outcome_of(decision: Decision, events: &[QueuedEvent], unanswered: bool) -> RequestOutcome {
    let wire_times: Vec<i64> = events.iter().map(|e| e.event_time).collect();
    let request = SentRequest {
        events,
        wire_times: &wire_times,
        server_now: NOW,
        status: Some(200),
        unanswered,
    };
    request_outcome(decision, &request)
}

fn statuses(outcome: &RequestOutcome) -> Vec<EventStatus> {
    outcome.report.results.iter().map(|r| r.status).collect()
}

#[test]
fn whole_request_decisions_give_every_event_the_same_outcome() {
    let events = [event(1, 0, None), event(2, 0, None)];
    let retry = Decision::RetryAt {
        at_ms: 5_000,
        message: "HTTP 503".into(),
    };
    let pause = Decision::Pause {
        until_ms: 9_000,
        reason: "HTTP 401".into(),
    };
    // (decision, each event's status, next, failed, rows dead-lettered, rows kept for retry)
    let table: Vec<(Decision, EventStatus, Next, u32, usize, usize)> = vec![
        (
            Decision::DeadLetter("HTTP 400: bad".into()),
            EventStatus::DeadLettered,
            Next::Continue,
            2,
            2,
            0,
        ),
        (
            Decision::Split,
            EventStatus::WillRetry,
            Next::Split { at: 1 },
            0,
            0,
            0,
        ),
        (
            Decision::Smaller,
            EventStatus::WillRetry,
            Next::Smaller,
            0,
            0,
            0,
        ),
        (retry, EventStatus::WillRetry, Next::Stop, 0, 0, 2),
        (pause, EventStatus::WillRetry, Next::Stop, 0, 0, 0),
    ];
    for (decision, status, next, failed, dead, retried) in table {
        let name = format!("{decision:?}");
        let outcome = outcome_of(decision, &events, false);
        assert_eq!(statuses(&outcome), vec![status; 2], "{name}");
        assert_eq!(outcome.next, next, "{name}");
        assert_eq!(outcome.report.failed, failed, "{name}");
        assert_eq!(outcome.report.processed, 0, "{name}");
        assert_eq!(outcome.report.events, 2, "{name}");
        assert_eq!(
            outcome.report.will_retry,
            status == EventStatus::WillRetry,
            "{name}"
        );
        assert!(outcome.report.message.is_some(), "{name}");
        assert_eq!(outcome.resolution.dead.len(), dead, "{name}");
        assert_eq!(outcome.resolution.retry.len(), retried, "{name}");
        assert!(outcome.resolution.delivered.is_empty(), "{name}");
    }
}

#[test]
fn a_retry_notes_an_unanswered_request_with_the_servers_time() {
    let events = [event(1, 0, None)];
    let retry = || Decision::RetryAt {
        at_ms: 5_000,
        message: "timed out".into(),
    };
    let unanswered = outcome_of(retry(), &events, true);
    assert_eq!(unanswered.resolution.unanswered_at, Some(NOW));
    assert_eq!(unanswered.resolution.retry_at_ms, 5_000);
    let answered = outcome_of(retry(), &events, false);
    assert_eq!(answered.resolution.unanswered_at, None);
}

#[test]
fn per_event_results_each_get_their_outcome() {
    let unanswered_long_ago = Some(NOW - DEDUP_WINDOW_SECS - 1);
    let events = [
        event(1, 0, None),
        event(2, 0, None),
        event(3, 0, None),
        event(4, 0, None),
        event(5, flags::REFUSED_FUTURE, None),
        event(6, 0, unanswered_long_ago),
    ];
    let future = "event_time is in the future";
    let results = vec![
        result(true, None, None),
        result(true, None, Some("unknown field")),
        result(false, Some("bad email"), None),
        result(false, Some(future), None),
        result(false, Some(future), None),
        result(true, None, None),
    ];
    // (row, status, error message, warning)
    let table = [
        (1, EventStatus::Processed, None, None),
        (2, EventStatus::Processed, None, Some("unknown field")),
        (3, EventStatus::Failed, Some("bad email"), None),
        (4, EventStatus::WillRetry, Some(future), None),
        (5, EventStatus::Failed, Some(future), None),
        (6, EventStatus::Processed, None, None),
    ];
    let outcome = outcome_of(Decision::Resolve(results), &events, false);
    assert_eq!(outcome.next, Next::Continue);
    for ((row, status, error, warning), got) in table.iter().zip(&outcome.report.results) {
        assert_eq!(got.event_id, format!("id-{row}"));
        assert_eq!(got.status, *status, "row {row}");
        assert_eq!(got.error_message.as_deref(), *error, "row {row}");
        assert_eq!(got.warning_message.as_deref(), *warning, "row {row}");
    }
    let r = &outcome.resolution;
    assert_eq!(r.delivered, vec![1, 2, 6]);
    assert_eq!(
        r.dead,
        vec![(3, "bad email".to_string()), (5, future.to_string())]
    );
    assert_eq!(r.refused_future, vec![4], "one more try, once");
    assert_eq!(r.warnings, 1);
    assert_eq!(r.resent_after_dedup_window, 1);
    assert_eq!(r.sent_late, 0);
    let report = &outcome.report;
    assert_eq!(
        (report.processed, report.failed, report.warnings),
        (3, 2, 1)
    );
    assert!(
        report.will_retry,
        "the event refused as in the future goes again"
    );
    assert_eq!(report.status, Some(200));
}

#[test]
fn processed_events_sent_over_an_hour_late_are_counted() {
    let events = [event(1, 0, None), event(2, 0, None)];
    let wire_times = [NOW - LATE_AFTER_SECS - 1, NOW - 60];
    let request = SentRequest {
        events: &events,
        wire_times: &wire_times,
        server_now: NOW,
        status: Some(200),
        unanswered: false,
    };
    let results = vec![result(true, None, None), result(true, None, None)];
    let outcome = request_outcome(Decision::Resolve(results), &request);
    assert_eq!(outcome.resolution.sent_late, 1);
    assert!(!outcome.report.will_retry);
    assert_eq!(outcome.report.message, None);
}
