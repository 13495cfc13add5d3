//! Lifecycle and privacy scenario matrix: exactly what arrives at the sandbox for installs,
//! opens, Limit Ad Tracking, collection withdrawal and advertising-id forms. Every privacy
//! scenario runs straight to the API and through the relay, with each body that arrives
//! checked against the official schema.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
mod common;

use std::time::Duration;

use app_conversions::{ConversionsClient, EventName, PrivacyState};
use app_conversions_sandbox::{Fault, Sandbox};
use common::routes::{Endpoint, ROUTES};
use common::*;
use serde_json::Value;

const WAIT: u64 = 10_000;
const IDFA_UPPER: &str = "6D92078A-8246-4BA4-AE5B-76104861E7DC";

fn client_in(
    sandbox: &Sandbox,
    dir: &std::path::Path,
    privacy: PrivacyState,
    first_install: Option<i64>,
    min_bg: u64,
) -> std::sync::Arc<ConversionsClient> {
    let mut cfg = config(&sandbox.base_url(), &dir.join("buffer.db"));
    cfg.min_background_for_open_secs = min_bg;
    let mut app = app();
    app.first_install_time = first_install;
    ConversionsClient::new(cfg, app, device(), privacy).unwrap()
}

/// [`client_in`] on `endpoint`'s route (straight to the API, or through the relay).
fn client_on(
    endpoint: &Endpoint,
    dir: &std::path::Path,
    privacy: PrivacyState,
    first_install: Option<i64>,
    min_bg: u64,
) -> std::sync::Arc<ConversionsClient> {
    let mut cfg = endpoint.config(&dir.join("buffer.db"));
    cfg.min_background_for_open_secs = min_bg;
    let mut app = app();
    app.first_install_time = first_install;
    ConversionsClient::new(cfg, app, device(), privacy).unwrap()
}

fn names(sandbox: &Sandbox) -> Vec<String> {
    sandbox
        .accepted()
        .iter()
        .map(|e| e["event_name"].as_str().unwrap().to_string())
        .collect()
}

/// Limit Ad Tracking on (or ads personalisation opted out), no advertising id.
fn opted_out() -> PrivacyState {
    PrivacyState {
        opt_out: true,
        ..Default::default()
    }
}

fn now() -> i64 {
    use app_conversions::Clock;
    app_conversions::SystemClock.now_secs()
}

#[test]
fn fresh_install_then_relaunch() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let client = client_in(
        &sandbox,
        dir.path(),
        privacy_with_id(GAID),
        Some(now() - 60),
        30,
    );
    client.on_launch().unwrap();
    client.on_launch().unwrap(); // a second call in one process is ignored
    assert!(
        sandbox.wait_for_accepted(1, Duration::from_secs(3)),
        "sent within a second or so"
    );
    client.shutdown(WAIT).unwrap();
    let install = sandbox.accepted()[0].clone();
    assert_eq!(install["event_name"], "app_install");
    assert!(install["event_id"]
        .as_str()
        .unwrap()
        .starts_with("app_install-"));
    assert_eq!(install["user_data"]["hashed_maids"][0], sha256(GAID));
    assert_eq!(install["opt_out"], false);

    let client = client_in(
        &sandbox,
        dir.path(),
        privacy_with_id(GAID),
        Some(now() - 60),
        30,
    );
    client.on_launch().unwrap();
    client.flush(WAIT).unwrap();
    assert_eq!(names(&sandbox), ["app_install", "app_open"]);
}

#[test]
fn an_existing_user_updating_into_the_sdk_records_no_install() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let client = client_in(
        &sandbox,
        dir.path(),
        privacy_with_id(GAID),
        Some(now() - 30 * 86_400),
        30,
    );
    client.on_launch().unwrap();
    client.flush(WAIT).unwrap();
    assert_eq!(names(&sandbox), ["app_open"]);
    assert_eq!(client.diagnostics().existing_user_installs, 1);
}

#[test]
fn a_crash_between_recording_and_delivering_the_install_gives_one_install() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let offline = {
        let probe = app_conversions_sandbox::Sandbox::start(Default::default()).unwrap();
        let url = probe.base_url();
        probe.stop();
        url
    };
    let mut cfg = config(&offline, &dir.path().join("buffer.db"));
    cfg.retry_base_delay_ms = 10;
    let first = ConversionsClient::new(cfg, app(), device(), privacy_with_id(GAID)).unwrap();
    first.on_launch().unwrap();
    first.flush(300).unwrap();
    drop(first); // the process "dies" with the install undelivered
                 // The dropped client's threads close the database in the background: wait for that.
    let second = (0..200)
        .find_map(|_| {
            let cfg = config(&sandbox.base_url(), &dir.path().join("buffer.db"));
            match ConversionsClient::new(cfg, app(), device(), privacy_with_id(GAID)) {
                Ok(client) => Some(client),
                Err(_) => {
                    std::thread::sleep(Duration::from_millis(50));
                    None
                }
            }
        })
        .expect("the database is released");
    second.on_launch().unwrap();
    second.on_network_available().unwrap();
    second.flush(WAIT).unwrap();
    let mut got = names(&sandbox);
    got.sort();
    assert_eq!(got, ["app_install", "app_open"]);
}

