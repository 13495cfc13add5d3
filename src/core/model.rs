//! The SDK's public data model: events, user and custom data, app/device facts, privacy state,
//! configuration, and what the client reports back (track results, flush reports, diagnostics).
//!
//! These are plain Rust types. `src/ffi` exports them to Swift, Kotlin and Python as UniFFI
//! records and enums without copying them, so the core stays free of any binding concern.
//! Field names describe the value for an app developer (`emails`, `phone_numbers`); the wire
//! module maps them to the API's short names (`em`, `ph`).

/// The 21 standard Conversions API event names, plus `Custom`.
///
/// `Custom` with [`Event::custom_event_name`] set sends an advertiser-defined event name;
/// without it, the standard `custom` event is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventName {
    /// `add_payment_info`
    AddPaymentInfo,
    /// `add_to_cart`
    AddToCart,
    /// `add_to_wishlist`
    AddToWishlist,
    /// `app_install` (recorded automatically by `on_launch`)
    AppInstall,
    /// `app_open` (recorded automatically by `on_launch` and `on_foreground`)
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
    /// `custom`, or an advertiser-defined name given in `custom_event_name`.
    Custom,
}

impl EventName {
    /// Every name, in the order of the brief.
    pub const ALL: [EventName; 22] = [
        EventName::AddPaymentInfo,
        EventName::AddToCart,
        EventName::AddToWishlist,
        EventName::AppInstall,
        EventName::AppOpen,
        EventName::Checkout,
        EventName::Contact,
        EventName::CustomizeProduct,
        EventName::FindLocation,
        EventName::InitiateCheckout,
        EventName::Lead,
        EventName::PageVisit,
        EventName::Schedule,
        EventName::Search,
        EventName::Signup,
        EventName::StartTrial,
        EventName::SubmitApplication,
        EventName::Subscribe,
        EventName::ViewCategory,
        EventName::ViewContent,
        EventName::WatchVideo,
        EventName::Custom,
    ];

    /// The name as sent on the wire.
    pub fn wire_name(self) -> &'static str {
        match self {
            EventName::AddPaymentInfo => "add_payment_info",
            EventName::AddToCart => "add_to_cart",
            EventName::AddToWishlist => "add_to_wishlist",
            EventName::AppInstall => "app_install",
            EventName::AppOpen => "app_open",
            EventName::Checkout => "checkout",
            EventName::Contact => "contact",
            EventName::CustomizeProduct => "customize_product",
            EventName::FindLocation => "find_location",
            EventName::InitiateCheckout => "initiate_checkout",
            EventName::Lead => "lead",
            EventName::PageVisit => "page_visit",
            EventName::Schedule => "schedule",
            EventName::Search => "search",
            EventName::Signup => "signup",
            EventName::StartTrial => "start_trial",
            EventName::SubmitApplication => "submit_application",
            EventName::Subscribe => "subscribe",
            EventName::ViewCategory => "view_category",
            EventName::ViewContent => "view_content",
            EventName::WatchVideo => "watch_video",
            EventName::Custom => "custom",
        }
    }

    /// The standard name for a wire string, if it is one.
    pub fn from_wire(name: &str) -> Option<EventName> {
        EventName::ALL.into_iter().find(|n| n.wire_name() == name)
    }
}

/// Where the event happened, sent as `action_source`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

impl ActionSource {
    /// The value as sent on the wire.
    pub fn wire_name(self) -> &'static str {
        match self {
            ActionSource::AppIos => "app_ios",
            ActionSource::AppAndroid => "app_android",
            ActionSource::Web => "web",
            ActionSource::Offline => "offline",
        }
    }
}

