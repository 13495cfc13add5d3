//! The 5.23 `app_info` and `device_info` objects on every event, on both routes: what the app
//! and the device say arrives in them (and in the flat fields the API still reads), every
//! body checked against the official schema; an unknown field in either object is refused
//! by the API; an opted-out event carries no more device detail than its flat fields.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

mod common;

use std::sync::Arc;

use app_conversions::{
    ActionSource, Clock, ConversionsClient, EventName, HttpHeader, HttpRequest, HttpTransport,
    InstallReferrer, ManualClock, PrivacyState,
};
use common::routes::{Endpoint, ROUTES};
use common::transport::StdTransport;
use common::*;
use serde_json::{json, Value};

const WAIT_MS: u64 = 10_000;

fn arrived(endpoint: &Endpoint, client: &ConversionsClient) -> Vec<Value> {
    let report = client.flush(WAIT_MS).unwrap();
    assert!(!report.timed_out, "{report:?}");
    endpoint.arrived()
}

fn start(
    endpoint: &Endpoint,
    dir: &std::path::Path,
    privacy: PrivacyState,
) -> Arc<ConversionsClient> {
    let cfg = endpoint.config(&dir.join("buffer.db"));
    ConversionsClient::new(cfg, app(), device(), privacy).unwrap()
}

/// `common::app()` and `common::device()` as the API receives them.
fn expected_app_info() -> Value {
    json!({
        "app_id": "com.example.shop",
        "app_name": "Shop",
        "app_package_name": "com.example.shop",
        "app_store": "Google Play Store",
        "app_version": "3.1.0",
    })
}

fn expected_device_info() -> Value {
    json!({
        "brand": "Google",
        "carrier": "T-Mobile",
        "cpu_cores": 8,
        "form_factor": "cellphone",
        "languages": ["en", "es"],
        "locale": "en-US",
        "model": "Pixel 8",
        "network_type": "wifi",
        "os_family": "android",
        "os_name": "14",
        "os_version": "14",
        "screen_density": 428,
        "screen_height": 2400,
        "screen_width": 1080,
        "timezone": "America/New_York",
        "timezone_abbr": "EST",
        "type": "phone",
    })
}

#[test]
fn every_fact_arrives_in_app_info_and_device_info_and_the_flat_fields_stay() {
    for route in ROUTES {
        let endpoint = Endpoint::start(route);
        let dir = tempfile::tempdir().unwrap();
        let client = start(&endpoint, dir.path(), privacy_with_id(GAID));
        client.track(event(EventName::Lead)).unwrap();
        let events = arrived(&endpoint, &client);
        let lead = &events[0];
        assert_eq!(lead["app_info"], expected_app_info(), "{route:?}");
        assert_eq!(lead["device_info"], expected_device_info(), "{route:?}");
        let flat = [
            ("app_id", json!("com.example.shop")),
            ("app_name", json!("Shop")),
            ("app_version", json!("3.1.0")),
            ("device_brand", json!("Google")),
            ("device_model", json!("Pixel 8")),
            ("device_type", json!("phone")),
            ("device_carrier", json!("T-Mobile")),
            ("os_version", json!("14")),
            ("language", json!("en")),
            ("wifi", json!(true)),
        ];
        for (field, value) in flat {
            assert_eq!(lead[field], value, "{route:?}: flat {field}");
        }
        client.shutdown(WAIT_MS).unwrap();
    }
}

