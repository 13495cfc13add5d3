//! The Conversions API's `app_info` and `device_info` objects (5.16 and later): what each event
//! says about the app and the device, built from [`AppInfo`] and [`DeviceInfo`] within the
//! official 5.23 schema's limits (both objects are closed: `additionalProperties: false`).
//!
//! Design: these facts come from the platform, not from the app's own input, so a value the
//! API would refuse (too long, out of range) never refuses the client or an event: it is left
//! out of the object, and reported once, as a warning naming the field and the rule, where the
//! facts are handed in ([`fact_warnings`], at construction and `update_device`). One set of
//! rules serves both: [`objects`] (each event, reporting nothing) and [`fact_warnings`].
//!
//! Privacy: the objects say what the flat fields say (`app_id`, `device_model`, `language`,
//! ...), which every event carries in every privacy state, plus detail the flat fields do not
//! have. An opted-out event (Limit Ad Tracking, ads personalization off, iOS without tracking
//! authorization, a zeroed advertising ID) carries none of that detail: the install time, the
//! screen, the time zone, the locale, the languages and the CPU count would together single
//! the device out, which opting out forbids. They are withheld when the event is recorded and
//! again when it is sent ([`narrow_opted_out`]), like the advertising ID.

use crate::core::limits::clean;
use crate::core::model::{
    AppInfo, DeviceInfo, FormFactor, NetworkType, OsFamily, ValidationWarning,
};
use crate::core::wire::{WireAppInfo, WireDeviceInfo};

/// The schema's caps (characters) and ranges.
const APP_TEXT_MAX: usize = 200;
const SHORT_TEXT_MAX: usize = 100;
const LOCALE_MAX: usize = 35;
const TIMEZONE_MAX: usize = 40;
const TIMEZONE_ABBR_MAX: usize = 5;
const LANGUAGES_MAX: usize = 100;
const SCREEN_MAX: i32 = 30_720;
const DENSITY_MAX: i32 = 100_000;
const CPU_CORES_MAX: i32 = 1_152;

/// Installers' package names (Android `InstallSourceInfo`) and the store each one is.
const STORES_BY_INSTALLER: &[(&str, &str)] = &[
    ("com.android.vending", "Google Play Store"),
    ("com.sec.android.app.samsungapps", "Samsung Galaxy Store"),
    ("com.amazon.venezia", "Amazon Store"),
    ("com.huawei.appmarket", "Huawei AppGallery"),
    ("com.xiaomi.mipicks", "Xiaomi Mi GetApps"),
    ("com.xiaomi.market", "Xiaomi Mi GetApps"),
    ("org.fdroid.fdroid", "F-Droid"),
    ("cm.aptoide.pt", "Aptoide"),
];

/// Where a value breaking a rule is reported (or not).
type Report<'a> = &'a mut dyn FnMut(&str, String);

/// Both objects for one event (`None` when one would be empty). `action_source` gives the
/// OS family the device did not name; `install_begin_time` (the install referrer's) wins
/// over the OS's first install time; `opted_out` withholds the detail (module notes).
pub fn objects(
    app: &AppInfo,
    device: &DeviceInfo,
    action_source: &str,
    install_begin_time: Option<i64>,
    opted_out: bool,
) -> (Option<WireAppInfo>, Option<WireDeviceInfo>) {
    let mut quiet = |_: &str, _: String| {};
    let mut app_info = app_object(app, install_begin_time, &mut quiet);
    let mut device_info = device_object(device, action_source, &mut quiet);
    if opted_out {
        narrow(&mut app_info, &mut device_info);
    }
    (
        Some(app_info).filter(|o| *o != WireAppInfo::default()),
        Some(device_info).filter(|o| *o != WireDeviceInfo::default()),
    )
}

/// The facts the objects will leave out, each with the field and the rule it breaks: logged
/// when the app hands the facts in.
pub fn fact_warnings(app: &AppInfo, device: &DeviceInfo) -> Vec<ValidationWarning> {
    let mut warnings = Vec::new();
    let mut report = |field: &str, rule: String| {
        warnings.push(ValidationWarning {
            field: field.to_string(),
            rule,
        })
    };
    app_object(app, None, &mut report);
    device_object(device, "", &mut report);
    warnings
}

