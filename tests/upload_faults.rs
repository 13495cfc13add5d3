//! Upload-thread faults found by reading the old delivery loop, each a test that failed on it:
//! an app callback under an SDK lock, shutdown unseen during a long pass, consent withdrawn
//! while a refused batch is split, a batch every event spoils, and a 413 that shrank batches
//! for the rest of the process.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

mod common;

use std::sync::mpsc::channel;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use app_conversions::{
    BatchOutcome, ConversionsClient, DeliveryListener, EventName, LogLevel, LogSink, PrivacyState,
};
use app_conversions_sandbox::Fault;
use common::*;

const WAIT: u64 = 10_000;

fn lead(id: &str) -> app_conversions::Event {
    app_conversions::Event {
        event_id: Some(id.into()),
        user_data: Some(app_conversions::UserData {
            emails: vec!["buyer@example.com".into()],
            ..Default::default()
        }),
        ..event(EventName::Lead)
    }
}

fn status(status: u16) -> Fault {
    Fault::Status {
        status,
        retry_after: None,
        body: None,
    }
}

fn request_sizes(sandbox: &app_conversions_sandbox::Sandbox) -> Vec<usize> {
    sandbox
        .requests()
        .iter()
        .map(|r| body_ids(&r.body).len())
        .collect()
}

/// A log sink that asks the SDK for its diagnostics from inside the callback, as an app
/// showing SDK health in a debug screen might.
struct DiagnosingSink {
    client: OnceLock<Weak<ConversionsClient>>,
    answered: Mutex<Option<std::sync::mpsc::Sender<String>>>,
}

impl LogSink for DiagnosingSink {
    fn log(&self, _level: LogLevel, message: String) {
        if !message.contains("buffer unavailable") {
            return;
        }
        if let Some(client) = self.client.get().and_then(Weak::upgrade) {
            let error = client.diagnostics().storage_error.unwrap_or_default();
            if let Some(tx) = self.answered.lock().unwrap().as_ref() {
                let _ = tx.send(error);
            }
        }
    }
}

#[test]
fn a_log_sink_may_call_back_into_the_sdk_while_storage_fails() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("buffer.db");
    let schema_version = |version: u32| {
        let file = rusqlite::Connection::open(&db).unwrap();
        file.pragma_update(None, "user_version", version).unwrap();
    };
    // A database from a newer SDK: the first open fails, before the sink is set.
    schema_version(98);
    let client = ConversionsClient::new(
        config(&sandbox.base_url(), &db),
        app(),
        device(),
        privacy_with_id(GAID),
    )
    .unwrap();
    let (tx, answered) = channel();
    let sink = Arc::new(DiagnosingSink {
        client: OnceLock::new(),
        answered: Mutex::new(Some(tx)),
    });
    let _ = sink.client.set(Arc::downgrade(&client));
    client.set_log_sink(Some(sink));
    // A different failure, logged with the sink set (the file is never free to be recreated).
    schema_version(99);
    client.track(lead("kept")).unwrap();
    // Each failure logged calls the sink. The SDK's own open may meet the change above and
    // fail "database is locked" first; its retry then meets version 99.
    let give_up = std::time::Instant::now() + Duration::from_secs(10);
    let mut seen = Vec::new();
    while let Ok(error) =
        answered.recv_timeout(give_up.saturating_duration_since(std::time::Instant::now()))
    {
        let found = error.contains("version 99");
        seen.push(error);
        if found {
            break;
        }
    }
    assert!(
        seen.last().is_some_and(|e| e.contains("version 99")),
        "the sink's call into the SDK did not return: {seen:?}"
    );
}

#[test]
fn shutdown_is_seen_between_the_requests_of_a_long_pass() {
    let sandbox = sandbox();
    let h = start_with(&sandbox, |c| c.max_batch = 1);
    for i in 0..20 {
        h.client.track(lead(&format!("slow-{i}"))).unwrap();
        sandbox.inject(Fault::Delay { millis: 300 });
    }
    h.client.on_background().unwrap();
    assert!(sandbox.wait_for_accepted(1, Duration::from_secs(5)));
    let asked = Instant::now();
    h.client
        .shutdown(2_000)
        .expect("shutdown within its timeout");
    assert!(asked.elapsed() < Duration::from_millis(1_500));
    assert!(sandbox.accepted_count() < 20, "the pass stopped early");
    // The database is free again for the next client.
    let again = reopen(&sandbox, h.dir.path(), privacy_with_id(GAID));
    let report = again.flush(WAIT).unwrap();
    assert_eq!(report.remaining, 0);
    assert_eq!(sandbox.accepted_count(), 20);
}

