//! What the SDK answers is what happened: an app's bad event is refused whether or not
//! collection is enabled, an event that will be dropped for want of an identity says so when
//! it is tracked, and `remaining` counts every event that waits, wherever it waits.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
mod common;

use std::sync::{Arc, Mutex};

use app_conversions::{
    ConversionsClient, ConversionsError, CustomData, Event, EventName, LogLevel, LogSink,
    PrivacyState,
};
use common::*;

fn disabled() -> PrivacyState {
    PrivacyState {
        collection_enabled: false,
        ..privacy_with_id(GAID)
    }
}

fn invalid_field(result: Result<app_conversions::TrackResult, ConversionsError>) -> String {
    match result {
        Err(ConversionsError::InvalidInput { field, .. }) => field,
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

#[test]
fn a_bad_event_is_refused_while_collection_is_disabled_too() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&sandbox.base_url(), &dir.path().join("buffer.db"));
    cfg.strict_validation = true;
    let client = ConversionsClient::new(cfg, app(), device(), disabled()).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let bad_name = Event {
        custom_event_name: Some("no spaces allowed here!".into()),
        ..Event::new(EventName::Custom)
    };
    let future = Event {
        event_time: Some(now + 115 * 86_400),
        ..Event::new(EventName::Lead)
    };
    let long_id = Event {
        event_id: Some("x".repeat(300)),
        ..Event::new(EventName::Lead)
    };
    let bad_currency = Event {
        custom_data: Some(CustomData {
            currency: Some("dollars".into()),
            ..Default::default()
        }),
        ..Event::new(EventName::Checkout)
    };
    assert_eq!(invalid_field(client.track(bad_name)), "custom_event_name");
    assert_eq!(invalid_field(client.track(future)), "event_time");
    assert_eq!(invalid_field(client.track(long_id)), "event_id");
    assert_eq!(
        invalid_field(client.track(bad_currency)),
        "custom_data.currency"
    );
    // A good event is still not recorded without consent.
    let good = client.track(Event::new(EventName::Lead)).unwrap();
    assert!(!good.recorded);
}

#[derive(Default)]
struct Lines(Mutex<Vec<(LogLevel, String)>>);

impl LogSink for Lines {
    fn log(&self, level: LogLevel, message: String) {
        self.0.lock().unwrap().push((level, message));
    }
}

#[test]
fn an_event_without_identity_is_reported_when_tracked() {
    let sandbox = sandbox();
    // Straight to the API, no advertising id, no email: nothing can identify the user.
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&sandbox.base_url(), &dir.path().join("buffer.db"));
    let client = ConversionsClient::new(cfg, app(), device(), PrivacyState::default()).unwrap();
    let lines = Arc::new(Lines::default());
    client.set_log_sink(Some(lines.clone()));
    let result = client.track(Event::new(EventName::Lead)).unwrap();
    assert!(result.recorded);
    let warning = result
        .warnings
        .iter()
        .find(|w| w.field == "user_data")
        .expect("a user_data warning at track time");
    assert!(
        warning.rule.contains("endpoint_is_relay"),
        "the rule names the way out: {}",
        warning.rule
    );
    assert!(lines
        .0
        .lock()
        .unwrap()
        .iter()
        .any(|(level, line)| *level == LogLevel::Warn && line.contains("no identity")));
    // With an email the same event is fine and says nothing.
    let with_email = client.track(checkout("1.00")).unwrap();
    assert!(with_email.warnings.is_empty());
    client.shutdown(5000).unwrap();
}

#[test]
fn an_event_without_identity_is_fine_through_a_relay() {
    let sandbox = sandbox();
    let h = start_with(&sandbox, |c| c.endpoint_is_relay = Some(true));
    h.client.set_privacy(PrivacyState::default()).unwrap();
    let result = h.client.track(Event::new(EventName::Lead)).unwrap();
    assert!(result.warnings.is_empty());
}

#[test]
fn a_flush_that_runs_out_of_time_counts_what_waits_in_the_channel_too() {
    // Nothing can be delivered (a closed port): every event tracked still waits. A burst keeps
    // the store worker busy, so the flush runs out of time with events not yet read from its
    // channel.
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config("http://127.0.0.1:9", &dir.path().join("buffer.db"));
    cfg.max_queued_events = 100_000;
    let client = ConversionsClient::new(cfg, app(), device(), privacy_with_id(GAID)).unwrap();
    let events = 20_000;
    for _ in 0..events {
        client.track(Event::new(EventName::Lead)).unwrap();
    }
    // Answered when the commit is done or at once (a backoff began): either way, all wait.
    let report = client.flush(0).unwrap();
    assert_eq!(report.remaining, events, "{report:?}");
    let report = client.flush(10_000).unwrap();
    assert_eq!(report.remaining, events, "{report:?}");
}
