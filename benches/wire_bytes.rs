//! Bytes on the wire per event: batches of 1, 20 and 1,000 typical events (a checkout with
//! an email, value, currency and the device's facts) sent to the loopback sandbox, plain and
//! gzip-compressed (what the SDK sends a relay, or a direct endpoint with
//! `endpoint_accepts_gzip`). The sandbox counts the body bytes as they arrived; the request
//! head (about 250 bytes: method, URL, Authorization, Content-Type, User-Agent, lengths) comes
//! on top once per request and is printed apart.
//! Run: `cargo bench --bench wire_bytes`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a bench may fail loudly

use app_conversions::{
    ActionSource, AppInfo, ClientConfig, ConversionsClient, CustomData, DeviceInfo, Event,
    EventName, LogLevel, PrivacyState, UserData,
};
use app_conversions_sandbox::{Sandbox, SandboxConfig};

const TOKEN: &str = "bench-token";
const ACCOUNT: &str = "549768257474";

fn checkout(i: usize) -> Event {
    Event {
        user_data: Some(UserData {
            emails: vec![format!("person{i}@example.com")],
            ..Default::default()
        }),
        custom_data: Some(CustomData {
            currency: Some("USD".into()),
            value: Some(format!("{}.99", 10 + i % 90)),
            ..Default::default()
        }),
        ..Event::new(EventName::Checkout)
    }
}

/// Body bytes on the wire per event, and the inflated body per event, for one batch.
fn measure(events: usize, gzip: bool) -> (f64, f64) {
    let sandbox = Sandbox::start(SandboxConfig {
        token: TOKEN.into(),
        ad_account_id: ACCOUNT.into(),
        ..Default::default()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = ClientConfig {
        endpoint_is_relay: Some(false),
        endpoint_accepts_gzip: gzip,
        flush_interval_secs: 3600,
        log_level: Some(LogLevel::Off),
        ..ClientConfig::new(
            sandbox.base_url(),
            ACCOUNT,
            TOKEN,
            dir.path().join("buffer.db").to_string_lossy(),
            ActionSource::AppAndroid,
        )
    };
    let device = DeviceInfo {
        brand: Some("Google".into()),
        model: Some("Pixel 8".into()),
        os_version: Some("14".into()),
        language: Some("en".into()),
        carrier: Some("T-Mobile".into()),
        wifi: Some(true),
        user_agent: Some("Dalvik/2.1.0 (Linux; U; Android 14; Pixel 8)".into()),
        ..Default::default()
    };
    let app = AppInfo {
        app_id: Some("com.example.shop".into()),
        app_name: Some("Shop".into()),
        app_version: Some("3.1.0".into()),
        ..Default::default()
    };
    let client = ConversionsClient::new(config, app, device, PrivacyState::default()).unwrap();
    for i in 0..events {
        client.track(checkout(i)).unwrap();
    }
    let report = client.flush(30_000).unwrap();
    assert_eq!(report.processed as usize, events, "{report:?}");
    let requests = sandbox.requests();
    assert_eq!(requests.len(), 1, "one request per batch");
    let wire: usize = requests.iter().map(|r| r.wire_bytes).sum();
    let json: usize = requests.iter().map(|r| r.body.len()).sum();
    client.shutdown(5_000).unwrap();
    (wire as f64 / events as f64, json as f64 / events as f64)
}

fn main() {
    println!("body bytes on the wire per event (request head of ~250 B once per request on top)");
    println!(
        "{:>7} {:>12} {:>12} {:>8}",
        "batch", "plain JSON", "gzip", "ratio"
    );
    for events in [1, 20, 1_000] {
        let (plain, _) = measure(events, false);
        let (gzipped, json) = measure(events, true);
        assert!((plain - json).abs() < 1.0);
        println!(
            "{events:>7} {plain:>12.1} {gzipped:>12.1} {:>7.2}x",
            plain / gzipped
        );
    }
}
