//! Delivery semantics against the sandbox endpoint: every row of the answers table,
//! retries with stable event ids, offline periods, restarts and concurrency.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use app_conversions::{ConversionsError, EventName};
use app_conversions_sandbox::{Fault, Sandbox, SandboxConfig};
use common::*;

const WAIT: u64 = 10_000;

fn lead(id: &str) -> app_conversions::Event {
    app_conversions::Event {
        event_id: Some(id.into()),
        ..event(EventName::Lead)
    }
}

#[test]
fn processed_events_leave_the_buffer() {
    let sandbox = sandbox();
    let h = start(&sandbox);
    let id = h.client.track(checkout("19.99")).unwrap().event_id;
    let report = h.client.flush(WAIT).unwrap();
    assert_eq!((report.sent, report.processed, report.remaining), (1, 1, 0));
    assert_eq!(report.last_status, Some(200));
    assert_eq!(accepted_ids(&sandbox), [id]);
    let request = &sandbox.requests()[0];
    assert_eq!(
        request.authorization.as_deref(),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert!(request
        .user_agent
        .as_deref()
        .unwrap_or("")
        .starts_with("app-conversions/"));
    assert_eq!(h.client.diagnostics().delivered, 1);
}

#[test]
fn failed_events_in_a_422_are_dead_lettered_with_the_message() {
    let sandbox = sandbox();
    let h = start(&sandbox);
    h.client.track(lead("good")).unwrap();
    // Registered nowhere: the sandbox fails this custom name per event.
    let mut custom = lead("bad");
    custom.name = EventName::Custom;
    custom.custom_event_name = Some("TookSurvey".into());
    h.client.track(custom).unwrap();
    let report = h.client.flush(WAIT).unwrap();
    assert_eq!(
        (report.processed, report.failed, report.remaining),
        (1, 1, 0)
    );
    assert_eq!(report.last_status, Some(422));
    let d = h.client.diagnostics();
    assert_eq!(d.dead_lettered, 1);
    assert_eq!(d.recent_dead_letters[0].event_id, "bad");
    assert!(d.recent_dead_letters[0]
        .error_message
        .contains("TookSurvey"));
    assert_eq!(accepted_ids(&sandbox), ["good"]);
}

#[test]
fn mixed_results_in_a_200_are_handled_per_event() {
    let sandbox = Sandbox::start(SandboxConfig {
        token: TOKEN.into(),
        ad_account_id: AD_ACCOUNT.into(),
        partial_failure_status: 200,
        ..Default::default()
    })
    .unwrap();
    let h = start(&sandbox);
    h.client.track(lead("good")).unwrap();
    let mut custom = lead("bad");
    custom.name = EventName::Custom;
    custom.custom_event_name = Some("Unmapped".into());
    h.client.track(custom).unwrap();
    let report = h.client.flush(WAIT).unwrap();
    assert_eq!(
        (report.processed, report.failed, report.last_status),
        (1, 1, Some(200))
    );
}

#[test]
fn a_400_is_split_until_the_bad_event_is_isolated() {
    let sandbox = sandbox();
    let h = start(&sandbox);
    h.client.track(lead("first")).unwrap();
    h.client.track(lead("second")).unwrap();
    // Whole batch refused, then "first" alone passes, then "second" alone is refused.
    sandbox.inject(Fault::Status {
        status: 400,
        retry_after: None,
        body: None,
    });
    sandbox.inject(Fault::Delay { millis: 0 });
    sandbox.inject(Fault::Status {
        status: 400,
        retry_after: None,
        body: None,
    });
    let report = h.client.flush(WAIT).unwrap();
    assert_eq!(report.remaining, 0);
    assert_eq!(accepted_ids(&sandbox), ["first"]);
    let bodies: Vec<Vec<String>> = sandbox
        .requests()
        .iter()
        .map(|r| body_ids(&r.body))
        .collect();
    assert_eq!(
        bodies,
        [vec!["first", "second"], vec!["first"], vec!["second"]]
    );
    let d = h.client.diagnostics();
    assert_eq!(d.dead_lettered, 1);
    assert_eq!(d.recent_dead_letters[0].event_id, "second");
}

#[test]
fn a_rejected_token_pauses_delivery_until_set_token() {
    let sandbox = sandbox();
    let h = start_with(&sandbox, |c| c.token = "wrong-token".into());
    h.client.track(lead("kept")).unwrap();
    let report = h.client.flush(WAIT).unwrap();
    assert_eq!((report.last_status, report.remaining), (Some(401), 1));
    let d = h.client.diagnostics();
    assert!(
        d.paused_reason.as_deref().unwrap_or("").contains("401"),
        "{d:?}"
    );
    assert!(!d.paused_reason.unwrap().contains("wrong-token"));
    // Still paused: a flush sends nothing.
    assert_eq!(h.client.flush(1_000).unwrap().sent, 0);
    h.client.set_token(TOKEN.into()).unwrap();
    let report = h.client.flush(WAIT).unwrap();
    assert_eq!((report.processed, report.remaining), (1, 0));
    assert_eq!(accepted_ids(&sandbox), ["kept"]);
    assert!(h.client.diagnostics().paused_reason.is_none());
}

#[test]
fn another_ad_account_is_a_403_pause() {
    let sandbox = sandbox();
    let h = start_with(&sandbox, |c| c.ad_account_id = "123".into());
    h.client.track(lead("kept")).unwrap();
    let report = h.client.flush(WAIT).unwrap();
    assert_eq!((report.last_status, report.remaining), (Some(403), 1));
    assert!(h.client.diagnostics().paused_reason.is_some());
}

#[test]
fn a_413_halves_the_batch() {
    let sandbox = sandbox();
    let h = start(&sandbox);
    for i in 0..8 {
        h.client.track(lead(&format!("e{i}"))).unwrap();
    }
    sandbox.inject(Fault::Status {
        status: 413,
        retry_after: None,
        body: None,
    });
    let report = h.client.flush(WAIT).unwrap();
    assert_eq!(report.remaining, 0);
    let sizes: Vec<usize> = sandbox
        .requests()
        .iter()
        .map(|r| body_ids(&r.body).len())
        .collect();
    assert_eq!(sizes, [8, 4, 4]);
    assert_eq!(accepted_ids(&sandbox).len(), 8);
}

#[test]
fn retries_carry_the_same_event_ids() {
    let sandbox = sandbox();
    let h = start(&sandbox);
    for i in 0..3 {
        h.client.track(lead(&format!("stable-{i}"))).unwrap();
    }
    sandbox.inject(Fault::Status {
        status: 503,
        retry_after: None,
        body: None,
    });
    let report = h.client.flush(WAIT).unwrap();
    assert_eq!(report.remaining, 0);
    let requests = sandbox.requests();
    assert_eq!((requests[0].status, requests[1].status), (503, 200));
    assert_eq!(body_ids(&requests[0].body), body_ids(&requests[1].body));
    assert_eq!(accepted_ids(&sandbox), ["stable-0", "stable-1", "stable-2"]);
}

#[test]
fn retryable_answers_are_retried_without_loss() {
    let faults = vec![
        Fault::Status {
            status: 408,
            retry_after: None,
            body: None,
        },
        Fault::Status {
            status: 429,
            retry_after: Some("1".into()),
            body: None,
        },
        Fault::Status {
            status: 500,
            retry_after: None,
            body: None,
        },
        Fault::Status {
            status: 502,
            retry_after: None,
            body: None,
        },
        Fault::DropConnection,
        Fault::ResetMidResponse,
        Fault::GarbageBody,
        Fault::WrongEventCount,
        Fault::Redirect {
            location: "http://127.0.0.1:9/elsewhere".into(),
        },
    ];
    for fault in faults {
        let label = format!("{fault:?}");
        let sandbox = sandbox();
        let h = start(&sandbox);
        h.client.track(lead("survivor")).unwrap();
        sandbox.inject(fault);
        let report = h.client.flush(WAIT).unwrap();
        assert_eq!(report.remaining, 0, "{label}: {report:?}");
        assert_eq!(sandbox.times_accepted("survivor"), 1, "{label}");
        assert!(sandbox.requests().len() >= 2, "{label}: retried");
        assert_eq!(
            sandbox.requests()[1].path,
            sandbox.requests()[0].path,
            "{label}: redirect not followed"
        );
    }
}

#[test]
fn retry_after_is_honoured() {
    let sandbox = sandbox();
    let h = start(&sandbox);
    h.client.track(lead("patient")).unwrap();
    sandbox.inject(Fault::Status {
        status: 429,
        retry_after: Some("2".into()),
        body: None,
    });
    let started = std::time::Instant::now();
    let report = h.client.flush(WAIT).unwrap();
    assert_eq!(report.remaining, 0);
    assert!(
        started.elapsed() >= Duration::from_millis(1900),
        "waited {:?}",
        started.elapsed()
    );
}

#[test]
fn a_short_flush_returns_with_the_backoff_pending() {
    let sandbox = sandbox();
    let h = start(&sandbox);
    h.client.track(lead("later")).unwrap();
    sandbox.inject(Fault::Status {
        status: 503,
        retry_after: Some("60".into()),
        body: None,
    });
    let report = h.client.flush(2_000).unwrap();
    assert_eq!((report.remaining, report.last_status), (1, Some(503)));
    let d = h.client.diagnostics();
    assert_eq!(d.consecutive_failures, 1);
    assert!(d.next_attempt_time.unwrap() >= d.last_attempt_time.unwrap() + 55);
}

#[test]
fn offline_then_back_online() {
    let probe = sandbox();
    let port = probe.port();
    probe.stop();
    let dir = tempfile::tempdir().unwrap();
    let endpoint = format!("http://127.0.0.1:{port}");
    let cfg = config(&endpoint, &dir.path().join("buffer.db"));
    let client = new_client(cfg, app(), device(), privacy_with_id(GAID)).unwrap();
    for i in 0..5 {
        client.track(lead(&format!("offline-{i}"))).unwrap();
    }
    let report = client.flush(2_000).unwrap();
    assert_eq!((report.remaining, report.last_status), (5, None));
    assert!(client.diagnostics().last_error.is_some());
    let sandbox = Sandbox::start(SandboxConfig {
        port,
        token: TOKEN.into(),
        ad_account_id: AD_ACCOUNT.into(),
        ..Default::default()
    })
    .unwrap();
    client.on_network_available().unwrap();
    let report = client.flush(WAIT).unwrap();
    assert_eq!(report.remaining, 0);
    assert_eq!(accepted_ids(&sandbox).len(), 5);
}

#[test]
fn a_restart_with_a_backlog_delivers_each_event_once() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let first = reopen(&sandbox, dir.path(), privacy_with_id(GAID));
    let ids: Vec<String> = (0..50)
        .map(|i| first.track(lead(&format!("b{i}"))).unwrap().event_id)
        .collect();
    first.shutdown(WAIT).unwrap();
    assert!(sandbox.requests().is_empty() || accepted_ids(&sandbox).len() <= 50);
    let second = reopen(&sandbox, dir.path(), privacy_with_id(GAID));
    let report = second.flush(WAIT).unwrap();
    assert_eq!(report.remaining, 0);
    for id in &ids {
        assert_eq!(sandbox.times_accepted(id), 1, "{id}");
    }
}

