//! A reference relay for the Conversions API: the app backend's token-scoped endpoint.
//!
//! Apps post events in the Conversions API wire format
//! (`POST /v5/ad_accounts/{ad_account_id}/events[?test=true]`, `{"data":[...]}`) with an
//! app-scoped bearer token. The relay checks that token in constant time against its
//! configuration (401/403 with the API's own bodies), rate-limits per client IP with a
//! global cap, caps connections, requests and memory in flight, body size and event count,
//! adds the client's IP address to every event that lacks `user_data.client_ip_address` (a
//! device cannot know its public IP, and without it events of Limit-Ad-Tracking users cannot
//! meet the API's identity rule), and coalesces device requests into upstream batches of up
//! to 1,000 events (20 in test mode) sent with the conversion token that only the server
//! holds, within a per-ad-account budget of calls per minute. Each device gets its own
//! events' results, in its own order.
//!
//! It keeps no state beyond in-memory limits and the call budget, which several instances
//! behind a load balancer share through Redis. Run it as the `app-conversions-relay` binary
//! (see [`run_cli`]), or in-process:
//!
//! ```no_run
//! use app_conversions_relay::{RelayConfig, RelayHandle};
//!
//! let config = RelayConfig::new("http://127.0.0.1:8080", "conversion-token")
//!     .with_app_token("app-token", "549755885175");
//! let relay = RelayHandle::start(config)?;
//! println!("send events to {}", relay.base_url());
//! relay.shutdown();
//! # Ok::<(), std::io::Error>(())
//! ```

mod app_state;
mod auth;
mod batch;
mod body;
mod budget;
mod client_ip;
mod coalesce;
mod config;
mod content_encoding;
mod custom_names;
mod dispatch;
mod forward;
mod handle;
mod health;
mod lifecycle;
mod limit;
mod log;
mod payload;
mod redis_budget;
mod responses;
mod results;
mod run;
mod sdk_settings;
mod serve;
mod server;
mod strict_json;
mod telemetry;
mod upstream_health;

pub use config::{
    AppToken, RelayConfig, DEFAULT_BODY_TIMEOUT, DEFAULT_CALLS_PER_MINUTE, DEFAULT_DRAIN,
    DEFAULT_GLOBAL_RATE_LIMIT_PER_SEC, DEFAULT_IDLE_TIMEOUT, DEFAULT_IP_TABLE_CAPACITY,
    DEFAULT_LINGER, DEFAULT_LISTEN, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_BODY_BYTES_IN_FLIGHT,
    DEFAULT_MAX_BODY_BYTES_IN_FLIGHT_PER_IP, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_REQUESTS_IN_FLIGHT, DEFAULT_RATE_LIMIT_BURST, DEFAULT_RATE_LIMIT_PER_SEC,
    DEFAULT_UPSTREAM, DEFAULT_UPSTREAM_CONNECT_TIMEOUT, DEFAULT_UPSTREAM_TIMEOUT,
    MAX_EVENTS_PER_REQUEST, MIN_RATE_PER_SEC,
};
pub use handle::RelayHandle;
pub use log::{LogFormat, LogTarget, RequestLog};
pub use run::run_cli;
pub use server::router;
