//! Size caps on what an app tracks, bounds on every numeric setting, and the custom-name
//! registry while storage is unavailable, through the public client.
//!
//! - An oversized value or list is refused (strict) or dropped with a warning (lenient) on the
//!   caller's thread before any expensive work; an event whose JSON passes 64 KiB is refused in
//!   both modes. Each names the field and the rule.
//! - Every numeric `ClientConfig` field at 0, 2^63 and `u64::MAX` either fails with
//!   `InvalidConfig` naming the field, or gives a client that delivers through a run of
//!   server failures without a caught panic and without a burst of requests.
//! - A custom name counts towards the 15-name limit as soon as `track()` accepts it, whether
//!   or not the buffer can be written: `recorded: true` always means the event is delivered.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use app_conversions::{
    ClientConfig, Clock, ConversionsClient, ConversionsError, CustomData, Event, EventName,
    ManualClock, SystemClock,
};
use app_conversions_sandbox::Fault;
use common::*;

const WAIT: u64 = 10_000;

fn lead(id: &str) -> Event {
    Event {
        event_id: Some(id.into()),
        ..checkout("1")
    }
}

fn with_custom_data(id: &str, custom: CustomData) -> Event {
    Event {
        custom_data: Some(custom),
        ..lead(id)
    }
}

fn client_in(dir: &std::path::Path, endpoint: &str, strict: bool) -> Arc<ConversionsClient> {
    let cfg = ClientConfig {
        strict_validation: strict,
        ..config(endpoint, &dir.join("buffer.db"))
    };
    ConversionsClient::new(cfg, app(), device(), privacy_with_id(GAID)).expect("client")
}

fn invalid_field(result: Result<impl std::fmt::Debug, ConversionsError>) -> (String, String) {
    match result {
        Err(ConversionsError::InvalidInput { field, rule }) => (field, rule),
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

#[test]
fn an_oversized_value_is_refused_in_strict_mode_and_dropped_with_a_warning_otherwise() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let huge = CustomData {
        content_name: Some("\0".repeat(1_000_000)),
        ..Default::default()
    };

    let strict = client_in(dir.path(), &sandbox.base_url(), true);
    let (field, rule) = invalid_field(strict.track(with_custom_data("strict", huge.clone())));
    assert_eq!(field, "custom_data.content_name");
    assert!(rule.contains("at most"), "{rule}");
    strict.shutdown(WAIT).unwrap();
    drop(strict);

    let lenient = client_in(dir.path(), &sandbox.base_url(), false);
    let result = lenient
        .track(with_custom_data("lenient", huge))
        .expect("kept without the value");
    assert_eq!(result.warnings.len(), 1, "{result:?}");
    assert_eq!(result.warnings[0].field, "custom_data.content_name");
    lenient.track(lead("after")).unwrap();
    assert_eq!(lenient.flush(WAIT).unwrap().remaining, 0);
    assert_eq!(sandbox.times_accepted("lenient"), 1);
    assert_eq!(sandbox.times_accepted("after"), 1);
    let sent = sandbox.accepted();
    assert!(sent
        .iter()
        .all(|e| e["custom_data"]["content_name"].is_null()));
}

#[test]
fn a_million_content_ids_are_refused_before_any_work() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let client = client_in(dir.path(), &sandbox.base_url(), true);
    let ids: Vec<String> = (0..1_000_000).map(|i| format!("sku-{i}")).collect();
    let event = with_custom_data(
        "many",
        CustomData {
            content_ids: ids,
            ..Default::default()
        },
    );
    let began = Instant::now();
    let result = client.track(event);
    let took = began.elapsed();
    println!(
        "RELIABILITY input_million_content_ids track_ms={:.3}",
        took.as_secs_f64() * 1000.0
    );
    let (field, rule) = invalid_field(result);
    assert_eq!(field, "custom_data.content_ids");
    assert!(rule.contains("at most 1000"), "{rule}");
}

#[test]
fn an_event_over_64_kib_is_refused_in_both_modes() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let client = client_in(dir.path(), &sandbox.base_url(), false);
    // 400 ids of 200 characters: each value and the list are within their caps, the event
    // is not.
    let event = with_custom_data(
        "big",
        CustomData {
            content_ids: (0..400).map(|i| format!("{i:0>200}")).collect(),
            ..Default::default()
        },
    );
    let (field, rule) = invalid_field(client.track(event));
    assert_eq!(field, "event");
    assert!(rule.contains("65536 bytes"), "{rule}");
    assert_eq!(client.diagnostics().queued, 0);
}

#[test]
fn control_characters_are_refused_in_ids_emails_and_urls() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let lenient = client_in(dir.path(), &sandbox.base_url(), false);
    let (field, _) = invalid_field(lenient.track(lead("order\0-1")));
    assert_eq!(field, "event_id", "an event id cannot be repaired");

    let mut event = lead("nul-email");
    event.user_data.as_mut().unwrap().emails = vec!["person\0@example.com".into()];
    event.event_source_url = Some("https://shop.example/\u{1}cart".into());
    let result = lenient.track(event).expect("kept without the values");
    let mut fields: Vec<_> = result.warnings.iter().map(|w| w.field.as_str()).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["event_source_url", "user_data.em"]);
}

/// Every numeric setting of `ClientConfig`, and how to set it from a `u64`.
type Setter = fn(&mut ClientConfig, u64);

