//! Exports the core's data model as UniFFI records and enums.
//!
//! The types live in `core::model` (plain Rust); these `remote` declarations mirror their
//! fields so UniFFI can generate converters without the core naming uniffi. The `///` text
//! here is what Swift, Kotlin and Python developers read; defaults make most fields optional
//! in the foreign constructors.

use crate::core::model::{
    ActionSource, AppInfo, BatchOutcome, ClientConfig, ContentItem, CustomData, DeadLetter,
    DeviceInfo, Diagnostics, Event, EventName, FlushReport, LogLevel, PrivacyState, TrackResult,
    UserData,
};

/// The 21 standard Conversions API event names, plus `CUSTOM` (with `custom_event_name` for
/// an advertiser-defined name).
#[uniffi::remote(Enum)]
pub enum EventName {
    /// `add_payment_info`
    AddPaymentInfo,
    /// `add_to_cart`
    AddToCart,
    /// `add_to_wishlist`
    AddToWishlist,
    /// `app_install`: recorded by `on_launch`; do not track it yourself.
    AppInstall,
    /// `app_open`: recorded by `on_launch` and `on_foreground`.
    AppOpen,
    /// `checkout`
    Checkout,
    /// `contact`
    Contact,
    /// `customize_product`
    CustomizeProduct,
    /// `find_location`
    FindLocation,
    /// `initiate_checkout`
    InitiateCheckout,
    /// `lead`
    Lead,
    /// `page_visit`
    PageVisit,
    /// `schedule`
    Schedule,
    /// `search`
    Search,
    /// `signup`
    Signup,
    /// `start_trial`
    StartTrial,
    /// `submit_application`
    SubmitApplication,
    /// `subscribe`
    Subscribe,
    /// `view_category`
    ViewCategory,
    /// `view_content`
    ViewContent,
    /// `watch_video`
    WatchVideo,
    /// `custom`, or the advertiser-defined name in `custom_event_name`.
    Custom,
}

/// Where events happen: `APP_IOS` or `APP_ANDROID` for apps.
#[uniffi::remote(Enum)]
pub enum ActionSource {
    /// `app_ios`
    AppIos,
    /// `app_android`
    AppAndroid,
    /// `web`
    Web,
    /// `offline`
    Offline,
}

/// How much the SDK logs through the log sink.
#[uniffi::remote(Enum)]
pub enum LogLevel {
    /// Nothing.
    Off,
    /// Failures.
    Error,
    /// Problems the SDK works around.
    Warn,
    /// One line per request.
    Info,
    /// Everything.
    Debug,
}

/// One conversion event. Only `name` is required.
#[uniffi::remote(Record)]
pub struct Event {
    /// The event type.
    pub name: EventName,
    /// Advertiser-defined name (letters, digits, `_`, `-`, at most 100; at most 15 distinct
    /// names per ad account); only with `EventName.CUSTOM`.
    #[uniffi(default)]
    pub custom_event_name: Option<String>,
    /// Deduplication id, for example your order id; a random UUID when absent.
    #[uniffi(default)]
    pub event_id: Option<String>,
    /// Unix seconds; now when absent. At most 5 minutes ahead, not older than the max event age.
    #[uniffi(default)]
    pub event_time: Option<i64>,
    /// Absolute http(s) URL where it happened.
    #[uniffi(default)]
    pub event_source_url: Option<String>,
    /// Who did it. Raw values are normalised and SHA-256 hashed before anything is stored.
    #[uniffi(default)]
    pub user_data: Option<UserData>,
    /// Value, currency and products.
    #[uniffi(default)]
    pub custom_data: Option<CustomData>,
}

