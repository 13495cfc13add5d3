use super::*;

fn android_app() -> AppInfo {
    AppInfo {
        app_id: Some("com.example.shop".into()),
        app_name: Some("Shop".into()),
        app_version: Some("3.1.0".into()),
        first_install_time: Some(1_700_000_000),
        app_package_name: Some("com.example.shop".into()),
        app_store: Some("com.android.vending".into()),
    }
}

fn android_device() -> DeviceInfo {
    DeviceInfo {
        brand: Some("Google".into()),
        model: Some("Pixel 8".into()),
        device_type: Some("phone".into()),
        os_version: Some("14".into()),
        language: Some("en".into()),
        carrier: Some("T-Mobile".into()),
        wifi: Some(true),
        user_agent: Some("Dalvik/2.1.0".into()),
        os_family: None,
        form_factor: None,
        network_type: Some(NetworkType::Cellular5g),
        locale: Some("en-US".into()),
        languages: vec!["en-US".into(), "es".into()],
        timezone: Some("America/New_York".into()),
        timezone_abbr: Some("EST".into()),
        screen_width: Some(2400),
        screen_height: Some(1080),
        screen_density: Some(428),
        cpu_cores: Some(8),
    }
}

fn built(app: &AppInfo, device: &DeviceInfo) -> (WireAppInfo, WireDeviceInfo) {
    let (a, d) = objects(app, device, "app_android", None, false);
    (a.unwrap_or_default(), d.unwrap_or_default())
}

#[test]
fn every_fact_lands_in_its_field_with_the_apis_spelling() {
    let (app, device) = built(&android_app(), &android_device());
    assert_eq!(
        app,
        WireAppInfo {
            app_id: Some("com.example.shop".into()),
            app_name: Some("Shop".into()),
            app_package_name: Some("com.example.shop".into()),
            app_store: Some("Google Play Store".into()),
            app_version: Some("3.1.0".into()),
            install_time: Some(1_700_000_000),
        }
    );
    assert_eq!(
        device,
        WireDeviceInfo {
            brand: Some("Google".into()),
            carrier: Some("T-Mobile".into()),
            cpu_cores: Some(8),
            form_factor: Some("cellphone".into()),
            languages: vec!["en".into(), "es".into()],
            locale: Some("en-US".into()),
            model: Some("Pixel 8".into()),
            network_type: Some("cellular_5g".into()),
            os_family: Some("android".into()),
            os_name: Some("14".into()),
            os_version: Some("14".into()),
            screen_density: Some(428),
            screen_height: Some(2400),
            screen_width: Some(1080),
            timezone: Some("America/New_York".into()),
            timezone_abbr: Some("EST".into()),
            device_type: Some("phone".into()),
        }
    );
}

#[test]
fn the_install_referrers_begin_time_wins_over_the_oss_install_time() {
    let app = android_app();
    let device = android_device();
    let cases = [
        (
            Some(1_700_000_100),
            Some(1_700_000_000),
            Some(1_700_000_100),
        ),
        (None, Some(1_700_000_000), Some(1_700_000_000)),
        (None, Some(0), None),
        (None, None, None),
    ];
    for (begin, first_install, expected) in cases {
        let app = AppInfo {
            first_install_time: first_install,
            ..app.clone()
        };
        let (a, _) = objects(&app, &device, "app_android", begin, false);
        assert_eq!(
            a.unwrap().install_time,
            expected,
            "{begin:?} {first_install:?}"
        );
    }
}

#[test]
fn installers_are_named_as_stores_and_other_values_pass_as_given() {
    let cases = [
        ("com.android.vending", "Google Play Store"),
        ("com.sec.android.app.samsungapps", "Samsung Galaxy Store"),
        ("com.amazon.venezia", "Amazon Store"),
        ("com.huawei.appmarket", "Huawei AppGallery"),
        ("org.fdroid.fdroid", "F-Droid"),
        ("Apple App Store", "Apple App Store"),
        ("com.example.installer", "com.example.installer"),
    ];
    for (given, sent) in cases {
        assert_eq!(store_name(given), sent);
    }
}

