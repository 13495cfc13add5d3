//! The SDK's public data model: events, user and custom data, app/device facts, privacy state,
//! configuration, and what the client reports back (track results, flush reports, diagnostics).
//!
//! These are the types the apps use, declared and documented once: with the `ffi` feature
//! (on by default) each carries its UniFFI derive and its defaults, so the `///` text here is
//! what Swift, Kotlin and Python developers read, and a field left out of a foreign
//! constructor takes the default written on it. Without the feature they are plain Rust.
//! Field names describe the value for an app developer (`emails`, `phone_numbers`); the wire
//! module maps them to the API's short names (`em`, `ph`).

use crate::core::app_device_info::{FormFactor, NetworkType, OsFamily};
use crate::core::remote_settings::in_force::SettingsInForce;

/// The 21 standard Conversions API event names, plus `Custom`.
///
/// `Custom` with [`Event::custom_event_name`] set sends an advertiser-defined event name;
/// without it, the standard `custom` event is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "ffi", derive(uniffi::Enum))]
pub enum EventName {
    /// `add_payment_info`
    AddPaymentInfo,
    /// `add_to_cart`
    AddToCart,
    /// `add_to_wishlist`
    AddToWishlist,
    /// `app_install`: recorded by `on_launch`; do not track it yourself.
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
    /// Every name, in the order the API's documentation lists them (docs/ARCHITECTURE.md §10).
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

    /// The name as sent on the wire: the API's list of names (the wire contract's
    /// `EVENT_NAMES`), which [`EventName::ALL`] follows in order.
    pub fn wire_name(self) -> &'static str {
        conversions_wire::EVENT_NAMES[self as usize]
    }

    /// The standard name for a wire string, if it is one.
    pub fn from_wire(name: &str) -> Option<EventName> {
        EventName::ALL.into_iter().find(|n| n.wire_name() == name)
    }
}

/// Where events happen: `APP_IOS` or `APP_ANDROID` for apps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Enum))]
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
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct Event {
    /// The event type.
    pub name: EventName,
    /// Advertiser-defined name (letters, digits, `_`, `-`, at most 100; at most 15 distinct
    /// names per ad account); only with `EventName.CUSTOM`.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub custom_event_name: Option<String>,
    /// Deduplication id, for example your order id; a random UUID when absent.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub event_id: Option<String>,
    /// Unix seconds; now when absent. At most 5 minutes ahead, not older than the max event age.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub event_time: Option<i64>,
    /// The absolute http(s) URL where it happened, if any.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub event_source_url: Option<String>,
    /// Who did it. Raw values are normalised and SHA-256 hashed before anything is stored.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub user_data: Option<UserData>,
    /// What it was worth and which products it involved.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub custom_data: Option<CustomData>,
}

impl Event {
    /// An event of `name` with every optional field absent (add fields with struct update).
    pub fn new(name: EventName) -> Event {
        Event {
            name,
            custom_event_name: None,
            event_id: None,
            event_time: None,
            event_source_url: None,
            user_data: None,
            custom_data: None,
        }
    }
}

/// The user's identifiers, raw or already SHA-256 hashed (64 hex characters). Each is
/// normalised as the API requires (email lowercase, phone digits with country code, ...) and
/// hashed on the calling thread.
#[derive(Debug, Clone, Default, PartialEq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct UserData {
    /// Email addresses (`em`).
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub emails: Vec<String>,
    /// Phone numbers with country code (`ph`); one with a leading national `0` or fewer than 8
    /// digits is sent with a warning that it may lack its country code.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub phone_numbers: Vec<String>,
    /// First names (`fn`).
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub first_names: Vec<String>,
    /// Last names (`ln`).
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub last_names: Vec<String>,
    /// Genders: f, m or n (`ge`).
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub genders: Vec<String>,
    /// Dates of birth as YYYYMMDD or YYYY-MM-DD (`db`).
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub dates_of_birth: Vec<String>,
    /// Cities (`ct`).
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub cities: Vec<String>,
    /// Two-letter state codes (`st`).
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub states: Vec<String>,
    /// Zip codes (`zp`), digits only (spaces and `-` allowed); a postcode with letters is
    /// dropped as invalid, since it cannot be sent.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub zip_codes: Vec<String>,
    /// Two-letter ISO-3166 country codes (`country`).
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub countries: Vec<String>,
    /// The advertiser's user ids (`external_id`).
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub external_ids: Vec<String>,
    /// The user's public IP, sent raw. Usually left to your relay, which sees it.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub client_ip_address: Option<String>,
    /// The ad click id (`click_id`), sent raw.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub click_id: Option<String>,
    /// A partner's user id (`partner_id`), sent raw.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub partner_id: Option<String>,
}

