//! Validates the client configuration once, at construction, into [`Settings`]: every later
//! component reads plain, already-checked values (durations, limits, the events URL).

use std::net::IpAddr;
use std::time::Duration;

use crate::core::click_id::MAX_CLICK_ID_TTL_SECS;
use crate::core::error::{ConversionsError, Result};
use crate::core::model::{ActionSource, ClientConfig, DeviceInfo};
use crate::core::privacy::TrackingPolicy;

/// The settings the policy follows, already validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyConfig {
    /// Events per request, at most.
    pub batch_size: usize,
    /// How often waiting events are sent without another trigger, milliseconds.
    pub flush_interval_ms: i64,
    /// First retry delay, milliseconds.
    pub retry_base_ms: i64,
    /// Cap of retry delays, `Retry-After` and the pause after a rejected token, milliseconds.
    pub retry_max_ms: i64,
}

/// The API's per-request limit (the wire contract's `MAX_EVENTS_PER_REQUEST`).
pub const API_MAX_BATCH: u32 = conversions_wire::MAX_EVENTS_PER_REQUEST as u32;
/// Test requests process only their first 20 events (the wire contract's `TEST_MODE_EVENTS`).
pub const TEST_MODE_MAX_BATCH: u32 = conversions_wire::TEST_MODE_EVENTS as u32;

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The original configuration (token excluded from use: it lives in the client).
    pub config: ClientConfig,
    /// `{endpoint}/v5/ad_accounts/{id}/events[?test=true]`.
    pub events_url: String,
    /// The endpoint is a relay that adds the client IP: `endpoint_is_relay` when set, else
    /// any host but the Conversions API's.
    pub sends_through_relay: bool,
    /// Events per request after the test-mode cap.
    pub batch_size: usize,
    /// Buffer capacity.
    pub max_queued: u64,
    /// Maximum event age, seconds.
    pub max_event_age_secs: i64,
    /// What the upload policy follows: batch size, interval and retry timing.
    pub policy: PolicyConfig,
    /// Longest a request may take, answer included.
    pub request_timeout: Duration,
    /// The install window, seconds.
    pub install_window_secs: i64,
    /// Background time before a foreground records app_open, milliseconds.
    pub min_background_for_open_ms: i64,
    /// How tracking authorization applies to this app's events.
    pub tracking_policy: TrackingPolicy,
    /// How long a first launch's install waits for the tracking prompt or the install
    /// referrer (the longer of the two waits), milliseconds.
    pub first_launch_wait_ms: i64,
    /// How long a click id is added to events after it arrived, seconds.
    pub click_id_ttl_secs: i64,
    /// `partner_name` trimmed, when it follows the API's convention (docs/ARCHITECTURE.md §10).
    pub partner_name: Option<String>,
    /// The configured `partner_name` broke the convention: left out, with a warning per event.
    pub partner_name_dropped: bool,
}

/// The longest a first launch's install may wait for the tracking prompt, seconds.
const MAX_AUTHORIZATION_WAIT_SECS: u64 = 600;

/// The longest a first launch's install may wait for the install referrer, seconds.
const MAX_REFERRER_WAIT_SECS: u64 = 60;

/// The largest buffer capacity a configuration may ask for.
const MAX_QUEUED_EVENTS: u64 = 1_000_000;

/// One day, the longest interval, pause or background threshold a setting may ask for.
const DAY_SECS: u64 = 86_400;

/// The API's rule for `partner_name` (docs/ARCHITECTURE.md §10): a value Pinterest agreed with the partner.
pub const PARTNER_NAME_RULE: &str =
    "must be \"direct\" or \"ss-<partner>\" in lowercase (letters, digits, '_', '-'), as agreed with Pinterest";

/// True for a `partner_name` the API allows (docs/ARCHITECTURE.md §10): `direct`, or `ss-` and a lowercase name.
pub fn is_valid_partner_name(name: &str) -> bool {
    let partner_char =
        |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-';
    name == "direct"
        || name
            .strip_prefix("ss-")
            .is_some_and(|partner| !partner.is_empty() && partner.bytes().all(partner_char))
}

/// Checks that `value` is within `range`; the error names the field and the rule.
fn within(field: &str, value: u64, range: std::ops::RangeInclusive<u64>, unit: &str) -> Result<()> {
    if range.contains(&value) {
        Ok(())
    } else {
        Err(ConversionsError::config(
            field,
            format!(
                "must be between {} and {} {unit}",
                range.start(),
                range.end()
            ),
        ))
    }
}

