//! Every row of the "Server answer" table of docs/delivery.md and of docs/ARCHITECTURE.md §5, as the
//! policy sees it: milliseconds, no threads, no clock.

use super::*;

const NOW: i64 = 1_700_000_000_000;
const MINUTE: i64 = 60_000;

fn config() -> PolicyConfig {
    PolicyConfig {
        batch_size: 1000,
        flush_interval_ms: 30_000,
        retry_base_ms: 1_000,
        retry_max_ms: 3_600_000,
    }
}

fn policy() -> UploadPolicy {
    let mut p = UploadPolicy::new(config());
    p.restore(0, 0, NOW);
    p
}

fn answer(status: u16, body: &str, retry_after: Option<&str>) -> Result<HttpAnswer, String> {
    Ok(HttpAnswer {
        status,
        retry_after: retry_after.map(str::to_string),
        date: None,
        body: body.into(),
        body_error: None,
    })
}

fn results(n: usize, failed_at: Option<usize>) -> String {
    let events: Vec<String> = (0..n)
        .map(|i| {
            if Some(i) == failed_at {
                r#"{"status":"failed","error_message":"bad value","warning_message":""}"#.into()
            } else {
                r#"{"status":"processed","error_message":"","warning_message":""}"#.into()
            }
        })
        .collect();
    format!(
        r#"{{"num_events_received":{n},"num_events_processed":{n},"events":[{}]}}"#,
        events.join(",")
    )
}

fn verdict(status: u16, body: &str, retry_after: Option<&str>, sent: usize) -> Verdict {
    classify(
        &answer(status, body, retry_after),
        sent,
        NOW,
        config().retry_max_ms,
    )
}

#[test]
fn a_200_resolves_each_event_and_ends_any_backoff() {
    let mut p = policy();
    p.decide(verdict(503, "", None, 2), 2, 8, NOW, 5);
    assert!(!p.may_send(NOW));
    let v = verdict(200, &results(2, Some(1)), None, 2);
    let Decision::Resolve(per_event) = p.decide(v, 2, 8, NOW, 0) else {
        panic!("per-event results")
    };
    assert!(per_event[0].processed && !per_event[1].processed);
    assert_eq!(per_event[1].error_message.as_deref(), Some("bad value"));
    assert!(p.may_send(NOW) && p.failures() == 0 && p.paused().is_none());
}

