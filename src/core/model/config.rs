//! The client's configuration as the app writes it (checked once by `core::config` into its
//! settings), and the log level. Its text form never shows the token.

use super::event::ActionSource;

/// How much the SDK logs through the app's log sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(feature = "ffi", derive(uniffi::Enum))]
pub enum LogLevel {
    /// Nothing.
    Off,
    /// Failures the app should know about.
    Error,
    /// Problems the SDK works around (retries, malformed identifiers).
    Warn,
    /// One line per request.
    Info,
    /// Everything.
    Debug,
}

/// Client configuration. Only endpoint, ad account, token, database path and action source
/// have no default. Its text form (`toString()`, `description`, `str()`) never shows the token.
#[derive(Clone, PartialEq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
#[cfg_attr(feature = "ffi", uniffi::export(Debug, Display))]
pub struct ClientConfig {
    /// Base URL: your relay (recommended, with a path prefix if it has one:
    /// `https://shop.example.com/conversions`), `https://api.pinterest.com`, or a local sandbox
    /// (`http://` to loopback or an Android emulator's 10.0.2.2 / 10.0.3.2). The SDK appends
    /// `/v5/ad_accounts/{id}/events`.
    pub endpoint: String,
    /// The ad account id, digits only, at most 18.
    pub ad_account_id: String,
    /// Bearer token for the endpoint (an app-scoped relay token in production). Kept in memory only.
    pub token: String,
    /// Path of the SQLite buffer (Android: noBackupFilesDir; iOS: Application Support).
    pub database_path: String,
    /// `app_ios` or `app_android` for apps.
    pub action_source: ActionSource,
    /// Send `?test=true`: validated by the endpoint, not recorded; batches of at most 20.
    #[cfg_attr(feature = "ffi", uniffi(default = false))]
    pub test_mode: bool,
    /// Whether the endpoint is a relay that adds the client IP. Unset (the default), the host
    /// decides: `api.pinterest.com` is the Conversions API, any other host a relay. Set it only
    /// for an unusual setup (a proxy in front of the API: `false`). Sending to the API itself,
    /// an event with no email, advertising id or IP is dropped (counted) instead of sent to fail.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub endpoint_is_relay: Option<bool>,
    /// The endpoint accepts gzip-compressed request bodies (`Content-Encoding: gzip`): bodies
    /// over 1 KB are then compressed. Requests to a relay always are; this is for a direct
    /// endpoint known to accept gzip.
    #[cfg_attr(feature = "ffi", uniffi(default = false))]
    pub endpoint_accepts_gzip: bool,
    /// Events per request, 1..=1000 (the API's limit).
    #[cfg_attr(feature = "ffi", uniffi(default = 1000))]
    pub max_batch: u32,
    /// Buffer capacity, 1 to 1,000,000; the oldest events are evicted beyond it (never a
    /// pending app_install).
    #[cfg_attr(feature = "ffi", uniffi(default = 10000))]
    pub max_queued_events: u32,
    /// Events older than this are dropped before sending, seconds.
    #[cfg_attr(feature = "ffi", uniffi(default = 604800))]
    pub max_event_age_secs: u64,
    /// How often waiting events are sent when no other trigger fires, seconds.
    #[cfg_attr(feature = "ffi", uniffi(default = 30))]
    pub flush_interval_secs: u64,
    /// First retry delay after a failure, milliseconds; doubles per attempt, with full jitter.
    #[cfg_attr(feature = "ffi", uniffi(default = 1000))]
    pub retry_base_delay_ms: u64,
    /// Upper bound of any retry delay, of an honoured `Retry-After`, and of the pause after a
    /// rejected token, seconds.
    #[cfg_attr(feature = "ffi", uniffi(default = 3600))]
    pub retry_max_delay_secs: u64,
    /// Longest a request may take, answer included, seconds (1 to 300); a slower answer is a
    /// timeout, retried like a network error.
    #[cfg_attr(feature = "ffi", uniffi(default = 30))]
    pub request_timeout_secs: u64,
    /// Minimum time in the background before a return to the foreground records `app_open`, seconds.
    #[cfg_attr(feature = "ffi", uniffi(default = 30))]
    pub min_background_for_open_secs: u64,
    /// A first launch whose `first_install_time` is older than this is an existing user, seconds.
    #[cfg_attr(feature = "ffi", uniffi(default = 86400))]
    pub install_window_secs: u64,
    /// Sent as `partner_name` when set: `direct` for a direct integration, or the
    /// `ss-<partner>` name (lowercase letters, digits, `_`, `-`) agreed with Pinterest.
    /// Another value is left out of every event with a warning, or refused at construction
    /// (`InvalidConfig`) with `strict_validation`.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub partner_name: Option<String>,
    /// The lowest level of the lines the log sink hears; unset: `WARN`.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub log_level: Option<LogLevel>,
    /// Refuse an event with any invalid optional field (`InvalidInput`, nothing stored)
    /// instead of dropping the field with a warning. For debug builds and tests.
    #[cfg_attr(feature = "ffi", uniffi(default = false))]
    pub strict_validation: bool,
    /// Send user-data identifiers (hashed email, phone, names, address fields, external id) on
    /// `app_ios` events even without tracking authorization. Off by default: Apple counts
    /// sharing them with an ad platform as tracking. Only for an app with its own legal basis;
    /// the advertising ID is never sent without authorization either way.
    #[cfg_attr(feature = "ffi", uniffi(default = false))]
    pub user_data_without_tracking: bool,
    /// How long the first launch's `app_install` waits for the tracking prompt to be answered
    /// while the authorization is `NotDetermined`, seconds (0 to 600; `app_ios` only). Answering
    /// it either way, or the wait running out, records the install with the state of that
    /// moment, so an install can carry the IDFA the user just allowed. The Swift layer uses 60.
    #[cfg_attr(feature = "ffi", uniffi(default = 0))]
    pub first_launch_wait_for_authorization_secs: u64,
    /// How long a click id from an opened URL (`handle_open_url`) or the install referrer is
    /// added to later events, counted from its arrival, seconds (1 to 90 days; 30 days).
    #[cfg_attr(feature = "ffi", uniffi(default = 2592000))]
    pub click_id_ttl_secs: u64,
    /// How long the first launch's `app_install` waits for `set_install_referrer`, seconds
    /// (0 to 60). The Android layer sets it when the app has the Play Install Referrer
    /// library and this install's referrer was not read yet; the answer releases it early.
    #[cfg_attr(feature = "ffi", uniffi(default = 0))]
    pub first_launch_wait_for_install_referrer_secs: u64,
}