/// The user's identifiers, raw or already SHA-256 hashed (64 hex characters). Each is
/// normalised as the API requires (email lowercase, phone digits with country code, ...) and
/// hashed on the calling thread.
#[uniffi::remote(Record)]
pub struct UserData {
    /// Email addresses (`em`).
    #[uniffi(default)]
    pub emails: Vec<String>,
    /// Phone numbers with country code (`ph`).
    #[uniffi(default)]
    pub phone_numbers: Vec<String>,
    /// First names (`fn`).
    #[uniffi(default)]
    pub first_names: Vec<String>,
    /// Last names (`ln`).
    #[uniffi(default)]
    pub last_names: Vec<String>,
    /// Genders: f, m or n (`ge`).
    #[uniffi(default)]
    pub genders: Vec<String>,
    /// Dates of birth as YYYYMMDD or YYYY-MM-DD (`db`).
    #[uniffi(default)]
    pub dates_of_birth: Vec<String>,
    /// Cities (`ct`).
    #[uniffi(default)]
    pub cities: Vec<String>,
    /// Two-letter state codes (`st`).
    #[uniffi(default)]
    pub states: Vec<String>,
    /// Zip codes (`zp`).
    #[uniffi(default)]
    pub zip_codes: Vec<String>,
    /// Two-letter country codes (`country`).
    #[uniffi(default)]
    pub countries: Vec<String>,
    /// Your own user ids (`external_id`).
    #[uniffi(default)]
    pub external_ids: Vec<String>,
    /// The user's public IP, sent raw. Usually left to your relay, which sees it.
    #[uniffi(default)]
    pub client_ip_address: Option<String>,
    /// Ad click id, sent raw.
    #[uniffi(default)]
    pub click_id: Option<String>,
    /// Partner user id, sent raw.
    #[uniffi(default)]
    pub partner_id: Option<String>,
}

/// Commerce details of an event.
#[uniffi::remote(Record)]
pub struct CustomData {
    /// ISO-4217 code such as "USD".
    #[uniffi(default)]
    pub currency: Option<String>,
    /// Total value as a positive decimal string such as "9.99".
    #[uniffi(default)]
    pub value: Option<String>,
    /// Product ids.
    #[uniffi(default)]
    pub content_ids: Vec<String>,
    /// Line items.
    #[uniffi(default)]
    pub contents: Vec<ContentItem>,
    /// Number of items.
    #[uniffi(default)]
    pub num_items: Option<i64>,
    /// Order id.
    #[uniffi(default)]
    pub order_id: Option<String>,
    /// Search text.
    #[uniffi(default)]
    pub search_string: Option<String>,
    /// Page or product name.
    #[uniffi(default)]
    pub content_name: Option<String>,
    /// Category.
    #[uniffi(default)]
    pub content_category: Option<String>,
    /// Brand.
    #[uniffi(default)]
    pub content_brand: Option<String>,
    /// "ldp" for Limited Data Processing (set automatically from the privacy state).
    #[uniffi(default)]
    pub opt_out_type: Option<String>,
}

/// One line item.
#[uniffi::remote(Record)]
pub struct ContentItem {
    /// Product id.
    #[uniffi(default)]
    pub id: Option<String>,
    /// Product name.
    #[uniffi(default)]
    pub item_name: Option<String>,
    /// Category.
    #[uniffi(default)]
    pub item_category: Option<String>,
    /// Brand.
    #[uniffi(default)]
    pub item_brand: Option<String>,
    /// Unit price as a decimal string.
    #[uniffi(default)]
    pub item_price: Option<String>,
    /// Quantity.
    #[uniffi(default)]
    pub quantity: Option<i64>,
}

/// Facts about the app.
#[uniffi::remote(Record)]
pub struct AppInfo {
    /// App store id or bundle/package id.
    #[uniffi(default)]
    pub app_id: Option<String>,
    /// Display name.
    #[uniffi(default)]
    pub app_name: Option<String>,
    /// Version.
    #[uniffi(default)]
    pub app_version: Option<String>,
    /// When the OS says the app was installed, Unix seconds (Android `PackageInfo.firstInstallTime`,
    /// iOS the creation date of the Documents folder). Older than the install window on the
    /// first launch with the SDK means an existing user: no app_install.
    #[uniffi(default)]
    pub first_install_time: Option<i64>,
}

