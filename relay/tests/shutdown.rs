//! Shutting down: a device waiting on a slow upstream is still answered (the grace covers
//! the linger and the upstream timeout), and a client half-way through its headers does not
//! hold the shutdown up.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use app_conversions_sandbox::Fault;
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_waiting_on_a_slow_upstream_is_answered_at_shutdown() {
    let Setup {
        relay,
        sandbox,
        client,
        ..
    } = setup(|c| c.linger = Duration::ZERO);
    // Slower than the old fixed 5 s grace, well within the 30 s upstream timeout.
    sandbox.inject(Fault::Delay { millis: 6_000 });
    let base = relay.base_url();
    let device = tokio::spawn(async move {
        let body = batch(vec![event("at-shutdown")]);
        post_to(&client, &base, Some(APP_TOKEN), AD_ACCOUNT, "", body, &[]).await
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    tokio::task::spawn_blocking(move || relay.shutdown())
        .await
        .unwrap();
    let answer = device.await.unwrap();
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(sandbox.times_accepted("at-shutdown"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_half_way_through_its_headers_does_not_delay_shutdown() {
    let s = setup(|_| {});
    let mut half = TcpStream::connect(s.relay.local_addr()).unwrap();
    half.write_all(b"POST /v5/ad_accounts/1/events HTTP/1.1\r\nHost: relay\r\n")
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let Setup { relay, .. } = s;
    let started = Instant::now();
    tokio::task::spawn_blocking(move || relay.shutdown())
        .await
        .unwrap();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(2), "shutdown took {took:?}");
    drop(half);
}