impl Settings {
    /// Checks `config`; the error names the field and the rule.
    pub fn new(config: ClientConfig) -> Result<Settings> {
        let relay_by_host =
            !endpoint_host(&config.endpoint)?.eq_ignore_ascii_case(CONVERSIONS_API_HOST);
        let account = &config.ad_account_id;
        if account.is_empty() || account.len() > 18 || !account.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(ConversionsError::config(
                "ad_account_id",
                "must be 1 to 18 digits",
            ));
        }
        if config.token.trim().is_empty() {
            return Err(ConversionsError::config("token", "must not be empty"));
        }
        if config.database_path.trim().is_empty() {
            return Err(ConversionsError::config(
                "database_path",
                "must not be empty",
            ));
        }
        if is_not_a_file(&config.database_path) {
            return Err(ConversionsError::config(
                "database_path",
                "must be a file path: \":memory:\" and \"file:\" URIs are refused, since queued events must survive a restart",
            ));
        }
        if !(1..=API_MAX_BATCH).contains(&config.max_batch) {
            return Err(ConversionsError::config(
                "max_batch",
                "must be between 1 and 1000",
            ));
        }
        // The cap also bounds the events held in memory while storage fails: u32::MAX would
        // turn that bound off.
        within(
            "max_queued_events",
            u64::from(config.max_queued_events),
            1..=MAX_QUEUED_EVENTS,
            "events",
        )?;
        within(
            "max_event_age_secs",
            config.max_event_age_secs,
            1..=30 * DAY_SECS,
            "seconds",
        )?;
        within(
            "flush_interval_secs",
            config.flush_interval_secs,
            0..=DAY_SECS,
            "seconds",
        )?;
        within(
            "retry_base_delay_ms",
            config.retry_base_delay_ms,
            // Not 0: a zero base keeps every retry delay at 0, so a failing server would be
            // asked again at once, forever. From 1 ms the delays double towards the cap.
            1..=3_600_000,
            "milliseconds",
        )?;
        within(
            "retry_max_delay_secs",
            config.retry_max_delay_secs,
            1..=DAY_SECS,
            "seconds",
        )?;
        within(
            "request_timeout_secs",
            config.request_timeout_secs,
            1..=300,
            "seconds",
        )?;
        within(
            "min_background_for_open_secs",
            config.min_background_for_open_secs,
            0..=DAY_SECS,
            "seconds",
        )?;
        within(
            "install_window_secs",
            config.install_window_secs,
            0..=30 * DAY_SECS,
            "seconds",
        )?;
        within(
            "first_launch_wait_for_authorization_secs",
            config.first_launch_wait_for_authorization_secs,
            0..=MAX_AUTHORIZATION_WAIT_SECS,
            "seconds",
        )?;
        within(
            "click_id_ttl_secs",
            config.click_id_ttl_secs,
            1..=MAX_CLICK_ID_TTL_SECS,
            "seconds",
        )?;
        within(
            "first_launch_wait_for_install_referrer_secs",
            config.first_launch_wait_for_install_referrer_secs,
            0..=MAX_REFERRER_WAIT_SECS,
            "seconds",
        )?;
        let partner_name = config
            .partner_name
            .as_deref()
            .map(str::trim)
            .filter(|name| !name.is_empty());
        let partner_name_dropped = partner_name.is_some_and(|name| !is_valid_partner_name(name));
        if partner_name_dropped && config.strict_validation {
            return Err(ConversionsError::config("partner_name", PARTNER_NAME_RULE));
        }
        let partner_name = partner_name
            .filter(|_| !partner_name_dropped)
            .map(str::to_string);
        let batch = if config.test_mode {
            config.max_batch.min(TEST_MODE_MAX_BATCH)
        } else {
            config.max_batch
        };
        let mut events_url = format!(
            "{}/v5/ad_accounts/{}/events",
            config.endpoint.trim_end_matches('/'),
            config.ad_account_id
        );
        if config.test_mode {
            events_url.push_str("?test=true");
        }
        // Every value below was bounded above, so none of these conversions can overflow.
        let secs = |v: u64| v as i64;
        Ok(Settings {
            events_url,
            sends_through_relay: config.endpoint_is_relay.unwrap_or(relay_by_host),
            batch_size: batch as usize,
            max_queued: u64::from(config.max_queued_events),
            max_event_age_secs: secs(config.max_event_age_secs),
            policy: PolicyConfig {
                batch_size: batch as usize,
                flush_interval_ms: secs(config.flush_interval_secs.max(1)) * 1000,
                retry_base_ms: secs(config.retry_base_delay_ms),
                retry_max_ms: secs(config.retry_max_delay_secs) * 1000,
            },
            request_timeout: Duration::from_secs(config.request_timeout_secs),
            install_window_secs: secs(config.install_window_secs),
            min_background_for_open_ms: secs(config.min_background_for_open_secs) * 1000,
            tracking_policy: TrackingPolicy {
                ios: config.action_source == ActionSource::AppIos,
                user_data_without_tracking: config.user_data_without_tracking,
            },
            first_launch_wait_ms: secs(
                config
                    .first_launch_wait_for_authorization_secs
                    .max(config.first_launch_wait_for_install_referrer_secs),
            ) * 1000,
            click_id_ttl_secs: secs(config.click_id_ttl_secs),
            partner_name,
            partner_name_dropped,
            config,
        })
    }
}

