//! The relay's settings: the in-memory [`RelayConfig`] and its defaults.
//!
//! One struct with public fields serves every entry point: tests and embedding code build it
//! directly (`RelayConfig::new(..)` plus field updates), the command line loads it from a TOML or
//! JSON file (see [`super::file`]) and applies environment overrides on top. Nothing is
//! checked while fields are assembled; [`RelayConfig::validate`] checks the finished value once,
//! and [`crate::RelayHandle::start`] refuses a configuration that fails it.
//!
//! Secrets (the conversion token and every app token) are redacted from `Debug` output, so a
//! configuration can be printed or logged safely.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use crate::log::{LogFormat, LogTarget};

/// Address the command line listens on when neither the file, the environment nor `--listen`
/// names one.
pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8788);
/// The real Conversions API.
pub const DEFAULT_UPSTREAM: &str = "https://api.pinterest.com";
/// Default cap on a request body: 5 MiB. Larger bodies are answered with 413.
pub const DEFAULT_MAX_BODY_BYTES: usize = 5 * 1024 * 1024;
/// Default sustained rate per client IP (an IPv6 client counts by its /64), in requests per
/// second.
pub const DEFAULT_RATE_LIMIT_PER_SEC: f64 = 20.0;
/// Default burst per client IP (the bucket size), in requests.
pub const DEFAULT_RATE_LIMIT_BURST: u32 = 100;
/// Default number of client IPs whose buckets are remembered; older idle ones are forgotten.
pub const DEFAULT_IP_TABLE_CAPACITY: usize = 100_000;
/// Default cap on requests per second accepted by one instance, whatever their source.
pub const DEFAULT_GLOBAL_RATE_LIMIT_PER_SEC: f64 = 5_000.0;
/// Smallest positive rate a limit may have: one request per 1,000 seconds.
pub const MIN_RATE_PER_SEC: f64 = 0.001;
/// Default time a batch waits for more device requests before it goes upstream.
pub const DEFAULT_LINGER: Duration = Duration::from_millis(50);
/// Default upstream calls per minute per ad account, for all instances together: below the
/// API's 5,000, leaving room for the advertiser's other senders.
pub const DEFAULT_CALLS_PER_MINUTE: u32 = 4_000;
/// Default cap on open client connections (lowered further below the process's file
/// descriptor limit).
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// Default time a connection may take to send a request's headers, or sit idle between
/// requests, before it is closed.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time a client may take to send a request body (408 after it).
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// Default cap on event requests being handled at once (503 with `Retry-After` above it).
pub const DEFAULT_MAX_REQUESTS_IN_FLIGHT: usize = 4_096;
/// Default cap on the request bytes held at once by requests in flight: 64 MiB.
pub const DEFAULT_MAX_BODY_BYTES_IN_FLIGHT: usize = 64 * 1024 * 1024;
/// Default cap on the request bytes held at once by one client address (an IPv6 client by
/// its /64): 8 MiB, room for thousands of device requests behind one NAT.
pub const DEFAULT_MAX_BODY_BYTES_IN_FLIGHT_PER_IP: usize = 8 * 1024 * 1024;
/// Default overall deadline of one upstream call (connect, send, and read the whole answer).
pub const DEFAULT_UPSTREAM_TIMEOUT: Duration = Duration::from_secs(30);
/// Default deadline for opening the upstream TCP (and TLS) connection.
pub const DEFAULT_UPSTREAM_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default time a stop keeps serving with readiness failed, so a load balancer stops sending
/// before the listener closes.
pub const DEFAULT_DRAIN: Duration = Duration::from_secs(5);
/// Most events the API accepts in one request; the relay refuses more with 400.
pub const MAX_EVENTS_PER_REQUEST: usize = conversions_wire::MAX_EVENTS_PER_REQUEST;