/// Event-level commerce details (`custom_data`).
#[derive(Debug, Clone, Default, PartialEq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct CustomData {
    /// ISO-4217 currency code, three letters.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub currency: Option<String>,
    /// Total value as a positive decimal string, for example `"9.99"`.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub value: Option<String>,
    /// Product ids.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub content_ids: Vec<String>,
    /// Line items.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub contents: Vec<ContentItem>,
    /// Number of items.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub num_items: Option<i64>,
    /// Order id.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub order_id: Option<String>,
    /// What the user searched for.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub search_string: Option<String>,
    /// Page or product name.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub content_name: Option<String>,
    /// Merchandise category.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub content_category: Option<String>,
    /// Merchandise brand.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub content_brand: Option<String>,
    /// "ldp" for Limited Data Processing (set automatically from the privacy state).
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub opt_out_type: Option<String>,
}

/// One line item of `custom_data.contents`.
#[derive(Debug, Clone, Default, PartialEq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct ContentItem {
    /// Product id.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub id: Option<String>,
    /// Product name.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub item_name: Option<String>,
    /// Product category.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub item_category: Option<String>,
    /// Product brand.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub item_brand: Option<String>,
    /// Unit price as a decimal string.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub item_price: Option<String>,
    /// Quantity.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub quantity: Option<i64>,
}

/// Facts about the app, given once at start.
#[derive(Debug, Clone, Default, PartialEq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct AppInfo {
    /// App store id or bundle/package id (`app_id`).
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub app_id: Option<String>,
    /// Display name (`app_name`).
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub app_name: Option<String>,
    /// Version string (`app_version`).
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub app_version: Option<String>,
    /// When the OS says the app was installed, Unix seconds (Android `PackageInfo.firstInstallTime`,
    /// iOS the creation date of the Documents folder). Older than the install window on the
    /// first launch with the SDK means an existing user: no app_install.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub first_install_time: Option<i64>,
    /// Package name (Android) or bundle identifier (iOS) (`app_info.app_package_name`).
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub app_package_name: Option<String>,
    /// The store the app was installed from (`app_info.app_store`): its name, or on Android
    /// the installer's package name, which the core names for the stores it knows
    /// (`com.android.vending` is `Google Play Store`).
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub app_store: Option<String>,
}