/// The Conversions API's host. An endpoint on any other host is taken for a relay unless
/// `endpoint_is_relay` says otherwise.
pub const CONVERSIONS_API_HOST: &str = "api.pinterest.com";

/// The addresses by which Android emulators reach the development machine (the SDK's emulator,
/// Genymotion): cleartext `http://` is allowed to them as to loopback, for a local sandbox.
const EMULATOR_HOST_ALIASES: [&str; 2] = ["10.0.2.2", "10.0.3.2"];

const ENDPOINT_RULE: &str = "must be an https:// URL, optionally with a path prefix (the SDK \
    appends /v5/ad_accounts/{id}/events), without query, fragment or credentials; http:// only \
    for loopback addresses and the Android emulators' 10.0.2.2 and 10.0.3.2";

/// Whether `endpoint` is taken for a relay when the configuration does not say: any host but
/// [`CONVERSIONS_API_HOST`] is. `None` for an endpoint the configuration check refuses.
pub fn is_relay_host(endpoint: &str) -> Option<bool> {
    endpoint_host(endpoint)
        .ok()
        .map(|host| !host.eq_ignore_ascii_case(CONVERSIONS_API_HOST))
}

/// Checks the endpoint and returns its host (without port or brackets): `https://` anywhere,
/// `http://` only to loopback or an emulator's host alias; a path prefix may follow the host;
/// a query, a fragment, credentials, whitespace or an empty path segment are refused, with
/// the error naming the field and the rule.
fn endpoint_host(endpoint: &str) -> Result<&str> {
    let refuse = || ConversionsError::config("endpoint", ENDPOINT_RULE);
    let (scheme, rest) = endpoint.split_once("://").ok_or_else(refuse)?;
    if rest.contains(['?', '#', '@']) || rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(refuse());
    }
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let path = path.trim_end_matches('/');
    if !path.is_empty()
        && path
            .split('/')
            .any(|segment| matches!(segment, "" | "." | ".."))
    {
        return Err(refuse());
    }
    let host = authority_host(authority);
    if host.is_empty() {
        return Err(refuse());
    }
    match scheme {
        "https" => Ok(host),
        "http" if allows_cleartext(host) => Ok(host),
        _ => Err(refuse()),
    }
}

/// The host of `host[:port]` or `[v6]:port`.
fn authority_host(authority: &str) -> &str {
    match authority.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => authority.split(':').next().unwrap_or(""),
    }
}

/// Loopback (tests, the harness, a local relay) or an emulator's alias of the machine.
fn allows_cleartext(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || EMULATOR_HOST_ALIASES.contains(&host)
        || host
            .parse::<IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

/// Checks device facts given by the host: `language` must be a two-letter ISO-639-1 code,
/// and no fact may be longer than its cap (`limits`).
pub fn validate_device(device: &DeviceInfo) -> Result<()> {
    crate::core::limits::check_device(device)?;
    if let Some(language) = device
        .language
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        if language.len() != 2 || !language.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(ConversionsError::invalid(
                "device.language",
                "must be a two-letter ISO-639-1 code such as \"en\"",
            ));
        }
    }
    Ok(())
}

/// True for the SQLite spellings that are not a plain file: an in-memory database, or a URI
/// (which may ask for one, or for options the SDK does not expect).
fn is_not_a_file(path: &str) -> bool {
    let path = path.trim();
    path == ":memory:"
        || path
            .get(..5)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("file:"))
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
