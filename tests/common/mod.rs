//! Shared set-up for the integration tests: a sandbox endpoint, a client configured for it in
//! a fresh temporary folder, and helpers to read what the sandbox accepted.
#![allow(dead_code)] // each test binary uses a different subset of these helpers

pub mod disk;
pub mod routes;
pub mod threads;
pub mod transport;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use app_conversions::{
    ActionSource, AppInfo, ClientConfig, Clock, ConversionsClient, ConversionsError, CustomData,
    DeviceInfo, Event, EventName, FormFactor, ManualClock, NetworkType, OsFamily, PrivacyState,
    UserData,
};
use app_conversions_sandbox::{Sandbox, SandboxConfig};

pub const TOKEN: &str = "test-token-3f9a1c";
pub const AD_ACCOUNT: &str = "549768257474";
pub const USER_AGENT: &str = "Dalvik/2.1.0 (Linux; U; Android 14; Pixel 8 Build/UQ1A)";

pub fn sandbox() -> Sandbox {
    Sandbox::start(SandboxConfig {
        token: TOKEN.into(),
        ad_account_id: AD_ACCOUNT.into(),
        ..Default::default()
    })
    .expect("sandbox starts")
}

/// A sandbox configuration that accepts event times far from its own clock and does not tell
/// its time: for tests whose manual clock runs days ahead and whose event times must stay
/// as that clock reads them.
pub fn lenient_sandbox_config() -> SandboxConfig {
    SandboxConfig {
        token: TOKEN.into(),
        ad_account_id: AD_ACCOUNT.into(),
        future_tolerance_secs: 60 * 86_400,
        max_event_age_secs: 60 * 86_400,
        date_header: false,
        ..Default::default()
    }
}

/// A sandbox with [`lenient_sandbox_config`].
pub fn lenient_sandbox() -> Sandbox {
    Sandbox::start(lenient_sandbox_config()).expect("sandbox")
}

pub fn config(endpoint: &str, db: &Path) -> ClientConfig {
    ClientConfig {
        retry_base_delay_ms: 20,
        // The sandbox stands in for the Conversions API itself, not for a relay.
        endpoint_is_relay: Some(false),
        ..ClientConfig::new(
            endpoint,
            AD_ACCOUNT,
            TOKEN,
            db.to_string_lossy(),
            ActionSource::AppAndroid,
        )
    }
}

pub fn app() -> AppInfo {
    AppInfo {
        app_id: Some("com.example.shop".into()),
        app_name: Some("Shop".into()),
        app_version: Some("3.1.0".into()),
        first_install_time: None,
        app_package_name: Some("com.example.shop".into()),
        app_store: Some("com.android.vending".into()),
    }
}

pub fn device() -> DeviceInfo {
    DeviceInfo {
        brand: Some("Google".into()),
        model: Some("Pixel 8".into()),
        device_type: Some("phone".into()),
        os_version: Some("14".into()),
        language: Some("en".into()),
        carrier: Some("T-Mobile".into()),
        wifi: Some(true),
        user_agent: Some(USER_AGENT.into()),
        os_family: Some(OsFamily::Android),
        form_factor: Some(FormFactor::Cellphone),
        network_type: Some(NetworkType::Wifi),
        locale: Some("en-US".into()),
        languages: vec!["en-US".into(), "es-US".into()],
        timezone: Some("America/New_York".into()),
        timezone_abbr: Some("EST".into()),
        screen_width: Some(1080),
        screen_height: Some(2400),
        screen_density: Some(428),
        cpu_cores: Some(8),
    }
}

/// A GAID-carrying privacy state (identity via hashed_maids).
pub fn privacy_with_id(id: &str) -> PrivacyState {
    PrivacyState {
        advertising_id: Some(id.into()),
        ..Default::default()
    }
}

pub const GAID: &str = "38400000-8cf0-11bd-b23e-10b96e40000d";

/// A client sending through the built-in transport, or through [`transport::StdTransport`]
/// in the `_via_transport` test binaries.
pub fn new_client(
    config: ClientConfig,
    app: AppInfo,
    device: DeviceInfo,
    privacy: PrivacyState,
) -> Result<Arc<ConversionsClient>, ConversionsError> {
    if transport::via_test_transport() {
        let transport = Arc::new(transport::StdTransport);
        ConversionsClient::with_transport(config, app, device, privacy, transport)
    } else {
        ConversionsClient::new(config, app, device, privacy)
    }
}

pub struct Harness {
    pub dir: tempfile::TempDir,
    pub client: Arc<ConversionsClient>,
}

impl Harness {
    pub fn db(&self) -> PathBuf {
        self.dir.path().join("buffer.db")
    }
}

pub fn start(sandbox: &Sandbox) -> Harness {
    start_with(sandbox, |_| {})
}

pub fn start_with(sandbox: &Sandbox, change: impl FnOnce(&mut ClientConfig)) -> Harness {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cfg = config(&sandbox.base_url(), &dir.path().join("buffer.db"));
    change(&mut cfg);
    let client = new_client(cfg, app(), device(), privacy_with_id(GAID)).expect("client");
    Harness { dir, client }
}

pub fn reopen(sandbox: &Sandbox, dir: &Path, privacy: PrivacyState) -> Arc<ConversionsClient> {
    let cfg = config(&sandbox.base_url(), &dir.join("buffer.db"));
    new_client(cfg, app(), device(), privacy).expect("client")
}

pub fn event(name: EventName) -> Event {
    Event::new(name)
}

pub fn checkout(value: &str) -> Event {
    Event {
        user_data: Some(UserData {
            emails: vec!["Person@Example.com".into()],
            ..Default::default()
        }),
        custom_data: Some(CustomData {
            currency: Some("USD".into()),
            value: Some(value.into()),
            ..Default::default()
        }),
        ..event(EventName::Checkout)
    }
}

/// event_ids the sandbox accepted, in order.
pub fn accepted_ids(sandbox: &Sandbox) -> Vec<String> {
    sandbox
        .accepted()
        .iter()
        .map(|e| e["event_id"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// event_ids in one recorded request body.
pub fn body_ids(body: &str) -> Vec<String> {
    let value: serde_json::Value = serde_json::from_str(body).expect("json body");
    value["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|e| e["event_id"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// SHA-256 hex computed here, independently of the SDK (sha2 crate; cross-checked with
/// `printf '%s' VALUE | sha256sum`).
pub fn sha256(value: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(value.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// How long a manual-clock test waits for the SDK's threads to have nothing left to do.
pub const SETTLE_MS: u64 = 10_000;

/// Waits until the SDK's threads have nothing left to do at the manual clock's current time.
pub fn settle(client: &ConversionsClient) {
    assert!(client.settle(SETTLE_MS), "the SDK did not settle");
}

/// A client on `db` delivering to `sandbox`, reading all time from `clock`, with backoffs capped
/// at 60 s (the clock-jump tests check delivery within that cap).
pub fn manual_clock_client(
    sandbox: &Sandbox,
    db: &Path,
    clock: &Arc<ManualClock>,
) -> Arc<ConversionsClient> {
    let clock: Arc<dyn Clock> = clock.clone();
    let cfg = ClientConfig {
        retry_max_delay_secs: 60,
        ..config(&sandbox.base_url(), db)
    };
    ConversionsClient::with_clock(cfg, app(), device(), privacy_with_id(GAID), clock)
        .expect("client")
}
