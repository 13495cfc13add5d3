//! Configuration of a [`crate::Sandbox`] instance.
//!
//! The configuration is a plain struct with public fields so tests can build it with
//! struct-update syntax (`SandboxConfig { token: "t".into(), ..Default::default() }`).
//! It is copied into the server when it starts; the only part that can change later is
//! the set of advertiser-defined event names
//! ([`crate::Sandbox::register_custom_event_name`]).

use std::net::{IpAddr, Ipv4Addr};

/// Default bearer token accepted by a sandbox built from [`SandboxConfig::default`].
pub(crate) const DEFAULT_TOKEN: &str = "sandbox-token";

/// Default ad account id accepted by a sandbox built from [`SandboxConfig::default`].
pub(crate) const DEFAULT_AD_ACCOUNT_ID: &str = "549768257474";

/// Default tolerance, in seconds, for an `event_time` in the future (clock skew).
pub(crate) const DEFAULT_FUTURE_TOLERANCE_SECS: i64 = 300;

/// Default maximum age, in seconds, of an `event_time` (seven days).
pub(crate) const DEFAULT_MAX_EVENT_AGE_SECS: i64 = 7 * 24 * 60 * 60;

/// Default HTTP status of a batch in which some, but not all, events failed.
pub(crate) const DEFAULT_PARTIAL_FAILURE_STATUS: u16 = 422;

/// How a [`crate::Sandbox`] behaves. Build it with [`Default`] and override fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxConfig {
    /// The address to listen on: loopback (the default) or, for a phone on the same
    /// network, `0.0.0.0` (every interface).
    pub host: IpAddr,
    /// TCP port on [`SandboxConfig::host`]; `0` picks a free port (read it back with
    /// [`crate::Sandbox::port`]).
    pub port: u16,
    /// The only bearer token accepted (`Authorization: Bearer <token>`); anything else
    /// gets 401 code 2.
    pub token: String,
    /// The only ad account the token may send events for; any other (well-formed) id
    /// gets 403 code 29.
    pub ad_account_id: String,
    /// Advertiser-defined event names accepted as `event_name`, compared
    /// case-insensitively.
    pub custom_event_names: Vec<String>,
    /// An `event_time` more than this many seconds in the future fails the event.
    pub future_tolerance_secs: i64,
    /// An `event_time` more than this many seconds in the past fails the event.
    pub max_event_age_secs: i64,
    /// HTTP status when some but not all events of a batch failed: `422` (the default,
    /// body is a `DetailedError` wrapping the per-event results) or `200` (the plain
    /// per-event results). A batch in which every event failed always gets 422.
    pub partial_failure_status: u16,
    /// Every answer carries the sandbox's clock in a `Date` header, as HTTP servers do (the
    /// SDK learns the server's time from it). Off for tests whose client clock is meant to
    /// run days away from the sandbox's without being corrected.
    pub date_header: bool,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            token: DEFAULT_TOKEN.to_string(),
            ad_account_id: DEFAULT_AD_ACCOUNT_ID.to_string(),
            custom_event_names: Vec::new(),
            future_tolerance_secs: DEFAULT_FUTURE_TOLERANCE_SECS,
            max_event_age_secs: DEFAULT_MAX_EVENT_AGE_SECS,
            partial_failure_status: DEFAULT_PARTIAL_FAILURE_STATUS,
            date_header: true,
        }
    }
}
