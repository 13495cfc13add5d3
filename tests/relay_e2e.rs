//! End to end: SDK → reference relay → sandbox. The relay holds the conversion token, adds the
//! client IP, and passes the upstream's answers (and Retry-After) back to the SDK.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
mod common;

use std::sync::{Arc, Mutex};

use app_conversions::{ConversionsClient, EventName, LogLevel, PrivacyState};
use app_conversions_relay::{LogTarget, RelayConfig, RelayHandle, RequestLog};
use app_conversions_sandbox::{Fault, Sandbox};
use common::*;

const APP_TOKEN: &str = "app-scoped-token-7c1d";
const WAIT: u64 = 10_000;

struct Lines(Mutex<Vec<String>>);
impl app_conversions::LogSink for Lines {
    fn log(&self, _level: LogLevel, message: String) {
        self.0.lock().unwrap().push(message);
    }
}

fn relay_for(sandbox: &Sandbox) -> (RelayHandle, RequestLog) {
    let log = RequestLog::new();
    // The sandbox's token plays the real conversion token, held only by the relay.
    let mut config =
        RelayConfig::new(sandbox.base_url(), TOKEN).with_app_token(APP_TOKEN, AD_ACCOUNT);
    config.log = LogTarget::Memory(log.clone());
    (RelayHandle::start(config).expect("relay starts"), log)
}

fn sdk(
    relay: &RelayHandle,
    dir: &std::path::Path,
    token: &str,
    privacy: PrivacyState,
) -> Arc<ConversionsClient> {
    let mut cfg = config(&relay.base_url(), &dir.join("buffer.db"));
    cfg.token = token.into();
    cfg.endpoint_is_relay = Some(true);
    cfg.log_level = Some(LogLevel::Debug);
    ConversionsClient::new(cfg, app(), device(), privacy).expect("client")
}

#[test]
fn a_limit_ad_tracking_app_install_arrives_with_the_ip_filled_in() {
    let sandbox = sandbox();
    let (relay, log) = relay_for(&sandbox);
    let dir = tempfile::tempdir().unwrap();
    let lat = PrivacyState {
        opt_out: true,
        advertising_id: Some(GAID.into()),
        ..Default::default()
    };
    let client = sdk(&relay, dir.path(), APP_TOKEN, lat);
    let sdk_log = Arc::new(Lines(Mutex::new(Vec::new())));
    client.set_log_sink(Some(sdk_log.clone()));
    client.on_launch().unwrap();
    let report = client.flush(WAIT).unwrap();
    assert_eq!((report.processed, report.remaining), (1, 0), "{report:?}");
    let event = &sandbox.accepted()[0];
    assert_eq!(event["event_name"], "app_install");
    assert_eq!(event["opt_out"], true);
    assert!(event["user_data"].get("hashed_maids").is_none());
    assert_eq!(event["user_data"]["client_ip_address"], "127.0.0.1");
    assert_eq!(event["user_data"]["client_user_agent"], USER_AGENT);
    // The upstream saw the conversion token; neither token shows up in any log line.
    let upstream = &sandbox.requests()[0];
    assert_eq!(
        upstream.authorization.as_deref(),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    let lines: Vec<String> = log
        .lines()
        .into_iter()
        .chain(sdk_log.0.lock().unwrap().clone())
        .collect();
    assert!(!lines.is_empty());
    for line in lines {
        assert!(!line.contains(TOKEN) && !line.contains(APP_TOKEN), "{line}");
    }
}

/// The README's Android start line gives a relay's URL and no relay flag: the SDK tells from
/// the host that the endpoint is not the Conversions API, so an event with no identity on the
/// device is sent for the relay to complete, not dropped.
#[test]
fn an_endpoint_that_is_not_the_apis_host_is_a_relay_without_a_flag() {
    let sandbox = sandbox();
    let (relay, _log) = relay_for(&sandbox);
    let dir = tempfile::tempdir().unwrap();
    let config = app_conversions::ClientConfig {
        retry_base_delay_ms: 20,
        ..app_conversions::ClientConfig::new(
            relay.base_url(),
            AD_ACCOUNT,
            APP_TOKEN,
            dir.path().join("buffer.db").to_string_lossy(),
            app_conversions::ActionSource::AppAndroid,
        )
    };
    // Limit Ad Tracking, no email: nothing on the device meets the API's identity rule.
    let opted_out = PrivacyState {
        opt_out: true,
        ..Default::default()
    };
    let client = ConversionsClient::new(config, app(), device(), opted_out).unwrap();
    client.on_launch().unwrap();
    let report = client.flush(WAIT).unwrap();
    let diagnostics = client.diagnostics();
    assert_eq!(diagnostics.dropped_no_identity, 0, "{diagnostics:?}");
    assert_eq!((report.processed, report.remaining), (1, 0), "{report:?}");
    let event = &sandbox.accepted()[0];
    assert_eq!(event["event_name"], "app_install");
    assert_eq!(event["user_data"]["client_ip_address"], "127.0.0.1");
}

#[test]
fn a_forged_token_is_refused_and_pauses_the_sdk() {
    let sandbox = sandbox();
    let (relay, _log) = relay_for(&sandbox);
    let dir = tempfile::tempdir().unwrap();
    let client = sdk(&relay, dir.path(), "forged-token", privacy_with_id(GAID));
    client.track(event(EventName::Lead)).unwrap();
    let report = client.flush(WAIT).unwrap();
    assert_eq!((report.last_status, report.remaining), (Some(401), 1));
    assert!(client.diagnostics().paused_reason.is_some());
    assert!(
        sandbox.requests().is_empty(),
        "nothing reached the upstream"
    );
    client.set_token(APP_TOKEN.into()).unwrap();
    assert_eq!(client.flush(WAIT).unwrap().remaining, 0);
}

#[test]
fn a_token_for_another_ad_account_gets_403() {
    let sandbox = sandbox();
    let log = RequestLog::new();
    let mut config = RelayConfig::new(sandbox.base_url(), TOKEN).with_app_token(APP_TOKEN, "999");
    config.log = LogTarget::Memory(log);
    let relay = RelayHandle::start(config).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let client = sdk(&relay, dir.path(), APP_TOKEN, privacy_with_id(GAID));
    client.track(event(EventName::Lead)).unwrap();
    assert_eq!(client.flush(WAIT).unwrap().last_status, Some(403));
}

#[test]
fn upstream_429_and_503_with_retry_after_reach_the_sdk_which_backs_off_then_delivers() {
    let sandbox = sandbox();
    let (relay, _log) = relay_for(&sandbox);
    let dir = tempfile::tempdir().unwrap();
    let client = sdk(&relay, dir.path(), APP_TOKEN, privacy_with_id(GAID));
    let id = client.track(event(EventName::Signup)).unwrap().event_id;
    sandbox.inject(Fault::Status {
        status: 429,
        retry_after: Some("1".into()),
        body: None,
    });
    sandbox.inject(Fault::Status {
        status: 503,
        retry_after: Some("1".into()),
        body: None,
    });
    let started = std::time::Instant::now();
    let report = client.flush(WAIT).unwrap();
    assert_eq!(report.remaining, 0, "{report:?}");
    assert!(
        started.elapsed().as_millis() >= 1_900,
        "honoured two Retry-After: 1"
    );
    let statuses: Vec<u16> = sandbox.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [429, 503, 200]);
    assert_eq!(sandbox.times_accepted(&id), 1);
}