#[test]
fn quick_and_long_backgrounds() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let client = client_in(&sandbox, dir.path(), privacy_with_id(GAID), None, 1);
    client.on_launch().unwrap();
    client.on_background().unwrap();
    client.on_foreground().unwrap(); // quick: no app_open
    client.on_background().unwrap();
    std::thread::sleep(Duration::from_millis(1_100));
    client.on_foreground().unwrap(); // long: app_open
    client.flush(WAIT).unwrap();
    assert_eq!(names(&sandbox), ["app_install", "app_open"]);
}

#[test]
fn limit_ad_tracking_before_tracking() {
    for route in ROUTES {
        let endpoint = Endpoint::start(route);
        let dir = tempfile::tempdir().unwrap();
        let lat = PrivacyState {
            opt_out: true,
            advertising_id: Some(GAID.into()),
            ..Default::default()
        };
        let client = client_on(&endpoint, dir.path(), lat, None, 30);
        client.track(checkout("10.00")).unwrap();
        client.flush(WAIT).unwrap();
        let event = &endpoint.arrived()[0];
        assert_eq!(event["opt_out"], true);
        assert!(event["user_data"].get("hashed_maids").is_none());
        // Read while the client runs: the event's row is still in the WAL.
        let files = disk::buffer_files(&dir.path().join("buffer.db"));
        let read: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
        assert!(read.contains(&"buffer.db-wal"), "{read:?}");
        for (name, bytes) in &files {
            assert!(
                !disk::contains(bytes, sha256(GAID).as_bytes()),
                "the id is not even hashed while opted out, found in {name}"
            );
        }
        client.shutdown(WAIT).unwrap();
    }
}

#[test]
fn opting_out_while_events_wait_strips_their_advertising_id() {
    for route in ROUTES {
        let endpoint = Endpoint::start(route);
        let sandbox = &endpoint.sandbox;
        let dir = tempfile::tempdir().unwrap();
        let client = client_on(&endpoint, dir.path(), privacy_with_id(GAID), None, 30);
        client.track(checkout("10.00")).unwrap();
        // Committed under the looser state; with a fresh buffer and one event no trigger has
        // fired, so the event is still waiting.
        client.diagnostics();
        assert!(sandbox.requests().is_empty());
        client.set_privacy(opted_out()).unwrap();
        client.flush(WAIT).unwrap();
        let event = &endpoint.arrived()[0];
        assert_eq!(event["opt_out"], true);
        assert!(event["user_data"].get("hashed_maids").is_none());
    }
}

#[test]
fn opting_out_between_retries_strips_the_advertising_id_from_the_retry() {
    for route in ROUTES {
        let endpoint = Endpoint::start(route);
        let sandbox = &endpoint.sandbox;
        sandbox.inject(Fault::Status {
            status: 503,
            retry_after: Some("3600".into()),
            body: None,
        });
        let dir = tempfile::tempdir().unwrap();
        let client = client_on(&endpoint, dir.path(), privacy_with_id(GAID), None, 30);
        client.track(checkout("10.00")).unwrap();
        // The retry is an hour away, beyond this flush's timeout: the flush ends after the 503.
        let refused = client.flush(WAIT).unwrap();
        assert_eq!((refused.sent, refused.remaining), (1, 1));
        let first_attempt: Value = serde_json::from_str(&sandbox.requests()[0].body).unwrap();
        assert!(first_attempt["data"][0]["user_data"]["hashed_maids"].is_array());

        client.set_privacy(opted_out()).unwrap();
        client.on_network_available().unwrap(); // ends the backoff
        let retried = client.flush(WAIT).unwrap();
        assert_eq!(retried.remaining, 0);
        let event = &endpoint.arrived()[0];
        assert_eq!(event["opt_out"], true);
        assert!(event["user_data"].get("hashed_maids").is_none());
    }
}

#[test]
fn a_looser_state_never_adds_identifiers() {
    for route in ROUTES {
        let endpoint = Endpoint::start(route);
        let dir = tempfile::tempdir().unwrap();
        let lat = opted_out();
        let client = client_on(&endpoint, dir.path(), lat, None, 30);
        client.track(checkout("10.00")).unwrap();
        client.set_privacy(privacy_with_id(GAID)).unwrap();
        client.flush(WAIT).unwrap();
        let event = &endpoint.arrived()[0];
        assert_eq!(event["opt_out"], true);
        assert!(event["user_data"].get("hashed_maids").is_none());
    }
}

