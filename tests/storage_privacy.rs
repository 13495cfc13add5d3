//! What reaches the disk: nothing raw (token, advertising id, email, phone, name), WAL included.
//! (That the request bodies satisfy the official 5.23 schema is checked by the Python binding
//! test, with Python's reference `jsonschema`.)
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
mod common;

use app_conversions::{ContentItem, CustomData, EventName, UserData};
use common::*;

const RAW_EMAIL: &str = "Jane.Doe@Example.com";
const RAW_PHONE: &str = "+1 650 555 0123";
const RAW_NAME: &str = "Jacqueline";

fn rich_event() -> app_conversions::Event {
    app_conversions::Event {
        event_source_url: Some("https://shop.example/checkout".into()),
        user_data: Some(UserData {
            emails: vec![RAW_EMAIL.into()],
            phone_numbers: vec![RAW_PHONE.into()],
            first_names: vec![RAW_NAME.into()],
            last_names: vec!["Doe".into()],
            genders: vec!["f".into()],
            dates_of_birth: vec!["1990-04-01".into()],
            cities: vec!["San Francisco".into()],
            states: vec!["CA".into()],
            zip_codes: vec!["94103".into()],
            countries: vec!["US".into()],
            external_ids: vec!["user-8812".into()],
            client_ip_address: Some("203.0.113.7".into()),
            click_id: Some("dj0yJnU9".into()),
            partner_id: None,
        }),
        custom_data: Some(CustomData {
            currency: Some("EUR".into()),
            value: Some("42.50".into()),
            content_ids: vec!["sku-1".into()],
            contents: vec![ContentItem {
                id: Some("sku-1".into()),
                item_name: Some("Lamp".into()),
                item_category: Some("home".into()),
                item_brand: Some("Acme".into()),
                item_price: Some("21.25".into()),
                quantity: Some(2),
            }],
            num_items: Some(2),
            order_id: Some("order-77".into()),
            search_string: None,
            content_name: Some("Lamp".into()),
            content_category: Some("home".into()),
            content_brand: Some("Acme".into()),
            opt_out_type: None,
        }),
        ..event(EventName::Checkout)
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    let needle = needle.as_bytes();
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn no_raw_identifier_or_token_reaches_the_disk() {
    let offline = {
        let probe = app_conversions_sandbox::Sandbox::start(Default::default()).unwrap();
        let url = probe.base_url();
        probe.stop();
        url
    };
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&offline, &dir.path().join("buffer.db"));
    let client =
        app_conversions::ConversionsClient::new(cfg, app(), device(), privacy_with_id(GAID))
            .unwrap();
    client.on_launch().unwrap();
    for _ in 0..20 {
        client.track(rich_event()).unwrap();
    }
    client.flush(300).unwrap(); // fails: the events stay queued on disk
    assert!(client.diagnostics().queued >= 20);
    client.shutdown(10_000).unwrap();
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        bytes.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    assert!(
        contains(&bytes, &sha256("jane.doe@example.com")),
        "the hashed email is stored"
    );
    for raw in [
        TOKEN,
        GAID,
        RAW_EMAIL,
        "jane.doe@example.com",
        RAW_PHONE,
        "16505550123",
        RAW_NAME,
        "jacqueline",
    ] {
        assert!(!contains(&bytes, raw), "{raw} found in the database files");
    }
}