#[test]
fn the_os_family_comes_from_the_device_or_else_the_action_source() {
    let device = DeviceInfo::default();
    let cases = [
        (None, "app_android", Some("android")),
        (None, "app_ios", Some("ios")),
        (None, "web", None),
        (Some(OsFamily::Macos), "app_ios", Some("macos")),
    ];
    for (given, source, expected) in cases {
        let device = DeviceInfo {
            os_family: given,
            ..device.clone()
        };
        let (_, d) = objects(&AppInfo::default(), &device, source, None, false);
        assert_eq!(
            d.and_then(|d| d.os_family).as_deref(),
            expected,
            "{given:?} {source}"
        );
    }
}

#[test]
fn derived_fields_follow_their_flat_twins() {
    let cases: [(Option<&str>, Option<FormFactor>); 5] = [
        (Some("phone"), Some(FormFactor::Cellphone)),
        (Some("tablet"), Some(FormFactor::Tablet)),
        (Some("desktop"), Some(FormFactor::Desktop)),
        (Some("phablet"), None),
        (None, None),
    ];
    for (device_type, form_factor) in cases {
        assert_eq!(
            form_factor_of_type(device_type),
            form_factor,
            "{device_type:?}"
        );
    }
    let versions = [
        ("17.4.1", Some("17")),
        ("14", Some("14")),
        ("Baklava", None),
        (".1", None),
    ];
    for (version, major) in versions {
        assert_eq!(major_version(version).as_deref(), major, "{version}");
    }
    let wifi_only = DeviceInfo {
        wifi: Some(true),
        ..DeviceInfo::default()
    };
    let (_, d) = objects(&AppInfo::default(), &wifi_only, "", None, false);
    assert_eq!(d.unwrap().network_type.as_deref(), Some("wifi"));
    let cellular = DeviceInfo {
        wifi: Some(false),
        ..DeviceInfo::default()
    };
    let (_, d) = objects(&AppInfo::default(), &cellular, "", None, false);
    assert_eq!(d, None, "not on wifi says nothing about which network");
}

#[test]
fn languages_are_iso_639_1_codes_in_order_once_each() {
    let cases: [(&[&str], &[&str]); 4] = [
        (&["en-GB", "de_DE", "en-US"], &["en", "de"]),
        (&["FR"], &["fr"]),
        (&["fil-PH", "haw", "", "x"], &[]),
        (&["zh-Hans-CN", "pt-BR"], &["zh", "pt"]),
    ];
    for (given, sent) in cases {
        let given: Vec<String> = given.iter().map(|s| s.to_string()).collect();
        assert_eq!(languages(&given), sent, "{given:?}");
    }
    let many: Vec<String> = (0..200)
        .map(|i| {
            let a = char::from(b'a' + (i / 26) as u8 % 26);
            let b = char::from(b'a' + (i % 26) as u8);
            format!("{a}{b}")
        })
        .collect();
    assert_eq!(languages(&many).len(), 100, "the schema's maxItems");
}

#[test]
fn the_screen_is_sent_in_portrait() {
    assert_eq!(portrait(Some(2400), Some(1080)), (Some(1080), Some(2400)));
    assert_eq!(portrait(Some(1080), Some(2400)), (Some(1080), Some(2400)));
    assert_eq!(portrait(Some(1080), None), (Some(1080), None));
}

