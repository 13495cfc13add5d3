//! Full 1,000-event requests of about 600-byte events, back to back over one keep-alive
//! connection, each answered 200 and every event accepted. How fast the sandbox answers is
//! measured by the SDK's delivery bench (`cargo bench --bench delivery`), not by a test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::*;
use serde_json::{json, Value};

/// An event of roughly 600 bytes on the wire.
fn sized_event(i: usize) -> Value {
    json!({
        "event_name": "checkout",
        "action_source": "app_android",
        "event_time": now(),
        "event_id": format!("{i:08}-5d1e-4c1b-9f4e-7a3c2b1d0e9f"),
        "user_data": {
            "em": [HASH],
            "hashed_maids": [HASH],
            "client_ip_address": "203.0.113.7",
            "client_user_agent": "Dalvik/2.1.0 (Linux; U; Android 14; Pixel 8 Build/UQ1A)"
        },
        "custom_data": {"currency": "USD", "value": "19.99", "content_ids": ["sku-1", "sku-2"], "num_items": 2},
        "app_id": "com.example.shop",
        "app_version": "3.1.0",
        "device_model": "Pixel 8",
        "os_version": "14",
        "wifi": true
    })
}

/// Sends `requests` batches of `per_request` events and checks every one was accepted.
fn run(requests: usize, per_request: usize) {
    let sandbox = start();
    let bodies: Vec<String> = (0..requests)
        .map(|r| {
            batch(
                (0..per_request)
                    .map(|i| sized_event(r * per_request + i))
                    .collect(),
            )
        })
        .collect();
    let average = bodies.iter().map(String::len).sum::<usize>() / (requests * per_request);
    assert!((450..=800).contains(&average), "event size {average}");
    let mut stream = TcpStream::connect(("127.0.0.1", sandbox.port())).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream.set_nodelay(true).unwrap();
    let mut buffer = vec![0u8; 256 * 1024];
    for body in &bodies {
        let head = format!(
            "POST {} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            events_path(),
            body.len()
        );
        let mut request = head.into_bytes();
        request.extend_from_slice(body.as_bytes());
        stream.write_all(&request).unwrap();
        // Read until the whole response (head + Content-Length body) is in.
        let mut got = Vec::new();
        loop {
            let n = stream.read(&mut buffer).unwrap();
            assert!(n > 0, "connection closed");
            got.extend_from_slice(&buffer[..n]);
            if let Some(split) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                let answer = parse_answer(&got[..split + 4]);
                let length: usize = answer.header("content-length").unwrap().parse().unwrap();
                if got.len() >= split + 4 + length {
                    assert_eq!(answer.status, 200);
                    break;
                }
            }
        }
    }
    assert_eq!(sandbox.accepted().len(), requests * per_request);
}

#[test]
fn a_few_full_batches_go_through() {
    run(3, 1000);
}