/// One conversion event as the app describes it. Only `name` is required.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The event type.
    pub name: EventName,
    /// An advertiser-defined name (`^[A-Za-z0-9_-]{1,100}$`); only with `name == Custom`.
    pub custom_event_name: Option<String>,
    /// A unique id used for deduplication; a random UUID v4 when absent.
    pub event_id: Option<String>,
    /// When it happened, Unix seconds; now when absent.
    pub event_time: Option<i64>,
    /// The absolute http(s) URL where it happened, if any.
    pub event_source_url: Option<String>,
    /// Who did it; raw values are normalised and SHA-256 hashed before storage.
    pub user_data: Option<UserData>,
    /// What it was worth and which products it involved.
    pub custom_data: Option<CustomData>,
}

/// Identifiers of the user. Every list is normalised per the brief and SHA-256 hashed on the
/// calling thread; a value that already is 64 hex characters is taken as pre-hashed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserData {
    /// Email addresses (`em`).
    pub emails: Vec<String>,
    /// Phone numbers with country code (`ph`).
    pub phone_numbers: Vec<String>,
    /// First names (`fn`).
    pub first_names: Vec<String>,
    /// Last names (`ln`).
    pub last_names: Vec<String>,
    /// Genders: f, m or n (`ge`).
    pub genders: Vec<String>,
    /// Dates of birth, YYYYMMDD or YYYY-MM-DD (`db`).
    pub dates_of_birth: Vec<String>,
    /// Cities (`ct`).
    pub cities: Vec<String>,
    /// Two-letter state codes (`st`).
    pub states: Vec<String>,
    /// Zip codes (`zp`).
    pub zip_codes: Vec<String>,
    /// Two-letter ISO-3166 country codes (`country`).
    pub countries: Vec<String>,
    /// The advertiser's user ids (`external_id`).
    pub external_ids: Vec<String>,
    /// The user's public IP address, sent raw; usually left to the relay.
    pub client_ip_address: Option<String>,
    /// The ad click id (`click_id`), sent raw.
    pub click_id: Option<String>,
    /// A partner's user id (`partner_id`), sent raw.
    pub partner_id: Option<String>,
}

/// Event-level commerce details (`custom_data`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomData {
    /// ISO-4217 currency code, three letters.
    pub currency: Option<String>,
    /// Total value as a positive decimal string, for example `"9.99"`.
    pub value: Option<String>,
    /// Product ids.
    pub content_ids: Vec<String>,
    /// Line items.
    pub contents: Vec<ContentItem>,
    /// Number of items.
    pub num_items: Option<i64>,
    /// Order id.
    pub order_id: Option<String>,
    /// What the user searched for.
    pub search_string: Option<String>,
    /// Page or product name.
    pub content_name: Option<String>,
    /// Merchandise category.
    pub content_category: Option<String>,
    /// Merchandise brand.
    pub content_brand: Option<String>,
    /// Privacy opt-out type; the only accepted value is `ldp`.
    pub opt_out_type: Option<String>,
}

/// One line item of `custom_data.contents`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContentItem {
    /// Product id.
    pub id: Option<String>,
    /// Product name.
    pub item_name: Option<String>,
    /// Product category.
    pub item_category: Option<String>,
    /// Product brand.
    pub item_brand: Option<String>,
    /// Unit price as a decimal string.
    pub item_price: Option<String>,
    /// Quantity.
    pub quantity: Option<i64>,
}

/// Facts about the app, given once at start.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AppInfo {
    /// App store id or bundle/package id (`app_id`).
    pub app_id: Option<String>,
    /// Display name (`app_name`).
    pub app_name: Option<String>,
    /// Version string (`app_version`).
    pub app_version: Option<String>,
    /// When the OS says the app was first installed, Unix seconds. Decides whether the first
    /// launch with the SDK is a new install or an existing user updating into the SDK.
    pub first_install_time: Option<i64>,
}

