//! The state every request shares: limiters, token table, coalescer, budgets and body
//! memory, built once from a validated configuration and shared by `Arc`.
//!
//! Building it is where the relay's parts are wired together (upstream client -> dispatcher ->
//! coalescer, the call budget shared with Redis); the handlers in [`crate::server`] only read it.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::Semaphore;

use crate::auth::TokenTable;
use crate::body::{BodyLimits, BodyMemory};
use crate::budget::CallBudget;
use crate::client_ip::TrustedProxies;
use crate::coalesce::Coalescer;
use crate::config::RelayConfig;
use crate::custom_names::CustomNames;
use crate::dispatch::Dispatcher;
use crate::forward::Upstream;
use crate::lifecycle::Lifecycle;
use crate::limit::{GlobalLimiter, IpLimiter};
use crate::log::LogTarget;
use crate::redis_budget::RedisBudget;
use crate::sdk_settings::SdkSettings;
use crate::upstream_health::UpstreamHealth;

/// Everything a request needs, built once from the configuration.
pub(crate) struct AppState {
    /// App tokens and the ad account each may post for.
    pub(crate) tokens: TokenTable,
    /// Rate limit per client IP (IPv6 by /64).
    pub(crate) ip_limiter: IpLimiter,
    /// The instance's cap over all clients.
    pub(crate) global_limiter: GlobalLimiter,
    /// Peers whose `X-Forwarded-For` is believed.
    pub(crate) proxies: TrustedProxies,
    /// Where device requests join batches.
    pub(crate) coalescer: Arc<Coalescer>,
    /// Each ad account's upstream calls per minute.
    pub(crate) budget: Arc<CallBudget>,
    /// Pauses of an ad account after upstream 429s or failures.
    pub(crate) health: Arc<UpstreamHealth>,
    /// Custom event names seen per ad account.
    pub(crate) custom_names: CustomNames,
    /// The configured ad accounts.
    pub(crate) ad_accounts: Vec<Arc<str>>,
    /// One body's cap and deadline.
    pub(crate) body_limits: BodyLimits,
    /// Body bytes held in flight, in all and per client address.
    pub(crate) body_memory: Arc<BodyMemory>,
    /// Permits for parsing large bodies on the blocking pool.
    pub(crate) parsers: Semaphore,
    /// Event requests handled at once; more are shed.
    pub(crate) max_requests_in_flight: usize,
    /// Where the request log goes.
    pub(crate) log: LogTarget,
    /// Draining flag and requests in flight, shared with the server loop.
    pub(crate) lifecycle: Arc<Lifecycle>,
    /// The SDK's remote settings per ad account (reloaded through the handle on SIGHUP).
    pub(crate) sdk_settings: Arc<SdkSettings>,
}

impl AppState {
    /// Builds the state from a validated configuration.
    pub(crate) fn new(config: &RelayConfig) -> Result<Self, String> {
        let tokens = TokenTable::new(&config.app_tokens);
        let accounts = || config.app_tokens.iter().map(|t| t.ad_account_id.as_str());
        let shared = config
            .redis_url
            .as_deref()
            .map(RedisBudget::new)
            .transpose()?;
        let budget = Arc::new(CallBudget::new(
            config.calls_per_minute,
            config.instances,
            accounts(),
            shared,
        ));
        let names_shared = config
            .redis_url
            .as_deref()
            .map(RedisBudget::new)
            .transpose()?;
        let upstream = Arc::new(Upstream::new(config)?);
        let health = Arc::new(UpstreamHealth::new(accounts()));
        let dispatcher = Arc::new(Dispatcher::new(
            upstream,
            Arc::clone(&budget),
            Arc::clone(&health),
        ));
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Ok(AppState {
            ad_accounts: config
                .app_tokens
                .iter()
                .map(|t| Arc::from(t.ad_account_id.as_str()))
                .collect(),
            tokens,
            ip_limiter: IpLimiter::new(
                config.rate_limit_per_sec,
                config.rate_limit_burst,
                config.ip_table_capacity,
            ),
            global_limiter: GlobalLimiter::new(config.global_rate_limit_per_sec, Instant::now()),
            proxies: TrustedProxies::parse(&config.trusted_proxies)?,
            coalescer: Arc::new(Coalescer::new(config.linger, dispatcher)),
            budget,
            health,
            custom_names: CustomNames::new(accounts(), names_shared),
            body_limits: BodyLimits {
                max_bytes: config.max_body_bytes,
                deadline: config.body_timeout,
            },
            body_memory: Arc::new(BodyMemory::new(
                config.max_body_bytes_in_flight,
                config.max_body_bytes_in_flight_per_ip,
            )),
            parsers: Semaphore::new(cores),
            max_requests_in_flight: config.max_requests_in_flight,
            log: config.log.clone(),
            lifecycle: Arc::new(Lifecycle::default()),
            sdk_settings: Arc::new(SdkSettings::new(
                &config.sdk_settings,
                config.sdk_settings_file.clone(),
            )?),
        })
    }
}
