//! What each privacy state sends, field by field, checked against the table in docs/privacy.md
//! (the table is the specification: every cell is asserted here), once straight to the
//! endpoint and once through the reference relay, with every body that arrives validated
//! against the official 5.23 schema. Then the state changes real apps go through: a revocation
//! after events were queued, and a first launch waiting (bounded) for the tracking prompt.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use app_conversions::{
    ActionSource, Clock, ConversionsClient, Event, ManualClock, PrivacyState,
    TrackingAuthorization, UserData,
};
use app_conversions_sandbox::HASHED_FIELDS;
use common::routes::{Endpoint, Route, ROUTES};
use common::*;
use serde_json::Value;

const WAIT_MS: u64 = 10_000;
const IDFA: &str = "6D92078A-8246-4BA4-AE5B-76104861E7DC";
const ZEROED: &str = "00000000-0000-0000-0000-000000000000";

/// One row of the privacy table (docs/privacy.md): the state as the app reports it.
struct Row {
    action_source: ActionSource,
    privacy: PrivacyState,
    user_data_without_tracking: bool,
}

/// The state a row of the privacy table names. Every row of the table must be known here.
fn row(label: &str) -> Row {
    let android = |privacy| Row {
        action_source: ActionSource::AppAndroid,
        privacy,
        user_data_without_tracking: false,
    };
    let ios = |authorization, id: Option<&str>| Row {
        action_source: ActionSource::AppIos,
        privacy: PrivacyState {
            tracking_authorization: Some(authorization),
            advertising_id: id.map(str::to_string),
            ..Default::default()
        },
        user_data_without_tracking: false,
    };
    use TrackingAuthorization::*;
    match label {
        "Android, GAID" => android(privacy_with_id(GAID)),
        "Android, ads personalization opted out" => android(PrivacyState {
            opt_out: true,
            ..privacy_with_id(GAID)
        }),
        "Android, zeroed GAID" => android(privacy_with_id(ZEROED)),
        "iOS, ATT authorized, IDFA" => ios(Authorized, Some(IDFA)),
        "iOS, ATT authorized, zeroed IDFA" => ios(Authorized, Some(ZEROED)),
        "iOS, ATT denied" => ios(Denied, Some(ZEROED)),
        "iOS, ATT restricted" => ios(Restricted, None),
        "iOS, ATT not determined" => ios(NotDetermined, None),
        "iOS, ATT denied, `user_data_without_tracking`" => Row {
            user_data_without_tracking: true,
            ..ios(Denied, None)
        },
        "Collection disabled (consent withdrawn)" => android(PrivacyState {
            collection_enabled: false,
            ..privacy_with_id(GAID)
        }),
        other => panic!("docs/privacy.md table: unknown state {other:?}"),
    }
}

/// The privacy table of docs/privacy.md: state label -> (column head -> cell).
fn readme_table() -> Vec<(String, BTreeMap<String, String>)> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/privacy.md"))
        .expect("docs/privacy.md");
    let section = readme
        .split("## What each state sends")
        .nth(1)
        .expect("docs/privacy.md has the section");
    let lines: Vec<&str> = section
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .collect();
    let cells = |line: &str| -> Vec<String> {
        line.trim_matches('|')
            .split('|')
            .map(|c| c.trim().to_string())
            .collect()
    };
    let heads = cells(lines[0]);
    lines[2..]
        .iter()
        .map(|line| {
            let cells = cells(line);
            let row = heads[1..]
                .iter()
                .cloned()
                .zip(cells[1..].iter().cloned())
                .collect();
            (cells[0].clone(), row)
        })
        .collect()
}

/// Every user-data field set, so each one's fate shows.
fn everything() -> Event {
    Event {
        user_data: Some(UserData {
            emails: vec!["Person@Example.com".into()],
            phone_numbers: vec!["+1 (415) 555-0100".into()],
            first_names: vec!["Ada".into()],
            last_names: vec!["Lovelace".into()],
            genders: vec!["f".into()],
            dates_of_birth: vec!["1990-01-31".into()],
            cities: vec!["San Francisco".into()],
            states: vec!["CA".into()],
            zip_codes: vec!["94103".into()],
            countries: vec!["US".into()],
            external_ids: vec!["user-42".into()],
            ..Default::default()
        }),
        ..checkout("24.99")
    }
}

