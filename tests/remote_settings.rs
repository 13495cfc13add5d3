//! Remote settings end to end, with the sandbox standing in for a relay that serves
//! `GET /v5/ad_accounts/{id}/sdk-settings`, on a clock the test controls: a kill switch reaches
//! a running SDK within one fetch and stops its requests, turning it back on delivers what
//! waited, a broken document changes nothing, a document cannot re-enable what the app
//! disabled, a relay without the route leaves the SDK as configured, the last good document
//! survives a restart, and nothing wakes while the TTL has not run out.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use app_conversions::{
    ClientConfig, Clock, ConversionsClient, EventName, ManualClock, PrivacyState, SettingSource,
    SystemClock,
};
use app_conversions_sandbox::Sandbox;
use common::*;

const KILL: &[u8] = br#"{"version":1,"collection_enabled":false,"settings_ttl_secs":600}"#;
const ON: &[u8] = br#"{"version":1,"settings_ttl_secs":600}"#;
const TTL: Duration = Duration::from_secs(601);

/// A client that takes the sandbox for its relay, on `clock`.
fn relay_client(
    sandbox: &Sandbox,
    db: &Path,
    clock: &Arc<ManualClock>,
    privacy: PrivacyState,
    change: impl FnOnce(&mut ClientConfig),
) -> Arc<ConversionsClient> {
    let mut cfg = config(&sandbox.base_url(), db);
    cfg.endpoint_is_relay = Some(true);
    change(&mut cfg);
    let clock: Arc<dyn Clock> = clock.clone();
    ConversionsClient::with_clock(cfg, app(), device(), privacy, clock).expect("client")
}

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(SystemClock.now_ms()))
}

fn lead() -> app_conversions::Event {
    event(EventName::Lead)
}

/// Settings requests the sandbox received.
fn fetches(sandbox: &Sandbox) -> u64 {
    sandbox.sdk_settings_requests().0
}

#[test]
fn a_kill_switch_reaches_a_running_sdk_within_one_fetch_and_back_on_delivers_what_waited() {
    let sandbox = lenient_sandbox();
    sandbox.set_sdk_settings(Some(ON));
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let client = relay_client(
        &sandbox,
        &dir.path().join("buffer.db"),
        &clock,
        privacy_with_id(GAID),
        |_| {},
    );
    settle(&client);
    assert_eq!(fetches(&sandbox), 1, "fetched once at start");
    assert!(client.track(lead()).unwrap().recorded);
    client.flush(5_000).unwrap();
    assert_eq!(sandbox.accepted_count(), 1);
    let requests_before = sandbox.requests().len();

    // The backend turns the SDK off; the running SDK learns it at its first fetch after the
    // TTL, which the next event's wake brings. That event was recorded before the fetch.
    sandbox.set_sdk_settings(Some(KILL));
    clock.advance(TTL);
    assert!(client.track(lead()).unwrap().recorded);
    settle(&client);
    assert_eq!(fetches(&sandbox), 2, "one fetch after the TTL");
    let refused = client.track(lead()).unwrap();
    assert!(!refused.recorded);
    let reason = refused.reason.unwrap();
    assert!(
        reason.contains("remote settings") && reason.contains("collection_enabled"),
        "{reason}"
    );
    let report = client.flush(5_000).unwrap();
    assert_eq!(report.sent, 0);
    for _ in 0..10 {
        clock.advance(Duration::from_secs(30));
        settle(&client);
    }
    assert_eq!(
        sandbox.requests().len(),
        requests_before,
        "no request reached the sandbox"
    );
    let d = client.diagnostics();
    assert_eq!(d.queued, 1, "the event recorded before the switch waits");
    let s = &d.settings_in_force;
    assert!(!s.collection_enabled);
    assert_eq!(s.collection_enabled_source, SettingSource::Remote);
    assert!(s
        .disabled_reason
        .as_deref()
        .unwrap()
        .contains("remote settings"));
    assert!(s.remote_fetched_at.is_some() && s.remote_fetch_enabled);
    eprintln!("kill switch in force: {s:?}");

    // Back on: the next check (the upload thread's only wake while off) delivers what waited.
    sandbox.set_sdk_settings(Some(ON));
    clock.advance(TTL);
    settle(&client);
    assert_eq!(fetches(&sandbox), 3);
    assert!(sandbox.wait_for_accepted(2, Duration::from_secs(5)));
    assert_eq!(client.diagnostics().queued, 0);
    assert!(client.diagnostics().settings_in_force.collection_enabled);
    assert!(client.track(lead()).unwrap().recorded);
    client.flush(5_000).unwrap();
    assert_eq!(sandbox.accepted_count(), 3);
}