#[test]
fn a_restart_sends_the_backlog_without_waiting_for_a_trigger() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let first = reopen(&sandbox, dir.path(), privacy_with_id(GAID));
    for i in 0..3 {
        first.track(lead(&format!("left{i}"))).unwrap();
    }
    first.shutdown(WAIT).unwrap();
    // Three events are no trigger: the first run sent nothing.
    assert!(sandbox.requests().is_empty());

    let _second = reopen(&sandbox, dir.path(), privacy_with_id(GAID));
    // The periodic send is 30 s away: events arriving sooner were sent because the client
    // started with a backlog.
    let deadline = Instant::now() + Duration::from_millis(WAIT);
    while accepted_ids(&sandbox).len() < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(accepted_ids(&sandbox), ["left0", "left1", "left2"]);
}

#[test]
fn tracking_from_eight_threads_while_flushing_loses_nothing() {
    let sandbox = sandbox();
    let h = start(&sandbox);
    let client = h.client.clone();
    let flusher = std::thread::spawn(move || {
        for _ in 0..10 {
            client.flush(WAIT).unwrap();
        }
    });
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let client: Arc<_> = h.client.clone();
            std::thread::spawn(move || {
                (0..500)
                    .map(|i| client.track(lead(&format!("t{t}-{i}"))).unwrap().event_id)
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let ids: Vec<String> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    flusher.join().unwrap();
    assert_eq!(h.client.flush(WAIT).unwrap().remaining, 0);
    assert_eq!(ids.len(), 4000);
    for id in &ids {
        assert_eq!(sandbox.times_accepted(id), 1, "{id}");
    }
    assert_eq!(sandbox.accepted().len(), 4000);
}

#[test]
fn ten_thousand_events_go_in_batches_of_at_most_a_thousand() {
    let sandbox = sandbox();
    let h = start(&sandbox);
    for i in 0..10_000 {
        h.client.track(lead(&format!("bulk-{i}"))).unwrap();
    }
    let report = h.client.flush(60_000).unwrap();
    assert_eq!(report.remaining, 0);
    assert_eq!(sandbox.accepted().len(), 10_000);
    let sizes: Vec<usize> = sandbox
        .requests()
        .iter()
        .map(|r| body_ids(&r.body).len())
        .collect();
    assert!(sizes.iter().all(|n| *n <= 1000), "{sizes:?}");
    assert_eq!(sizes.iter().sum::<usize>(), 10_000);
    // Oldest first.
    assert_eq!(accepted_ids(&sandbox)[0], "bulk-0");
    assert_eq!(accepted_ids(&sandbox)[9_999], "bulk-9999");
}

#[test]
fn test_mode_sends_at_most_twenty_per_request_and_flags_the_query() {
    let sandbox = sandbox();
    let h = start_with(&sandbox, |c| c.test_mode = true);
    for i in 0..45 {
        h.client.track(lead(&format!("t{i}"))).unwrap();
    }
    assert_eq!(h.client.flush(WAIT).unwrap().remaining, 0);
    let requests = sandbox.requests();
    assert!(requests
        .iter()
        .all(|r| r.test_mode && body_ids(&r.body).len() <= 20));
    assert_eq!(requests.len(), 3);
    assert!(
        sandbox.accepted().is_empty(),
        "test events are not recorded"
    );
}

#[test]
fn expired_events_are_dropped_before_sending() {
    let sandbox = sandbox();
    let h = start_with(&sandbox, |c| c.max_event_age_secs = 2);
    // The first attempt fails and the server asks for 3 s: by then the event is too old.
    sandbox.inject(Fault::Status {
        status: 503,
        retry_after: Some("3".into()),
        body: None,
    });
    h.client.track(lead("old")).unwrap();
    // Shorter than the 3 s backoff, so the flush returns right after the 503; long enough for
    // the first attempt on a loaded machine.
    let report = h.client.flush(2_000).unwrap();
    assert_eq!((report.last_status, report.remaining), (Some(503), 1));
    let report = h.client.flush(WAIT).unwrap();
    assert_eq!((report.sent, report.remaining), (0, 0));
    assert_eq!(h.client.diagnostics().dropped_expired, 1);
    assert_eq!(sandbox.times_accepted("old"), 0);
}

#[test]
fn without_identity_events_are_dropped_when_sending_directly() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&sandbox.base_url(), &dir.path().join("buffer.db"));
    let opted_out = app_conversions::PrivacyState {
        opt_out: true,
        ..Default::default()
    };
    let client = new_client(cfg, app(), device(), opted_out).unwrap();
    client.track(lead("anonymous")).unwrap();
    client.track(checkout("5.00")).unwrap();
    let report = client.flush(WAIT).unwrap();
    assert_eq!((report.processed, report.remaining), (1, 0));
    assert_eq!(client.diagnostics().dropped_no_identity, 1);
    assert_eq!(sandbox.times_accepted("anonymous"), 0);
}

