//! Both ways an app's events reach the API: straight to it, or through the reference relay,
//! which holds the real conversion token and adds the client IP. Privacy tests run on both,
//! and every request body that arrives is checked against the official 5.23 schema.

#[path = "../../examples/harness/schema.rs"]
#[allow(dead_code)]
mod schema;

use app_conversions::ClientConfig;
use app_conversions_relay::{RelayConfig, RelayHandle};
use app_conversions_sandbox::{Sandbox, SandboxConfig};
use serde_json::Value;

use super::{AD_ACCOUNT, TOKEN};

/// The app-scoped token the SDK holds when it sends through the relay.
pub const APP_TOKEN: &str = "app-scoped-token-7c1d";

/// Where the SDK sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Straight to the (sandbox) API, with the conversion token.
    Direct,
    /// Through the reference relay, with an app-scoped token.
    Relay,
}

/// Both routes, for a test that must hold on each.
pub const ROUTES: [Route; 2] = [Route::Direct, Route::Relay];

/// The sandbox API, and the relay in front of it on [`Route::Relay`].
pub struct Endpoint {
    /// What the upstream API received.
    pub sandbox: Sandbox,
    /// The relay, on the relay route.
    relay: Option<RelayHandle>,
    /// The route.
    pub route: Route,
}

impl Endpoint {
    /// A sandbox (accepting event times far from its clock, for tests on a manual clock) and,
    /// on the relay route, a relay in front of it.
    pub fn start(route: Route) -> Endpoint {
        Endpoint::start_with(route, super::lenient_sandbox_config())
    }

    /// [`Endpoint::start`] with a sandbox configured as given (token and account are set here).
    pub fn start_with(route: Route, config: SandboxConfig) -> Endpoint {
        let sandbox = Sandbox::start(SandboxConfig {
            token: TOKEN.into(),
            ad_account_id: AD_ACCOUNT.into(),
            ..config
        })
        .expect("sandbox");
        let relay = (route == Route::Relay).then(|| {
            let config =
                RelayConfig::new(sandbox.base_url(), TOKEN).with_app_token(APP_TOKEN, AD_ACCOUNT);
            RelayHandle::start(config).expect("relay")
        });
        Endpoint {
            sandbox,
            relay,
            route,
        }
    }

    /// Points `config` at this route: endpoint, token and `endpoint_is_relay`.
    pub fn configure(&self, config: &mut ClientConfig) {
        match &self.relay {
            Some(relay) => {
                config.endpoint = relay.base_url();
                config.token = APP_TOKEN.into();
                config.endpoint_is_relay = Some(true);
            }
            None => config.endpoint = self.sandbox.base_url(),
        }
    }

    /// A configuration for this route with the buffer at `db`.
    pub fn config(&self, db: &std::path::Path) -> ClientConfig {
        let mut config = super::config(&self.sandbox.base_url(), db);
        self.configure(&mut config);
        config
    }

    /// The events the API accepted, after checking every request body it received against
    /// the official schema.
    pub fn arrived(&self) -> Vec<Value> {
        let schema = schema::Schema::load().expect("schema");
        for request in self.sandbox.requests() {
            let body: Value = serde_json::from_str(&request.body).expect("json body");
            let violations = schema.check(&body);
            assert!(
                violations.is_empty(),
                "{:?}: a body broke the official schema: {:?}",
                self.route,
                violations
                    .iter()
                    .map(|v| format!("{}: {}", v.path, v.rule))
                    .collect::<Vec<_>>()
            );
        }
        self.sandbox.accepted()
    }
}
