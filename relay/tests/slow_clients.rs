//! Clients that send their bodies slowly: they hold no more memory than they have sent, they
//! get 408 once the whole body has taken longer than `body_timeout`, however steadily they
//! trickle, and one address cannot hold more than its share of the body memory, so other
//! devices keep being served.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::*;

/// Opens a connection that sends an event request's headers from `ip` (through the trusted
/// proxy header), declaring `declared` body bytes, and then one byte of the body.
fn slow_body(relay: SocketAddr, ip: &str, declared: usize) -> TcpStream {
    let mut stream = TcpStream::connect(relay).unwrap();
    let head = format!(
        "POST /v5/ad_accounts/{AD_ACCOUNT}/events HTTP/1.1\r\nHost: relay\r\n\
         Authorization: Bearer {APP_TOKEN}\r\nContent-Type: application/json\r\n\
         X-Forwarded-For: {ip}\r\nContent-Length: {declared}\r\n\r\n{{"
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream
}

/// The status of the answer on `stream`, waiting at most `wait`.
fn status_of(stream: &mut TcpStream, wait: Duration) -> Option<u16> {
    stream.set_read_timeout(Some(wait)).unwrap();
    let mut buf = [0u8; 512];
    let n = stream.read(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf[..n]);
    text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_bodies_from_one_address_do_not_lock_other_devices_out() {
    // The default limits: 64 MiB of bodies in flight, 5 MiB per body.
    let s = setup(|c| c.trusted_proxies = vec!["127.0.0.1".to_string()]);
    let relay = s.relay.local_addr();
    let mib = 1024 * 1024;
    // Twelve bodies declaring 5 MiB and one declaring 4 MiB: together exactly the 64 MiB.
    let mut slow: Vec<TcpStream> = (0..12)
        .map(|_| slow_body(relay, "203.0.113.66", 5 * mib))
        .collect();
    slow.push(slow_body(relay, "203.0.113.66", 4 * mib));
    // Let the relay take their headers.
    tokio::time::sleep(Duration::from_millis(300)).await;
    for i in 0..3 {
        let answer = s
            .post_with(
                Some(APP_TOKEN),
                AD_ACCOUNT,
                "",
                batch(vec![event(&format!("other-device-{i}"))]),
                &[("x-forwarded-for", "198.51.100.7")],
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    drop(slow);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_trickled_past_the_deadline_gets_408() {
    let deadline = Duration::from_millis(600);
    let s = setup(|c| c.body_timeout = deadline);
    let mut stream = slow_body(s.relay.local_addr(), "203.0.113.67", 1000);
    let started = Instant::now();
    // One byte every 100 ms: each arrives well within the deadline, the whole body never.
    let status = tokio::task::spawn_blocking(move || {
        for _ in 0..40 {
            std::thread::sleep(Duration::from_millis(100));
            if stream.write_all(b" ").is_err() {
                break;
            }
            if let Some(status) = status_of(&mut stream, Duration::from_millis(1)) {
                return Some(status);
            }
        }
        status_of(&mut stream, Duration::from_millis(500))
    })
    .await
    .unwrap();
    assert_eq!(status, Some(408));
    assert!(started.elapsed() < deadline * 3, "{:?}", started.elapsed());
}
