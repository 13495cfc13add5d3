//! The brief's rules where an app's input used to bend them: `partner_name` only as Pinterest
//! defines it (`direct` or `ss-<partner>`, lowercase), a zip code of digits only (a postcode
//! with letters is dropped, not reduced to its digits), and a warning for a phone number that
//! cannot carry its country code.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

mod common;

use app_conversions::{ConversionsClient, ConversionsError, EventName, UserData};
use common::*;

const WAIT: u64 = 10_000;

fn with_user(user: UserData) -> app_conversions::Event {
    app_conversions::Event {
        user_data: Some(user),
        ..event(EventName::Lead)
    }
}

#[test]
fn partner_name_must_be_direct_or_ss_partner() {
    for (name, kept) in [
        ("direct", true),
        ("ss-shopify", true),
        ("ss-my_partner-2", true),
        ("Shopify", false),
        ("ss-Shopify", false),
        ("ss-", false),
        ("shopify", false),
        ("ss-shop ify", false),
    ] {
        let sandbox = sandbox();
        let h = start_with(&sandbox, |c| c.partner_name = Some(name.into()));
        let result = h.client.track(event(EventName::Lead)).unwrap();
        assert!(result.recorded, "{name}: the event is kept either way");
        let warned: Vec<&str> = result.warnings.iter().map(|w| w.field.as_str()).collect();
        h.client.flush(WAIT).unwrap();
        let sent = &sandbox.accepted()[0];
        if kept {
            assert_eq!(sent["partner_name"], name);
            assert!(warned.is_empty(), "{name}: {warned:?}");
        } else {
            assert!(sent.get("partner_name").is_none(), "{name} was sent");
            assert_eq!(warned, ["partner_name"], "{name}");
            assert!(
                result.warnings[0].rule.contains("ss-"),
                "{:?}",
                result.warnings
            );
        }
    }
}

#[test]
fn strict_validation_refuses_a_partner_name_outside_the_convention() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&sandbox.base_url(), &dir.path().join("buffer.db"));
    cfg.strict_validation = true;
    cfg.partner_name = Some("MyAgency".into());
    match ConversionsClient::new(cfg, app(), device(), privacy_with_id(GAID)) {
        Err(ConversionsError::InvalidConfig { field, rule }) => {
            assert_eq!(field, "partner_name");
            assert!(rule.contains("ss-"), "{rule}");
        }
        Err(other) => panic!("expected a configuration error, got {other:?}"),
        Ok(_) => panic!("expected a configuration error, got a client"),
    }
}

#[test]
fn a_postcode_with_letters_is_dropped_not_reduced_to_its_digits() {
    let sandbox = sandbox();
    let h = start(&sandbox);
    let result = h
        .client
        .track(with_user(UserData {
            zip_codes: vec!["SW1A 1AA".into(), "94103-1234".into()],
            ..Default::default()
        }))
        .unwrap();
    let warned: Vec<(&str, &str)> = result
        .warnings
        .iter()
        .map(|w| (w.field.as_str(), w.rule.as_str()))
        .collect();
    assert_eq!(warned.len(), 1, "{warned:?}");
    assert_eq!(warned[0].0, "user_data.zp");
    assert!(warned[0].1.contains("digits"), "{warned:?}");
    h.client.flush(WAIT).unwrap();
    let sent = &sandbox.accepted()[0];
    assert_eq!(
        sent["user_data"]["zp"],
        serde_json::json!([sha256("941031234")]),
        "only the US zip code is sent; \"SW1A 1AA\" is not hashed as \"11\""
    );

    let strict = start_with(&sandbox, |c| c.strict_validation = true);
    let refused = strict.client.track(with_user(UserData {
        zip_codes: vec!["K1A 0B1".into()],
        ..Default::default()
    }));
    assert!(
        matches!(&refused, Err(ConversionsError::InvalidInput { field, .. }) if field == "user_data.zp"),
        "{refused:?}"
    );
}

#[test]
fn a_phone_number_without_a_country_code_is_kept_with_a_warning() {
    let sandbox = sandbox();
    let h = start(&sandbox);
    for (number, warned) in [
        ("+44 20 7946 0018", false),
        ("0044 20 7946 0018", false),
        ("020 7946 0018", true),
        ("555 0100", true),
        ("+1 (415) 555-0100", false),
    ] {
        let result = h
            .client
            .track(with_user(UserData {
                phone_numbers: vec![number.into()],
                ..Default::default()
            }))
            .unwrap();
        let fields: Vec<&str> = result.warnings.iter().map(|w| w.field.as_str()).collect();
        if warned {
            assert_eq!(fields, ["user_data.ph"], "{number}");
            assert!(
                result.warnings[0].rule.contains("country code"),
                "{:?}",
                result.warnings
            );
        } else {
            assert!(fields.is_empty(), "{number}: {fields:?}");
        }
    }
    h.client.flush(WAIT).unwrap();
    let sent = sandbox.accepted();
    assert_eq!(sent.len(), 5);
    assert!(
        sent.iter()
            .all(|e| e["user_data"]["ph"].as_array().map(Vec::len) == Some(1)),
        "a warned number is still sent: it may be right"
    );
    let counted = h.client.diagnostics().invalid_fields;
    assert!(
        counted.iter().all(|c| c.field != "user_data.ph"),
        "a kept number is not counted as dropped: {counted:?}"
    );
}