/// Facts about the device; send a fresh copy with `update_device` when they change.
#[uniffi::remote(Record)]
pub struct DeviceInfo {
    /// Manufacturer, e.g. "Apple", "Google".
    #[uniffi(default)]
    pub brand: Option<String>,
    /// Hardware model, e.g. "iPhone15,2", "Pixel 8".
    #[uniffi(default)]
    pub model: Option<String>,
    /// Device type, e.g. "phone", "tablet".
    #[uniffi(default)]
    pub device_type: Option<String>,
    /// OS version.
    #[uniffi(default)]
    pub os_version: Option<String>,
    /// Two-letter ISO-639-1 language code.
    #[uniffi(default)]
    pub language: Option<String>,
    /// Carrier name, if the OS gives one.
    #[uniffi(default)]
    pub carrier: Option<String>,
    /// On wifi.
    #[uniffi(default)]
    pub wifi: Option<bool>,
    /// The platform's standard HTTP user agent (Android `http.agent`, iOS CFNetwork form),
    /// sent as `client_user_agent`.
    #[uniffi(default)]
    pub user_agent: Option<String>,
}

/// The user's privacy choices, enforced by the SDK core.
#[uniffi::remote(Record)]
pub struct PrivacyState {
    /// Limit Ad Tracking (iOS: ATT not authorized) or Ads Personalization opt-out (Android):
    /// events are sent with `opt_out: true` and never with an advertising id.
    #[uniffi(default = false)]
    pub opt_out: bool,
    /// The IDFA or GAID, raw; only its SHA-256 is kept. Ignored while opted out; the all-zero
    /// id and malformed values count as no id.
    #[uniffi(default)]
    pub advertising_id: Option<String>,
    /// Limited Data Processing: events carry `opt_out_type: ldp`.
    #[uniffi(default = false)]
    pub limited_data_processing: bool,
    /// False when the user withdrew consent: nothing is recorded or sent, the buffer is purged.
    #[uniffi(default = true)]
    pub collection_enabled: bool,
}

/// Configuration. Endpoint, ad account, token, database path and action source are required.
#[uniffi::remote(Record)]
pub struct ClientConfig {
    /// Base URL: your relay (recommended), `https://api.pinterest.com`, or a loopback sandbox.
    pub endpoint: String,
    /// Ad account id, digits only.
    pub ad_account_id: String,
    /// Bearer token (in production an app-scoped relay token). Kept in memory only.
    pub token: String,
    /// Path of the SQLite buffer (Android: noBackupFilesDir; iOS: Application Support).
    pub database_path: String,
    /// `APP_IOS` or `APP_ANDROID`.
    pub action_source: ActionSource,
    /// Sends `?test=true`: events are validated, not recorded; batches of at most 20.
    #[uniffi(default = false)]
    pub test_mode: bool,
    /// The endpoint is a relay that adds the client IP; otherwise events with no email,
    /// advertising id or IP are dropped (counted) instead of sent to fail.
    #[uniffi(default = false)]
    pub endpoint_is_relay: bool,
    /// Events per request, 1 to 1000.
    #[uniffi(default = 1000)]
    pub max_batch: u32,
    /// Buffer capacity; the oldest events are evicted beyond it (never a pending app_install).
    #[uniffi(default = 10000)]
    pub max_queued_events: u32,
    /// Events older than this are dropped, seconds (7 days).
    #[uniffi(default = 604800)]
    pub max_event_age_secs: u64,
    /// Waiting events are sent at least this often, seconds.
    #[uniffi(default = 30)]
    pub flush_interval_secs: u64,
    /// First retry delay, milliseconds; doubles per failure, with full jitter.
    #[uniffi(default = 1000)]
    pub retry_base_delay_ms: u64,
    /// Longest retry delay, honoured Retry-After, and pause after a rejected token, seconds.
    #[uniffi(default = 3600)]
    pub retry_max_delay_secs: u64,
    /// Longest a request may take, answer included, seconds (1 to 300); a slower answer is
    /// retried like a network error.
    #[uniffi(default = 30)]
    pub request_timeout_secs: u64,
    /// Background time before a return to the foreground records app_open, seconds.
    #[uniffi(default = 30)]
    pub min_background_for_open_secs: u64,
    /// A first launch whose first_install_time is older than this is an existing user, seconds.
    #[uniffi(default = 86400)]
    pub install_window_secs: u64,
    /// Sent as `partner_name` (convention "ss-partner").
    #[uniffi(default)]
    pub partner_name: Option<String>,
    /// Log level of the log sink (`WARN` is a good default).
    pub log_level: LogLevel,
}

