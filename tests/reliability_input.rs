//! Hostile input, as property tests: whatever an app passes in and whatever a server answers,
//! the core never panics (a panic inside a non-throwing Swift call is a crash of the host
//! app), and its answers keep their shape.
//!
//! - `build_event`: never panics; an error is always `InvalidInput` naming a field that the
//!   event actually carries; an accepted event is valid wire JSON whose identifiers are all
//!   64 lowercase hex characters and in which no raw email appears.
//! - `hash_user_field` / `hash_advertising_id`: never panic; `Ok` is always 64 lowercase hex;
//!   hashing is idempotent on its own output and insensitive to surrounding whitespace and
//!   (for emails and advertising ids) ASCII case.
//! - `parse_event_results`: never panics on any body; `Some` only when the number of results
//!   equals the number of events sent.
//!
//! Cases per property: 256 (about a second in a debug build), `RELIABILITY_PROPTEST_CASES=N`
//! or `RELIABILITY_SOAK=1` (10,000) for more. The same three surfaces have cargo-fuzz targets
//! in `fuzz/` for open-ended runs.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
mod reliability;

use app_conversions::internals::hash::{
    hash_advertising_id, hash_user_field, AdvertisingId, HashedField,
};
use app_conversions::internals::parse_event_results;
use app_conversions::internals::{build_event, AppliedPrivacy, TrackContext};
use app_conversions::ConversionsError;
use app_conversions::{AppInfo, ContentItem, CustomData, DeviceInfo, Event, EventName, UserData};
use proptest::prelude::*;
use proptest::test_runner::Config;

/// A fixed "now" so event_time windows are reproducible.
const NOW: i64 = 1_700_000_000;

const FIELDS: [HashedField; 11] = [
    HashedField::Em,
    HashedField::Ph,
    HashedField::Fn,
    HashedField::Ln,
    HashedField::Ge,
    HashedField::Db,
    HashedField::Ct,
    HashedField::St,
    HashedField::Zp,
    HashedField::Country,
    HashedField::ExternalId,
];

fn config() -> Config {
    Config {
        cases: reliability::size("RELIABILITY_PROPTEST_CASES", 256, 10_000) as u32,
        // Failures print the minimal input; nothing is written into the source tree.
        failure_persistence: None,
        ..Config::default()
    }
}

fn is_hex64(value: &str) -> bool {
    value.len() == 64
        && value
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Strings an app might pass, well-formed or not: anything at all, plausible identifiers,
/// digests, whitespace and edge values.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ -~]{0,24}",
        "[A-Za-z0-9._%+-]{1,12}@[A-Za-z0-9.-]{1,12}",
        "\\+?[0-9 ()-]{0,20}",
        "[0-9a-fA-F]{64}",
        "[0-9]{4}-?[0-9]{2}-?[0-9]{2}",
        Just(String::new()),
        Just("--".to_string()),
        Just(" \t\n".to_string()),
        Just("0.0.0.0".to_string()),
        Just("::".to_string()),
    ]
}

fn texts() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(text(), 0..3)
}

fn maybe_text() -> impl Strategy<Value = Option<String>> {
    prop::option::of(text())
}

fn number() -> impl Strategy<Value = Option<i64>> {
    prop::option::of(prop_oneof![any::<i64>(), -3i64..100])
}

fn user_data() -> impl Strategy<Value = UserData> {
    (
        (texts(), texts(), texts(), texts(), texts(), texts()),
        (texts(), texts(), texts(), texts(), texts()),
        (maybe_text(), maybe_text(), maybe_text()),
    )
        .prop_map(
            |((em, ph, fname, ln, ge, db), (ct, st, zp, country, ext), (ip, click, partner))| {
                UserData {
                    emails: em,
                    phone_numbers: ph,
                    first_names: fname,
                    last_names: ln,
                    genders: ge,
                    dates_of_birth: db,
                    cities: ct,
                    states: st,
                    zip_codes: zp,
                    countries: country,
                    external_ids: ext,
                    client_ip_address: ip,
                    click_id: click,
                    partner_id: partner,
                }
            },
        )
}

