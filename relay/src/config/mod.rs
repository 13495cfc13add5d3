//! The relay's configuration: the settings, where they come from, and their checks.
//!
//! One [`RelayConfig`] with public fields serves every entry point. Its sources are layered,
//! lowest first: the defaults ([`settings`]), a TOML or JSON file ([`file`]), the `RELAY_*`
//! environment ([`env`]), then the command line's flags ([`cli`]); [`values`] parses what
//! they share. [`RelayConfig::validate`] ([`validate`]) checks the finished value once, and
//! the upstream URL's rule ([`upstream_url`]) is shared with the upstream client. This layer
//! depends only on the log's types and the trusted-proxy parser; nothing here starts a server.

pub(crate) mod cli;
mod env;
mod file;
mod settings;
mod upstream_url;
mod validate;
mod values;

pub(crate) use env::unknown_variables;
pub use settings::{
    AppToken, RelayConfig, DEFAULT_BODY_TIMEOUT, DEFAULT_CALLS_PER_MINUTE, DEFAULT_DRAIN,
    DEFAULT_GLOBAL_RATE_LIMIT_PER_SEC, DEFAULT_IDLE_TIMEOUT, DEFAULT_IP_TABLE_CAPACITY,
    DEFAULT_LINGER, DEFAULT_LISTEN, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_BODY_BYTES_IN_FLIGHT,
    DEFAULT_MAX_BODY_BYTES_IN_FLIGHT_PER_IP, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_REQUESTS_IN_FLIGHT, DEFAULT_RATE_LIMIT_BURST, DEFAULT_RATE_LIMIT_PER_SEC,
    DEFAULT_UPSTREAM, DEFAULT_UPSTREAM_CONNECT_TIMEOUT, DEFAULT_UPSTREAM_TIMEOUT,
    MAX_EVENTS_PER_REQUEST, MIN_RATE_PER_SEC,
};
pub(crate) use upstream_url::{check_upstream_url, is_loopback};