/// A client for `row` on `endpoint`'s route, on a manual `clock` if given.
fn client_for(
    endpoint: &Endpoint,
    dir: &std::path::Path,
    row: &Row,
    change: impl FnOnce(&mut app_conversions::ClientConfig),
    clock: Option<Arc<ManualClock>>,
) -> Arc<ConversionsClient> {
    let mut cfg = endpoint.config(&dir.join("buffer.db"));
    cfg.action_source = row.action_source;
    cfg.user_data_without_tracking = row.user_data_without_tracking;
    change(&mut cfg);
    match clock {
        Some(clock) => {
            let clock: Arc<dyn Clock> = clock;
            ConversionsClient::with_clock(cfg, app(), device(), row.privacy.clone(), clock)
        }
        None => ConversionsClient::new(cfg, app(), device(), row.privacy.clone()),
    }
    .expect("client")
}

/// What the table's cell says for `field` of an arrived `event` (`None`: not one event arrived).
fn observed(event: Option<&Value>, head: &str, route: Route) -> String {
    let Some(event) = event else {
        return "nothing sent".into();
    };
    let user = &event["user_data"];
    let present = |field: &str| user.get(field).is_some();
    let group = |fields: &[&str]| {
        let sent: Vec<bool> = fields.iter().map(|f| present(f)).collect();
        assert!(
            sent.iter().all(|s| *s == sent[0]),
            "{head}: the fields of one cell disagree: {fields:?} -> {sent:?}"
        );
        if sent[0] { "sent" } else { "withheld" }.to_string()
    };
    let heads: Vec<&str> = head
        .split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, name)| name)
        .collect();
    match head {
        "`opt_out`" => event["opt_out"].to_string(),
        "IP (through the relay)" => match (route, present("client_ip_address")) {
            (Route::Relay, true) => "sent".into(),
            (Route::Relay, false) => "withheld".into(),
            (Route::Direct, sent) => {
                assert!(!sent, "a direct request carries no IP the app did not give");
                "sent".into() // the cell speaks of the relay route
            }
        },
        "user agent" => if present("client_user_agent") {
            "sent"
        } else {
            "withheld"
        }
        .into(),
        _ => {
            assert!(
                heads.iter().all(|h| HASHED_FIELDS.contains(h)),
                "unknown column {head}"
            );
            group(&heads)
        }
    }
}

/// Tracks the all-fields checkout in state `label`; returns it as it arrived (if it did) and
/// how many events were dropped for meeting no identity option.
fn send_in(label: &str, route: Route) -> (Option<Value>, u64) {
    let endpoint = Endpoint::start(route);
    let dir = tempfile::tempdir().unwrap();
    let client = client_for(&endpoint, dir.path(), &row(label), |_| {}, None);
    client.track(everything()).unwrap();
    let report = client.flush(WAIT_MS).unwrap();
    assert!(!report.timed_out);
    let dropped = client.diagnostics().dropped_no_identity;
    client.shutdown(WAIT_MS).unwrap();
    let arrived = endpoint.arrived();
    assert!(arrived.len() <= 1, "{label}: {arrived:?}");
    (arrived.first().cloned(), dropped)
}

#[test]
fn every_cell_of_the_readme_privacy_table_holds_directly_and_through_the_relay() {
    let table = readme_table();
    assert!(
        table.len() >= 10,
        "the privacy table lost rows: {}",
        table.len()
    );
    let mut checked = 0;
    for route in ROUTES {
        for (label, cells) in &table {
            let (event, dropped) = send_in(label, route);
            let identifiable = cells.values().any(|cell| cell == "sent")
                && (cells["`em` `ph`"] == "sent" || cells["`hashed_maids`"] == "sent");
            if route == Route::Direct && event.is_none() && !identifiable {
                // Straight to the API, an event with no em, no maids and no IP cannot be
                // accepted: the table says it is dropped and counted instead.
                let expect_drop = cells.values().any(|cell| cell != "nothing sent");
                assert_eq!(dropped, u64::from(expect_drop), "{label}, direct");
                checked += 1;
                continue;
            }
            for (head, expected) in cells {
                let seen = observed(event.as_ref(), head, route);
                assert_eq!(
                    &seen, expected,
                    "docs/privacy.md table, state {label:?}, column {head}, {route:?}: {event:?}"
                );
                checked += 1;
            }
        }
    }
    println!("privacy table: {checked} cells checked");
}

/// [`everything`] with the IP the app may know (from its backend): without tracking
/// authorization it alone lets a direct request meet the identity rule.
fn everything_with_ip() -> Event {
    let mut event = everything();
    if let Some(user) = event.user_data.as_mut() {
        user.client_ip_address = Some("203.0.113.7".into());
    }
    event
}