#[test]
fn the_relay_answers_304_to_the_kept_etag_and_nothing_is_fetched_twice_within_the_ttl() {
    let sandbox = lenient_sandbox();
    sandbox.set_sdk_settings(Some(ON));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("buffer.db");
    let clock = clock();
    let client = relay_client(&sandbox, &db, &clock, privacy_with_id(GAID), |_| {});
    settle(&client);
    let first = client
        .diagnostics()
        .settings_in_force
        .remote_fetched_at
        .unwrap();
    // Events flow within the TTL: no other fetch.
    for _ in 0..3 {
        client.track(lead()).unwrap();
        client.flush(5_000).unwrap();
        clock.advance(Duration::from_secs(60));
    }
    assert_eq!(sandbox.sdk_settings_requests(), (1, 0));
    clock.advance(TTL);
    client.track(lead()).unwrap();
    client.flush(5_000).unwrap();
    assert_eq!(
        sandbox.sdk_settings_requests(),
        (2, 1),
        "asked again with If-None-Match"
    );
    let confirmed = client
        .diagnostics()
        .settings_in_force
        .remote_fetched_at
        .unwrap();
    assert!(confirmed > first);
    client.shutdown(5_000).unwrap();
    // A restart within the TTL asks nothing.
    let client = relay_client(&sandbox, &db, &clock, privacy_with_id(GAID), |_| {});
    settle(&client);
    assert_eq!(sandbox.sdk_settings_requests(), (2, 1));
}

#[test]
fn the_last_good_document_is_applied_at_the_next_start_and_a_failed_fetch_keeps_it() {
    let sandbox = lenient_sandbox();
    sandbox.set_sdk_settings(Some(KILL));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("buffer.db");
    let clock = clock();
    let client = relay_client(&sandbox, &db, &clock, privacy_with_id(GAID), |_| {});
    settle(&client);
    client.shutdown(5_000).unwrap();
    // The relay loses the route (an older relay, a failing backend): the kept document holds.
    sandbox.set_sdk_settings(None);
    for advance in [Duration::ZERO, TTL] {
        clock.advance(advance);
        let client = relay_client(&sandbox, &db, &clock, privacy_with_id(GAID), |_| {});
        settle(&client);
        let refused = client.track(lead()).unwrap();
        assert!(!refused.recorded, "{advance:?}");
        assert!(refused.reason.unwrap().contains("remote settings"));
        client.shutdown(5_000).unwrap();
    }
    assert_eq!(
        fetches(&sandbox),
        2,
        "the restart after the TTL asked, and got a 404"
    );
    assert_eq!(sandbox.requests().len(), 0, "nothing was sent");
}

#[test]
fn a_relay_without_the_route_leaves_the_sdk_as_configured() {
    let sandbox = lenient_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let client = relay_client(
        &sandbox,
        &dir.path().join("buffer.db"),
        &clock,
        privacy_with_id(GAID),
        |c| {
            c.max_batch = 50;
        },
    );
    settle(&client);
    assert_eq!(fetches(&sandbox), 1);
    let s = client.diagnostics().settings_in_force;
    assert!(s.collection_enabled && s.remote_fetched_at.is_none());
    assert_eq!((s.max_batch, s.max_batch_source), (50, SettingSource::App));
    assert_eq!(
        (s.flush_interval_secs, s.flush_interval_source),
        (30, SettingSource::Default)
    );
    assert_eq!(s.remote_documents_ignored, 0);
    assert!(client.track(lead()).unwrap().recorded);
    client.flush(5_000).unwrap();
    assert_eq!(sandbox.accepted_count(), 1);
}