/// Withdraws consent from the listener when a split begins: the app reacting to a dialog
/// while a refused batch is being isolated.
struct WithdrawOnSplit(OnceLock<Weak<ConversionsClient>>);

impl DeliveryListener for WithdrawOnSplit {
    fn on_batch(&self, outcome: BatchOutcome) {
        let splitting = outcome
            .message
            .as_deref()
            .is_some_and(|m| m.contains("split"));
        if let (true, Some(client)) = (splitting, self.0.get().and_then(Weak::upgrade)) {
            let withdrawn = PrivacyState {
                collection_enabled: false,
                ..Default::default()
            };
            client.set_privacy(withdrawn).unwrap();
        }
    }
}

#[test]
fn consent_withdrawn_during_a_split_stops_the_split() {
    let sandbox = sandbox();
    let h = start(&sandbox);
    let listener = Arc::new(WithdrawOnSplit(OnceLock::new()));
    let _ = listener.0.set(Arc::downgrade(&h.client));
    h.client.set_delivery_listener(Some(listener));
    sandbox.inject(status(400));
    for i in 0..8 {
        h.client.track(lead(&format!("split-{i}"))).unwrap();
    }
    h.client.flush(WAIT).unwrap();
    assert_eq!(
        request_sizes(&sandbox),
        [8],
        "no half was sent after consent was withdrawn"
    );
    assert_eq!(
        h.client.diagnostics().queued,
        0,
        "and the buffer was purged"
    );
}

#[test]
fn a_batch_every_event_spoils_costs_a_bounded_number_of_requests() {
    let sandbox = sandbox();
    let h = start(&sandbox);
    for _ in 0..2000 {
        sandbox.inject(status(400));
    }
    for i in 0..1000 {
        h.client.track(lead(&format!("bad-{i}"))).unwrap();
    }
    let report = h.client.flush(60_000).unwrap();
    let requests = sandbox.requests().len();
    sandbox.clear_faults();
    println!("a 1,000-event batch refused whole every time: {requests} requests");
    assert!(requests <= 41, "{requests} requests (was 1,999)");
    assert_eq!(report.remaining, 0);
    let d = h.client.diagnostics();
    assert_eq!(d.dead_lettered, 1000);
    assert!(d.recent_dead_letters[0].error_message.contains("HTTP 400"));
}

#[test]
fn a_413_lowers_the_batch_size_only_until_requests_succeed_again() {
    let sandbox = sandbox();
    let h = start_with(&sandbox, |c| c.max_batch = 8);
    let mut next = 0;
    let mut send_eight = |inject_413: bool| {
        if inject_413 {
            sandbox.inject(status(413));
        }
        for _ in 0..8 {
            h.client.track(lead(&format!("grow-{next}"))).unwrap();
            next += 1;
        }
        assert_eq!(h.client.flush(WAIT).unwrap().remaining, 0);
    };
    send_eight(true);
    assert_eq!(request_sizes(&sandbox), [8, 4, 4], "halved after the 413");
    // After four accepted requests at the lowered size it doubles back (a round whose
    // events were committed in two groups may take one more round).
    for _ in 0..3 {
        send_eight(false);
        if request_sizes(&sandbox).last() == Some(&8) {
            break;
        }
    }
    let sizes = request_sizes(&sandbox);
    assert_eq!(sizes.last(), Some(&8), "grew back: {sizes:?}");
    send_eight(false);
    assert_eq!(
        request_sizes(&sandbox).last(),
        Some(&8),
        "and stays at the configured size"
    );
}

/// Issue 19, trigger 9: a flush that runs out of time acknowledges nothing, and its report
/// says what is still queued instead of `remaining: 0`.
#[test]
fn a_timed_out_flush_reports_what_remains_queued() {
    let sandbox = sandbox();
    let h = start(&sandbox);
    for id in ["slow-1", "slow-2", "slow-3"] {
        h.client.track(lead(id)).expect("track");
    }
    sandbox.inject(Fault::Delay { millis: 3_000 });
    let report = h.client.flush(300).expect("flush");
    assert!(report.timed_out, "{report:?}");
    assert_eq!(report.remaining, 3, "{report:?}");
    let report = h.client.flush(WAIT).expect("flush");
    assert_eq!(
        (report.remaining, report.timed_out),
        (0, false),
        "{report:?}"
    );
}