/// Withholds the detail from the objects of an event sent while opted out (send time).
pub fn narrow_opted_out(
    app_info: &mut Option<WireAppInfo>,
    device_info: &mut Option<WireDeviceInfo>,
) {
    let mut app = app_info.take().unwrap_or_default();
    let mut device = device_info.take().unwrap_or_default();
    narrow(&mut app, &mut device);
    *app_info = Some(app).filter(|o| *o != WireAppInfo::default());
    *device_info = Some(device).filter(|o| *o != WireDeviceInfo::default());
}

fn narrow(app: &mut WireAppInfo, device: &mut WireDeviceInfo) {
    app.install_time = None;
    device.screen_width = None;
    device.screen_height = None;
    device.screen_density = None;
    device.timezone = None;
    device.timezone_abbr = None;
    device.locale = None;
    device.languages.clear();
    device.cpu_cores = None;
}

fn app_object(app: &AppInfo, install_begin_time: Option<i64>, report: Report) -> WireAppInfo {
    WireAppInfo {
        app_id: text(&app.app_id, "app.app_id", APP_TEXT_MAX, report),
        app_name: text(&app.app_name, "app.app_name", APP_TEXT_MAX, report),
        app_package_name: text(
            &app.app_package_name,
            "app.app_package_name",
            APP_TEXT_MAX,
            report,
        ),
        app_store: clean(&app.app_store)
            .map(|store| store_name(&store))
            .and_then(|store| fits(store, "app.app_store", SHORT_TEXT_MAX, report)),
        app_version: text(&app.app_version, "app.app_version", SHORT_TEXT_MAX, report),
        install_time: install_begin_time
            .or(app.first_install_time)
            .filter(|at| *at > 0),
    }
}

fn device_object(device: &DeviceInfo, action_source: &str, report: Report) -> WireDeviceInfo {
    let os_version = text(
        &device.os_version,
        "device.os_version",
        SHORT_TEXT_MAX,
        report,
    );
    let (screen_width, screen_height) = portrait(
        range(
            device.screen_width,
            "device.screen_width",
            SCREEN_MAX,
            report,
        ),
        range(
            device.screen_height,
            "device.screen_height",
            SCREEN_MAX,
            report,
        ),
    );
    WireDeviceInfo {
        brand: text(&device.brand, "device.brand", SHORT_TEXT_MAX, report),
        carrier: text(&device.carrier, "device.carrier", SHORT_TEXT_MAX, report),
        cpu_cores: range(device.cpu_cores, "device.cpu_cores", CPU_CORES_MAX, report),
        form_factor: device
            .form_factor
            .or_else(|| form_factor_of_type(device.device_type.as_deref()))
            .map(|f| f.wire_name().to_string()),
        languages: languages(&device.languages),
        locale: locale(&device.locale, report),
        model: text(&device.model, "device.model", SHORT_TEXT_MAX, report),
        network_type: device
            .network_type
            .or((device.wifi == Some(true)).then_some(NetworkType::Wifi))
            .map(|n| n.wire_name().to_string()),
        os_family: device
            .os_family
            .or_else(|| os_family_of(action_source))
            .map(|f| f.wire_name().to_string()),
        os_name: os_version.as_deref().and_then(major_version),
        os_version,
        screen_density: range(
            device.screen_density,
            "device.screen_density",
            DENSITY_MAX,
            report,
        ),
        screen_height,
        screen_width,
        timezone: timezone(&device.timezone, report),
        timezone_abbr: clean(&device.timezone_abbr).filter(|abbr| {
            abbr.len() <= TIMEZONE_ABBR_MAX && abbr.bytes().all(|b| b.is_ascii_alphabetic())
        }),
        device_type: text(
            &device.device_type,
            "device.device_type",
            SHORT_TEXT_MAX,
            report,
        ),
    }
}

/// A trimmed value of at most `max` characters without control characters.
fn text(value: &Option<String>, field: &str, max: usize, report: Report) -> Option<String> {
    fits(clean(value)?, field, max, report)
}