#[test]
fn the_install_carries_the_referrers_install_begin_time_in_app_info() {
    for route in ROUTES {
        let endpoint = Endpoint::start(route);
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(app_conversions::SystemClock.now_ms()));
        let mut cfg = endpoint.config(&dir.path().join("buffer.db"));
        cfg.first_launch_wait_for_install_referrer_secs = 5;
        let dyn_clock: Arc<dyn Clock> = clock.clone();
        let app = app_conversions::AppInfo {
            first_install_time: Some(clock.now_secs() - 30),
            ..app()
        };
        let client =
            ConversionsClient::with_clock(cfg, app, device(), privacy_with_id(GAID), dyn_clock)
                .unwrap();
        client.on_launch().unwrap();
        let now = clock.now_secs();
        client
            .set_install_referrer(Some(InstallReferrer {
                referrer: Some("utm_source=pinterest".into()),
                click_time: Some(now - 120),
                install_begin_time: Some(now - 60),
            }))
            .unwrap();
        client.track(event(EventName::Lead)).unwrap();
        let events = arrived(&endpoint, &client);
        assert_eq!(events[0]["event_name"], "app_install", "{route:?}");
        assert_eq!(
            events[0]["app_info"]["install_time"],
            json!(now - 60),
            "{route:?}"
        );
        assert_eq!(
            events[1]["app_info"]["install_time"],
            json!(now - 60),
            "{route:?}"
        );
        client.shutdown(WAIT_MS).unwrap();
    }
}

#[test]
fn an_ios_app_says_ios_and_without_the_referrer_the_os_install_time_is_sent() {
    for route in ROUTES {
        let endpoint = Endpoint::start(route);
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = endpoint.config(&dir.path().join("buffer.db"));
        cfg.action_source = ActionSource::AppIos;
        cfg.user_data_without_tracking = true;
        let app = app_conversions::AppInfo {
            first_install_time: Some(1_700_000_000),
            ..app()
        };
        let device = app_conversions::DeviceInfo {
            os_family: None,
            ..device()
        };
        let privacy = PrivacyState {
            tracking_authorization: Some(app_conversions::TrackingAuthorization::Authorized),
            ..privacy_with_id(GAID)
        };
        let client = ConversionsClient::new(cfg, app, device, privacy).unwrap();
        client.track(event(EventName::Lead)).unwrap();
        let events = arrived(&endpoint, &client);
        assert_eq!(events[0]["device_info"]["os_family"], "ios", "{route:?}");
        assert_eq!(
            events[0]["app_info"]["install_time"], 1_700_000_000,
            "{route:?}"
        );
        client.shutdown(WAIT_MS).unwrap();
    }
}

/// The detail an opted-out event leaves out: what its flat fields do not say.
const DETAIL: [&str; 9] = [
    "screen_width",
    "screen_height",
    "screen_density",
    "timezone",
    "timezone_abbr",
    "locale",
    "languages",
    "cpu_cores",
    "install_time",
];

fn detail_sent(event: &Value) -> Vec<&'static str> {
    DETAIL
        .into_iter()
        .filter(|field| {
            event["device_info"].get(field).is_some() || event["app_info"].get(field).is_some()
        })
        .collect()
}

#[test]
fn opted_out_events_leave_the_detail_out_also_when_queued_before_opting_out() {
    for route in ROUTES {
        let endpoint = Endpoint::start(route);
        let dir = tempfile::tempdir().unwrap();
        let cfg = endpoint.config(&dir.path().join("buffer.db"));
        let app = app_conversions::AppInfo {
            first_install_time: Some(1_700_000_000),
            ..app()
        };
        // A manual clock: the upload waits for its interval until flushed.
        let clock: Arc<dyn Clock> =
            Arc::new(ManualClock::new(app_conversions::SystemClock.now_ms()));
        let client =
            ConversionsClient::with_clock(cfg, app, device(), privacy_with_id(GAID), clock)
                .unwrap();
        // Queued while tracking is allowed, sent after the user opted out (the email meets
        // the identity rule without the advertising ID).
        client.track(checkout("9.99")).unwrap();
        assert!(client.settle(WAIT_MS));
        assert!(endpoint.sandbox.requests().is_empty(), "{route:?}: queued");
        client
            .set_privacy(PrivacyState {
                opt_out: true,
                ..privacy_with_id(GAID)
            })
            .unwrap();
        client.track(checkout("19.99")).unwrap();
        let events = arrived(&endpoint, &client);
        assert_eq!(events.len(), 2, "{route:?}");
        for event in &events {
            assert_eq!(event["opt_out"], true, "{route:?}");
            assert_eq!(detail_sent(event), Vec::<&str>::new(), "{route:?}: {event}");
            assert_eq!(event["device_info"]["model"], "Pixel 8", "{route:?}");
            assert_eq!(event["device_info"]["os_family"], "android", "{route:?}");
            assert_eq!(
                event["app_info"]["app_store"], "Google Play Store",
                "{route:?}"
            );
        }
        client.shutdown(WAIT_MS).unwrap();
    }
}