/// Facts about the device; send a fresh copy through `update_device` when carrier or network change.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeviceInfo {
    /// Manufacturer (`device_brand`), e.g. `Apple`, `Google`.
    pub brand: Option<String>,
    /// Hardware model (`device_model`), e.g. `iPhone15,2`, `Pixel 8`.
    pub model: Option<String>,
    /// Free-form device type (`device_type`), e.g. `phone`, `tablet`.
    pub device_type: Option<String>,
    /// OS version (`os_version`).
    pub os_version: Option<String>,
    /// Two-letter ISO-639-1 language code (`language`).
    pub language: Option<String>,
    /// Carrier name (`device_carrier`).
    pub carrier: Option<String>,
    /// Whether the device is on wifi (`wifi`).
    pub wifi: Option<bool>,
    /// The platform's standard HTTP user agent, sent as `user_data.client_user_agent`.
    pub user_agent: Option<String>,
}

/// The user's privacy choices. The core enforces them; the state at send time wins when stricter.
#[derive(Debug, Clone, PartialEq)]
pub struct PrivacyState {
    /// Limit Ad Tracking (iOS: ATT not authorized) or Ads Personalization opt-out (Android).
    /// Events are still sent, with `opt_out: true` and never with `hashed_maids`.
    pub opt_out: bool,
    /// The raw IDFA or GAID. Ignored while opted out; the all-zero UUID and malformed values
    /// count as no ID. Only its SHA-256 is kept.
    pub advertising_id: Option<String>,
    /// Limited Data Processing: adds `custom_data.opt_out_type = "ldp"`.
    pub limited_data_processing: bool,
    /// False when the user withdrew consent: nothing is recorded or sent and the buffer is purged.
    pub collection_enabled: bool,
}

impl Default for PrivacyState {
    fn default() -> Self {
        PrivacyState {
            opt_out: false,
            advertising_id: None,
            limited_data_processing: false,
            collection_enabled: true,
        }
    }
}

/// How much the SDK logs through the app's log sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// Nothing.
    Off,
    /// Failures the app should know about.
    Error,
    /// Problems the SDK works around (retries, malformed identifiers).
    Warn,
    /// One line per batch.
    Info,
    /// Everything.
    Debug,
}

/// Client configuration. Only endpoint, ad account, token, database path and action source
/// have no default. Its `Debug` output redacts the token.
#[derive(Clone, PartialEq)]
pub struct ClientConfig {
    /// Base URL: `https://api.pinterest.com`, your relay, or a loopback `http://` sandbox.
    pub endpoint: String,
    /// The ad account id, digits only, at most 18.
    pub ad_account_id: String,
    /// Bearer token for the endpoint (an app-scoped relay token in production). Kept in memory only.
    pub token: String,
    /// Path of the SQLite buffer file; its folder must exist or be creatable.
    pub database_path: String,
    /// `app_ios` or `app_android` for apps.
    pub action_source: ActionSource,
    /// Send `?test=true`: validated by the endpoint, not recorded; batches of at most 20.
    pub test_mode: bool,
    /// True when `endpoint` is a relay that adds `client_ip_address` from the connection.
    pub endpoint_is_relay: bool,
    /// Events per request, 1..=1000 (the API's limit).
    pub max_batch: u32,
    /// Buffer capacity; the oldest events are evicted beyond it (never a pending app_install).
    pub max_queued_events: u32,
    /// Events older than this are dropped before sending, seconds.
    pub max_event_age_secs: u64,
    /// How often waiting events are sent when no other trigger fires, seconds.
    pub flush_interval_secs: u64,
    /// First retry delay after a failure, milliseconds; doubles per attempt, with full jitter.
    pub retry_base_delay_ms: u64,
    /// Upper bound of any retry delay, of an honoured `Retry-After`, and of the pause after a
    /// rejected token, seconds.
    pub retry_max_delay_secs: u64,
    /// Longest a request may take, answer included, seconds (1 to 300); a slower answer is a
    /// timeout, retried like a network error.
    pub request_timeout_secs: u64,
    /// Minimum time in the background before a return to the foreground records `app_open`, seconds.
    pub min_background_for_open_secs: u64,
    /// A first launch whose `first_install_time` is older than this is an existing user, seconds.
    pub install_window_secs: u64,
    /// Sent as `partner_name` when set (convention `ss-<partner>`).
    pub partner_name: Option<String>,
    /// How much to log through the log sink.
    pub log_level: LogLevel,
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
            .field("max_batch", &self.max_batch)
            .field("max_queued_events", &self.max_queued_events)
            .finish_non_exhaustive()
    }
}