#[test]
fn a_value_the_api_would_refuse_is_left_out_with_its_field_and_rule() {
    let app = AppInfo {
        app_version: Some("v".repeat(101)),
        ..android_app()
    };
    let device = DeviceInfo {
        model: Some("m".repeat(101)),
        locale: Some("en US".into()),
        timezone: Some("Europe/Berlin Time".into()),
        timezone_abbr: Some("GMT+5:30".into()),
        screen_width: Some(-5),
        screen_height: Some(40_000),
        screen_density: Some(-1),
        cpu_cores: Some(5_000),
        ..android_device()
    };
    let (a, d) = built(&app, &device);
    assert_eq!(a.app_version, None);
    assert_eq!(d.model, None);
    assert_eq!(d.locale, None);
    assert_eq!(d.timezone, None);
    assert_eq!(d.timezone_abbr, None, "not an abbreviation: nothing to say");
    assert_eq!((d.screen_width, d.screen_height), (None, None));
    assert_eq!((d.screen_density, d.cpu_cores), (None, None));
    assert_eq!(a.app_name.as_deref(), Some("Shop"), "the rest stays");
    let warnings: Vec<(String, String)> = fact_warnings(&app, &device)
        .into_iter()
        .map(|w| (w.field, w.rule))
        .collect();
    let expected = [
        ("app.app_version", "must be at most 100 characters"),
        ("device.screen_width", "must be from 1 to 30720"),
        ("device.screen_height", "must be from 1 to 30720"),
        ("device.cpu_cores", "must be from 1 to 1152"),
        ("device.locale", "must be a BCP-47 tag such as \"en-GB\""),
        ("device.model", "must be at most 100 characters"),
        ("device.screen_density", "must be from 1 to 100000"),
        (
            "device.timezone",
            "must be an IANA time zone name such as \"Europe/Berlin\"",
        ),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(f, r)| (f.to_string(), r.to_string()))
        .collect();
    assert_eq!(warnings, expected);
    assert!(fact_warnings(&android_app(), &android_device()).is_empty());
    let unsaid = DeviceInfo {
        screen_width: Some(0),
        cpu_cores: Some(0),
        ..android_device()
    };
    assert!(
        fact_warnings(&android_app(), &unsaid).is_empty(),
        "0: not said"
    );
    assert_eq!(built(&android_app(), &unsaid).1.cpu_cores, None);
}

#[test]
fn ios_locale_spelling_becomes_bcp_47() {
    let device = DeviceInfo {
        locale: Some("en_GB".into()),
        ..DeviceInfo::default()
    };
    let (_, d) = objects(&AppInfo::default(), &device, "app_ios", None, false);
    assert_eq!(d.unwrap().locale.as_deref(), Some("en-GB"));
}

#[test]
fn an_opted_out_event_carries_only_what_its_flat_fields_say() {
    let (a, d) = objects(
        &android_app(),
        &android_device(),
        "app_android",
        Some(1_700_000_100),
        true,
    );
    let (a, d) = (a.unwrap(), d.unwrap());
    assert_eq!(a.install_time, None);
    assert_eq!(a.app_store.as_deref(), Some("Google Play Store"));
    assert_eq!(
        (
            d.screen_width,
            d.screen_height,
            d.screen_density,
            d.cpu_cores
        ),
        (None, None, None, None)
    );
    assert_eq!((d.timezone, d.timezone_abbr, d.locale), (None, None, None));
    assert!(d.languages.is_empty());
    assert_eq!(d.model.as_deref(), Some("Pixel 8"), "the flat twin's value");
    assert_eq!(d.os_version.as_deref(), Some("14"));
}

#[test]
fn narrowing_at_send_time_matches_narrowing_at_track_time() {
    let (mut a, mut d) = objects(
        &android_app(),
        &android_device(),
        "app_android",
        None,
        false,
    );
    narrow_opted_out(&mut a, &mut d);
    let narrowed = objects(&android_app(), &android_device(), "app_android", None, true);
    assert_eq!((a, d), narrowed);
    let (mut a, mut d) = (
        Some(WireAppInfo {
            install_time: Some(1),
            ..WireAppInfo::default()
        }),
        None,
    );
    narrow_opted_out(&mut a, &mut d);
    assert_eq!((a, d), (None, None), "an object left empty is not sent");
}

#[test]
fn no_facts_no_objects() {
    assert_eq!(
        objects(
            &AppInfo::default(),
            &DeviceInfo::default(),
            "web",
            None,
            false
        ),
        (None, None)
    );
}