#[test]
fn revoking_tracking_strips_events_already_queued_and_allowing_it_adds_nothing() {
    for route in ROUTES {
        let endpoint = Endpoint::start(route);
        let dir = tempfile::tempdir().unwrap();
        let authorized = row("iOS, ATT authorized, IDFA");
        let clock = Arc::new(ManualClock::new(app_conversions::SystemClock.now_ms()));
        let client = client_for(
            &endpoint,
            dir.path(),
            &authorized,
            |_| {},
            Some(clock.clone()),
        );
        client.track(everything_with_ip()).unwrap();
        assert!(client.settle(WAIT_MS));
        assert!(
            endpoint.sandbox.requests().is_empty(),
            "it waits for the interval"
        );
        client.set_privacy(row("iOS, ATT denied").privacy).unwrap();
        let report = client.flush(WAIT_MS).unwrap();
        assert_eq!(report.processed, 1, "{route:?} {report:?}");
        // Recorded while denied, sent after the user allowed tracking: still nothing added.
        client.track(everything_with_ip()).unwrap();
        client.set_privacy(authorized.privacy.clone()).unwrap();
        client.flush(WAIT_MS).unwrap();
        client.shutdown(WAIT_MS).unwrap();
        let arrived = endpoint.arrived();
        assert_eq!(arrived.len(), 2, "{route:?}");
        for event in &arrived {
            assert_eq!(event["opt_out"], true, "{route:?} {event}");
            for field in HASHED_FIELDS {
                assert!(event["user_data"].get(field).is_none(), "{route:?} {field}");
            }
        }
    }
}

/// An iOS first launch with the SDK's wait for the prompt (60 s, as the Swift layer sets it),
/// on a manual clock, through the relay (an opted-out install meets the identity rule by IP).
struct Prompt {
    endpoint: Endpoint,
    dir: tempfile::TempDir,
    clock: Arc<ManualClock>,
}

impl Prompt {
    fn new() -> Prompt {
        Prompt {
            endpoint: Endpoint::start(Route::Relay),
            dir: tempfile::tempdir().unwrap(),
            clock: Arc::new(ManualClock::new(app_conversions::SystemClock.now_ms())),
        }
    }

    fn launch(&self, privacy: PrivacyState) -> Arc<ConversionsClient> {
        let row = Row {
            privacy,
            ..row("iOS, ATT not determined")
        };
        let client = client_for(
            &self.endpoint,
            self.dir.path(),
            &row,
            |c| c.first_launch_wait_for_authorization_secs = 60,
            Some(self.clock.clone()),
        );
        client.on_launch().unwrap();
        assert!(client.settle(WAIT_MS));
        client
    }

    fn pass(&self, client: &ConversionsClient, secs: u64) {
        self.clock.advance(Duration::from_secs(secs));
        assert!(client.settle(WAIT_MS));
    }

    fn arrived(&self, client: &ConversionsClient) -> Vec<Value> {
        client.flush(WAIT_MS).unwrap();
        self.endpoint.arrived()
    }
}

fn not_determined() -> PrivacyState {
    row("iOS, ATT not determined").privacy
}

#[test]
fn an_install_waits_for_the_prompt_and_carries_the_idfa_the_user_allows() {
    let prompt = Prompt::new();
    let client = prompt.launch(not_determined());
    prompt.pass(&client, 30);
    assert!(prompt.endpoint.sandbox.requests().is_empty(), "held");
    client
        .set_privacy(row("iOS, ATT authorized, IDFA").privacy)
        .unwrap();
    let arrived = prompt.arrived(&client);
    assert_eq!(arrived.len(), 1);
    let install = &arrived[0];
    assert_eq!(install["event_name"], "app_install");
    assert_eq!(install["opt_out"], false);
    assert_eq!(
        install["user_data"]["hashed_maids"][0],
        sha256(&IDFA.to_ascii_lowercase())
    );
    let woke = client.diagnostics().upload_wakeups;
    prompt.pass(&client, 3600);
    assert_eq!(
        client.diagnostics().upload_wakeups,
        woke,
        "no wake-up left behind by the wait"
    );
}

#[test]
fn a_denied_prompt_releases_the_install_at_once_without_identifiers() {
    let prompt = Prompt::new();
    let client = prompt.launch(not_determined());
    client.set_privacy(row("iOS, ATT denied").privacy).unwrap();
    let arrived = prompt.arrived(&client);
    assert_eq!(arrived.len(), 1);
    assert_eq!(arrived[0]["event_name"], "app_install");
    assert_eq!(arrived[0]["opt_out"], true);
    assert!(arrived[0]["user_data"].get("hashed_maids").is_none());
}

#[test]
fn an_unanswered_prompt_releases_the_install_when_the_wait_runs_out() {
    let prompt = Prompt::new();
    let client = prompt.launch(not_determined());
    prompt.pass(&client, 59);
    assert!(prompt.endpoint.sandbox.requests().is_empty(), "still held");
    let woke = client.diagnostics().upload_wakeups;
    prompt.pass(&client, 1);
    let arrived = prompt.arrived(&client);
    assert_eq!(arrived.len(), 1, "released by the timeout");
    assert_eq!(arrived[0]["event_name"], "app_install");
    assert_eq!(arrived[0]["opt_out"], true);
    assert!(
        client.diagnostics().upload_wakeups - woke <= 3,
        "the release costs a wake-up or two"
    );
}

