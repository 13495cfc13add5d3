//! Fuzzes event validation (`build_event`) with arbitrary events and privacy states. Never a
//! panic; an error is always `InvalidInput` with a field and a rule; an accepted event is
//! valid JSON whose `user_data` lists hold only 64-character lowercase hex digests.
#![no_main]

use app_conversions::ConversionsError;
use app_conversions::internals::{build_event, AppliedPrivacy, TrackContext};
use app_conversions::{AppInfo, ContentItem, CustomData, DeviceInfo, Event, EventName, UserData};
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

/// A fixed "now" so event_time windows are reproducible.
const NOW: i64 = 1_700_000_000;

#[derive(Arbitrary, Debug)]
struct Input {
    name: u8,
    custom_event_name: Option<String>,
    event_id: Option<String>,
    event_time: Option<i64>,
    event_source_url: Option<String>,
    user: Option<User>,
    custom: Option<Custom>,
    opt_out: bool,
    limited_data_processing: bool,
}

#[derive(Arbitrary, Debug)]
struct User {
    emails: Vec<String>,
    phone_numbers: Vec<String>,
    names: Vec<String>,
    genders: Vec<String>,
    dates_of_birth: Vec<String>,
    places: Vec<String>,
    external_ids: Vec<String>,
    client_ip_address: Option<String>,
    click_id: Option<String>,
}

#[derive(Arbitrary, Debug)]
struct Custom {
    currency: Option<String>,
    value: Option<String>,
    content_ids: Vec<String>,
    contents: Vec<(Option<String>, Option<String>, Option<i64>)>,
    num_items: Option<i64>,
    opt_out_type: Option<String>,
}

impl Input {
    fn event(&self) -> Event {
        Event {
            name: EventName::ALL[usize::from(self.name) % EventName::ALL.len()],
            custom_event_name: self.custom_event_name.clone(),
            event_id: self.event_id.clone(),
            event_time: self.event_time,
            event_source_url: self.event_source_url.clone(),
            user_data: self.user.as_ref().map(|u| UserData {
                emails: u.emails.clone(),
                phone_numbers: u.phone_numbers.clone(),
                first_names: u.names.clone(),
                last_names: u.names.clone(),
                genders: u.genders.clone(),
                dates_of_birth: u.dates_of_birth.clone(),
                cities: u.places.clone(),
                states: u.places.clone(),
                zip_codes: u.places.clone(),
                countries: u.places.clone(),
                external_ids: u.external_ids.clone(),
                client_ip_address: u.client_ip_address.clone(),
                click_id: u.click_id.clone(),
                partner_id: None,
            }),
            custom_data: self.custom.as_ref().map(|c| CustomData {
                currency: c.currency.clone(),
                value: c.value.clone(),
                content_ids: c.content_ids.clone(),
                contents: c
                    .contents
                    .iter()
                    .map(|(id, price, quantity)| ContentItem {
                        id: id.clone(),
                        item_price: price.clone(),
                        quantity: *quantity,
                        ..Default::default()
                    })
                    .collect(),
                num_items: c.num_items,
                opt_out_type: c.opt_out_type.clone(),
                ..Default::default()
            }),
        }
    }

    fn context(&self) -> TrackContext {
        TrackContext {
            action_source: "app_ios",
            partner_name: None,
            partner_name_dropped: false,
            app: AppInfo::default(),
            device: DeviceInfo {
                user_agent: Some("CFNetwork/1490.0.4 Darwin/23.2.0".into()),
                ..Default::default()
            },
            privacy: AppliedPrivacy {
                opt_out: self.opt_out,
                hashed_advertising_id: Some("b".repeat(64)),
                limited_data_processing: self.limited_data_processing,
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
}

fuzz_target!(|input: Input| {
    match build_event(&input.event(), &input.context(), NOW) {
        Ok(pending) => {
            let body: serde_json::Value =
                serde_json::from_str(&pending.body).expect("the stored body is JSON");
            assert_eq!(body["event_id"].as_str(), Some(pending.event_id.as_str()));
            if let Some(user) = body["user_data"].as_object() {
                for values in user.values().filter_map(|v| v.as_array()) {
                    for v in values {
                        let v = v.as_str().unwrap_or("");
                        assert!(
                            v.len() == 64
                                && v.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
                            "{v}"
                        );
                    }
                }
            }
        }
        Err(ConversionsError::InvalidInput { field, rule }) => {
            assert!(!field.is_empty() && !rule.is_empty());
        }
        Err(other) => panic!("not an input error: {other:?}"),
    }
});