fn content_item() -> impl Strategy<Value = ContentItem> {
    (
        maybe_text(),
        maybe_text(),
        prop::option::of("[0-9.]{0,6}"),
        number(),
    )
        .prop_map(|(id, name, price, quantity)| ContentItem {
            id,
            item_name: name,
            item_category: None,
            item_brand: None,
            item_price: price,
            quantity,
        })
}

fn custom_data() -> impl Strategy<Value = CustomData> {
    (
        (
            maybe_text(),
            prop::option::of(prop_oneof!["[0-9.]{0,8}", text()]),
        ),
        (
            texts(),
            prop::collection::vec(content_item(), 0..3),
            number(),
        ),
        (
            maybe_text(),
            maybe_text(),
            prop::option::of(prop_oneof![
                Just("ldp".to_string()),
                Just("LDP".to_string()),
                text()
            ]),
        ),
    )
        .prop_map(
            |((currency, value), (ids, contents, num_items), (order, search, opt_out))| {
                CustomData {
                    currency,
                    value,
                    content_ids: ids,
                    contents,
                    num_items,
                    order_id: order,
                    search_string: search,
                    content_name: None,
                    content_category: None,
                    content_brand: None,
                    opt_out_type: opt_out,
                }
            },
        )
}

fn event() -> impl Strategy<Value = Event> {
    (
        prop::sample::select(EventName::ALL.to_vec()),
        prop::option::of(prop_oneof!["[A-Za-z0-9_-]{1,110}", text()]),
        maybe_text(),
        prop::option::of(prop_oneof![any::<i64>(), NOW - 8 * 86_400..NOW + 600]),
        prop::option::of(prop_oneof!["https?://[a-z.]{0,12}(/[ -~]{0,10})?", text()]),
        prop::option::of(user_data()),
        prop::option::of(custom_data()),
    )
        .prop_map(|(name, custom, id, time, url, user, custom_data)| Event {
            name,
            custom_event_name: custom,
            event_id: id,
            event_time: time,
            event_source_url: url,
            user_data: user,
            custom_data,
        })
}