/// What `track` did with an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackResult {
    /// The event's id (given or generated); the server deduplicates on it.
    pub event_id: String,
    /// False when nothing was recorded because collection is disabled.
    pub recorded: bool,
}

/// What a `flush` achieved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlushReport {
    /// Events sent in requests during the flush (retries counted again).
    pub sent: u64,
    /// Events the server reported processed.
    pub processed: u64,
    /// Events the server refused (now dead letters).
    pub failed: u64,
    /// Events still queued when the flush returned.
    pub remaining: u64,
    /// HTTP status of the last request, if one was made.
    pub last_status: Option<u16>,
    /// True when the timeout passed before the flush finished.
    pub timed_out: bool,
}

/// A refused event kept for inspection (without its body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The event's id.
    pub event_id: String,
    /// The event's name.
    pub event_name: String,
    /// Why the server (or the SDK) refused it.
    pub error_message: String,
    /// When it was dead-lettered, Unix seconds.
    pub dead_lettered_at: i64,
}

/// The SDK's health, for support screens and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics {
    /// Events waiting to be sent.
    pub queued: u64,
    /// Age of the oldest waiting event, seconds.
    pub oldest_queued_age_secs: Option<u64>,
    /// Dead letters kept (at most 1,000).
    pub dead_lettered: u64,
    /// The newest dead letters, newest first (at most 20).
    pub recent_dead_letters: Vec<DeadLetter>,
    /// Events the server reported processed, ever.
    pub delivered: u64,
    /// Warnings the server attached to processed events.
    pub warnings: u64,
    /// Events dropped because they were older than `max_event_age_secs`.
    pub dropped_expired: u64,
    /// Events evicted because the buffer was full.
    pub dropped_evicted: u64,
    /// Events purged because collection was disabled or `forget` was called.
    pub dropped_purged: u64,
    /// Events dropped as invalid after they were accepted (custom-name limit, duplicate id).
    pub dropped_invalid: u64,
    /// Events not sent because, sent directly to the API, they meet no identity option
    /// (em, hashed_maids, or client IP plus user agent).
    pub dropped_no_identity: u64,
    /// First launches of users who installed before the SDK (no app_install recorded).
    pub existing_user_installs: u64,
    /// Advertising ids ignored because they were not UUIDs.
    pub malformed_advertising_ids: u64,
    /// Unix seconds of the last delivery attempt.
    pub last_attempt_time: Option<i64>,
    /// HTTP status of the last attempt (none for a network error).
    pub last_status: Option<u16>,
    /// Last delivery error, redacted.
    pub last_error: Option<String>,
    /// Unix seconds of the next scheduled attempt.
    pub next_attempt_time: Option<i64>,
    /// Why delivery is paused (token or configuration rejected), if it is.
    pub paused_reason: Option<String>,
    /// Failed attempts in a row.
    pub consecutive_failures: u64,
    /// The current storage problem (read-only, full, corrupt), if any.
    pub storage_error: Option<String>,
    /// Times a corrupt database file was moved aside and recreated.
    pub database_recoveries: u64,
    /// Internal faults caught on the worker threads (should stay 0).
    pub worker_panics: u64,
    /// Times the upload thread woke since start: zero while nothing is queued and nothing
    /// is scheduled, one per scheduled attempt or signal otherwise.
    pub upload_wakeups: u64,
}

/// One request's outcome, for the delivery listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Events in the request.
    pub events: u32,
    /// HTTP status, none for a network error.
    pub status: Option<u16>,
    /// Events processed.
    pub processed: u32,
    /// Events refused (dead-lettered).
    pub failed: u32,
    /// Processed events that carried a warning.
    pub warnings: u32,
    /// True when the events stay queued for a later retry.
    pub will_retry: bool,
    /// A short redacted description of an error, if any.
    pub message: Option<String>,
}
