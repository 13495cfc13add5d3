//! Validation and snapshot rules of `build_event`.
use super::*;
use crate::core::hash::sha256_hex;
use crate::core::model::{AppInfo, DeviceInfo};
use crate::core::privacy::AppliedPrivacy;

const NOW: i64 = 1_800_000_000;

fn context() -> TrackContext {
    TrackContext {
        action_source: "app_android",
        partner_name: None,
        partner_name_dropped: false,
        app: AppInfo {
            app_id: Some("com.example.shop".into()),
            app_name: Some("Shop".into()),
            app_version: Some("1.2.3".into()),
            first_install_time: None,
            ..Default::default()
        },
        device: DeviceInfo {
            brand: Some("Google".into()),
            model: Some("Pixel 8".into()),
            device_type: Some("phone".into()),
            os_version: Some("14".into()),
            language: Some("en".into()),
            carrier: Some("--".into()),
            wifi: Some(true),
            user_agent: Some("Dalvik/2.1.0 (Linux; U; Android 14; Pixel 8)".into()),
            ..Default::default()
        },
        privacy: AppliedPrivacy {
            collection_enabled: true,
            ..Default::default()
        },
        max_event_age_secs: 7 * 86_400,
        click: None,
        click_id_ttl_secs: 30 * 86_400,
        install_begin_time: None,
        install_referrer_pending: false,
        strict_validation: true,
    }
}