fn context(opt_out: bool) -> TrackContext {
    TrackContext {
        action_source: "app_android",
        partner_name: None,
        partner_name_dropped: false,
        app: AppInfo::default(),
        device: DeviceInfo {
            user_agent: Some("Dalvik/2.1.0".into()),
            ..Default::default()
        },
        privacy: AppliedPrivacy {
            opt_out,
            hashed_advertising_id: Some("a".repeat(64)),
            limited_data_processing: false,
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

/// Whether the event carries something in the field an error names.
fn carries(event: &Event, field: &str) -> bool {
    let user = event.user_data.as_ref();
    let custom = event.custom_data.as_ref();
    let list = |pick: fn(&UserData) -> &Vec<String>| user.is_some_and(|u| !pick(u).is_empty());
    match field {
        "event_id" => event.event_id.is_some(),
        // Absent means "now", which is always valid.
        "event_time" => event.event_time.is_some(),
        "event_source_url" => event.event_source_url.is_some(),
        "custom_event_name" => event.custom_event_name.is_some(),
        "user_data.em" => list(|u| &u.emails),
        "user_data.ph" => list(|u| &u.phone_numbers),
        "user_data.fn" => list(|u| &u.first_names),
        "user_data.ln" => list(|u| &u.last_names),
        "user_data.ge" => list(|u| &u.genders),
        "user_data.db" => list(|u| &u.dates_of_birth),
        "user_data.ct" => list(|u| &u.cities),
        "user_data.st" => list(|u| &u.states),
        "user_data.zp" => list(|u| &u.zip_codes),
        "user_data.country" => list(|u| &u.countries),
        "user_data.external_id" => list(|u| &u.external_ids),
        "user_data.client_ip_address" => user.is_some_and(|u| u.client_ip_address.is_some()),
        "custom_data.currency" => custom.is_some_and(|c| c.currency.is_some()),
        "custom_data.value" => custom.is_some_and(|c| c.value.is_some()),
        "custom_data.opt_out_type" => custom.is_some_and(|c| c.opt_out_type.is_some()),
        "custom_data.num_items" => custom.is_some_and(|c| c.num_items.is_some()),
        other => {
            let Some(rest) = other.strip_prefix("custom_data.contents[") else {
                return false;
            };
            let Some((index, leaf)) = rest.split_once("].") else {
                return false;
            };
            let item = index
                .parse::<usize>()
                .ok()
                .and_then(|i| custom.and_then(|c| c.contents.get(i)));
            match (item, leaf) {
                (Some(item), "item_price") => item.item_price.is_some(),
                (Some(item), "quantity") => item.quantity.is_some(),
                _ => false,
            }
        }
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn build_event_never_panics_and_errors_name_a_field(event in event(), opt_out in any::<bool>()) {
        match build_event(&event, &context(opt_out), NOW) {
            Ok(pending) => {
                prop_assert!(!pending.event_id.is_empty());
                let body: serde_json::Value = serde_json::from_str(&pending.body)
                    .map_err(|e| TestCaseError::fail(format!("stored body is not JSON: {e}")))?;
                prop_assert_eq!(body["event_name"].as_str(), Some(pending.event_name.as_str()));
                prop_assert_eq!(body["event_id"].as_str(), Some(pending.event_id.as_str()));
                prop_assert_eq!(body["event_time"].as_i64(), Some(pending.event_time));
                let user = body["user_data"].as_object().cloned().unwrap_or_default();
                for (key, value) in &user {
                    if let Some(values) = value.as_array() {
                        for v in values {
                            prop_assert!(is_hex64(v.as_str().unwrap_or("")), "{} = {}", key, v);
                        }
                    }
                }
                prop_assert_eq!(opt_out, user.get("hashed_maids").is_none());
                for email in event.user_data.iter().flat_map(|u| &u.emails) {
                    let email = email.trim();
                    if email.len() >= 6 && email.contains('@') {
                        prop_assert!(!pending.body.contains(email), "raw email {} stored", email);
                    }
                }
            }
            Err(ConversionsError::InvalidInput { field, rule }) => {
                prop_assert!(!rule.is_empty());
                prop_assert!(carries(&event, &field), "error names {} which the event does not carry", field);
            }
            Err(other) => prop_assert!(false, "not an input error: {:?}", other),
        }
    }

    #[test]
    fn well_formed_events_are_always_accepted(
        name in prop::sample::select(EventName::ALL.to_vec()),
        email in "[a-z0-9._]{1,10}@[a-z]{1,10}\\.(com|org|de)",
        phone in "\\+[1-9][0-9]{6,13}",
        currency in "[A-Za-z]{3}",
        value in "[1-9][0-9]{0,5}(\\.[0-9]{1,2})?",
        age in 0i64..6 * 86_400,
        opt_out in any::<bool>(),
    ) {
        let event = Event {
            name,
            custom_event_name: None,
            event_id: None,
            event_time: Some(NOW - age),
            event_source_url: Some("https://shop.example/cart".into()),
            user_data: Some(UserData {
                emails: vec![format!(" {} ", email.to_uppercase())],
                phone_numbers: vec![phone.clone()],
                ..Default::default()
            }),
            custom_data: Some(CustomData {
                currency: Some(currency),
                value: Some(value),
                ..Default::default()
            }),
        };
        let pending = build_event(&event, &context(opt_out), NOW)
            .map_err(|e| TestCaseError::fail(format!("refused: {e}")))?;
        let body: serde_json::Value = serde_json::from_str(&pending.body)
            .map_err(|e| TestCaseError::fail(format!("stored body is not JSON: {e}")))?;
        let expected = app_conversions::internals::hash::sha256_hex(&email);
        prop_assert_eq!(body["user_data"]["em"][0].as_str(), Some(expected.as_str()));
        prop_assert!(!pending.body.contains(&email) && !pending.body.contains(&phone));
        prop_assert_eq!(body["opt_out"].as_bool(), Some(opt_out));
    }

    #[test]
    fn hashing_never_panics_and_yields_64_lowercase_hex(
        field in prop::sample::select(FIELDS.to_vec()),
        raw in text(),
    ) {
        match hash_user_field(field, &raw) {
            Ok(digest) => {
                prop_assert!(is_hex64(&digest), "{:?}({:?}) = {}", field, raw, digest);
                // A digest passes through unchanged (pre-hashed input).
                prop_assert_eq!(hash_user_field(field, &digest), Ok(digest.clone()));
                // Surrounding whitespace never matters.
                prop_assert_eq!(hash_user_field(field, &format!(" \t{raw}\n")), Ok(digest.clone()));
                if field == HashedField::Em && raw.is_ascii() {
                    prop_assert_eq!(hash_user_field(field, &raw.to_ascii_uppercase()), Ok(digest));
                }
            }
            Err(rule) => prop_assert!(!rule.is_empty()),
        }
    }

    #[test]
    fn advertising_ids_never_panic_and_hash_case_insensitively(
        raw in prop_oneof![
            text(),
            "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
            " ?0{8}-0{4}-0{4}-0{4}-0{12} ?",
        ],
    ) {
        match hash_advertising_id(Some(&raw)) {
            AdvertisingId::Hashed(digest) => {
                prop_assert!(is_hex64(&digest));
                prop_assert_eq!(raw.trim().len(), 36);
                prop_assert_eq!(
                    hash_advertising_id(Some(&raw.to_ascii_uppercase())),
                    AdvertisingId::Hashed(digest.clone())
                );
                prop_assert_eq!(
                    hash_advertising_id(Some(&format!("  {raw} "))),
                    AdvertisingId::Hashed(digest)
                );
            }
            AdvertisingId::Absent => prop_assert!(raw.trim().is_empty()),
            AdvertisingId::Zeroed => {
                prop_assert!(raw.trim().bytes().all(|b| b == b'0' || b == b'-'));
            }
            AdvertisingId::Malformed => prop_assert!(!raw.trim().is_empty()),
        }
    }

    #[test]
    fn parsing_any_body_never_panics(status in any::<u16>(), body in text(), sent in 0usize..5) {
        if let Some(results) = parse_event_results(status, &body, sent) {
            prop_assert_eq!(results.len(), sent);
        }
    }

    #[test]
    fn results_are_accepted_only_when_the_count_matches(
        statuses in prop::collection::vec(
            (prop_oneof![Just("processed"), Just("failed")], prop::option::of("[ -~]{0,12}")),
            0..6,
        ),
        sent in 0usize..6,
        detailed in any::<bool>(),
        cut in prop::option::of(0usize..200),
    ) {
        let events: Vec<serde_json::Value> = statuses
            .iter()
            .map(|(s, m)| serde_json::json!({"status": s, "error_message": m, "warning_message": m}))
            .collect();
        let results = serde_json::json!({"num_events_received": sent, "events": events});
        let (status, mut body) = if detailed {
            (422, serde_json::json!({"code": 953, "message": "x", "details": results}).to_string())
        } else {
            (200, results.to_string())
        };
        if let Some(cut) = cut {
            // A body cut short anywhere (on a character boundary) is never success.
            let mut at = cut.min(body.len());
            while !body.is_char_boundary(at) {
                at -= 1;
            }
            if at < body.len() {
                body.truncate(at);
                prop_assert_eq!(parse_event_results(status, &body, sent), None);
                return Ok(());
            }
        }
        match parse_event_results(status, &body, sent) {
            Some(parsed) => {
                prop_assert_eq!(parsed.len(), sent);
                prop_assert_eq!(statuses.len(), sent);
                for (result, (s, _)) in parsed.iter().zip(&statuses) {
                    prop_assert_eq!(result.processed, *s == "processed");
                }
            }
            None => prop_assert_ne!(statuses.len(), sent),
        }
    }
}