/// Everything the relay needs to run. Build it with [`RelayConfig::new`] (or
/// [`Default::default`]) and adjust the public fields, or load it with
/// [`RelayConfig::from_file`] / [`RelayConfig::from_env`].
#[derive(Clone)]
pub struct RelayConfig {
    /// Address to listen on. Port 0 picks a free port (see [`crate::RelayHandle::local_addr`]).
    pub listen: SocketAddr,
    /// Base URL of the Conversions API, e.g. `https://api.pinterest.com` or a local sandbox's
    /// `http://127.0.0.1:PORT`. Must be `https://` unless the host is a loopback address.
    pub upstream: String,
    /// The real conversion token, sent upstream as `Authorization: Bearer ...`. Never logged and
    /// never echoed to clients.
    pub conversion_token: String,
    /// App tokens the relay accepts, each scoped to one ad account.
    pub app_tokens: Vec<AppToken>,
    /// Peers whose `X-Forwarded-For` header is believed: IPs (`10.0.0.7`, `::1`) or CIDRs
    /// (`10.0.0.0/8`, `fd00::/8`). Empty: the TCP peer is always the client.
    pub trusted_proxies: Vec<String>,
    /// Largest accepted request body in bytes; larger bodies get 413.
    pub max_body_bytes: usize,
    /// Sustained requests per second allowed per client IP (token bucket refill rate); an
    /// IPv6 client counts by its /64 prefix. `0` disables the per-IP limit.
    pub rate_limit_per_sec: f64,
    /// Bucket size per client IP: how many requests may arrive at once after a quiet period.
    pub rate_limit_burst: u32,
    /// How many client IPs' buckets are kept; when full, buckets that have refilled (and then
    /// the oldest) are forgotten, so memory stays bounded whatever the number of clients.
    pub ip_table_capacity: usize,
    /// Requests per second this instance accepts from all clients together (one second's
    /// worth as burst). `0` disables the global cap.
    pub global_rate_limit_per_sec: f64,
    /// How long a batch waits for more device requests of the same ad account and mode before
    /// going upstream (Kafka's `linger.ms`). A full batch (1,000 events, 20 in test mode)
    /// goes at once.
    pub linger: Duration,
    /// Upstream calls per minute per ad account, for all instances together (shared through
    /// Redis when `redis_url` is set). Over it devices get 429 with a spread `Retry-After`.
    pub calls_per_minute: u32,
    /// Accept a `calls_per_minute` above the API's 5,000 (only for an ad account whose limit
    /// Pinterest raised); otherwise such a budget is refused at start.
    pub allow_calls_above_api_limit: bool,
    /// How many relay instances share `calls_per_minute`. Without Redis, or while Redis is
    /// unreachable, each instance spends at most `calls_per_minute / instances`.
    pub instances: u32,
    /// `redis://host:port/db` for the shared call budget; `None` keeps it per instance.
    /// May hold a password, so it is redacted from `Debug` output and never logged.
    pub redis_url: Option<String>,
    /// Most client connections open at once (also kept below the file descriptor limit).
    pub max_connections: usize,
    /// A connection that takes longer to send a request's headers, or stays idle longer
    /// between requests, is closed.
    pub idle_timeout: Duration,
    /// A request whose whole body takes longer than this to arrive (counted from its headers,
    /// however steadily it trickles) gets 408.
    pub body_timeout: Duration,
    /// Most event requests handled at once; more get 503 with `Retry-After`.
    pub max_requests_in_flight: usize,
    /// Most request-body bytes held at once by the requests in flight; a request that would
    /// go over gets 503 with `Retry-After`, so memory stays bounded.
    pub max_body_bytes_in_flight: usize,
    /// Most request-body bytes held at once by the requests of one client address (an IPv6
    /// client by its /64); a request that would go over gets 429 with `Retry-After`, so a few
    /// clients cannot take the whole of `max_body_bytes_in_flight`.
    pub max_body_bytes_in_flight_per_ip: usize,
    /// Threads serving requests; `0` is one per CPU core.
    pub worker_threads: usize,
    /// Overall deadline of one upstream call; when it passes the client gets 504.
    pub upstream_timeout: Duration,
    /// Deadline for connecting to the upstream; when it passes the client gets 504.
    pub upstream_connect_timeout: Duration,
    /// Where the one-line-per-request log goes.
    pub log: LogTarget,
    /// Text or JSON lines (for the binary's stderr or stdout log).
    pub log_format: LogFormat,
    /// Where `GET /metrics` (Prometheus text) is served, apart from the devices' listener;
    /// `None` serves no metrics.
    pub metrics_listen: Option<SocketAddr>,
    /// How long a stop (SIGTERM) keeps serving with `/readyz` failing before it stops
    /// accepting connections, so a load balancer has time to stop sending. `0` stops at once.
    pub drain: Duration,
    /// How long a stop then waits for requests in flight; `None` is the linger plus the
    /// upstream timeout plus a second, so a device waiting on a slow upstream is answered.
    pub shutdown_grace: Option<Duration>,
    /// Remote settings for the SDK, per ad account id: each an object (at most 4 KB) served on
    /// `GET /v5/ad_accounts/{id}/sdk-settings` (docs/remote-settings.md). An ad account
    /// without an entry gets `{}`.
    pub sdk_settings: BTreeMap<String, serde_json::Value>,
    /// A JSON file `{"<ad account id>": {...}}` of more remote settings, whose entries replace
    /// those of [`RelayConfig::sdk_settings`] for the same ad account; read again when it
    /// changes, or on SIGHUP.
    pub sdk_settings_file: Option<PathBuf>,
}

/// One app token and the single ad account it may send events for.
#[derive(Clone, PartialEq, Eq)]
pub struct AppToken {
    /// The bearer token the app sends. Compared in constant time, never logged.
    pub token: String,
    /// The ad account (decimal digits, at most 18) this token may post to.
    pub ad_account_id: String,
}

impl AppToken {
    /// An app token allowed to post events for `ad_account_id`.
    pub fn new(token: impl Into<String>, ad_account_id: impl Into<String>) -> Self {
        AppToken {
            token: token.into(),
            ad_account_id: ad_account_id.into(),
        }
    }
}

impl fmt::Debug for AppToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppToken")
            .field("token", &"<redacted>")
            .field("ad_account_id", &self.ad_account_id)
            .finish()
    }
}