fn event(name: EventName) -> Event {
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

fn invalid_field(result: Result<PendingEvent>) -> String {
    match result {
        Err(ConversionsError::InvalidInput { field, .. }) => field,
        other => panic!("expected invalid input, got {other:?}"),
    }
}

fn json(p: &PendingEvent) -> serde_json::Value {
    serde_json::from_str(&p.body).unwrap()
}

#[test]
fn snapshots_metadata_and_omits_absent_values() {
    let p = build_event(&event(EventName::AppOpen), &context(), NOW).unwrap();
    let body = json(&p);
    assert_eq!(body["event_name"], "app_open");
    assert_eq!(body["action_source"], "app_android");
    assert_eq!(body["event_time"], NOW);
    assert_eq!(body["app_id"], "com.example.shop");
    assert_eq!(body["device_model"], "Pixel 8");
    assert_eq!(body["language"], "en");
    assert_eq!(body["wifi"], true);
    assert_eq!(body["opt_out"], false);
    assert!(body.get("device_carrier").is_none(), "\"--\" is omitted");
    assert_eq!(
        body["user_data"]["client_user_agent"],
        "Dalvik/2.1.0 (Linux; U; Android 14; Pixel 8)"
    );
    assert_eq!(
        uuid::Uuid::parse_str(&p.event_id)
            .unwrap()
            .get_version_num(),
        4
    );
}

#[test]
fn hashes_user_data_and_advertising_id() {
    let mut ctx = context();
    ctx.privacy.hashed_advertising_id = Some(sha256_hex("id"));
    let mut e = event(EventName::Checkout);
    e.user_data = Some(UserData {
        emails: vec!["Person@Example.com".into()],
        client_ip_address: Some("203.0.113.9".into()),
        ..Default::default()
    });
    let p = build_event(&e, &ctx, NOW).unwrap();
    let body = json(&p);
    assert_eq!(body["user_data"]["em"][0], sha256_hex("person@example.com"));
    assert_eq!(body["user_data"]["hashed_maids"][0], sha256_hex("id"));
    assert!(p.has_email && p.has_advertising_id && p.has_ip_and_user_agent);
    assert!(!p.body.contains("Person@Example.com"));
}

#[test]
fn opted_out_events_never_carry_the_advertising_id() {
    let mut ctx = context();
    ctx.privacy.opt_out = true;
    ctx.privacy.hashed_advertising_id = Some(sha256_hex("id"));
    ctx.privacy.limited_data_processing = true;
    let p = build_event(&event(EventName::AppOpen), &ctx, NOW).unwrap();
    let body = json(&p);
    assert_eq!(body["opt_out"], true);
    assert!(body["user_data"].get("hashed_maids").is_none());
    assert_eq!(body["custom_data"]["opt_out_type"], "ldp");
    assert!(p.opted_out && p.limited_data_processing && !p.has_advertising_id);
}

#[test]
fn custom_names_follow_the_brief() {
    let mut e = event(EventName::Custom);
    e.custom_event_name = Some("TookSurvey".into());
    let p = build_event(&e, &context(), NOW).unwrap();
    assert_eq!(p.event_name, "TookSurvey");
    assert_eq!(p.custom_name.as_deref(), Some("tooksurvey"));
    e.custom_event_name = Some("took survey".into());
    assert_eq!(
        invalid_field(build_event(&e, &context(), NOW)),
        "custom_event_name"
    );
    e.custom_event_name = Some("x".repeat(101));
    assert_eq!(
        invalid_field(build_event(&e, &context(), NOW)),
        "custom_event_name"
    );
    e.custom_event_name = Some("Checkout".into());
    assert_eq!(
        invalid_field(build_event(&e, &context(), NOW)),
        "custom_event_name"
    );
    let mut e = event(EventName::Lead);
    e.custom_event_name = Some("TookSurvey".into());
    assert_eq!(
        invalid_field(build_event(&e, &context(), NOW)),
        "custom_event_name"
    );
    assert_eq!(
        build_event(&event(EventName::Custom), &context(), NOW)
            .unwrap()
            .event_name,
        "custom"
    );
}

#[test]
fn event_time_window() {
    let mut e = event(EventName::Lead);
    e.event_time = Some(NOW + 301);
    assert_eq!(
        invalid_field(build_event(&e, &context(), NOW)),
        "event_time"
    );
    e.event_time = Some(NOW + 300);
    assert!(build_event(&e, &context(), NOW).is_ok());
    e.event_time = Some(NOW - 7 * 86_400 - 1);
    assert_eq!(
        invalid_field(build_event(&e, &context(), NOW)),
        "event_time"
    );
}

#[test]
fn custom_data_rules_name_the_field() {
    let cases: Vec<(CustomData, &str)> = vec![
        (
            CustomData {
                currency: Some("US".into()),
                ..Default::default()
            },
            "custom_data.currency",
        ),
        (
            CustomData {
                value: Some("-1".into()),
                ..Default::default()
            },
            "custom_data.value",
        ),
        (
            CustomData {
                value: Some("0.00".into()),
                ..Default::default()
            },
            "custom_data.value",
        ),
        (
            CustomData {
                value: Some("1e5".into()),
                ..Default::default()
            },
            "custom_data.value",
        ),
        (
            CustomData {
                opt_out_type: Some("gdpr".into()),
                ..Default::default()
            },
            "custom_data.opt_out_type",
        ),
        (
            CustomData {
                num_items: Some(-2),
                ..Default::default()
            },
            "custom_data.num_items",
        ),
        (
            CustomData {
                contents: vec![ContentItem {
                    item_price: Some("abc".into()),
                    ..Default::default()
                }],
                ..Default::default()
            },
            "custom_data.contents[0].item_price",
        ),
    ];
    for (data, field) in cases {
        let mut e = event(EventName::Checkout);
        e.custom_data = Some(data);
        assert_eq!(invalid_field(build_event(&e, &context(), NOW)), field);
    }
    let mut e = event(EventName::Checkout);
    e.custom_data = Some(CustomData {
        currency: Some("usd".into()),
        value: Some("9.99".into()),
        ..Default::default()
    });
    let body = json(&build_event(&e, &context(), NOW).unwrap());
    assert_eq!(body["custom_data"]["currency"], "USD");
    assert_eq!(body["custom_data"]["value"], "9.99");
}

#[test]
fn ip_and_url_rules() {
    for (ip, ok) in [
        ("0.0.0.0", false),
        ("::", false),
        ("300.1.1.1", false),
        ("2001:db8::1", true),
    ] {
        let mut e = event(EventName::Lead);
        e.user_data = Some(UserData {
            client_ip_address: Some(ip.into()),
            ..Default::default()
        });
        let result = build_event(&e, &context(), NOW);
        assert_eq!(result.is_ok(), ok, "{ip}");
        if !ok {
            assert_eq!(invalid_field(result), "user_data.client_ip_address");
        }
    }
    for (url, ok) in [
        ("https://shop.example/p?x=1", true),
        ("shop.example/p", false),
        ("https:///x", false),
    ] {
        let mut e = event(EventName::PageVisit);
        e.event_source_url = Some(url.into());
        assert_eq!(build_event(&e, &context(), NOW).is_ok(), ok, "{url}");
    }
}

#[test]
fn bad_user_data_names_the_wire_field() {
    let mut e = event(EventName::Signup);
    e.user_data = Some(UserData {
        emails: vec!["nobody".into()],
        ..Default::default()
    });
    assert_eq!(
        invalid_field(build_event(&e, &context(), NOW)),
        "user_data.em"
    );
    e.user_data = Some(UserData {
        phone_numbers: vec!["abc".into()],
        ..Default::default()
    });
    assert_eq!(
        invalid_field(build_event(&e, &context(), NOW)),
        "user_data.ph"
    );
}

#[test]
fn sizes_are_checked_before_anything_else_and_the_event_has_its_own_cap() {
    let lenient = TrackContext {
        strict_validation: false,
        ..context()
    };
    let long_name = Event {
        custom_data: Some(CustomData {
            content_name: Some("n".repeat(1001)),
            value: Some("not a number".into()),
            ..Default::default()
        }),
        ..event(EventName::ViewContent)
    };
    // Strict: the size is the first problem found, before the bad value.
    assert_eq!(
        invalid_field(build_event(&long_name, &context(), NOW)),
        "custom_data.content_name"
    );
    let checked = build_event_checked(long_name, &lenient, NOW).unwrap();
    let fields: Vec<_> = checked.dropped.iter().map(|w| w.field.as_str()).collect();
    assert_eq!(fields, ["custom_data.content_name", "custom_data.value"]);
    assert!(json(&checked.pending)["custom_data"]["content_name"].is_null());

    let too_big = Event {
        custom_data: Some(CustomData {
            content_ids: (0..400).map(|i| format!("{i:0>200}")).collect(),
            ..Default::default()
        }),
        ..event(EventName::ViewContent)
    };
    assert_eq!(invalid_field(build_event(&too_big, &lenient, NOW)), "event");
}

#[test]
fn an_event_id_with_control_characters_cannot_be_repaired() {
    let lenient = TrackContext {
        strict_validation: false,
        ..context()
    };
    let e = Event {
        event_id: Some("order-1\u{0}".into()),
        ..event(EventName::Checkout)
    };
    assert_eq!(invalid_field(build_event(&e, &lenient, NOW)), "event_id");
}

#[test]
fn each_event_name_is_its_variant_on_the_wire() {
    // wire_name() indexes the wire contract's list by declaration order: a variant moved or
    // added out of order would send another name. The variant's own name says which it is.
    for (i, name) in EventName::ALL.into_iter().enumerate() {
        assert_eq!(name as usize, i, "{name:?}");
        let mut snake = String::new();
        for c in format!("{name:?}").chars() {
            if c.is_ascii_uppercase() && !snake.is_empty() {
                snake.push('_');
            }
            snake.push(c.to_ascii_lowercase());
        }
        assert_eq!(name.wire_name(), snake);
        assert_eq!(EventName::from_wire(&snake), Some(name));
    }
    assert_eq!(EventName::from_wire("level_up"), None);
}