#[test]
fn only_the_first_launch_waits() {
    let prompt = Prompt::new();
    let client = prompt.launch(row("iOS, ATT denied").privacy);
    assert_eq!(prompt.arrived(&client).len(), 1, "not waiting: answered");
    client.shutdown(WAIT_MS).unwrap();
    let client = prompt.launch(not_determined());
    let arrived = prompt.endpoint.arrived();
    assert_eq!(arrived.len(), 2, "the app_open went at once: {arrived:?}");
    assert_eq!(arrived[1]["event_name"], "app_open");
    client.shutdown(WAIT_MS).unwrap();
}

#[test]
fn a_held_install_is_recorded_when_the_app_stops_and_sent_by_the_next_start() {
    let prompt = Prompt::new();
    let client = prompt.launch(not_determined());
    client.shutdown(WAIT_MS).unwrap();
    assert!(prompt.endpoint.sandbox.requests().is_empty());
    let client = prompt.launch(not_determined());
    let arrived = prompt.arrived(&client);
    let names: Vec<&str> = arrived
        .iter()
        .map(|e| e["event_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["app_install", "app_open"]);
}

#[test]
fn an_android_app_never_waits() {
    let prompt = Prompt::new();
    let row = row("Android, GAID");
    let client = client_for(
        &prompt.endpoint,
        prompt.dir.path(),
        &row,
        |c| c.first_launch_wait_for_authorization_secs = 60,
        Some(prompt.clock.clone()),
    );
    client.on_launch().unwrap();
    let arrived = prompt.arrived(&client);
    assert_eq!(arrived.len(), 1);
    assert_eq!(arrived[0]["event_name"], "app_install");
}

/// Every field the core can send, set at once: names every key of the wire format.
fn every_field() -> Event {
    let mut event = everything_with_ip();
    event.event_source_url = Some("https://shop.example.com/checkout".into());
    if let Some(user) = event.user_data.as_mut() {
        user.click_id = Some("dj0yJnU9b3JpZ2luYWw".into());
        user.partner_id = Some("partner-user-7".into());
    }
    event.custom_data = Some(app_conversions::CustomData {
        currency: Some("USD".into()),
        value: Some("24.99".into()),
        content_ids: vec!["sku-1".into()],
        contents: vec![app_conversions::ContentItem {
            id: Some("sku-1".into()),
            item_price: Some("24.99".into()),
            quantity: Some(1),
            ..Default::default()
        }],
        num_items: Some(1),
        order_id: Some("A-1001".into()),
        search_string: Some("shoes".into()),
        content_name: Some("Runner".into()),
        content_category: Some("footwear".into()),
        content_brand: Some("Acme".into()),
        opt_out_type: None,
    });
    event
}

#[test]
fn every_field_sent_is_in_the_collected_data_list_the_privacy_manifest_is_checked_against() {
    let list_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/bindings/swift/collected-data.json"
    );
    let list: Value = serde_json::from_str(&std::fs::read_to_string(list_path).unwrap()).unwrap();
    let listed: std::collections::BTreeSet<String> = list["fields"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let endpoint = Endpoint::start(Route::Direct);
    let dir = tempfile::tempdir().unwrap();
    let row = Row {
        privacy: PrivacyState {
            limited_data_processing: true,
            ..row("Android, GAID").privacy
        },
        ..row("Android, GAID")
    };
    let client = client_for(
        &endpoint,
        dir.path(),
        &row,
        |c| c.partner_name = Some("ss-partner".into()),
        None,
    );
    // The install time in app_info comes from the install referrer or the OS.
    let now = app_conversions::SystemClock.now_secs();
    client
        .set_install_referrer(Some(app_conversions::InstallReferrer {
            install_begin_time: Some(now - 60),
            ..Default::default()
        }))
        .unwrap();
    client.track(every_field()).unwrap();
    client.flush(WAIT_MS).unwrap();
    client.shutdown(WAIT_MS).unwrap();
    let arrived = endpoint.arrived();
    let event = arrived[0].as_object().unwrap();
    let mut sent = std::collections::BTreeSet::new();
    for (key, value) in event {
        match value.as_object().filter(|_| {
            ["user_data", "custom_data", "app_info", "device_info"].contains(&key.as_str())
        }) {
            Some(inner) => sent.extend(inner.keys().map(|k| format!("{key}.{k}"))),
            None => {
                sent.insert(key.clone());
            }
        }
    }
    assert_eq!(
        sent, listed,
        "bindings/swift/collected-data.json must list exactly the fields the core sends"
    );
}