impl ClientConfig {
    /// A configuration with the five required fields and every other field at its default
    /// (the same defaults the Swift, Kotlin and Python constructors take; `log_level` unset
    /// means `Warn`).
    pub fn new(
        endpoint: impl Into<String>,
        ad_account_id: impl Into<String>,
        token: impl Into<String>,
        database_path: impl Into<String>,
        action_source: ActionSource,
    ) -> ClientConfig {
        ClientConfig {
            endpoint: endpoint.into(),
            ad_account_id: ad_account_id.into(),
            token: token.into(),
            database_path: database_path.into(),
            action_source,
            test_mode: false,
            endpoint_is_relay: None,
            endpoint_accepts_gzip: false,
            max_batch: 1000,
            max_queued_events: 10_000,
            max_event_age_secs: 604_800,
            flush_interval_secs: 30,
            retry_base_delay_ms: 1000,
            retry_max_delay_secs: 3600,
            request_timeout_secs: 30,
            min_background_for_open_secs: 30,
            install_window_secs: 86_400,
            partner_name: None,
            log_level: None,
            strict_validation: false,
            user_data_without_tracking: false,
            first_launch_wait_for_authorization_secs: 0,
            click_id_ttl_secs: 30 * 86_400,
            first_launch_wait_for_install_referrer_secs: 0,
        }
    }
}

/// The same text as `Debug`: the bindings' `toString()` (Kotlin), `description` (Swift) and
/// `str()` (Python) come from it, so the token is redacted there too.
impl std::fmt::Display for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("endpoint", &self.endpoint)
            .field("ad_account_id", &self.ad_account_id)
            .field("token", &"[redacted]")
            .field("database_path", &self.database_path)
            .field("action_source", &self.action_source)
            .field("test_mode", &self.test_mode)
            .field("endpoint_is_relay", &self.endpoint_is_relay)
            .field("endpoint_accepts_gzip", &self.endpoint_accepts_gzip)
            .field("max_batch", &self.max_batch)
            .field("max_queued_events", &self.max_queued_events)
            .finish_non_exhaustive()
    }
}
