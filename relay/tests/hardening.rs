//! Ways found to break the relay, one test each: what reaches the upstream besides the
//! events, upstream answers the SDK cannot act on, stale upstream connections, and
//! configuration values that pass validation only to fail later.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use app_conversions_relay::{RelayConfig, RelayHandle, RequestLog};
use app_conversions_sandbox::Fault;
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_test_flag_of_the_query_reaches_the_upstream() {
    let s = setup(|_| {});
    let answer = s
        .post(
            Some(APP_TOKEN),
            AD_ACCOUNT,
            "?test=true&access_token=injected&foo=%0d%0a",
            batch(vec![event("q-1")]),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let answer = s
        .post(
            Some(APP_TOKEN),
            AD_ACCOUNT,
            "?foo=bar&test=false",
            batch(vec![event("q-2")]),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let queries: Vec<String> = s.sandbox.requests().into_iter().map(|r| r.query).collect();
    assert_eq!(queries, ["test=true", ""]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_statuses_the_sdk_cannot_act_on_become_502() {
    let s = setup(|_| {});
    for status in [999, 302, 204, 101] {
        s.sandbox.inject(Fault::Status {
            status,
            retry_after: None,
            body: Some(r#"{"code":1,"message":"odd"}"#.to_string()),
        });
        let answer = s.send(vec![event(&format!("odd-{status}"))]).await;
        assert_eq!(answer.status, 502, "upstream {status}: {}", answer.body);
        assert_eq!(answer.json()["code"], 502);
    }
    // The statuses the SDK knows still pass through.
    s.sandbox.inject(Fault::Status {
        status: 404,
        retry_after: None,
        body: None,
    });
    assert_eq!(s.send(vec![event("known-404")]).await.status, 404);
}

/// A fake upstream that answers the first request of each connection, then closes the
/// connection when the next request arrives on it, without answering: what a client sees when
/// the server's keep-alive timeout ends just as it reuses a pooled connection. Counts the
/// connections it accepted.
fn closing_upstream() -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&connections);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            counter.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || answer_once_then_close(stream));
        }
    });
    (addr, connections)
}

/// Reads one request; its event count, or `None` when the connection closed first.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<usize> {
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return None;
        }
        if line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap();
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let sent: serde_json::Value = serde_json::from_slice(&body).unwrap();
    Some(sent["data"].as_array().unwrap().len())
}

fn answer_once_then_close(mut stream: TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let Some(n) = read_request(&mut reader) else {
        return;
    };
    let events = vec![
        serde_json::json!({"status": "processed", "error_message": "", "warning_message": ""});
        n
    ];
    let answer = serde_json::json!({
        "num_events_received": n, "num_events_processed": n, "events": events
    })
    .to_string();
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{answer}",
        answer.len()
    );
    // The next request on this connection finds it closing: no answer, just the close.
    let _ = read_request(&mut reader);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_upstream_connection_is_retried_once() {
    let (addr, connections) = closing_upstream();
    let log = RequestLog::new();
    let relay = RelayHandle::start(relay_config(&format!("http://{addr}"), &log)).unwrap();
    let client = client();
    for i in 0..5 {
        let answer = post_to(
            &client,
            &relay.base_url(),
            Some(APP_TOKEN),
            AD_ACCOUNT,
            "",
            batch(vec![event(&format!("stale-{i}"))]),
            &[],
        )
        .await;
        assert_eq!(answer.status, 200, "request {i}: {}", answer.body);
    }
    assert!(connections.load(Ordering::SeqCst) >= 5);
}

#[test]
fn a_rate_too_small_to_compute_a_wait_is_refused_at_start() {
    let log = RequestLog::new();
    let mut config = relay_config("http://127.0.0.1:9", &log);
    config
        .apply_env_from(|name| (name == "RELAY_RATE_LIMIT_PER_SEC").then(|| "1e-300".to_string()))
        .unwrap();
    let err = RelayHandle::start(config).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("rate_limit_per_sec"), "{err}");
}

#[test]
fn plain_http_goes_only_to_literal_loopback_addresses() {
    for upstream in [
        "http://localhost:8080",
        "http://api.localhost:8080",
        "http://evil.example.localhost",
        "http://LOCALHOST.",
    ] {
        let config = RelayConfig::new(upstream, CONVERSION_TOKEN).with_app_token(APP_TOKEN, "1");
        let err = config.validate().unwrap_err();
        assert!(err.contains("upstream"), "{upstream}: {err}");
    }
    for upstream in [
        "http://127.0.0.1:8080",
        "http://127.8.9.10",
        "http://[::1]:8080",
    ] {
        let config = RelayConfig::new(upstream, CONVERSION_TOKEN).with_app_token(APP_TOKEN, "1");
        assert_eq!(config.validate(), Ok(()), "{upstream}");
    }
}

/// A fake upstream that holds every request for `hold` before answering it, and reports the
/// most requests it held at once.
fn slow_upstream(hold: std::time::Duration) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let most = Arc::new(AtomicUsize::new(0));
    let now = Arc::new(AtomicUsize::new(0));
    let reported = Arc::clone(&most);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let (most, now) = (Arc::clone(&most), Arc::clone(&now));
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                while let Some(n) = read_request(&mut reader) {
                    let held = now.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(held, Ordering::SeqCst);
                    std::thread::sleep(hold);
                    now.fetch_sub(1, Ordering::SeqCst);
                    let events = vec![
                        serde_json::json!({"status": "processed", "error_message": "", "warning_message": ""});
                        n
                    ];
                    let answer = serde_json::json!({
                        "num_events_received": n, "num_events_processed": n, "events": events
                    })
                    .to_string();
                    let _ = write!(
                        stream,
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{answer}",
                        answer.len()
                    );
                }
            });
        }
    });
    (addr, reported)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_upstream_sees_a_bounded_number_of_calls_at_once() {
    let (addr, most) = slow_upstream(std::time::Duration::from_millis(400));
    let log = RequestLog::new();
    let mut config = relay_config(&format!("http://{addr}"), &log);
    config.linger = std::time::Duration::ZERO;
    config.rate_limit_per_sec = 0.0;
    let relay = RelayHandle::start(config).unwrap();
    let tasks: Vec<_> = (0..150)
        .map(|i| {
            let base = relay.base_url();
            tokio::spawn(async move {
                post_to(
                    &client(),
                    &base,
                    Some(APP_TOKEN),
                    AD_ACCOUNT,
                    "",
                    batch(vec![event(&format!("slow-{i}"))]),
                    &[],
                )
                .await
                .status
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    let most = most.load(Ordering::SeqCst);
    assert!(most <= 64, "{most} upstream calls at once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_idle_timeout_never_cuts_a_request_waiting_for_its_answer() {
    let s = setup(|c| {
        c.idle_timeout = std::time::Duration::from_millis(300);
        c.linger = std::time::Duration::ZERO;
    });
    s.sandbox.inject(Fault::Delay { millis: 1200 });
    let answer = s.send(vec![event("patient")]).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}
