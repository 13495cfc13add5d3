//! Whole runs as a property: a configuration within its documented bounds, a burst of events
//! within the documented caps (some with invalid optional values, some refused), and a server
//! that answers from the sandbox's fault set (200 with per-event failures, 400, 413, 422,
//! 429 and 503 with Retry-After, dropped connections). A manual clock then runs a day and a
//! half, an hour at a time, with `settle()` after each step.
//!
//! After every step: no caught panic, at most `max_queued_events` queued, at most 1,000 dead
//! letters. At the end nothing is queued, and every event `track()` accepted is counted
//! exactly once: delivered, dead-lettered, or dropped for a counted reason.
//!
//! Cases: 16 by default (a few seconds), `RELIABILITY_PROPTEST_CASES=N` or
//! `RELIABILITY_SOAK=1` (256) for more.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

mod common;
mod reliability;

use std::sync::Arc;
use std::time::Duration;

use app_conversions::{
    ClientConfig, Clock, ContentItem, ConversionsClient, ConversionsError, CustomData, Event,
    EventName, ManualClock, SystemClock, UserData,
};
use app_conversions_sandbox::Fault;
use common::*;
use proptest::prelude::*;
use proptest::test_runner::Config;

const SETTLE_MS: u64 = 10_000;

fn cases() -> Config {
    Config {
        cases: reliability::size("RELIABILITY_PROPTEST_CASES", 16, 256) as u32,
        failure_persistence: None,
        ..Config::default()
    }
}

/// Settings within their documented bounds.
#[derive(Debug, Clone)]
struct Settings {
    max_batch: u32,
    max_queued_events: u32,
    max_event_age_secs: u64,
    flush_interval_secs: u64,
    retry_base_delay_ms: u64,
    retry_max_delay_secs: u64,
    strict: bool,
}

fn settings() -> impl Strategy<Value = Settings> {
    (
        1u32..=50,
        1u32..=60,
        3_600u64..=30 * 86_400,
        0u64..=3_600,
        1u64..=5_000,
        1u64..=3_600,
        any::<bool>(),
    )
        .prop_map(
            |(max_batch, max_queued_events, age, interval, base, max, strict)| Settings {
                max_batch,
                max_queued_events,
                max_event_age_secs: age,
                flush_interval_secs: interval,
                retry_base_delay_ms: base,
                retry_max_delay_secs: max,
                strict,
            },
        )
}

/// Text within the caps, sometimes not what the field wants.
fn short_text() -> impl Strategy<Value = String> {
    prop_oneof!["[ -~]{0,40}", "[a-z0-9]{1,12}", Just("--".to_string())]
}

fn event() -> impl Strategy<Value = Event> {
    (
        prop::sample::select(vec![
            EventName::Lead,
            EventName::Checkout,
            EventName::AddToCart,
            EventName::Search,
            EventName::Custom,
        ]),
        prop::option::of(prop::sample::select(vec![
            "registered_one",
            "not_registered",
        ])),
        prop::option::of(prop_oneof![
            "[a-z0-9]{1,8}@[a-z]{1,8}\\.com",
            Just("no-at-sign".to_string())
        ]),
        prop::option::of(prop_oneof![
            Just("USD".to_string()),
            Just("dollars".to_string())
        ]),
        prop::option::of("[1-9][0-9]{0,3}(\\.[0-9]{2})?"),
        prop::collection::vec("[a-z0-9-]{1,30}", 0..5),
        prop::option::of(short_text()),
        prop::option::of(prop_oneof![
            Just("https://shop.example/p".to_string()),
            Just("not a url".to_string())
        ]),
    )
        .prop_map(
            |(name, custom, email, currency, value, ids, content_name, url)| Event {
                custom_event_name: custom
                    .filter(|_| name == EventName::Custom)
                    .map(str::to_string),
                event_source_url: url,
                user_data: Some(UserData {
                    emails: email.into_iter().collect(),
                    ..Default::default()
                }),
                custom_data: Some(CustomData {
                    currency,
                    value,
                    contents: ids
                        .iter()
                        .take(2)
                        .map(|id| ContentItem {
                            id: Some(id.clone()),
                            quantity: Some(1),
                            ..Default::default()
                        })
                        .collect(),
                    content_ids: ids,
                    content_name,
                    ..Default::default()
                }),
                ..Event::new(name)
            },
        )
}

fn status(code: u16, retry_after: Option<&str>) -> Fault {
    Fault::Status {
        status: code,
        retry_after: retry_after.map(str::to_string),
        body: None,
    }
}

/// One answer of the server; plain successes (with per-event failures for unregistered
/// custom names) come whenever no fault is queued.
fn answer() -> impl Strategy<Value = Fault> {
    prop_oneof![
        Just(status(400, None)),
        Just(status(413, None)),
        Just(status(422, None)),
        Just(status(429, Some("30"))),
        Just(status(503, Some("120"))),
        Just(status(503, None)),
        Just(Fault::DropConnection),
    ]
}

fn config_for(endpoint: &str, db: &std::path::Path, s: &Settings) -> ClientConfig {
    ClientConfig {
        max_batch: s.max_batch,
        max_queued_events: s.max_queued_events,
        max_event_age_secs: s.max_event_age_secs,
        flush_interval_secs: s.flush_interval_secs,
        retry_base_delay_ms: s.retry_base_delay_ms,
        retry_max_delay_secs: s.retry_max_delay_secs,
        strict_validation: s.strict,
        ..config(endpoint, db)
    }
}

proptest! {
    #![proptest_config(cases())]

    #[test]
    fn every_accepted_event_is_delivered_or_counted(
        settings in settings(),
        events in prop::collection::vec(event(), 1..40),
        answers in prop::collection::vec(answer(), 0..8),
    ) {
        let sandbox = sandbox();
        sandbox.register_custom_event_name("registered_one");
        for fault in answers {
            sandbox.inject(fault);
        }
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
        let dyn_clock: Arc<dyn Clock> = clock.clone();
        let client = ConversionsClient::with_clock(
            config_for(&sandbox.base_url(), &dir.path().join("buffer.db"), &settings),
            app(),
            device(),
            privacy_with_id(GAID),
            dyn_clock,
        )
        .expect("settings within bounds are accepted");

        let mut accepted = 0u64;
        for event in events {
            match client.track(event) {
                Ok(result) => {
                    prop_assert!(result.recorded);
                    prop_assert!(!settings.strict || result.warnings.is_empty());
                    accepted += 1;
                }
                Err(ConversionsError::InvalidInput { field, rule }) => {
                    prop_assert!(!field.is_empty() && !rule.is_empty());
                }
                Err(other) => prop_assert!(false, "not an input error: {:?}", other),
            }
        }
        for _ in 0..36 {
            clock.advance(Duration::from_secs(3_600));
            prop_assert!(client.settle(SETTLE_MS), "did not settle");
            let d = client.diagnostics();
            prop_assert_eq!(d.worker_panics, 0);
            prop_assert!(d.queued <= u64::from(settings.max_queued_events), "{:?}", d);
            prop_assert!(d.dead_lettered <= 1_000);
        }
        let d = client.diagnostics();
        prop_assert_eq!(d.queued, 0, "{:?}", d);
        let counted = d.delivered
            + d.dead_lettered
            + d.dropped_expired
            + d.dropped_evicted
            + d.dropped_purged
            + d.dropped_invalid
            + d.dropped_no_identity;
        prop_assert_eq!(counted, accepted, "{:?}", d);
        prop_assert!(d.delivered as usize <= sandbox.accepted_count());
        client.shutdown(SETTLE_MS).unwrap();
    }
}