#[test]
fn broken_documents_never_crash_and_change_nothing() {
    let huge = format!(
        r#"{{"collection_enabled":false,"pad":"{}"}}"#,
        "x".repeat(100_000)
    );
    let deep = format!(
        r#"{{"collection_enabled":false,"x":{}1{}}}"#,
        "[".repeat(5_000),
        "]".repeat(5_000)
    );
    let cases: [(&str, &[u8]); 7] = [
        ("garbage", b"\xff\xfe<html>502</html>"),
        ("huge", huge.as_bytes()),
        ("deeply nested", deep.as_bytes()),
        (
            "wrong-typed",
            br#"{"collection_enabled":"false","max_batch":5}"#,
        ),
        (
            "negative",
            br#"{"collection_enabled":false,"max_batch":-5}"#,
        ),
        (
            "fraction",
            br#"{"collection_enabled":false,"flush_interval_secs":0.5}"#,
        ),
        ("not an object", br#"[{"collection_enabled":false}]"#),
    ];
    for (name, body) in cases {
        let sandbox = lenient_sandbox();
        sandbox.set_sdk_settings(Some(body));
        let dir = tempfile::tempdir().unwrap();
        let clock = clock();
        let client = relay_client(
            &sandbox,
            &dir.path().join("buffer.db"),
            &clock,
            privacy_with_id(GAID),
            |_| {},
        );
        settle(&client);
        let s = client.diagnostics().settings_in_force;
        assert!(s.collection_enabled, "{name}");
        assert_eq!(
            (s.max_batch, s.max_batch_source),
            (1000, SettingSource::Default),
            "{name}"
        );
        assert_eq!(s.remote_documents_ignored, 1, "{name}");
        let reason = s.last_ignored_reason.unwrap();
        assert!(
            reason.starts_with("remote settings ignored"),
            "{name}: {reason}"
        );
        assert!(client.track(lead()).unwrap().recorded, "{name}");
        client.flush(5_000).unwrap();
        assert_eq!(sandbox.accepted_count(), 1, "{name}");
    }
}

#[test]
fn a_broken_document_after_a_good_one_keeps_the_good_one() {
    let sandbox = lenient_sandbox();
    sandbox.set_sdk_settings(Some(br#"{"max_batch":2,"settings_ttl_secs":600}"#));
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let client = relay_client(
        &sandbox,
        &dir.path().join("buffer.db"),
        &clock,
        privacy_with_id(GAID),
        |_| {},
    );
    settle(&client);
    sandbox.set_sdk_settings(Some(br#"{"max_batch":"lots"}"#));
    clock.advance(TTL);
    for _ in 0..5 {
        client.track(lead()).unwrap();
    }
    client.flush(5_000).unwrap();
    assert_eq!(fetches(&sandbox), 2);
    let s = client.diagnostics().settings_in_force;
    assert_eq!(
        (s.max_batch, s.max_batch_source),
        (2, SettingSource::Remote)
    );
    assert_eq!(s.remote_documents_ignored, 1);
    let sizes: Vec<usize> = sandbox
        .requests()
        .iter()
        .map(|r| body_ids(&r.body).len())
        .collect();
    assert_eq!(sandbox.accepted_count(), 5);
    assert!(
        sizes.iter().all(|n| *n <= 2),
        "batches of at most 2: {sizes:?}"
    );
}

#[test]
fn remote_settings_cannot_re_enable_or_widen_what_the_app_configured() {
    let sandbox = lenient_sandbox();
    sandbox.set_sdk_settings(Some(
        br#"{"collection_enabled":true,"flush_interval_secs":1,"max_batch":1000,"settings_ttl_secs":600}"#,
    ));
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let without_consent = PrivacyState {
        collection_enabled: false,
        ..privacy_with_id(GAID)
    };
    let client = relay_client(
        &sandbox,
        &dir.path().join("buffer.db"),
        &clock,
        without_consent,
        |c| {
            c.flush_interval_secs = 120;
            c.max_batch = 10;
        },
    );
    settle(&client);
    assert_eq!(fetches(&sandbox), 1);
    let refused = client.track(lead()).unwrap();
    assert!(!refused.recorded);
    assert!(refused.reason.unwrap().contains("privacy state"));
    let s = client.diagnostics().settings_in_force;
    assert_eq!(
        (s.flush_interval_secs, s.flush_interval_source),
        (120, SettingSource::App)
    );
    assert_eq!((s.max_batch, s.max_batch_source), (10, SettingSource::App));
    assert!(s.remote_fetched_at.is_some());
    // With consent, waiting events still wait the app's interval, not the document's 1 s.
    client.set_privacy(privacy_with_id(GAID)).unwrap();
    settle(&client);
    client.track(lead()).unwrap();
    settle(&client);
    clock.advance(Duration::from_secs(60));
    settle(&client);
    assert_eq!(sandbox.accepted_count(), 0, "not before the app's 120 s");
    clock.advance(Duration::from_secs(61));
    settle(&client);
    assert!(sandbox.wait_for_accepted(1, Duration::from_secs(5)));
}

#[test]
fn nothing_wakes_while_the_ttl_has_not_run_out() {
    let sandbox = lenient_sandbox();
    sandbox.set_sdk_settings(Some(br#"{"settings_ttl_secs":3600}"#));
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let client = relay_client(
        &sandbox,
        &dir.path().join("buffer.db"),
        &clock,
        privacy_with_id(GAID),
        |_| {},
    );
    settle(&client);
    let woken = client.diagnostics().upload_wakeups;
    for _ in 0..59 {
        clock.advance(Duration::from_secs(60));
        settle(&client);
    }
    assert_eq!(
        client.diagnostics().upload_wakeups - woken,
        0,
        "no wake in 59 minutes"
    );
    assert_eq!(fetches(&sandbox), 1);
    // Past the TTL an idle SDK still does not wake for it: the next fetch waits for a wake
    // the app's events bring (or the next start).
    clock.advance(Duration::from_secs(3600));
    settle(&client);
    assert_eq!(client.diagnostics().upload_wakeups - woken, 0);
    assert_eq!(fetches(&sandbox), 1);
}

#[test]
fn the_reference_relay_turns_a_running_sdk_off_and_on_again() {
    use app_conversions_relay::{RelayConfig, RelayHandle};
    const APP_TOKEN: &str = "app-token-remote-settings";
    let sandbox = lenient_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sdk-settings.json");
    let write = |document: &str| {
        std::fs::write(&file, format!(r#"{{"{AD_ACCOUNT}": {document}}}"#)).unwrap();
    };
    write(r#"{"settings_ttl_secs": 600}"#);
    let mut relay_config =
        RelayConfig::new(sandbox.base_url(), TOKEN).with_app_token(APP_TOKEN, AD_ACCOUNT);
    relay_config.sdk_settings_file = Some(file.clone());
    let relay = RelayHandle::start(relay_config).unwrap();
    let clock = clock();
    let mut cfg = config(&relay.base_url(), &dir.path().join("buffer.db"));
    cfg.endpoint_is_relay = Some(true);
    cfg.token = APP_TOKEN.into();
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let client =
        ConversionsClient::with_clock(cfg, app(), device(), privacy_with_id(GAID), dyn_clock)
            .unwrap();
    settle(&client);
    assert!(client.track(lead()).unwrap().recorded);
    client.flush(5_000).unwrap();
    assert!(sandbox.wait_for_accepted(1, Duration::from_secs(5)));

    // The backend flips the switch in the relay's file; the SDK learns it at its next fetch.
    write(r#"{"collection_enabled": false, "settings_ttl_secs": 600}"#);
    clock.advance(TTL);
    client.track(lead()).unwrap();
    settle(&client);
    let refused = client.track(lead()).unwrap();
    assert!(!refused.recorded && refused.reason.unwrap().contains("remote settings"));
    client.flush(2_000).unwrap();
    let requests_while_off = sandbox.requests().len();
    assert_eq!(sandbox.accepted_count(), 1, "nothing sent while off");

    write(r#"{"settings_ttl_secs": 600}"#);
    clock.advance(TTL);
    settle(&client);
    assert!(
        sandbox.wait_for_accepted(2, Duration::from_secs(5)),
        "what waited went"
    );
    assert!(sandbox.requests().len() > requests_while_off);
    assert!(client.diagnostics().settings_in_force.collection_enabled);
}
