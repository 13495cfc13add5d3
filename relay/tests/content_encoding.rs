//! Compressed request bodies: the SDK gzips what it sends a relay above about 1 KB. The relay
//! inflates gzip with the body limit applied to the inflated bytes (a decompression bomb gets
//! 413), and refuses any other encoding with a 415 that names it, instead of misreading the
//! bytes.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;

use common::*;
use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::Value;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// POSTs `body` with the main app token and `Content-Encoding: encoding`.
async fn post_encoded(s: &Setup, body: Vec<u8>, encoding: &str) -> (u16, Value) {
    let url = format!("{}/v5/ad_accounts/{AD_ACCOUNT}/events", s.relay.base_url());
    let client = s.client.clone();
    let encoding = encoding.to_string();
    tokio::task::spawn_blocking(move || {
        let mut response = client
            .post(&url)
            .header("content-type", "application/json")
            .header("content-encoding", &encoding)
            .header("authorization", &format!("Bearer {APP_TOKEN}"))
            .header("user-agent", UA)
            .send(&body[..])
            .unwrap();
        let text = response.body_mut().read_to_string().unwrap();
        (
            response.status().as_u16(),
            serde_json::from_str(&text).unwrap(),
        )
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gzip_body_is_inflated_and_forwarded() {
    let s = setup(|_| {});
    let ids: Vec<String> = (0..50).map(|i| format!("gz-{i}")).collect();
    let json = batch(ids.iter().map(|id| event(id)).collect());
    let (status, answer) = post_encoded(&s, gzip(json.as_bytes()), "gzip").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["num_events_received"], 50);
    assert_eq!(s.sandbox.accepted_count(), 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_encoding_gets_415_naming_it() {
    let s = setup(|_| {});
    let json = batch(vec![event("br-1")]);
    let (status, answer) = post_encoded(&s, json.into_bytes(), "br").await;
    assert_eq!(status, 415, "{answer}");
    let message = answer["message"].as_str().unwrap();
    assert!(
        message.contains("\"br\"") && message.contains("gzip"),
        "{message}"
    );
    assert!(s.sandbox.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_inflating_past_the_limit_gets_413() {
    let s = setup(|c| c.max_body_bytes = 1_000_000);
    let mut padded = batch(vec![event("bomb-1")]).into_bytes();
    padded.extend(std::iter::repeat_n(b' ', 20_000_000));
    let bomb = gzip(&padded);
    assert!(bomb.len() < 100_000, "{} compressed bytes", bomb.len());
    let (status, answer) = post_encoded(&s, bomb, "gzip").await;
    assert_eq!(status, 413, "{answer}");
    assert!(s.sandbox.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_labelled_gzip_that_is_not_gets_400() {
    let s = setup(|_| {});
    let json = batch(vec![event("plain-1")]);
    let (status, answer) = post_encoded(&s, json.into_bytes(), "gzip").await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["message"].as_str().unwrap().contains("gzip"),
        "{answer}"
    );
}