impl fmt::Debug for RelayConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RelayConfig")
            .field("listen", &self.listen)
            .field("upstream", &self.upstream)
            .field("conversion_token", &"<redacted>")
            .field("app_tokens", &self.app_tokens)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("rate_limit_per_sec", &self.rate_limit_per_sec)
            .field("rate_limit_burst", &self.rate_limit_burst)
            .field("ip_table_capacity", &self.ip_table_capacity)
            .field("global_rate_limit_per_sec", &self.global_rate_limit_per_sec)
            .field("linger", &self.linger)
            .field("calls_per_minute", &self.calls_per_minute)
            .field(
                "allow_calls_above_api_limit",
                &self.allow_calls_above_api_limit,
            )
            .field("instances", &self.instances)
            .field("redis_url", &self.redis_url.as_ref().map(|_| "<redacted>"))
            .field("max_connections", &self.max_connections)
            .field("idle_timeout", &self.idle_timeout)
            .field("body_timeout", &self.body_timeout)
            .field("max_requests_in_flight", &self.max_requests_in_flight)
            .field("max_body_bytes_in_flight", &self.max_body_bytes_in_flight)
            .field(
                "max_body_bytes_in_flight_per_ip",
                &self.max_body_bytes_in_flight_per_ip,
            )
            .field("worker_threads", &self.worker_threads)
            .field("upstream_timeout", &self.upstream_timeout)
            .field("upstream_connect_timeout", &self.upstream_connect_timeout)
            .field("log", &self.log)
            .field("log_format", &self.log_format)
            .field("metrics_listen", &self.metrics_listen)
            .field("drain", &self.drain)
            .field("shutdown_grace", &self.shutdown_grace)
            .field("sdk_settings", &self.sdk_settings)
            .field("sdk_settings_file", &self.sdk_settings_file)
            .finish()
    }
}

impl Default for RelayConfig {
    /// Production defaults: listen on 127.0.0.1:8788, forward to the real API, no tokens yet
    /// (so [`RelayConfig::validate`] fails until they are set), log to stderr.
    fn default() -> Self {
        RelayConfig {
            listen: DEFAULT_LISTEN,
            upstream: DEFAULT_UPSTREAM.to_string(),
            conversion_token: String::new(),
            app_tokens: Vec::new(),
            trusted_proxies: Vec::new(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            rate_limit_per_sec: DEFAULT_RATE_LIMIT_PER_SEC,
            rate_limit_burst: DEFAULT_RATE_LIMIT_BURST,
            ip_table_capacity: DEFAULT_IP_TABLE_CAPACITY,
            global_rate_limit_per_sec: DEFAULT_GLOBAL_RATE_LIMIT_PER_SEC,
            linger: DEFAULT_LINGER,
            calls_per_minute: DEFAULT_CALLS_PER_MINUTE,
            allow_calls_above_api_limit: false,
            instances: 1,
            redis_url: None,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            max_requests_in_flight: DEFAULT_MAX_REQUESTS_IN_FLIGHT,
            max_body_bytes_in_flight: DEFAULT_MAX_BODY_BYTES_IN_FLIGHT,
            max_body_bytes_in_flight_per_ip: DEFAULT_MAX_BODY_BYTES_IN_FLIGHT_PER_IP,
            worker_threads: 0,
            upstream_timeout: DEFAULT_UPSTREAM_TIMEOUT,
            upstream_connect_timeout: DEFAULT_UPSTREAM_CONNECT_TIMEOUT,
            log: LogTarget::Stderr,
            log_format: LogFormat::Text,
            metrics_listen: None,
            drain: DEFAULT_DRAIN,
            shutdown_grace: None,
            sdk_settings: BTreeMap::new(),
            sdk_settings_file: None,
        }
    }
}

impl RelayConfig {
    /// A configuration for running in-process: listens on `127.0.0.1:0` (a free port), forwards
    /// to `upstream` with `conversion_token`, does not drain on shutdown (no load balancer
    /// sits in front), and accepts no app token until one is added with
    /// [`RelayConfig::with_app_token`]. Other fields have their defaults.
    pub fn new(upstream: impl Into<String>, conversion_token: impl Into<String>) -> Self {
        RelayConfig {
            listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            upstream: upstream.into(),
            conversion_token: conversion_token.into(),
            drain: Duration::ZERO,
            ..RelayConfig::default()
        }
    }

    /// The shutdown grace in force: [`RelayConfig::shutdown_grace`], or the linger plus the
    /// upstream timeout plus one second.
    pub fn effective_shutdown_grace(&self) -> Duration {
        self.shutdown_grace
            .unwrap_or(self.linger + self.upstream_timeout + Duration::from_secs(1))
    }

    /// Adds an app token allowed to post for `ad_account_id` (builder style).
    pub fn with_app_token(
        mut self,
        token: impl Into<String>,
        ad_account_id: impl Into<String>,
    ) -> Self {
        self.app_tokens.push(AppToken::new(token, ad_account_id));
        self
    }
}
