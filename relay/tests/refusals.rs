//! Requests the relay refuses before it has read their bodies: the connection cannot serve
//! another request (the unread body is still on it), so the answer says `Connection: close`
//! and a pooling client opens a new connection for its next request instead of sending it
//! into one the relay is closing.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use common::*;

/// Sends an events request's headers declaring `declared` body bytes, and no body; returns
/// everything the relay sent until it closed the connection (or went quiet for 5 s).
fn refused_before_the_body(
    relay: SocketAddr,
    token: &str,
    account: &str,
    declared: usize,
) -> String {
    let mut stream = TcpStream::connect(relay).unwrap();
    let head = format!(
        "POST /v5/ad_accounts/{account}/events HTTP/1.1\r\nHost: relay\r\n\
         Authorization: Bearer {token}\r\nContent-Type: application/json\r\n\
         Content-Length: {declared}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_refused_before_its_body_is_read_closes_its_connection_and_says_so() {
    let s = setup(|c| c.max_body_bytes = 1_000);
    let relay = s.relay.local_addr();
    for (token, account, declared, status) in [
        ("not-a-token", AD_ACCOUNT, 20, "401"),
        (APP_TOKEN, OTHER_AD_ACCOUNT, 20, "403"),
        (APP_TOKEN, AD_ACCOUNT, 5_000, "413"),
    ] {
        let answer = tokio::task::spawn_blocking(move || {
            refused_before_the_body(relay, token, account, declared)
        })
        .await
        .unwrap();
        let head = answer
            .split("\r\n\r\n")
            .next()
            .unwrap()
            .to_ascii_lowercase();
        assert!(head.starts_with(&format!("http/1.1 {status}")), "{answer}");
        assert!(
            head.lines().any(|l| l == "connection: close"),
            "{status}: the answer must say the connection closes: {answer}"
        );
    }
}
