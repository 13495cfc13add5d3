//! Shared fixtures: a sandbox as the upstream, a relay in front of it with an in-memory
//! request log, a loopback-only HTTP client (blocking `ureq`, run on tokio's blocking pool
//! from the async tests), and valid test events.
//!
//! Every answer the helpers read is checked for the conversion token, so each test also
//! proves the secret never reaches a client.

#![allow(dead_code)]

pub mod processes;

use std::time::{SystemTime, UNIX_EPOCH};

use app_conversions_relay::{LogTarget, RelayConfig, RelayHandle, RequestLog};
use app_conversions_sandbox::{Sandbox, SandboxConfig};
use axum::http::HeaderMap;
use serde_json::{json, Value};
use ureq::Agent;

/// The real conversion token: only the relay and the sandbox know it.
pub const CONVERSION_TOKEN: &str = "conv-token-5e1f0a9c";
/// The sandbox's (and so the relay's) ad account.
pub const AD_ACCOUNT: &str = "549768257474";
/// App token scoped to [`AD_ACCOUNT`].
pub const APP_TOKEN: &str = "app-token-main-7d2c";
/// App token scoped to another ad account.
pub const OTHER_APP_TOKEN: &str = "app-token-other-91be";
/// The other ad account.
pub const OTHER_AD_ACCOUNT: &str = "123456789";
/// A platform user agent, so events meet the identity rule once the relay adds the IP.
pub const UA: &str = "Dalvik/2.1.0 (Linux; U; Android 14)";

/// A sandbox upstream and a relay in front of it. Fields drop in order: relay first.
pub struct Setup {
    pub relay: RelayHandle,
    pub sandbox: Sandbox,
    pub log: RequestLog,
    pub client: Agent,
}

/// An answer from the relay.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// A relay configuration for `upstream` with both app tokens and an in-memory log.
pub fn relay_config(upstream: &str, log: &RequestLog) -> RelayConfig {
    let mut config = RelayConfig::new(upstream, CONVERSION_TOKEN)
        .with_app_token(APP_TOKEN, AD_ACCOUNT)
        .with_app_token(OTHER_APP_TOKEN, OTHER_AD_ACCOUNT);
    config.log = LogTarget::Memory(log.clone());
    config
}

/// Starts a sandbox and a relay whose configuration `adjust` may change.
pub fn setup(adjust: impl FnOnce(&mut RelayConfig)) -> Setup {
    let sandbox = Sandbox::start(SandboxConfig {
        port: 0,
        token: CONVERSION_TOKEN.to_string(),
        ad_account_id: AD_ACCOUNT.to_string(),
        ..Default::default()
    })
    .unwrap();
    let log = RequestLog::new();
    let mut config = relay_config(&sandbox.base_url(), &log);
    adjust(&mut config);
    let relay = RelayHandle::start(config).unwrap();
    Setup {
        relay,
        sandbox,
        log,
        client: client(),
    }
}

/// An HTTP client that never uses a proxy (loopback only) and hands back every status.
pub fn client() -> Agent {
    Agent::config_builder()
        .proxy(None)
        .http_status_as_error(false)
        .build()
        .into()
}

/// Unix seconds now.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A valid app event without an IP address.
pub fn event(id: &str) -> Value {
    json!({
        "event_name": "add_to_cart",
        "action_source": "app_android",
        "event_time": now(),
        "event_id": id,
        "user_data": { "client_user_agent": UA },
        "custom_data": { "currency": "USD", "value": "12.50" },
    })
}

/// `{"data": events}` as text.
pub fn batch(events: Vec<Value>) -> String {
    json!({ "data": events }).to_string()
}

impl Setup {
    /// POSTs `body` to the relay's events path for `account` with `token`.
    pub async fn post(
        &self,
        token: Option<&str>,
        account: &str,
        query: &str,
        body: String,
    ) -> Answer {
        self.post_with(token, account, query, body, &[]).await
    }

    /// [`Setup::post`] with extra headers.
    pub async fn post_with(
        &self,
        token: Option<&str>,
        account: &str,
        query: &str,
        body: String,
        headers: &[(&str, &str)],
    ) -> Answer {
        post_to(
            &self.client,
            &self.relay.base_url(),
            token,
            account,
            query,
            body,
            headers,
        )
        .await
    }

    /// POSTs a batch for the main account with the main app token.
    pub async fn send(&self, events: Vec<Value>) -> Answer {
        self.post(Some(APP_TOKEN), AD_ACCOUNT, "", batch(events))
            .await
    }
}

/// POSTs to `{base}/v5/ad_accounts/{account}/events{query}` and checks the answer carries no
/// conversion token.
pub async fn post_to(
    client: &Agent,
    base: &str,
    token: Option<&str>,
    account: &str,
    query: &str,
    body: String,
    headers: &[(&str, &str)],
) -> Answer {
    let client = client.clone();
    let url = format!("{base}/v5/ad_accounts/{account}/events{query}");
    let token = token.map(str::to_string);
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    let answer = tokio::task::spawn_blocking(move || {
        let mut request = client.post(&url).header("content-type", "application/json");
        if let Some(token) = token {
            request = request.header("authorization", &format!("Bearer {token}"));
        }
        for (name, value) in &headers {
            request = request.header(name.as_str(), value.as_str());
        }
        answer_of(request.send(body.as_str()).unwrap())
    })
    .await
    .unwrap();
    assert_no_secret(&answer);
    answer
}

/// GETs `url` and checks the answer carries no conversion token.
pub async fn get(client: &Agent, url: String) -> Answer {
    let client = client.clone();
    let answer = tokio::task::spawn_blocking(move || answer_of(client.get(&url).call().unwrap()))
        .await
        .unwrap();
    assert_no_secret(&answer);
    answer
}

fn answer_of(mut response: ureq::http::Response<ureq::Body>) -> Answer {
    Answer {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.body_mut().read_to_string().unwrap(),
    }
}

/// The conversion token is in neither the body nor any header.
pub fn assert_no_secret(answer: &Answer) {
    assert!(!answer.body.contains(CONVERSION_TOKEN), "{answer:?}");
    for (name, value) in &answer.headers {
        let value = String::from_utf8_lossy(value.as_bytes());
        assert!(!value.contains(CONVERSION_TOKEN), "header {name} leaks");
    }
}

/// No line of `log` holds any token.
pub fn assert_log_clean(lines: &[String]) {
    for line in lines {
        for secret in [
            CONVERSION_TOKEN,
            APP_TOKEN,
            OTHER_APP_TOKEN,
            "Bearer",
            "uthorization",
        ] {
            assert!(!line.contains(secret), "log line leaks {secret}: {line}");
        }
    }
}

/// Waits for the next wall-clock minute when less than `needed` is left of this one, so a
/// test of the per-minute call budget runs inside one budget window.
pub async fn inside_one_minute(needed: std::time::Duration) {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let left = std::time::Duration::from_secs(60)
        - std::time::Duration::from_millis((now.as_millis() % 60_000) as u64);
    if left < needed {
        tokio::time::sleep(left + std::time::Duration::from_millis(50)).await;
    }
}
