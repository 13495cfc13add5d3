//! Facts the app gives about itself and the device, the install referrer, and the privacy
//! state the app reports (consent, opt-out, tracking authorization, advertising ID).

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

/// A device's form factor (`device_info.form_factor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Enum))]
pub enum FormFactor {
    /// A desktop computer.
    Desktop,
    /// A laptop.
    Laptop,
    /// A phone.
    Cellphone,
    /// A tablet.
    Tablet,
    /// A watch.
    Smartwatch,
    /// A television (Android TV, Apple TV).
    Tv,
    /// A headset (Apple Vision Pro).
    Vr,
    /// A games console.
    Console,
    /// Anything else.
    Other,
}

/// The kind of network the device is on (`device_info.network_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Enum))]
pub enum NetworkType {
    /// Wi-Fi.
    Wifi,
    /// A 2G cellular network (GPRS, EDGE, CDMA).
    Cellular2g,
    /// A 3G cellular network (UMTS, HSPA, EV-DO).
    Cellular3g,
    /// A 4G cellular network (LTE).
    Cellular4g,
    /// A 5G cellular network (NR).
    Cellular5g,
    /// A 6G cellular network.
    Cellular6g,
    /// Wired Ethernet.
    Ethernet,
    /// A network of a kind the platform does not say (a cellular network whose generation
    /// needs a permission, a VPN, Bluetooth).
    Unknown,
}

/// The device's operating-system family (`device_info.os_family`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Enum))]
pub enum OsFamily {
    /// iOS and iPadOS.
    Ios,
    /// Android.
    Android,
    /// macOS (an iPhone or iPad app running on a Mac included).
    Macos,
    /// Windows.
    Windows,
    /// Linux.
    Linux,
    /// A BSD.
    Bsd,
    /// Anything else.
    Other,
}

impl FormFactor {
    /// The API's spelling.
    pub fn wire_name(self) -> &'static str {
        match self {
            FormFactor::Desktop => "desktop",
            FormFactor::Laptop => "laptop",
            FormFactor::Cellphone => "cellphone",
            FormFactor::Tablet => "tablet",
            FormFactor::Smartwatch => "smartwatch",
            FormFactor::Tv => "tv",
            FormFactor::Vr => "vr",
            FormFactor::Console => "console",
            FormFactor::Other => "other",
        }
    }
}

impl NetworkType {
    /// The API's spelling.
    pub fn wire_name(self) -> &'static str {
        match self {
            NetworkType::Wifi => "wifi",
            NetworkType::Cellular2g => "cellular_2g",
            NetworkType::Cellular3g => "cellular_3g",
            NetworkType::Cellular4g => "cellular_4g",
            NetworkType::Cellular5g => "cellular_5g",
            NetworkType::Cellular6g => "cellular_6g",
            NetworkType::Ethernet => "ethernet",
            NetworkType::Unknown => "unknown",
        }
    }
}

impl OsFamily {
    /// The API's spelling.
    pub fn wire_name(self) -> &'static str {
        match self {
            OsFamily::Ios => "ios",
            OsFamily::Android => "android",
            OsFamily::Macos => "macos",
            OsFamily::Windows => "windows",
            OsFamily::Linux => "linux",
            OsFamily::Bsd => "bsd",
            OsFamily::Other => "other",
        }
    }
}