#[test]
fn limited_data_processing_marks_events() {
    for route in ROUTES {
        let endpoint = Endpoint::start(route);
        let dir = tempfile::tempdir().unwrap();
        let ldp = PrivacyState {
            limited_data_processing: true,
            advertising_id: Some(GAID.into()),
            ..Default::default()
        };
        let client = client_on(&endpoint, dir.path(), ldp, None, 30);
        client.track(event(EventName::Search)).unwrap();
        client.flush(WAIT).unwrap();
        assert_eq!(endpoint.arrived()[0]["custom_data"]["opt_out_type"], "ldp");
    }
}

#[test]
fn disabling_collection_purges_and_records_nothing() {
    for route in ROUTES {
        let endpoint = Endpoint::start(route);
        let sandbox = &endpoint.sandbox;
        let dir = tempfile::tempdir().unwrap();
        let client = client_on(&endpoint, dir.path(), privacy_with_id(GAID), None, 30);
        client.track(checkout("1.00")).unwrap();
        client.track(checkout("2.00")).unwrap();
        client
            .set_privacy(PrivacyState {
                collection_enabled: false,
                ..Default::default()
            })
            .unwrap();
        let result = client.track(checkout("3.00")).unwrap();
        assert!(!result.recorded);
        client.on_launch().unwrap();
        let report = client.flush(2_000).unwrap();
        assert_eq!((report.sent, report.remaining), (0, 0));
        let d = client.diagnostics();
        assert_eq!((d.queued, d.dropped_purged), (0, 2));
        assert!(sandbox.requests().is_empty());
    }
}

#[test]
fn forget_keeps_the_install_record() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("buffer.db");
    let client = client_in(&sandbox, dir.path(), privacy_with_id(GAID), None, 30);
    client.on_launch().unwrap();
    client.flush(WAIT).unwrap();
    assert_eq!(names(&sandbox), ["app_install"]);
    client.forget(WAIT).unwrap();
    client.shutdown(WAIT).unwrap();
    let install_id = || -> Option<String> {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.query_row("SELECT install_id FROM install WHERE id = 1", [], |r| {
            r.get(0)
        })
        .ok()
    };
    assert!(
        install_id().is_some(),
        "forget() removed the install record from the database"
    );
    // The sidecar that also remembers the install is gone (an SDK version without it, a
    // restore of the database alone): the next launch decides from the database's record.
    // Within the install window, a lost record would make it a second app_install.
    std::fs::remove_file(dir.path().join("buffer.db.install")).unwrap();
    let client = client_in(&sandbox, dir.path(), privacy_with_id(GAID), None, 30);
    client.on_launch().unwrap();
    client.flush(WAIT).unwrap();
    client.shutdown(WAIT).unwrap();
    assert_eq!(
        names(&sandbox),
        ["app_install", "app_open"],
        "the launch after forget() is an app_open, not a second install"
    );
}

#[test]
fn advertising_id_forms() {
    for route in ROUTES {
        let cases: [(&str, Option<String>, u64); 4] = [
            ("00000000-0000-0000-0000-000000000000", None, 0),
            ("not-an-idfa", None, 1),
            (
                IDFA_UPPER,
                Some(sha256(&IDFA_UPPER.to_ascii_lowercase())),
                0,
            ),
            (GAID, Some(sha256(GAID)), 0),
        ];
        for (raw, expected, malformed) in cases {
            let endpoint = Endpoint::start(route);
            let dir = tempfile::tempdir().unwrap();
            let client = client_on(&endpoint, dir.path(), privacy_with_id(raw), None, 30);
            client.track(checkout("1.00")).unwrap();
            client.flush(WAIT).unwrap();
            let event: Value = endpoint.arrived()[0].clone();
            let maid = event["user_data"]["hashed_maids"][0]
                .as_str()
                .map(str::to_string);
            assert_eq!(maid, expected, "{raw}");
            assert_eq!(
                client.diagnostics().malformed_advertising_ids,
                malformed,
                "{raw}"
            );
        }
    }
}

#[test]
fn metadata_is_snapshotted_at_track_time() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let client = client_in(&sandbox, dir.path(), privacy_with_id(GAID), None, 30);
    client.track(event(EventName::ViewContent)).unwrap();
    let mut offline = device();
    offline.carrier = Some("".into());
    offline.wifi = Some(false);
    client.update_device(offline).unwrap();
    client.track(event(EventName::ViewContent)).unwrap();
    client.flush(WAIT).unwrap();
    let accepted = sandbox.accepted();
    assert_eq!(
        (
            accepted[0]["device_carrier"].as_str(),
            accepted[0]["wifi"].as_bool()
        ),
        (Some("T-Mobile"), Some(true))
    );
    assert!(
        accepted[1].get("device_carrier").is_none(),
        "empty values are omitted"
    );
    assert_eq!(accepted[1]["wifi"], false);
    let mut bad = device();
    bad.language = Some("english".into());
    match client.update_device(bad) {
        Err(app_conversions::ConversionsError::InvalidInput { field, .. }) => {
            assert_eq!(field, "device.language")
        }
        other => panic!("{other:?}"),
    }
}
