//! A local stand-in for the Pinterest Conversions API endpoint
//! `POST /v5/ad_accounts/{ad_account_id}/events`, for tests and the desktop harness.
//!
//! [`Sandbox::start`] binds a loopback port and answers like the real API: bearer-token
//! and ad-account checks (401 code 2 / 403 code 29), structural validation against the
//! 5.23 schema (400 code 4196, `additionalProperties: false` enforced), per-event checks
//! (event name, identifiers, hashed format, event-time window), and the 200 /
//! 422-`DetailedError` answers, with `?test=true` processing only the first 20 events
//! and recording nothing. Everything is observable ([`Sandbox::requests`],
//! [`Sandbox::accepted`]) and scriptable ([`Sandbox::inject`] with a [`Fault`]).
//!
//! Design: a small hand-written HTTP/1.1 server on `std::net` with a worker pool (no
//! async runtime), so faults can misbehave at the socket level — close without
//! answering, cut a body short, trickle bytes — which a server library would not allow.
//! Bodies are parsed once into `serde_json::Value`, and accepted events are moved, not
//! copied, into the store.
//!
//! ```no_run
//! use app_conversions_sandbox::{Fault, Sandbox, SandboxConfig};
//! # fn main() -> std::io::Result<()> {
//! let sandbox = Sandbox::start(SandboxConfig::default())?;
//! sandbox.inject(Fault::Status { status: 503, retry_after: Some("1".into()), body: None });
//! // point the client at format!("{}/v5/ad_accounts/549768257474/events", sandbox.base_url())
//! assert!(sandbox.wait_for_accepted(1, std::time::Duration::from_secs(5)));
//! # Ok(())
//! # }
//! ```
//!
//! Tests in other languages run the `app-conversions-sandbox` binary
//! ([`run_standalone`]) and drive it through the `/_sandbox/` control endpoints; the
//! JSON forms are listed in the crate's README.

mod config;
mod control;
mod encoding;
mod events;
mod faults;
mod http;
mod response;
mod schema;
mod sdk_settings;
mod server;
mod spec;
mod standalone;
mod state;
mod validate;

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

pub use config::SandboxConfig;
pub use faults::Fault;
pub use standalone::run_standalone;
pub use state::RecordedRequest;
pub use validate::HASHED_FIELDS;

use server::ServerHandle;
use state::Shared;

/// A running sandbox server. Dropping it (or calling [`Sandbox::stop`]) stops the server
/// and closes its connections.
pub struct Sandbox {
    shared: Arc<Shared>,
    server: ServerHandle,
}

impl Sandbox {
    /// Starts a server on `config.host:config.port` (loopback by default; port `0` picks a
    /// free one).
    pub fn start(config: SandboxConfig) -> std::io::Result<Sandbox> {
        let address = std::net::SocketAddr::new(config.host, config.port);
        let shared = Arc::new(Shared::new(config));
        let server = ServerHandle::start(Arc::clone(&shared), address)?;
        Ok(Sandbox { shared, server })
    }

    /// `http://127.0.0.1:PORT` (also when listening on every interface), or the address
    /// listened on, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", server::reachable(self.server.addr()))
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.server.addr().port()
    }

    /// Queues a fault; each queued fault applies to exactly one later events request,
    /// oldest first.
    pub fn inject(&self, fault: Fault) {
        self.shared.push_fault(fault);
    }

    /// Drops the queued faults that no request has met yet (an outage that ends early).
    pub fn clear_faults(&self) {
        self.shared.clear_faults();
    }

    /// Every request received on the events path, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests()
    }

    /// Every event answered `processed` outside test mode, in arrival order
    /// (duplicates kept).
    pub fn accepted(&self) -> Vec<Value> {
        self.shared.accepted()
    }

    /// How many events were answered `processed` outside test mode (duplicates counted),
    /// without parsing them as [`Sandbox::accepted`] does.
    pub fn accepted_count(&self) -> usize {
        self.shared.accepted_count()
    }

    /// How many times an event with this `event_id` was accepted.
    pub fn times_accepted(&self, event_id: &str) -> usize {
        self.shared.times_accepted(event_id)
    }

    /// Waits until at least `count` events were accepted; `false` on timeout.
    pub fn wait_for_accepted(&self, count: usize, timeout: Duration) -> bool {
        self.shared.wait_for_accepted(count, timeout)
    }

    /// Accepts `name` (case-insensitively) as an advertiser-defined `event_name` from now on.
    pub fn register_custom_event_name(&self, name: &str) {
        self.shared.register_custom_name(name);
    }

    /// Serves `document` (bytes as given, garbage included) on the remote settings route a
    /// relay has, `GET /v5/ad_accounts/{id}/sdk-settings`; `None` answers 404 again, as the
    /// Conversions API and an older relay do (the default).
    pub fn set_sdk_settings(&self, document: Option<&[u8]>) {
        self.shared.sdk_settings.set(document.map(<[u8]>::to_vec));
    }

    /// Requests received on the remote settings route, and how many of them were answered
    /// `304 Not Modified`.
    pub fn sdk_settings_requests(&self) -> (u64, u64) {
        self.shared.sdk_settings.counts()
    }

    /// Forgets recorded requests, accepted events, queued faults and the settings route's
    /// counts. Configuration, registered custom event names and the settings document stay.
    pub fn reset(&self) {
        self.shared.reset();
    }

    /// Stops the server (same as dropping it).
    pub fn stop(self) {
        drop(self);
    }
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("base_url", &self.base_url())
            .finish_non_exhaustive()
    }
}
