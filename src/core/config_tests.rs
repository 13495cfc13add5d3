//! The configuration's rules, one test per rule: each refusal names the field and the rule.

use super::*;
use crate::core::model::ActionSource;

#[test]
fn partner_names_follow_the_brief() {
    for (name, valid) in [
        ("direct", true),
        ("ss-shopify", true),
        ("ss-a_b-2", true),
        ("ss-", false),
        ("SS-shopify", false),
        ("ss-Shopify", false),
        ("shopify", false),
        ("Direct", false),
        ("ss-shop ify", false),
    ] {
        assert_eq!(is_valid_partner_name(name), valid, "{name}");
    }
}

pub(crate) fn config() -> ClientConfig {
    ClientConfig::new(
        "https://api.example.com",
        "549768257474",
        "secret",
        "/tmp/x.db",
        ActionSource::AppIos,
    )
}

fn field_of(config: ClientConfig) -> String {
    match Settings::new(config) {
        Err(ConversionsError::InvalidConfig { field, .. }) => field,
        other => panic!("expected a configuration error, got {other:?}"),
    }
}

#[test]
fn debug_output_never_shows_the_token() {
    let shown = format!("{:?}", Settings::new(config()).unwrap());
    assert!(
        !shown.contains("secret") && shown.contains("[redacted]"),
        "{shown}"
    );
}

#[test]
fn builds_the_events_url() {
    let mut c = config();
    c.test_mode = true;
    c.endpoint = "https://api.example.com/".into();
    let s = Settings::new(c).unwrap();
    assert_eq!(
        s.events_url,
        "https://api.example.com/v5/ad_accounts/549768257474/events?test=true"
    );
    assert_eq!(s.batch_size, 20);
}

#[test]
fn endpoint_must_be_https_or_loopback_http() {
    for ok in [
        "https://a.example",
        "http://127.0.0.1:8787",
        "http://localhost:1",
        "http://[::1]:9",
    ] {
        assert!(endpoint_host(ok).is_ok(), "{ok}");
    }
    for bad in [
        "http://example.com",
        "ftp://x",
        "api.example.com",
        "https://",
        "https:///v5",
    ] {
        assert!(endpoint_host(bad).is_err(), "{bad}");
    }
}

#[test]
fn only_the_apis_host_is_the_api_unless_the_configuration_says() {
    let cases: [(&str, Option<bool>, bool); 9] = [
        ("https://api.pinterest.com", None, false),
        ("https://API.Pinterest.com:443/", None, false),
        ("https://relay.shop.example.com", None, true),
        ("https://shop.example.com/conversions", None, true),
        ("https://api.pinterest.com.example.com", None, true),
        ("http://127.0.0.1:8787", None, true),
        ("http://10.0.2.2:8787", None, true),
        ("https://proxy.example.com", Some(false), false),
        ("https://api.pinterest.com", Some(true), true),
    ];
    for (endpoint, set, relay) in cases {
        let mut c = config();
        c.endpoint = endpoint.into();
        c.endpoint_is_relay = set;
        assert_eq!(
            Settings::new(c).unwrap().sends_through_relay,
            relay,
            "{endpoint} {set:?}"
        );
    }
    assert_eq!(is_relay_host("https://api.pinterest.com/"), Some(false));
    assert_eq!(is_relay_host("https://relay.example.com/x"), Some(true));
    assert_eq!(is_relay_host("http://relay.example.com"), None);
}

#[test]
fn an_endpoint_may_carry_a_path_prefix() {
    let mut c = config();
    for (endpoint, url) in [
        (
            "https://api.shop.example.com/conversions",
            "https://api.shop.example.com/conversions/v5/ad_accounts/549768257474/events",
        ),
        (
            "https://shop.example.com/api/conversions/",
            "https://shop.example.com/api/conversions/v5/ad_accounts/549768257474/events",
        ),
        (
            "http://10.0.2.2:8787",
            "http://10.0.2.2:8787/v5/ad_accounts/549768257474/events",
        ),
    ] {
        c.endpoint = endpoint.into();
        assert_eq!(
            Settings::new(c.clone()).unwrap().events_url,
            url,
            "{endpoint}"
        );
    }
}

#[test]
fn query_fragment_and_credentials_stay_refused_with_the_rule() {
    for bad in [
        "https://relay.example.com/conversions?x=1",
        "https://relay.example.com/#top",
        "https://user:pw@relay.example.com",
        "https://relay.example.com/a b",
        "https://relay.example.com//v5",
    ] {
        match endpoint_host(bad) {
            Err(ConversionsError::InvalidConfig { field, rule }) => {
                assert_eq!(field, "endpoint", "{bad}");
                assert!(rule.contains("query"), "{bad}: {rule}");
            }
            other => panic!("{bad}: {other:?}"),
        }
    }
}

#[test]
fn the_emulators_host_aliases_may_use_cleartext_http() {
    for ok in ["http://10.0.2.2:8787", "http://10.0.3.2:8787/relay"] {
        assert!(endpoint_host(ok).is_ok(), "{ok}");
    }
    for bad in [
        "http://10.0.2.3:8787",
        "http://192.168.1.2:8787",
        "http://10.0.2.2.example.com",
    ] {
        assert!(endpoint_host(bad).is_err(), "{bad}");
    }
}

#[test]
fn each_bad_field_is_named() {
    let mut c = config();
    c.ad_account_id = "12ab".into();
    assert_eq!(field_of(c), "ad_account_id");
    let mut c = config();
    c.ad_account_id = "1234567890123456789".into();
    assert_eq!(field_of(c), "ad_account_id");
    let mut c = config();
    c.token = " ".into();
    assert_eq!(field_of(c), "token");
    let mut c = config();
    c.max_batch = 1001;
    assert_eq!(field_of(c), "max_batch");
    let mut c = config();
    c.max_batch = 0;
    assert_eq!(field_of(c), "max_batch");
    let mut c = config();
    c.endpoint = "http://10.0.0.1".into();
    assert_eq!(field_of(c), "endpoint");
}

#[test]
fn durations_past_their_bounds_are_refused_by_name() {
    type Set = fn(&mut ClientConfig);
    let cases: [(&str, Set); 9] = [
        ("flush_interval_secs", |c| c.flush_interval_secs = u64::MAX),
        ("retry_base_delay_ms", |c| c.retry_base_delay_ms = 0),
        ("max_queued_events", |c| c.max_queued_events = u32::MAX),
        ("retry_max_delay_secs", |c| {
            c.retry_max_delay_secs = u64::MAX
        }),
        ("retry_max_delay_secs", |c| c.retry_max_delay_secs = 0),
        ("retry_base_delay_ms", |c| c.retry_base_delay_ms = u64::MAX),
        ("install_window_secs", |c| c.install_window_secs = u64::MAX),
        ("request_timeout_secs", |c| c.request_timeout_secs = 0),
        ("max_event_age_secs", |c| c.max_event_age_secs = u64::MAX),
    ];
    for (field, set) in cases {
        let mut c = config();
        set(&mut c);
        assert_eq!(field_of(c), field);
    }
    let mut c = config();
    c.min_background_for_open_secs = u64::MAX;
    match Settings::new(c) {
        Err(ConversionsError::InvalidConfig { field, rule }) => {
            assert_eq!(field, "min_background_for_open_secs");
            assert_eq!(rule, "must be between 0 and 86400 seconds");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn language_is_two_letters() {
    let mut d = DeviceInfo {
        language: Some("en".into()),
        ..Default::default()
    };
    assert!(validate_device(&d).is_ok());
    d.language = Some("eng".into());
    assert!(validate_device(&d).is_err());
}
