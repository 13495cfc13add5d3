//! The brief's 15 custom event names per advertiser, enforced where all devices meet: an
//! event with a 16th new name is failed on its own, as the API fails an event (a per-event
//! result in a 422 `details.events`), so the SDK dead-letters that one event and delivers the
//! others; names already in use, in any case, keep passing. While Redis fails, the names are
//! checked locally, the failures counted in the metrics and logged once per outage.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use app_conversions_relay::{RelayHandle, RequestLog};
use common::processes::RedisServer;
use common::*;
use serde_json::{json, Value};

/// An event with `name` as its `event_name`.
fn named(id: &str, name: &str) -> Value {
    let mut e = event(id);
    e["event_name"] = json!(name);
    e
}

/// Each event's result status in a 200 or 422 answer.
fn statuses(answer: &Answer) -> Vec<String> {
    let doc = answer.json();
    let results = if answer.status == 422 {
        &doc["details"]
    } else {
        &doc
    };
    results["events"]
        .as_array()
        .unwrap_or_else(|| panic!("no events: {}", answer.body))
        .iter()
        .map(|e| e["status"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sixteenth_custom_name_is_failed_alone_and_names_in_use_keep_passing() {
    let s = setup(|_| {});
    // The sandbox knows seventeen names, so only the relay can refuse the sixteenth.
    for n in 0..17 {
        s.sandbox.register_custom_event_name(&format!("Survey_{n}"));
    }
    // Fifteen devices, each with its own custom name, and standard names beside them.
    for d in 0..15 {
        let answer = s
            .send(vec![
                named(&format!("c-{d}"), &format!("Survey_{d}")),
                event(&format!("s-{d}")),
            ])
            .await;
        assert_eq!(answer.status, 200, "device {d}: {}", answer.body);
    }
    // A sixteenth name, between a standard event and a name in use (another case).
    let answer = s
        .send(vec![
            event("s-16"),
            named("c-16", "Survey_16"),
            named("c-again", "SURVEY_3"),
            named("c-plain", "custom"),
        ])
        .await;
    assert_eq!(answer.status, 422, "{}", answer.body);
    let doc = answer.json();
    assert_eq!(doc["code"], 953);
    assert_eq!(
        statuses(&answer),
        ["processed", "failed", "processed", "processed"]
    );
    assert_eq!(doc["details"]["num_events_received"], 4);
    assert_eq!(doc["details"]["num_events_processed"], 3);
    let why = doc["details"]["events"][1]["error_message"]
        .as_str()
        .unwrap();
    assert!(why.contains("15"), "{why}");
    assert_eq!(s.sandbox.times_accepted("c-16"), 0);
    assert_eq!(s.sandbox.times_accepted("c-again"), 1);
    // A request holding only the refused name never reaches the API.
    let calls = s.sandbox.requests().len();
    let answer = s.send(vec![named("c-17", "survey_16")]).await;
    assert_eq!(answer.status, 422, "{}", answer.body);
    assert_eq!(statuses(&answer), ["failed"]);
    assert_eq!(s.sandbox.requests().len(), calls);
    // Another ad account has its own fifteen: its request goes upstream.
    let _ = s
        .post(
            Some(OTHER_APP_TOKEN),
            OTHER_AD_ACCOUNT,
            "",
            batch(vec![named("o-1", "Survey_16")]),
        )
        .await;
    assert_eq!(s.sandbox.requests().len(), calls + 1);
    assert_log_clean(&s.log.lines());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_on_one_redis_share_the_fifteen_names() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let s = setup(|c| c.redis_url = Some(redis.url.clone()));
    for n in 0..17 {
        s.sandbox.register_custom_event_name(&format!("Survey_{n}"));
    }
    let log = RequestLog::new();
    let mut config = relay_config(&s.sandbox.base_url(), &log);
    config.redis_url = Some(redis.url.clone());
    let other = RelayHandle::start(config).unwrap();
    // Eight names through the first instance, seven through the second: fifteen together.
    for n in 0..15 {
        let base = if n < 8 {
            s.relay.base_url()
        } else {
            other.base_url()
        };
        let body = batch(vec![named(&format!("r-{n}"), &format!("Survey_{n}"))]);
        let answer = post_to(&s.client, &base, Some(APP_TOKEN), AD_ACCOUNT, "", body, &[]).await;
        assert_eq!(answer.status, 200, "{n}: {}", answer.body);
    }
    // Each instance alone has seen fewer than fifteen, yet both refuse a sixteenth.
    for base in [s.relay.base_url(), other.base_url()] {
        let body = batch(vec![named("r-16", "Survey_16"), named("r-0", "survey_0")]);
        let answer = post_to(&s.client, &base, Some(APP_TOKEN), AD_ACCOUNT, "", body, &[]).await;
        assert_eq!(answer.status, 422, "{}", answer.body);
        assert_eq!(statuses(&answer), ["failed", "processed"]);
    }
    assert_eq!(s.sandbox.times_accepted("r-16"), 0);
}

/// Every line logged through `tracing` in this test process, from the first call on.
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    Arc::clone(LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&buffer);
        tracing_subscriber::fmt()
            .with_writer(move || Capture(Arc::clone(&sink)))
            .try_init()
            .unwrap();
        buffer
    }))
}

/// A log writer into a shared buffer.
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_that_dies_is_logged_once_and_counted_while_names_are_checked_locally() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let logs = captured_logs();
    let s = setup(|c| {
        c.redis_url = Some(redis.url.clone());
        c.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
    });
    for n in 0..4 {
        s.sandbox.register_custom_event_name(&format!("Outage_{n}"));
    }
    let answer = s.send(vec![named("o-0", "Outage_0")]).await;
    assert_eq!(answer.status, 200, "{}", answer.body);

    redis.stop();
    for n in 1..4 {
        let answer = s
            .send(vec![named(&format!("o-{n}"), &format!("Outage_{n}"))])
            .await;
        assert_eq!(answer.status, 200, "checked locally: {}", answer.body);
    }

    let metrics_url = format!("http://{}/metrics", s.relay.metrics_addr().unwrap());
    let text = get(&s.client, metrics_url).await.body;
    let failures: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix(r#"relay_redis_failures_total{operation="custom_names"} "#))
        .unwrap_or_else(|| panic!("no custom-name failures in:\n{text}"))
        .parse()
        .unwrap();
    assert!(failures >= 1.0, "{failures}");
    let logged = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    let warnings: Vec<_> = logged
        .lines()
        .filter(|l| {
            l.contains("WARN") && l.contains("custom event names are checked against this instance")
        })
        .collect();
    assert_eq!(
        warnings.len(),
        1,
        "one line per outage, not per request:\n{logged}"
    );
    assert!(
        !logged.contains(&redis.url),
        "the Redis URL may hold a password"
    );
    assert_log_clean(&logged.lines().map(str::to_string).collect::<Vec<_>>());
}