#[test]
fn a_422_carries_per_event_results_like_a_200() {
    let body = format!(
        r#"{{"code":953,"message":"partial","details":{}}}"#,
        results(2, Some(0))
    );
    match verdict(422, &body, None, 2) {
        Verdict::Results(r) => assert!(!r[0].processed && r[1].processed),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_200_without_the_right_number_of_results_is_retried_not_taken_as_success() {
    for body in ["{}", r#"{"events":[]}"#, "not json"] {
        assert!(
            matches!(verdict(200, body, None, 2), Verdict::Retry { .. }),
            "{body}"
        );
    }
    assert!(matches!(
        verdict(200, &results(1, None), None, 2),
        Verdict::Retry { .. }
    ));
}

#[test]
fn a_400_splits_until_one_event_is_dead_lettered_with_the_message() {
    let mut p = policy();
    let body = r#"{"code":1,"message":"Invalid parameters."}"#;
    assert_eq!(
        p.decide(verdict(400, body, None, 8), 8, 12, NOW, 0),
        Decision::Split
    );
    match p.decide(verdict(400, body, None, 1), 1, 10, NOW, 0) {
        Decision::DeadLetter(m) => assert_eq!(m, "HTTP 400: Invalid parameters."),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_400_past_the_split_budget_dead_letters_the_group() {
    let mut p = policy();
    match p.decide(verdict(400, "", None, 62), 62, 1, NOW, 0) {
        Decision::DeadLetter(m) => assert!(m.contains("group of 62"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_split_budget_isolates_two_bad_events_and_grows_with_log_n() {
    assert_eq!(split_budget(1), 0);
    assert_eq!(split_budget(2), 4);
    assert_eq!(split_budget(1000), 40);
    assert_eq!(split_budget(1024), 40);
    assert_eq!(split_budget(1025), 44);
}

#[test]
fn a_401_403_or_404_pauses_for_the_long_delay_and_keeps_the_events() {
    for status in [401, 403, 404] {
        let mut p = policy();
        let v = verdict(
            status,
            r#"{"code":2,"message":"Authentication failed."}"#,
            None,
            3,
        );
        let Decision::Pause { until_ms, reason } = p.decide(v, 3, 8, NOW, 0) else {
            panic!("{status} pauses")
        };
        assert_eq!(until_ms, NOW + 3_600_000);
        assert!(reason.contains(&format!("HTTP {status}")), "{reason}");
        assert_eq!(p.paused(), Some(reason.as_str()));
        assert!(!p.may_send(NOW + MINUTE));
        assert!(p.may_send(until_ms), "the pause ends by itself");
    }
}

#[test]
fn a_pause_ends_with_a_reset_or_with_the_next_success() {
    let mut p = policy();
    p.decide(verdict(401, "", None, 1), 1, 0, NOW, 0);
    p.on_reset();
    assert!(p.may_send(NOW) && p.paused().is_none());

    p.decide(verdict(401, "", None, 1), 1, 0, NOW, 0);
    let later = NOW + 3_600_000;
    p.decide(verdict(200, &results(1, None), None, 1), 1, 0, later, 0);
    assert_eq!(p.paused(), None, "a delivery succeeded");
}

#[test]
fn a_413_halves_the_batch_and_grows_back_after_successes() {
    let mut p = policy();
    assert_eq!(
        p.decide(Verdict::TooLarge, 1000, 40, NOW, 0),
        Decision::Smaller
    );
    assert_eq!(p.batch_limit(), 500);
    assert_eq!(
        p.decide(Verdict::TooLarge, 500, 40, NOW, 0),
        Decision::Smaller
    );
    assert_eq!(p.batch_limit(), 250);
    let ok = |p: &mut UploadPolicy, n| {
        let v = verdict(200, &results(n, None), None, n);
        p.decide(v, n, 0, NOW, 0);
    };
    for _ in 0..GROW_BACK_AFTER {
        ok(&mut p, 250);
    }
    assert_eq!(p.batch_limit(), 500);
    for _ in 0..GROW_BACK_AFTER * 3 {
        ok(&mut p, 500);
    }
    assert_eq!(p.batch_limit(), 1000, "never above the configured size");
}

#[test]
fn a_413_for_a_single_event_dead_letters_it() {
    let mut p = policy();
    assert!(matches!(
        p.decide(Verdict::TooLarge, 1, 0, NOW, 0),
        Decision::DeadLetter(_)
    ));
    assert_eq!(p.batch_limit(), 1000);
}

#[test]
fn retryable_answers_back_off_with_full_jitter_and_honour_retry_after() {
    for status in [408, 429, 500, 502, 503, 504] {
        let mut p = policy();
        let v = verdict(status, "", None, 1);
        let Decision::RetryAt { at_ms, .. } = p.decide(v, 1, 0, NOW, 998) else {
            panic!("{status} retries")
        };
        assert_eq!(
            at_ms,
            NOW + 999,
            "{status}: the jitter drawn, under the 1 s base"
        );
        let v = verdict(status, "", Some("120"), 1);
        let Decision::RetryAt { at_ms, .. } = p.decide(v, 1, 0, NOW, 0) else {
            panic!("{status} retries")
        };
        assert_eq!(
            at_ms,
            NOW + 120_000,
            "{status}: Retry-After wins over a shorter jitter"
        );
        assert_eq!(p.failures(), 2);
    }
}

#[test]
fn a_failed_request_is_never_retried_in_the_instant_it_failed() {
    let mut p = policy();
    p.on_committed(NOW);
    for random in [0, 1_000, 2_000] {
        let v = verdict(503, "", None, 1);
        let Decision::RetryAt { at_ms, .. } = p.decide(v, 1, 0, NOW, random) else {
            panic!("retries")
        };
        assert!(at_ms > NOW, "random {random}: retried at {at_ms}");
        assert!(!p.may_send(NOW) && !p.due(NOW), "random {random}");
    }
}

#[test]
fn network_failures_and_unreadable_answers_are_retried() {
    let failed: Result<HttpAnswer, String> = Err("connection failed".into());
    assert!(matches!(
        classify(&failed, 1, NOW, 1000),
        Verdict::Retry {
            retry_after_ms: None,
            ..
        }
    ));
    let cut = Ok(HttpAnswer {
        status: 200,
        retry_after: None,
        date: None,
        body: String::new(),
        body_error: Some("network error: connection reset".into()),
    });
    assert!(matches!(
        classify(&cut, 1, NOW, 1000),
        Verdict::Retry { .. }
    ));
}

#[test]
fn the_backoff_grows_and_is_capped() {
    let mut p = policy();
    for failure in 1..=40u32 {
        let ceiling = (1_000i64 << (failure - 1).min(40)).min(3_600_000);
        // `random == ceiling - 1` draws the top of the jitter range.
        let v = verdict(503, "", None, 1);
        let Decision::RetryAt { at_ms, .. } = p.decide(v, 1, 0, NOW, ceiling as u64 - 1) else {
            panic!()
        };
        assert_eq!(at_ms, NOW + ceiling, "failure {failure}");
    }
}

#[test]
fn a_huge_retry_after_is_capped_not_overflowed() {
    let mut p = policy();
    let v = verdict(503, "", Some("9223372036854775"), 1);
    let Decision::RetryAt { at_ms, .. } = p.decide(v, 1, 0, NOW, 0) else {
        panic!()
    };
    assert_eq!(at_ms, NOW + 3_600_000);
}

#[test]
fn an_empty_queue_with_nothing_scheduled_never_wakes() {
    let mut p = policy();
    assert_eq!(p.next_wake(), None);
    // A backoff that ended, then a success that drained the queue: still nothing to wake for.
    p.on_committed(NOW);
    p.decide(verdict(503, "", Some("1"), 1), 1, 0, NOW, 0);
    p.decide(
        verdict(200, &results(1, None), None, 1),
        1,
        0,
        NOW + 1_000,
        0,
    );
    p.on_queued(0, None, NOW + 1_000);
    p.on_pass_end(NOW + 1_000);
    assert_eq!(p.next_wake(), None);
    assert_eq!(p.next_wake(), None);
}

#[test]
fn waiting_events_wake_at_the_backoff_end_or_after_the_interval() {
    let mut p = policy();
    p.on_committed(NOW);
    assert_eq!(p.next_wake(), Some(NOW + 30_000), "the interval");
    p.decide(verdict(503, "", Some("600"), 1), 1, 0, NOW, 0);
    assert_eq!(p.next_wake(), Some(NOW + 600_000), "the backoff end, once");
    p.on_batch(1, None, 0, NOW + 600_000);
    assert_eq!(p.next_wake(), Some(NOW + 630_000));
    p.on_batch(1, Some(NOW + 700_000), 0, NOW + 600_000);
    assert_eq!(p.next_wake(), Some(NOW + 700_000), "the retry time");
}

#[test]
fn a_stale_stored_deadline_neither_holds_nor_wakes() {
    let mut p = UploadPolicy::new(config());
    p.restore(NOW - 5_000, 3, NOW);
    assert!(p.may_send(NOW));
    assert_eq!(p.next_wake(), Some(NOW + 30_000));
    p.on_batch(3, None, NOW - 5_000, NOW);
    assert!(p.held_until(NOW).is_none());
}

#[test]
fn a_stored_deadline_is_held_to_one_longest_backoff_from_now() {
    let max = config().retry_max_ms;
    // (stored deadline, held until): a deadline written before the clock was set back.
    let table = [
        (NOW + 20_000, Some(NOW + 20_000)),
        (NOW + max, Some(NOW + max)),
        (NOW + 86_400_000, Some(NOW + max)),
        (NOW + 10 * 365 * 86_400_000, Some(NOW + max)),
        (i64::MAX, Some(NOW + max)),
        (NOW, None),
    ];
    for (stored, held) in table {
        let mut p = UploadPolicy::new(config());
        p.restore(stored, 1, NOW);
        assert_eq!(p.held_until(NOW), held, "stored {stored}");
        let mut late = UploadPolicy::new(config());
        late.on_batch(1, None, stored, NOW);
        assert_eq!(late.held_until(NOW), held, "read with a batch: {stored}");
    }
}

#[test]
fn a_stored_deadline_read_late_still_holds_once() {
    let mut p = UploadPolicy::new(config());
    p.on_batch(2, None, NOW + 9_000, NOW);
    assert!(!p.may_send(NOW));
    assert_eq!(p.next_wake(), Some(NOW + 9_000));
    p.on_reset();
    p.on_batch(2, None, NOW + 9_000, NOW);
    assert!(p.may_send(NOW), "read once: not put back by later batches");
}

#[test]
fn the_deadline_is_stored_when_it_changes_and_cleared_after_a_success() {
    let mut p = policy();
    assert_eq!(p.hold_to_store(), None);
    p.decide(verdict(503, "", Some("5"), 1), 1, 0, NOW, 0);
    assert_eq!(p.hold_to_store(), Some(NOW + 5_000));
    assert_eq!(p.hold_to_store(), None, "written once");
    p.decide(
        verdict(200, &results(1, None), None, 1),
        1,
        0,
        NOW + 5_000,
        0,
    );
    assert_eq!(p.hold_to_store(), Some(0), "cleared in the store too");
}

#[test]
fn waiting_events_are_due_at_the_interval_or_the_backoff_end_not_before() {
    let mut p = policy();
    assert!(!p.due(NOW), "nothing queued");
    p.on_committed(NOW);
    assert!(!p.due(NOW + 29_999));
    assert!(p.due(NOW + 30_000));
    p.decide(verdict(503, "", Some("60"), 1), 1, 0, NOW + 30_000, 0);
    assert!(p.due(NOW + 90_000), "the backoff ended");
    p.on_batch(1, None, 0, NOW + 90_000);
    assert!(
        !p.due(NOW + 90_000),
        "looked at: the next look is an interval away"
    );
}

#[test]
fn a_backoff_that_ran_out_during_the_pass_retries_at_once_and_then_waits_for_the_interval() {
    let mut p = policy();
    p.on_committed(NOW);
    let Decision::RetryAt { at_ms, .. } = p.decide(verdict(503, "", None, 1), 1, 0, NOW, 0) else {
        panic!()
    };
    assert_eq!(at_ms, NOW + 1, "the shortest jitter");
    let end = NOW + 5;
    p.on_pass_end(end);
    assert_eq!(
        p.next_wake(),
        Some(at_ms),
        "retried at once, not after the interval"
    );
    assert!(p.due(end));
    // That pass could send nothing (consent withdrawn, say): no wake-up loop follows.
    p.on_pass_end(end);
    assert_eq!(p.next_wake(), Some(end + 30_000));
}