/// Posts `body` where the SDK of `endpoint`'s route would, with its token.
fn post(endpoint: &Endpoint, body: &Value) -> u16 {
    let dir = tempfile::tempdir().unwrap();
    let cfg = endpoint.config(&dir.path().join("unused.db"));
    let request = HttpRequest {
        method: "POST".into(),
        url: format!("{}/v5/ad_accounts/{AD_ACCOUNT}/events", cfg.endpoint),
        headers: vec![
            HttpHeader {
                name: "Authorization".into(),
                value: format!("Bearer {}", cfg.token),
            },
            HttpHeader {
                name: "Content-Type".into(),
                value: "application/json".into(),
            },
        ],
        body: body.to_string().into_bytes(),
        timeout_ms: WAIT_MS,
    };
    StdTransport.send(request).unwrap().status
}

#[test]
fn the_api_refuses_an_unknown_field_in_either_object_on_both_routes() {
    for route in ROUTES {
        let endpoint = Endpoint::start(route);
        let dir = tempfile::tempdir().unwrap();
        let client = start(&endpoint, dir.path(), privacy_with_id(GAID));
        client.track(event(EventName::Lead)).unwrap();
        let sent = arrived(&endpoint, &client).remove(0);
        client.shutdown(WAIT_MS).unwrap();
        endpoint.sandbox.reset();

        let cases = [
            ("app_info", "install_source", json!("play")),
            ("device_info", "ram_size", json!(8)),
            ("device_info", "os_family", json!("tizen")),
            ("app_info", "install_time", json!("yesterday")),
        ];
        for (object, field, value) in cases {
            let mut event = sent.clone();
            event["event_id"] = json!(format!("{object}-{field}"));
            event[object][field] = value;
            let status = post(&endpoint, &json!({ "data": [event] }));
            assert_eq!(status, 400, "{route:?}: {object}.{field}");
        }
        assert_eq!(endpoint.sandbox.accepted_count(), 0, "{route:?}");
        let mut event = sent.clone();
        event["event_id"] = json!("unchanged");
        assert_eq!(
            post(&endpoint, &json!({ "data": [event] })),
            200,
            "{route:?}"
        );
        assert_eq!(endpoint.sandbox.accepted_count(), 1, "{route:?}");
    }
}

#[test]
fn a_fact_the_api_would_refuse_is_left_out_and_counted_never_refusing_the_client() {
    let endpoint = Endpoint::start(common::routes::Route::Direct);
    let dir = tempfile::tempdir().unwrap();
    let cfg = endpoint.config(&dir.path().join("buffer.db"));
    let odd = app_conversions::DeviceInfo {
        timezone: Some("Not A/Zone Name With Spaces".into()),
        screen_density: Some(0),
        ..device()
    };
    let client = ConversionsClient::new(cfg, app(), odd, privacy_with_id(GAID)).unwrap();
    client
        .update_device(app_conversions::DeviceInfo {
            locale: Some("x".repeat(36)),
            ..device()
        })
        .unwrap();
    client.track(event(EventName::Lead)).unwrap();
    let events = arrived(&endpoint, &client);
    assert_eq!(events[0]["device_info"].get("locale"), None);
    assert_eq!(events[0]["device_info"]["timezone"], "America/New_York");
    let counted: Vec<(String, u64)> = client
        .diagnostics()
        .invalid_fields
        .into_iter()
        .map(|c| (c.field, c.count))
        .collect();
    assert_eq!(
        counted,
        [
            ("device.locale".to_string(), 1),
            ("device.timezone".to_string(), 1)
        ],
        "screen_density 0 means the platform did not say"
    );
    client.shutdown(WAIT_MS).unwrap();
}