#[test]
fn a_second_client_on_the_same_database_is_refused() {
    let sandbox = sandbox();
    let h = start(&sandbox);
    let cfg = config(&sandbox.base_url(), &h.db());
    match new_client(cfg, app(), device(), Default::default()) {
        Err(ConversionsError::DatabaseInUse { .. }) => {}
        other => panic!("expected DatabaseInUse, got {:?}", other.err()),
    }
    h.client.shutdown(WAIT).unwrap();
    let cfg = config(&sandbox.base_url(), &h.db());
    assert!(new_client(cfg, app(), device(), Default::default()).is_ok());
}

#[test]
fn dead_letters_are_clearable() {
    let sandbox = sandbox();
    let h = start(&sandbox);
    let mut custom = lead("bad");
    custom.name = EventName::Custom;
    custom.custom_event_name = Some("NotRegistered".into());
    h.client.track(custom).unwrap();
    h.client.flush(WAIT).unwrap();
    assert_eq!(h.client.diagnostics().dead_lettered, 1);
    h.client.clear_dead_letters(WAIT).unwrap();
    assert_eq!(h.client.diagnostics().dead_lettered, 0);
}

#[test]
fn the_listener_hears_each_batch() {
    use std::sync::Mutex;
    struct Recorder(Mutex<Vec<app_conversions::BatchOutcome>>);
    impl app_conversions::DeliveryListener for Recorder {
        fn on_batch(&self, outcome: app_conversions::BatchOutcome) {
            self.0.lock().unwrap().push(outcome);
        }
    }
    let sandbox = sandbox();
    let h = start(&sandbox);
    let recorder = Arc::new(Recorder(Mutex::new(Vec::new())));
    h.client.set_delivery_listener(Some(recorder.clone()));
    h.client.track(lead("heard")).unwrap();
    sandbox.inject(Fault::Status {
        status: 503,
        retry_after: None,
        body: None,
    });
    h.client.flush(WAIT).unwrap();
    let heard = recorder.0.lock().unwrap().clone();
    assert_eq!(heard.len(), 2);
    assert!(heard[0].will_retry && heard[0].status == Some(503));
    assert_eq!((heard[1].processed, heard[1].status), (1, Some(200)));
}
