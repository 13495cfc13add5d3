//! `GET /metrics` on its own listener: Prometheus text with the device requests, the added
//! latency, the upstream calls, the batches and the budget; the devices' listener has no
//! `/metrics`.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_apart_from_the_devices() {
    let s = setup(|c| c.metrics_listen = Some("127.0.0.1:0".parse().unwrap()));
    for i in 0..3 {
        let answer = s.send(vec![event(&format!("metric-{i}"))]).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    let denied = s
        .post(Some("forged"), AD_ACCOUNT, "", batch(vec![event("x")]))
        .await;
    assert_eq!(denied.status, 401);
    let metrics_url = format!("http://{}/metrics", s.relay.metrics_addr().unwrap());
    let text = get(&s.client, metrics_url).await.body;
    for expected in [
        r#"relay_device_requests_total{status="200"} 3"#,
        r#"relay_device_requests_total{status="401"} 1"#,
        r#"relay_upstream_calls_total{status="200"}"#,
        "relay_added_latency_seconds_bucket",
        "relay_upstream_latency_seconds_bucket",
        "relay_batch_events_bucket",
        "relay_linger_wait_seconds_bucket",
        &format!(r#"relay_budget_calls_left{{ad_account="{AD_ACCOUNT}"}}"#),
        "relay_open_connections",
        "relay_requests_in_flight",
        "relay_body_bytes_in_flight",
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
    assert!(!text.contains(APP_TOKEN) && !text.contains(CONVERSION_TOKEN));
    let on_device_port = get(&s.client, format!("{}/metrics", s.relay.base_url())).await;
    assert_eq!(on_device_port.status, 404);
}
