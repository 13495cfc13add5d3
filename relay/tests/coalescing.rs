//! Coalescing in front of the sandbox: many concurrent device requests go up as few calls,
//! each device gets exactly its own results in its own order, a bad device fails only its own
//! events, live and test events never share a call, and the upstream's refusals reach every
//! device waiting on the call.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use app_conversions_sandbox::Fault;
use common::*;
use serde_json::{json, Value};

/// Long enough for every concurrently started request to join one batch.
const LINGER: Duration = Duration::from_millis(300);

/// True when device `device`'s event `n` is made to fail upstream (too old).
fn is_stale(device: usize, n: usize) -> bool {
    (device + n).is_multiple_of(4)
}

/// Device `device`'s request: 1 to 5 events, some of them too old.
fn device_events(device: usize) -> Vec<Value> {
    (0..device % 5 + 1)
        .map(|n| {
            let mut e = event(&format!("dev-{device}-ev-{n}"));
            if is_stale(device, n) {
                e["event_time"] = json!(now() - 30 * 24 * 3600);
            }
            e
        })
        .collect()
}

/// Sends every body concurrently, each from its own task; the answers in the same order.
async fn send_all(s: &Setup, requests: Vec<(&'static str, Vec<Value>)>) -> Vec<Answer> {
    let base = s.relay.base_url();
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|(query, events)| {
            let client = s.client.clone();
            let base = base.clone();
            tokio::spawn(async move {
                post_to(
                    &client,
                    &base,
                    Some(APP_TOKEN),
                    AD_ACCOUNT,
                    query,
                    batch(events),
                    &[],
                )
                .await
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

/// The per-event results of a 200 or 422 answer.
fn results_of(answer: &Answer) -> Vec<Value> {
    let body = answer.json();
    let results = if answer.status == 422 {
        &body["details"]
    } else {
        &body
    };
    results["events"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_devices_share_few_calls_and_each_gets_its_own_results_in_order() {
    let s = setup(|c| c.linger = LINGER);
    let devices = 40;
    let requests = (0..devices).map(|d| ("", device_events(d))).collect();
    let answers = send_all(&s, requests).await;

    let calls = s.sandbox.requests();
    assert!(
        calls.len() <= 5,
        "{devices} device requests took {} upstream calls",
        calls.len()
    );
    let mut expected_accepted = 0;
    for (device, answer) in answers.iter().enumerate() {
        let events = device_events(device);
        let stale = (0..events.len()).filter(|n| is_stale(device, *n)).count();
        let expected_status = if stale > 0 { 422 } else { 200 };
        assert_eq!(
            answer.status, expected_status,
            "device {device}: {}",
            answer.body
        );
        let results = results_of(answer);
        assert_eq!(
            results.len(),
            events.len(),
            "device {device}: {}",
            answer.body
        );
        for (n, result) in results.iter().enumerate() {
            let want = if is_stale(device, n) {
                "failed"
            } else {
                "processed"
            };
            assert_eq!(result["status"], want, "device {device} event {n}");
            if is_stale(device, n) {
                assert!(result["error_message"]
                    .as_str()
                    .unwrap()
                    .contains("event_time"));
            }
        }
        let counts = if answer.status == 422 {
            answer.json()["details"].clone()
        } else {
            answer.json()
        };
        assert_eq!(counts["num_events_received"], events.len());
        assert_eq!(counts["num_events_processed"], events.len() - stale);
        if answer.status == 422 {
            assert_eq!(answer.json()["code"], 953);
        }
        expected_accepted += events.len() - stale;
    }
    assert_eq!(s.sandbox.accepted_count(), expected_accepted);
    // Every device's events arrived with its IP filled in.
    assert!(s
        .sandbox
        .accepted()
        .iter()
        .all(|e| e["user_data"]["client_ip_address"] == "127.0.0.1"));
    assert_log_clean(&s.log.lines());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_device_whose_request_the_api_refuses_fails_only_its_own_events() {
    let s = setup(|c| c.linger = LINGER);
    let bad_device = 6;
    let requests = (0..16)
        .map(|d| {
            let mut events = vec![event(&format!("iso-{d}-a")), event(&format!("iso-{d}-b"))];
            if d == bad_device {
                // Not in the schema: the API refuses the whole request with 400.
                events[1]["not_a_field"] = json!(true);
            }
            ("", events)
        })
        .collect();
    let answers = send_all(&s, requests).await;
    for (device, answer) in answers.iter().enumerate() {
        if device == bad_device {
            assert_eq!(answer.status, 400, "{}", answer.body);
            assert_eq!(answer.json()["code"], 4196);
        } else {
            assert_eq!(answer.status, 200, "device {device}: {}", answer.body);
            assert_eq!(results_of(answer).len(), 2);
        }
    }
    assert_eq!(s.sandbox.accepted_count(), 30);
    assert_eq!(s.sandbox.times_accepted(&format!("iso-{bad_device}-a")), 0);
    // Halving 16 requests down to the bad one takes 1 + 2 log2(16) = 9 calls: fewer than
    // one per device, even when a straggler makes a second batch.
    let calls = s.sandbox.requests().len();
    assert!(calls < 16, "{calls} upstream calls");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn live_and_test_events_never_share_a_call_and_test_calls_hold_at_most_20() {
    let s = setup(|c| c.linger = LINGER);
    let mut requests = Vec::new();
    for d in 0..30 {
        requests.push(("?test=true", vec![event(&format!("test-{d}"))]));
        requests.push(("", vec![event(&format!("live-{d}"))]));
    }
    let answers = send_all(&s, requests).await;
    assert!(answers.iter().all(|a| a.status == 200), "{answers:?}");
    let calls = s.sandbox.requests();
    for call in &calls {
        let body: Value = serde_json::from_str(&call.body).unwrap();
        let ids: Vec<&str> = body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["event_id"].as_str().unwrap())
            .collect();
        let prefix = if call.test_mode { "test-" } else { "live-" };
        assert!(ids.iter().all(|id| id.starts_with(prefix)), "{ids:?}");
        if call.test_mode {
            assert!(ids.len() <= 20, "{} test events in one call", ids.len());
        }
    }
    assert!(calls.iter().filter(|c| c.test_mode).count() >= 2);
    assert_eq!(
        s.sandbox.accepted_count(),
        30,
        "only live events are recorded"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn upstream_refusals_reach_every_waiting_device_with_retry_after() {
    for (status, retry_after) in [(429, "7"), (503, "30"), (401, "")] {
        // A relay each: after a 429 the relay pauses the account's calls.
        let s = setup(|c| c.linger = LINGER);
        s.sandbox.inject(Fault::Status {
            status,
            retry_after: Some(retry_after.to_string()).filter(|r| !r.is_empty()),
            body: None,
        });
        let requests = (0..5)
            .map(|d| ("", vec![event(&format!("refused-{status}-{d}"))]))
            .collect();
        let answers = send_all(&s, requests).await;
        assert_eq!(s.sandbox.requests().len(), 1, "one call for five devices");
        for answer in &answers {
            assert_eq!(answer.status, status, "{}", answer.body);
            if !retry_after.is_empty() {
                assert_eq!(answer.headers["retry-after"], retry_after);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_batch_goes_at_once_without_waiting_for_the_linger() {
    let s = setup(|c| c.linger = Duration::from_secs(5));
    let started = Instant::now();
    let events: Vec<Value> = (0..1000).map(|i| event(&format!("full-{i}"))).collect();
    let answer = s.send(events).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "a full batch waited {:?}",
        started.elapsed()
    );
}
