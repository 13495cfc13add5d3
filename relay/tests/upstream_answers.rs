//! How the relay reads the upstream's answers and the devices' bodies: an upstream 429 or a
//! run of 5xx stops calls for a while (devices are answered locally), a broken 200 is 502
//! whether the device was alone in its batch or not, a body with duplicate keys is refused,
//! and splitting a refused batch has a budget, as the SDK's does.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use app_conversions_sandbox::Fault;
use common::*;
use serde_json::json;

fn retry_after(answer: &Answer) -> u64 {
    answer.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_429_stops_calls_until_its_retry_after() {
    let s = setup(|c| c.linger = Duration::ZERO);
    for _ in 0..50 {
        s.sandbox.inject(Fault::Status {
            status: 429,
            retry_after: Some("30".to_string()),
            body: None,
        });
    }
    for i in 0..50 {
        let answer = s.send(vec![event(&format!("limited-{i}"))]).await;
        assert_eq!(answer.status, 429, "{}", answer.body);
        let wait = retry_after(&answer);
        assert!((29..=30 + 30).contains(&wait), "Retry-After {wait}");
    }
    assert_eq!(s.sandbox.requests().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_of_upstream_5xx_backs_off() {
    let s = setup(|c| c.linger = Duration::ZERO);
    for _ in 0..20 {
        s.sandbox.inject(Fault::Status {
            status: 500,
            retry_after: None,
            body: None,
        });
    }
    for i in 0..20 {
        let answer = s.send(vec![event(&format!("failing-{i}"))]).await;
        assert!([500, 503].contains(&answer.status), "{}", answer.body);
        if answer.status == 503 {
            assert!(retry_after(&answer) >= 1);
        }
    }
    let calls = s.sandbox.requests().len();
    assert!(calls <= 3, "{calls} upstream calls for 20 devices");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_200_for_a_device_alone_in_its_batch_is_502() {
    let s = setup(|c| c.linger = Duration::ZERO);
    s.sandbox.inject(Fault::GarbageBody);
    let answer = s.send(vec![event("garbage-1")]).await;
    assert_eq!(answer.status, 502, "{}", answer.body);
    s.sandbox.inject(Fault::WrongEventCount);
    let answer = s
        .send(vec![event("short-1"), event("short-2"), event("short-3")])
        .await;
    assert_eq!(answer.status, 502, "{}", answer.body);
    // A whole answer still passes.
    let answer = s.send(vec![event("whole-1")]).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_keys_are_refused_with_400() {
    let s = setup(|_| {});
    let first = event("dup-1").to_string();
    let second = event("dup-2").to_string();
    let twice = format!(r#"{{"data":[{first}],"data":[{second}]}}"#);
    let answer = s.post(Some(APP_TOKEN), AD_ACCOUNT, "", twice).await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(answer.json()["code"], 4196);
    assert!(answer.body.contains("duplicate"), "{}", answer.body);
    let inner = r#"{"data":[{"event_name":"lead","event_name":"checkout"}]}"#;
    let answer = s
        .post(Some(APP_TOKEN), AD_ACCOUNT, "", inner.to_string())
        .await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(answer.body.contains("event_name"), "{}", answer.body);
    assert!(s.sandbox.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn splitting_a_batch_of_bad_devices_has_a_budget() {
    let s = setup(|c| c.linger = Duration::from_millis(1500));
    let devices = 32;
    let tasks: Vec<_> = (0..devices)
        .map(|d| {
            let mut bad = event(&format!("bad-{d}"));
            // Not in the schema: the API refuses the whole request with 400.
            bad["not_a_field"] = json!(true);
            let body = batch(vec![event(&format!("good-{d}")), bad]);
            let client = s.client.clone();
            let base = s.relay.base_url();
            tokio::spawn(async move {
                post_to(&client, &base, Some(APP_TOKEN), AD_ACCOUNT, "", body, &[]).await
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap().status);
    }
    assert!(
        statuses.iter().all(|s| [400, 503].contains(s)),
        "{statuses:?}"
    );
    assert_eq!(s.sandbox.accepted_count(), 0);
    // The SDK's budget for 32: 4 log2(32) = 20 calls beyond the first, not 2n - 1 = 63.
    let calls = s.sandbox.requests().len();
    assert!(
        calls <= 21,
        "{calls} upstream calls for {devices} bad devices"
    );
}