fn fits(value: String, field: &str, max: usize, report: Report) -> Option<String> {
    if value.chars().any(char::is_control) {
        report(field, "must not contain control characters".into());
        return None;
    }
    if value.chars().count() > max {
        report(field, format!("must be at most {max} characters"));
        return None;
    }
    Some(value)
}

/// A count from 1 to `max`; 0 means the platform did not say.
fn range(value: Option<i32>, field: &str, max: i32, report: Report) -> Option<i32> {
    let value = value.filter(|v| *v != 0)?;
    if !(1..=max).contains(&value) {
        report(field, format!("must be from 1 to {max}"));
        return None;
    }
    Some(value)
}

/// The store an installer's package name stands for; any other value as given.
fn store_name(store: &str) -> String {
    STORES_BY_INSTALLER
        .iter()
        .find(|(installer, _)| *installer == store)
        .map_or(store, |(_, name)| name)
        .to_string()
}

/// Width the shorter side and height the longer, so turning the device changes nothing.
fn portrait(a: Option<i32>, b: Option<i32>) -> (Option<i32>, Option<i32>) {
    match (a, b) {
        (Some(a), Some(b)) => (Some(a.min(b)), Some(a.max(b))),
        other => other,
    }
}

/// The form factor the flat `device_type` the platform layers send names.
fn form_factor_of_type(device_type: Option<&str>) -> Option<FormFactor> {
    match device_type?.trim().to_ascii_lowercase().as_str() {
        "phone" | "cellphone" => Some(FormFactor::Cellphone),
        "tablet" => Some(FormFactor::Tablet),
        "desktop" => Some(FormFactor::Desktop),
        "tv" => Some(FormFactor::Tv),
        "watch" | "smartwatch" => Some(FormFactor::Smartwatch),
        _ => None,
    }
}

fn os_family_of(action_source: &str) -> Option<OsFamily> {
    match action_source {
        "app_android" => Some(OsFamily::Android),
        "app_ios" => Some(OsFamily::Ios),
        _ => None,
    }
}

/// `17` of `17.4.1`: the digits before the first dot, when that is all digits.
fn major_version(version: &str) -> Option<String> {
    let major = version.split('.').next()?;
    (!major.is_empty() && major.bytes().all(|b| b.is_ascii_digit())).then(|| major.to_string())
}

/// The two-letter ISO 639-1 code of each preferred language (`en` of `en-GB`), in order, once
/// each. A language without one (`fil`, `haw`) has no place in the list.
fn languages(preferred: &[String]) -> Vec<String> {
    let mut codes: Vec<String> = Vec::new();
    for language in preferred {
        let primary = language.trim().split(['-', '_']).next().unwrap_or("");
        let code = primary.to_ascii_lowercase();
        if code.len() == 2 && code.bytes().all(|b| b.is_ascii_lowercase()) && !codes.contains(&code)
        {
            codes.push(code);
        }
        if codes.len() == LANGUAGES_MAX {
            break;
        }
    }
    codes
}

/// A BCP-47 tag (`en-GB`; iOS's `en_GB` spelled so), letters, digits and `-` only.
fn locale(value: &Option<String>, report: Report) -> Option<String> {
    let tag = clean(value)?.replace('_', "-");
    if tag.is_empty() || !tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        report(
            "device.locale",
            "must be a BCP-47 tag such as \"en-GB\"".into(),
        );
        return None;
    }
    fits(tag, "device.locale", LOCALE_MAX, report)
}

/// An IANA time zone name (`Europe/Berlin`): printable ASCII without spaces.
fn timezone(value: &Option<String>, report: Report) -> Option<String> {
    let zone = clean(value)?;
    if !zone.bytes().all(|b| b.is_ascii_graphic()) {
        report(
            "device.timezone",
            "must be an IANA time zone name such as \"Europe/Berlin\"".into(),
        );
        return None;
    }
    fits(zone, "device.timezone", TIMEZONE_MAX, report)
}

#[cfg(test)]
#[path = "app_device_info_tests.rs"]
mod tests;