/// Facts about the device; send a fresh copy through `update_device` when carrier or network change.
#[derive(Debug, Clone, Default, PartialEq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct DeviceInfo {
    /// Manufacturer (`device_brand`), e.g. `Apple`, `Google`.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub brand: Option<String>,
    /// Hardware model (`device_model`), e.g. `iPhone15,2`, `Pixel 8`.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub model: Option<String>,
    /// Free-form device type (`device_type`), e.g. `phone`, `tablet`.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub device_type: Option<String>,
    /// OS version (`os_version`).
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub os_version: Option<String>,
    /// Two-letter ISO-639-1 language code (`language`).
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub language: Option<String>,
    /// Carrier name, if the OS gives one.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub carrier: Option<String>,
    /// Whether the device is on wifi (`wifi`).
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub wifi: Option<bool>,
    /// The platform's standard HTTP user agent (Android `http.agent`, iOS CFNetwork form),
    /// sent as `client_user_agent`.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub user_agent: Option<String>,
    /// Operating-system family (`device_info.os_family`); absent, the action source's.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub os_family: Option<OsFamily>,
    /// Form factor (`device_info.form_factor`); absent, the one `device_type` names.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub form_factor: Option<FormFactor>,
    /// The network the device is on now (`device_info.network_type`); absent, `wifi`
    /// true counts as Wi-Fi.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub network_type: Option<NetworkType>,
    /// The device's locale as a BCP-47 tag, e.g. `en-GB` (`device_info.locale`).
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub locale: Option<String>,
    /// The user's preferred languages in order, e.g. `["en-GB", "de"]`; sent as their
    /// ISO 639-1 codes (`device_info.languages`).
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub languages: Vec<String>,
    /// IANA time zone name, e.g. `Europe/Berlin` (`device_info.timezone`).
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub timezone: Option<String>,
    /// Time zone abbreviation, e.g. `CET` (`device_info.timezone_abbr`); sent only when it
    /// is 1 to 5 letters (not `GMT+5:30`).
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub timezone_abbr: Option<String>,
    /// Screen width in pixels (`device_info.screen_width`); the shorter side is sent as the
    /// width.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub screen_width: Option<i32>,
    /// Screen height in pixels (`device_info.screen_height`); the longer side is sent as the
    /// height.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub screen_height: Option<i32>,
    /// Physical screen density in pixels per inch (`device_info.screen_density`).
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub screen_density: Option<i32>,
    /// Number of CPU cores (`device_info.cpu_cores`).
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub cpu_cores: Option<i32>,
}

/// What the store's install referrer says about this install (Android's Play Install
/// Referrer), for `set_install_referrer`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct InstallReferrer {
    /// The referrer string as the store gave it (`utm_source=...&epik=...`): its `epik` is
    /// the click id of the ad that led to the install.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub referrer: Option<String>,
    /// When the user clicked the link that led to the install, Unix seconds
    /// (`referrer_click_timestamp_seconds`); the click id's lifetime counts from it.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub click_time: Option<i64>,
    /// When the install began, Unix seconds (`install_begin_timestamp_seconds`).
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub install_begin_time: Option<i64>,
}

/// The platform's tracking authorization: iOS App Tracking Transparency
/// (`ATTrackingManager.trackingAuthorizationStatus`). Only `app_ios` events read it; on
/// Android the user's ads-personalization choice is [`PrivacyState::opt_out`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Enum))]
pub enum TrackingAuthorization {
    /// The user has not answered the tracking prompt yet (or the app never showed it).
    NotDetermined,
    /// Tracking is restricted on this device (parental controls, a managed device).
    Restricted,
    /// The user declined tracking.
    Denied,
    /// The user allowed tracking.
    Authorized,
}

/// The user's privacy choices. The core enforces them; the state at send time wins when stricter.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct PrivacyState {
    /// Limit Ad Tracking or Ads Personalization opt-out (Android). Events are still sent, with
    /// `opt_out: true` and never with `hashed_maids`. On iOS the SDK also opts out whenever
    /// `tracking_authorization` is not `Authorized`, and a zeroed advertising ID opts out on
    /// both platforms.
    #[cfg_attr(feature = "ffi", uniffi(default = false))]
    pub opt_out: bool,
    /// iOS App Tracking Transparency status; absent counts as `NotDetermined`. Without
    /// `Authorized`, `app_ios` events carry `opt_out: true` and no user-data identifier (email,
    /// phone, names, address fields, external id, advertising ID) unless
    /// `ClientConfig.user_data_without_tracking` is set. Ignored by `app_android` events.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub tracking_authorization: Option<TrackingAuthorization>,
    /// The raw IDFA or GAID. Ignored while opted out; malformed values count as no ID, and the
    /// all-zero UUID (what the OS returns when tracking is limited) opts out. Only its SHA-256
    /// is kept.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub advertising_id: Option<String>,
    /// Limited Data Processing: adds `custom_data.opt_out_type = "ldp"`.
    #[cfg_attr(feature = "ffi", uniffi(default = false))]
    pub limited_data_processing: bool,
    /// False when the user withdrew consent: nothing is recorded or sent and the buffer is purged.
    #[cfg_attr(feature = "ffi", uniffi(default = true))]
    pub collection_enabled: bool,
}