/// What `track` did.
#[uniffi::remote(Record)]
pub struct TrackResult {
    /// The event id (yours or generated).
    pub event_id: String,
    /// False when collection is disabled and nothing was recorded.
    pub recorded: bool,
}

/// What a `flush` achieved.
#[uniffi::remote(Record)]
pub struct FlushReport {
    /// Events sent in requests.
    pub sent: u64,
    /// Events the server processed.
    pub processed: u64,
    /// Events the server refused (dead letters).
    pub failed: u64,
    /// Events still queued.
    pub remaining: u64,
    /// Status of the last request.
    pub last_status: Option<u16>,
    /// The timeout passed first.
    pub timed_out: bool,
}

/// A refused event (its body is not kept).
#[uniffi::remote(Record)]
pub struct DeadLetter {
    /// Event id.
    pub event_id: String,
    /// Event name.
    pub event_name: String,
    /// Why it was refused.
    pub error_message: String,
    /// When, Unix seconds.
    pub dead_lettered_at: i64,
}

/// The SDK's health.
#[uniffi::remote(Record)]
pub struct Diagnostics {
    /// Events waiting.
    pub queued: u64,
    /// Age of the oldest waiting event, seconds.
    pub oldest_queued_age_secs: Option<u64>,
    /// Dead letters kept (newest 1,000).
    pub dead_lettered: u64,
    /// Newest dead letters first (up to 20).
    pub recent_dead_letters: Vec<DeadLetter>,
    /// Events processed by the server, ever.
    pub delivered: u64,
    /// Server warnings on processed events.
    pub warnings: u64,
    /// Dropped as too old.
    pub dropped_expired: u64,
    /// Evicted from a full buffer.
    pub dropped_evicted: u64,
    /// Purged (collection disabled, forget).
    pub dropped_purged: u64,
    /// Dropped after acceptance (duplicate event id, 16th custom name).
    pub dropped_invalid: u64,
    /// Not sent directly to the API for lack of em, hashed_maids or IP plus user agent.
    pub dropped_no_identity: u64,
    /// First launches of existing users (no app_install).
    pub existing_user_installs: u64,
    /// Advertising ids ignored as malformed.
    pub malformed_advertising_ids: u64,
    /// Last attempt, Unix seconds.
    pub last_attempt_time: Option<i64>,
    /// Last status (none for a network error).
    pub last_status: Option<u16>,
    /// Last error.
    pub last_error: Option<String>,
    /// Next attempt, Unix seconds.
    pub next_attempt_time: Option<i64>,
    /// Why delivery is paused.
    pub paused_reason: Option<String>,
    /// Failed attempts in a row.
    pub consecutive_failures: u64,
    /// Current storage problem.
    pub storage_error: Option<String>,
    /// Corrupt databases moved aside.
    pub database_recoveries: u64,
    /// Internal faults caught (should be 0).
    pub worker_panics: u64,
    /// Times the upload thread woke since start: zero while nothing is queued and nothing
    /// is scheduled, one per scheduled attempt or signal otherwise.
    pub upload_wakeups: u64,
}

/// One request's outcome, for the delivery listener.
#[uniffi::remote(Record)]
pub struct BatchOutcome {
    /// Events in the request.
    pub events: u32,
    /// HTTP status; none for a network error.
    pub status: Option<u16>,
    /// Processed.
    pub processed: u32,
    /// Refused.
    pub failed: u32,
    /// Processed with a warning.
    pub warnings: u32,
    /// The events stay queued for a retry.
    pub will_retry: bool,
    /// Error description.
    pub message: Option<String>,
}