fn numeric_settings() -> Vec<(&'static str, Setter)> {
    vec![
        ("max_batch", |c, v| {
            c.max_batch = u32::try_from(v).unwrap_or(u32::MAX)
        }),
        ("max_queued_events", |c, v| {
            c.max_queued_events = u32::try_from(v).unwrap_or(u32::MAX)
        }),
        ("max_event_age_secs", |c, v| c.max_event_age_secs = v),
        ("flush_interval_secs", |c, v| c.flush_interval_secs = v),
        ("retry_base_delay_ms", |c, v| c.retry_base_delay_ms = v),
        ("retry_max_delay_secs", |c, v| c.retry_max_delay_secs = v),
        ("request_timeout_secs", |c, v| c.request_timeout_secs = v),
        ("min_background_for_open_secs", |c, v| {
            c.min_background_for_open_secs = v
        }),
        ("install_window_secs", |c, v| c.install_window_secs = v),
    ]
}

#[test]
fn every_numeric_setting_at_its_extremes_is_refused_by_name_or_works() {
    let sandbox = sandbox();
    let mut accepted = Vec::new();
    let mut refused = Vec::new();
    for (field, set) in numeric_settings() {
        for value in [0, 1 << 63, u64::MAX] {
            let case = format!("{field} = {value}");
            let dir = tempfile::tempdir().unwrap();
            let mut cfg = config(&sandbox.base_url(), &dir.path().join("buffer.db"));
            set(&mut cfg, value);
            let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
            let dyn_clock: Arc<dyn Clock> = clock.clone();
            let client = match ConversionsClient::with_clock(
                cfg,
                app(),
                device(),
                privacy_with_id(GAID),
                dyn_clock,
            ) {
                Err(ConversionsError::InvalidConfig { field: named, rule }) => {
                    assert_eq!(named, field, "{case}: {rule}");
                    refused.push(case);
                    continue;
                }
                Err(other) => panic!("{case}: {other:?}"),
                Ok(client) => client,
            };
            sandbox.reset();
            // A server that fails for a long time: a huge Retry-After first, then plain 503s.
            sandbox.inject(Fault::Status {
                status: 503,
                retry_after: Some("9223372036854775".into()),
                body: None,
            });
            for _ in 0..200 {
                sandbox.inject(Fault::Status {
                    status: 503,
                    retry_after: None,
                    body: None,
                });
            }
            client.on_launch().unwrap();
            let id = format!("extreme-{field}-{value}");
            client.track(lead(&id)).unwrap();
            assert!(client.settle(WAIT), "{case}: did not settle");
            let burst = sandbox.requests().len();
            assert!(
                burst <= 8,
                "{case}: {burst} requests without the clock moving"
            );
            // A day of failures, an hour at a time.
            for _ in 0..24 {
                clock.advance(Duration::from_secs(3600));
                assert!(client.settle(WAIT), "{case}: did not settle");
            }
            let failing = sandbox.requests().len();
            assert!(failing <= 24 * 8, "{case}: {failing} requests in a day");
            sandbox.clear_faults();
            for _ in 0..25 {
                if sandbox.times_accepted(&id) == 1 {
                    break;
                }
                clock.advance(Duration::from_secs(3600));
                assert!(client.settle(WAIT), "{case}: did not settle");
            }
            assert_eq!(sandbox.times_accepted(&id), 1, "{case}: not delivered");
            let diagnostics = client.diagnostics();
            assert_eq!(diagnostics.worker_panics, 0, "{case}: {diagnostics:?}");
            client.shutdown(WAIT).unwrap();
            accepted.push(case);
        }
    }
    println!("accepted: {accepted:?}\nrefused: {refused:?}");
    println!(
        "RELIABILITY settings_extremes accepted={} refused={} worker_panics=0",
        accepted.len(),
        refused.len()
    );
}

#[test]
fn custom_names_tracked_while_storage_is_blocked_are_all_delivered_or_refused() {
    let sandbox = sandbox();
    for i in 0..20 {
        sandbox.register_custom_event_name(&format!("name_{i}"));
    }
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("data");
    std::fs::write(&blocker, b"not a folder").unwrap();
    let client = client_in(&blocker, &sandbox.base_url(), false);
    let custom = |i: usize, round: usize| Event {
        name: EventName::Custom,
        custom_event_name: Some(format!("name_{i}")),
        event_id: Some(format!("custom-{i}-{round}")),
        ..checkout("1")
    };
    let mut recorded = Vec::new();
    let mut refused = Vec::new();
    for round in 0..2 {
        for i in 0..20 {
            match client.track(custom(i, round)) {
                Ok(result) => {
                    assert!(result.recorded);
                    recorded.push(result.event_id);
                }
                Err(ConversionsError::InvalidInput { field, .. }) => {
                    assert_eq!(field, "custom_event_name");
                    refused.push(i);
                }
                Err(other) => panic!("{other:?}"),
            }
        }
    }
    std::fs::remove_file(&blocker).unwrap();
    let give_up = Instant::now() + Duration::from_millis(WAIT);
    while client.flush(WAIT).map(|r| r.remaining).unwrap_or(1) > 0 {
        assert!(Instant::now() < give_up, "{:?}", client.diagnostics());
        std::thread::sleep(Duration::from_millis(100));
    }
    let diagnostics = client.diagnostics();
    for id in &recorded {
        assert_eq!(sandbox.times_accepted(id), 1, "{id}: {diagnostics:?}");
    }
    assert_eq!(recorded.len(), 30, "15 names, twice: {refused:?}");
    assert_eq!(diagnostics.dropped_invalid, 0, "{diagnostics:?}");
    println!(
        "RELIABILITY custom_names_while_blocked recorded={} refused={} delivered={} dropped_invalid={}",
        recorded.len(),
        refused.len(),
        recorded
            .iter()
            .filter(|id| sandbox.times_accepted(id) == 1)
            .count(),
        diagnostics.dropped_invalid
    );
}