impl Default for PrivacyState {
    fn default() -> Self {
        PrivacyState {
            opt_out: false,
            tracking_authorization: None,
            advertising_id: None,
            limited_data_processing: false,
            collection_enabled: true,
        }
    }
}

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

/// What `track` did with an event.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct TrackResult {
    /// The event's id (given or generated); the server deduplicates on it.
    pub event_id: String,
    /// False when nothing was recorded: collection is disabled by the privacy state, or
    /// remote settings turned the SDK off (`reason` says which).
    pub recorded: bool,
    /// Optional fields dropped from the event because they broke a rule (the event was kept
    /// without them; `strict_validation` refuses such an event instead), then values kept but
    /// likely wrong, whose rule starts with "kept" (a phone number without its country code).
    pub warnings: Vec<ValidationWarning>,
    /// Why the event was not recorded, when `recorded` is false: the privacy state, or
    /// "turned off by remote settings (...)" naming the setting.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub reason: Option<String>,
}

/// An optional field dropped from an event, and the rule it broke.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct ValidationWarning {
    /// The field, as named in the API's JSON (e.g. `user_data.ph`, `custom_data.currency`).
    pub field: String,
    /// The rule it broke.
    pub rule: String,
}

/// How many values of one field were dropped as invalid since the SDK started.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct FieldCount {
    /// The field, as named in the API's JSON (list positions left out: `custom_data.contents.item_price`).
    pub field: String,
    /// Values dropped.
    pub count: u64,
}

/// What became of one event of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Enum))]
pub enum EventStatus {
    /// The server processed it; it left the buffer.
    Processed,
    /// The server refused it (its `error_message` says why); it was dead-lettered.
    Failed,
    /// It stays queued and goes again after the backoff or pause.
    WillRetry,
    /// The request was refused whole (400 or 413) with this event alone, or past the split
    /// budget: it was dead-lettered with the server's message.
    DeadLettered,
}

/// One event's result within a request, for the delivery listener.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct EventOutcome {
    /// The event id `track` returned.
    pub event_id: String,
    /// The event name as sent (`checkout`, or an advertiser-defined name).
    pub event_name: String,
    /// What became of it.
    pub status: EventStatus,
    /// Why the server refused it, or what went wrong with the request.
    pub error_message: Option<String>,
    /// A warning the server attached to a processed event.
    pub warning_message: Option<String>,
}

/// What a `flush` achieved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
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
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
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
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
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
    /// Events processed more than an hour after they happened, by the server's clock: the
    /// API reports them as offline conversions, not as app events. They are sent anyway (a
    /// late conversion still counts); a high number means the app sends too rarely or the
    /// device was offline.
    pub sent_late: u64,
    /// Events processed more than 48 hours after a request carrying them went unanswered
    /// (network error, timeout, cut-off answer). The API removes duplicates by event_id
    /// within 48 hours only: had that request reached it, this conversion counts twice.
    /// They are sent anyway, since an unanswered request most often never arrived, and
    /// dropping them would lose the conversion for sure.
    pub resent_after_dedup_window: u64,
    /// Events dropped because they were older than `max_event_age_secs`.
    pub dropped_expired: u64,
    /// Events evicted because the buffer was full.
    pub dropped_evicted: u64,
    /// Events purged because collection was disabled or `forget` was called.
    pub dropped_purged: u64,
    /// Events dropped as invalid after they were accepted (an event_id the app chose that is
    /// already queued).
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
    /// Unix seconds of the next scheduled attempt, on the wall clock of the moment this was
    /// read (the wait itself runs on a clock that the device's time setting does not move).
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
    /// Invalid optional values dropped from events since start, by field.
    pub invalid_fields: Vec<FieldCount>,
    /// The settings in force (collection, flush interval, batch size, remote settings' TTL),
    /// where each came from (default, app, remote), and when remote settings were fetched.
    pub settings_in_force: SettingsInForce,
}

/// One request's outcome, for the delivery listener.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
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
    /// Each event of the request, in the order sent.
    pub results: Vec<EventOutcome>,
}
