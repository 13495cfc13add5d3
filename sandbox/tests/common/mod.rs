//! Shared helpers for the sandbox's integration tests: a raw HTTP/1.1 client over
//! `TcpStream` (so tests see exactly what went over the wire, including dropped and
//! truncated answers) and builders for valid events.
#![allow(dead_code)] // each test binary uses a different subset
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use app_conversions_sandbox::{Sandbox, SandboxConfig};
use serde_json::{json, Value};

pub const TOKEN: &str = "sandbox-token";
pub const ACCOUNT: &str = "549768257474";
/// SHA-256 of "test".
pub const HASH: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

pub fn start() -> Sandbox {
    Sandbox::start(SandboxConfig::default()).expect("sandbox starts")
}

pub fn start_with(change: impl FnOnce(&mut SandboxConfig)) -> Sandbox {
    let mut config = SandboxConfig::default();
    change(&mut config);
    Sandbox::start(config).expect("sandbox starts")
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A minimal valid event.
pub fn event(id: &str) -> Value {
    json!({
        "event_name": "add_to_cart",
        "action_source": "app_android",
        "event_time": now(),
        "event_id": id,
        "user_data": {"em": [HASH]},
    })
}

/// An event using every documented field, all valid.
pub fn full_event(id: &str) -> Value {
    let text = r#"{
        "event_name": "checkout",
        "action_source": "app_ios",
        "event_time": 0,
        "event_id": "",
        "event_source_url": null,
        "opt_out": false,
        "partner_name": "ss-partner",
        "app_id": "123", "app_name": "Shop", "app_version": "1.0",
        "device_brand": "Apple", "device_carrier": "T", "device_model": "iPhone",
        "device_type": "phone", "os_version": "18.1", "wifi": true, "language": "en",
        "user_data": {
            "em": ["H"], "ph": ["H"], "fn": ["H"], "ln": ["H"], "ge": ["H"],
            "db": ["H"], "ct": ["H"], "st": ["H"], "zp": ["H"], "country": ["H"],
            "external_id": ["H"], "hashed_maids": ["H", "H"],
            "client_ip_address": "203.0.113.7", "client_user_agent": "Mozilla/5.0",
            "click_id": null, "partner_id": "p",
            "some_future_field": 1
        },
        "custom_data": {
            "currency": "USD", "value": "12.50", "content_ids": ["a", "b"],
            "contents": [{"id": "a", "item_price": "1.00", "quantity": 2, "item_name": "n",
                          "item_category": "c", "item_brand": "b"}],
            "num_items": 2, "order_id": "o1", "search_string": null, "opt_out_type": "LDP",
            "np": null, "content_name": "n", "content_category": "c", "content_brand": "b",
            "external_measurement_id": null, "external_measurement_vendor_id": 3,
            "predicted_ltv": "100.0"
        },
        "app_info": {
            "app_id": "123", "app_name": "Shop", "app_package_name": "com.example",
            "app_store": "Apple App Store", "app_version": "1.0", "install_time": 1700000000,
            "user_agent": "ua", "window_height": 800, "window_width": 400
        },
        "device_info": {
            "battery_level": 100, "brand": "Apple", "carrier": "T", "cpu_cores": 8,
            "external_storage_free_space": 0, "external_storage_size": 0,
            "form_factor": "cellphone", "kernel_version": "24.3.0", "languages": ["en", "de"],
            "locale": "en-US", "model": "iPhone16,1", "network_type": "wifi", "os_family": "ios",
            "os_name": "18", "os_release_name": "x", "os_version": "18.1", "screen_density": 460,
            "screen_height": 2556, "screen_width": 1179, "storage_free_space": 10,
            "storage_size": 128, "timezone": "Europe/Berlin", "timezone_abbr": "CET", "type": "phone"
        }
    }"#;
    let mut event: Value =
        serde_json::from_str(&text.replace("\"H\"", &format!("\"{HASH}\""))).unwrap();
    event["event_time"] = json!(now() - 60);
    event["event_id"] = json!(id);
    event
}

pub fn batch(events: Vec<Value>) -> String {
    json!({ "data": events }).to_string()
}

pub fn events_path() -> String {
    format!("/v5/ad_accounts/{ACCOUNT}/events")
}

/// What came back over the wire.
#[derive(Debug)]
pub struct Answer {
    /// 0 when the connection closed without a status line.
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Whether the body is shorter than the announced Content-Length.
    pub truncated: bool,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends one request with `Connection: close` and reads the whole answer.
pub fn raw(port: u16, method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut request =
        format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(request.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut bytes = Vec::new();
    let _ = stream.read_to_end(&mut bytes);
    parse_answer(&bytes)
}

pub fn parse_answer(bytes: &[u8]) -> Answer {
    let Some(split) = bytes.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Answer {
            status: 0,
            headers: Vec::new(),
            body: bytes.to_vec(),
            truncated: !bytes.is_empty(),
        };
    };
    let head = String::from_utf8_lossy(&bytes[..split]);
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let body = bytes[split + 4..].to_vec();
    let declared = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok());
    let truncated = declared.is_some_and(|n| body.len() < n);
    Answer {
        status,
        headers,
        body,
        truncated,
    }
}

/// POSTs a body to the events endpoint with the default token.
pub fn post_events(sandbox: &Sandbox, body: &str) -> Answer {
    post_events_to(sandbox, &events_path(), body)
}

pub fn post_events_to(sandbox: &Sandbox, target: &str, body: &str) -> Answer {
    raw(
        sandbox.port(),
        "POST",
        target,
        &[
            ("Authorization", &format!("Bearer {TOKEN}")),
            ("Content-Type", "application/json"),
            ("User-Agent", "sandbox-tests/1.0"),
        ],
        body.as_bytes(),
    )
}

/// Expects a 400 code 4196 whose message contains `fragment`.
pub fn expect_invalid(sandbox: &Sandbox, body: &str, fragment: &str) {
    let answer = post_events(sandbox, body);
    assert_eq!(
        answer.status,
        400,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    let json = answer.json();
    assert_eq!(json["code"], 4196);
    let message = json["message"].as_str().unwrap();
    assert!(message.starts_with("Invalid request: "), "{message}");
    assert!(message.contains(fragment), "{message:?} lacks {fragment:?}");
}
