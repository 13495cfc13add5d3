//! The emulated endpoint's answers: authentication, structural (400) validation,
//! per-event checks, 200 / 422 answers and test mode.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::{json, Value};

fn processed() -> Value {
    json!({"status": "processed", "error_message": "", "warning_message": ""})
}

#[test]
fn a_valid_batch_is_processed_accepted_and_recorded() {
    let sandbox = start();
    let body = batch(vec![event("a"), full_event("b")]);
    let answer = post_events(&sandbox, &body);
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("content-type"), Some("application/json"));
    assert_eq!(
        answer.json(),
        json!({"num_events_received": 2, "num_events_processed": 2, "events": [processed(), processed()]})
    );
    // Field order as in the API's responses.
    assert!(String::from_utf8_lossy(&answer.body)
        .starts_with(r#"{"num_events_received":2,"num_events_processed":2,"events":["#));
    let accepted = sandbox.accepted();
    assert_eq!(accepted.len(), 2);
    let sent: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        accepted[0], sent["data"][0],
        "accepted events are stored as sent"
    );
    assert_eq!(accepted[1], sent["data"][1]);
    assert_eq!(accepted[1]["custom_data"]["value"], "12.50");
    assert_eq!(sandbox.times_accepted("a"), 1);
    assert_eq!(sandbox.times_accepted("missing"), 0);
    let requests = sandbox.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.path, events_path());
    assert_eq!(r.query, "");
    assert!(!r.test_mode);
    assert_eq!(r.authorization.as_deref(), Some("Bearer sandbox-token"));
    assert_eq!(r.user_agent.as_deref(), Some("sandbox-tests/1.0"));
    assert_eq!(r.body, body);
    assert_eq!(r.status, 200);
}

#[test]
fn duplicate_event_ids_are_both_processed_and_kept() {
    let sandbox = start();
    let answer = post_events(&sandbox, &batch(vec![event("same"), event("same")]));
    assert_eq!(answer.json()["num_events_processed"], 2);
    assert_eq!(sandbox.times_accepted("same"), 2);
}

#[test]
fn authentication_failures_are_401_code_2() {
    let sandbox = start();
    let body = batch(vec![event("a")]);
    for auth in [
        None,
        Some("Bearer wrong"),
        Some("Basic sandbox-token"),
        Some("sandbox-token"),
    ] {
        let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", *a)).collect();
        let answer = raw(
            sandbox.port(),
            "POST",
            &events_path(),
            &headers,
            body.as_bytes(),
        );
        assert_eq!(answer.status, 401, "{auth:?}");
        assert_eq!(
            answer.body,
            br#"{"code":2,"message":"Authentication failed."}"#
        );
        assert_eq!(answer.body.len(), 45, "same length as the live API's body");
    }
    // The scheme is case-insensitive.
    let answer = raw(
        sandbox.port(),
        "POST",
        &events_path(),
        &[("Authorization", "bearer sandbox-token")],
        body.as_bytes(),
    );
    assert_eq!(answer.status, 200);
    assert!(sandbox.requests().iter().take(4).all(|r| r.status == 401));
    assert_eq!(sandbox.accepted().len(), 1);
}

#[test]
fn another_ad_account_is_403_code_29() {
    let sandbox = start();
    let answer = post_events_to(
        &sandbox,
        "/v5/ad_accounts/1234/events",
        &batch(vec![event("a")]),
    );
    assert_eq!(answer.status, 403);
    assert_eq!(
        answer.json(),
        json!({"code": 29, "message": "You are not permitted to access that resource."})
    );
    assert!(sandbox.accepted().is_empty());
}

#[test]
fn a_malformed_ad_account_id_is_400() {
    let sandbox = start();
    for id in ["abc", "12a", "1234567890123456789"] {
        let answer = post_events_to(
            &sandbox,
            &format!("/v5/ad_accounts/{id}/events"),
            &batch(vec![event("a")]),
        );
        assert_eq!(answer.status, 400, "{id}");
        assert_eq!(answer.json()["code"], 4196);
    }
}

#[test]
fn unusable_bodies_are_400() {
    let sandbox = start();
    expect_invalid(&sandbox, "", "not valid JSON");
    expect_invalid(&sandbox, "{\"data\": [", "not valid JSON");
    expect_invalid(&sandbox, "[]", "is not of type 'object'");
    expect_invalid(&sandbox, "{}", "'data' is a required property");
    expect_invalid(
        &sandbox,
        r#"{"data": {}}"#,
        "is not of type 'array' at data",
    );
    expect_invalid(&sandbox, r#"{"data": []}"#, "should be non-empty");
    let too_many: Vec<Value> = (0..1001).map(|i| event(&format!("e{i}"))).collect();
    expect_invalid(&sandbox, &batch(too_many), "1001 events");
    let mut extra = json!({"data": [event("a")]});
    extra["test"] = json!(true);
    expect_invalid(
        &sandbox,
        &extra.to_string(),
        "Additional properties are not allowed ('test' was unexpected)",
    );
    assert!(sandbox.accepted().is_empty());
}

#[test]
fn exactly_1000_events_are_allowed() {
    let sandbox = start();
    let events: Vec<Value> = (0..1000).map(|i| event(&format!("e{i}"))).collect();
    let answer = post_events(&sandbox, &batch(events));
    assert_eq!(answer.status, 200);
    assert_eq!(sandbox.accepted().len(), 1000);
}

/// Sends one event modified by `change` and expects a 400 mentioning `fragment`.
fn invalid_event(change: impl FnOnce(&mut Value), fragment: &str) {
    let sandbox = start();
    let mut bad = full_event("bad");
    change(&mut bad);
    expect_invalid(&sandbox, &batch(vec![event("good"), bad]), fragment);
    assert!(sandbox.accepted().is_empty(), "a 400 accepts nothing");
}

#[test]
fn missing_required_event_fields_are_400() {
    for field in [
        "event_name",
        "action_source",
        "event_time",
        "event_id",
        "user_data",
    ] {
        invalid_event(
            |e| {
                e.as_object_mut().unwrap().remove(field);
            },
            &format!("'{field}' is a required property at data[1]"),
        );
    }
}

#[test]
fn wrong_types_are_400() {
    invalid_event(
        |e| e["event_time"] = json!("1700000000"),
        "'1700000000' is not of type 'integer' at data[1].event_time",
    );
    invalid_event(
        |e| e["event_time"] = json!(1.7e9),
        "is not of type 'integer'",
    );
    invalid_event(
        |e| e["event_name"] = json!(5),
        "5 is not of type 'string' at data[1].event_name",
    );
    invalid_event(
        |e| e["event_id"] = json!(null),
        "None is not of type 'string'",
    );
    invalid_event(
        |e| e["opt_out"] = json!("false"),
        "is not of type 'boolean' at data[1].opt_out",
    );
    invalid_event(
        |e| e["wifi"] = json!(1),
        "is not of type 'boolean' at data[1].wifi",
    );
    invalid_event(|e| e["app_name"] = json!(7), "at data[1].app_name");
    invalid_event(
        |e| e["user_data"] = json!([]),
        "is not of type 'object' at data[1].user_data",
    );
    invalid_event(
        |e| e["user_data"]["em"] = json!(HASH),
        "is not of type 'array' at data[1].user_data.em",
    );
    invalid_event(
        |e| e["user_data"]["ph"] = json!([1]),
        "1 is not of type 'string' at data[1].user_data.ph[0]",
    );
    invalid_event(
        |e| e["user_data"]["client_ip_address"] = json!(null),
        "at data[1].user_data.client_ip_address",
    );
    invalid_event(
        |e| e["custom_data"] = json!("x"),
        "is not of type 'object' at data[1].custom_data",
    );
    invalid_event(
        |e| e["custom_data"]["value"] = json!(12.5),
        "12.5 is not of type 'string' at data[1].custom_data.value",
    );
    invalid_event(
        |e| e["custom_data"]["num_items"] = json!("2"),
        "at data[1].custom_data.num_items",
    );
    invalid_event(
        |e| e["custom_data"]["content_ids"] = json!("a"),
        "is not of type 'array'",
    );
    invalid_event(
        |e| e["custom_data"]["contents"][0]["quantity"] = json!(1.5),
        "at data[1].custom_data.contents[0].quantity",
    );
    invalid_event(
        |e| e["custom_data"]["contents"][0]["id"] = json!(null),
        "at data[1].custom_data.contents[0].id",
    );
    invalid_event(
        |e| e["app_info"]["install_time"] = json!("0"),
        "at data[1].app_info.install_time",
    );
    invalid_event(
        |e| e["device_info"]["languages"] = json!(["en", 1]),
        "at data[1].device_info.languages[1]",
    );
}

#[test]
fn unknown_keys_in_closed_objects_are_400() {
    invalid_event(|e| e["advertiser_tracking_enabled"] = json!(true), "Additional properties are not allowed ('advertiser_tracking_enabled' was unexpected) at data[1]");
    invalid_event(
        |e| e["custom_data"]["category_name"] = json!("x"),
        "Invalid request: Additional properties are not allowed ('category_name' was unexpected) at data[1].custom_data",
    );
    invalid_event(
        |e| e["custom_data"]["contents"][0]["sku"] = json!("x"),
        "('sku' was unexpected) at data[1].custom_data.contents[0]",
    );
    invalid_event(
        |e| e["app_info"]["bundle"] = json!("x"),
        "('bundle' was unexpected) at data[1].app_info",
    );
    invalid_event(
        |e| {
            e["device_info"]["x"] = json!(1);
            e["device_info"]["y"] = json!(2);
        },
        "('x', 'y' were unexpected) at data[1].device_info",
    );
}

#[test]
fn ranges_lengths_and_enums_are_400() {
    invalid_event(
        |e| e["device_info"]["battery_level"] = json!(101),
        "101 is greater than the maximum of 100",
    );
    invalid_event(
        |e| e["device_info"]["cpu_cores"] = json!(-1),
        "-1 is less than the minimum of 0",
    );
    invalid_event(
        |e| e["device_info"]["form_factor"] = json!("phone"),
        "'phone' is not one of ['desktop'",
    );
    invalid_event(
        |e| e["device_info"]["network_type"] = json!("5g"),
        "at data[1].device_info.network_type",
    );
    invalid_event(
        |e| e["device_info"]["os_family"] = json!("IOS"),
        "at data[1].device_info.os_family",
    );
    invalid_event(
        |e| e["device_info"]["timezone_abbr"] = json!("ABCDEF"),
        "is too long",
    );
    invalid_event(
        |e| e["device_info"]["languages"] = json!(vec!["en"; 101]),
        "is too long",
    );
    invalid_event(
        |e| e["app_info"]["app_name"] = json!("x".repeat(201)),
        "at data[1].app_info.app_name",
    );
    invalid_event(
        |e| e["app_info"]["window_width"] = json!(30721),
        "greater than the maximum of 30720",
    );
}

#[test]
fn lengths_count_characters_not_bytes() {
    let sandbox = start();
    let mut e = event("a");
    e["device_info"] = json!({"timezone_abbr": "ÄÖÜßé"});
    assert_eq!(post_events(&sandbox, &batch(vec![e])).status, 200);
}

/// Posts `events` and returns the answer (the caller checks the status).
fn per_event(sandbox: &app_conversions_sandbox::Sandbox, events: Vec<Value>) -> common::Answer {
    post_events(sandbox, &batch(events))
}

fn failure_message(answer: &common::Answer, index: usize) -> String {
    let json = answer.json();
    let events = if json.get("details").is_some() {
        &json["details"]["events"]
    } else {
        &json["events"]
    };
    assert_eq!(events[index]["status"], "failed", "{json}");
    assert_eq!(events[index]["warning_message"], "");
    events[index]["error_message"].as_str().unwrap().to_string()
}

#[test]
fn event_names_standard_custom_and_registered() {
    let sandbox = start_with(|c| c.custom_event_names = vec!["TookSurvey".into()]);
    let names = [
        "add_payment_info",
        "add_to_cart",
        "add_to_wishlist",
        "app_install",
        "app_open",
        "checkout",
        "contact",
        "customize_product",
        "find_location",
        "initiate_checkout",
        "lead",
        "page_visit",
        "schedule",
        "search",
        "signup",
        "start_trial",
        "submit_application",
        "subscribe",
        "view_category",
        "view_content",
        "watch_video",
        "custom",
        "TookSurvey",
        "tooksurvey",
    ];
    let events: Vec<Value> = names
        .iter()
        .map(|n| {
            let mut e = event(n);
            e["event_name"] = json!(n);
            e
        })
        .collect();
    assert_eq!(per_event(&sandbox, events).status, 200);

    let mut unknown = event("u");
    unknown["event_name"] = json!("purchase");
    let answer = per_event(&sandbox, vec![unknown.clone()]);
    assert_eq!(answer.status, 422);
    assert!(failure_message(&answer, 0).contains("'purchase'"));

    sandbox.register_custom_event_name("Purchase");
    assert_eq!(per_event(&sandbox, vec![unknown]).status, 200);
}

#[test]
fn user_data_needs_an_identifier() {
    let sandbox = start();
    let with = |user_data: Value| {
        let mut e = event("x");
        e["user_data"] = user_data;
        e
    };
    let ok = [
        json!({"em": [HASH]}),
        json!({"hashed_maids": [HASH]}),
        json!({"client_ip_address": "203.0.113.1", "client_user_agent": "UA"}),
    ];
    for user_data in ok {
        assert_eq!(
            per_event(&sandbox, vec![with(user_data.clone())]).status,
            200,
            "{user_data}"
        );
    }
    let bad = [
        json!({}),
        json!({"ph": [HASH], "external_id": [HASH]}),
        json!({"client_ip_address": "203.0.113.1"}),
        json!({"client_user_agent": "UA"}),
        json!({"em": []}),
        json!({"client_ip_address": "", "client_user_agent": "UA"}),
    ];
    for user_data in bad {
        let answer = per_event(&sandbox, vec![with(user_data.clone())]);
        assert_eq!(answer.status, 422, "{user_data}");
        assert!(
            failure_message(&answer, 0).contains("at least one of"),
            "{user_data}"
        );
    }
}

#[test]
fn hashed_fields_must_be_lowercase_sha256_hex() {
    let sandbox = start();
    let fields = [
        "em",
        "ph",
        "fn",
        "ln",
        "ge",
        "db",
        "ct",
        "st",
        "zp",
        "country",
        "external_id",
        "hashed_maids",
    ];
    for field in fields {
        for value in [
            "jane@example.com",
            &HASH.to_uppercase(),
            &HASH[1..],
            &format!("{HASH}0"),
        ] {
            let mut e = event("h");
            e["user_data"]["client_ip_address"] = json!("203.0.113.1");
            e["user_data"]["client_user_agent"] = json!("UA");
            e["user_data"][field] = json!([HASH, value]);
            let answer = per_event(&sandbox, vec![e]);
            assert_eq!(answer.status, 422, "{field}={value}");
            let message = failure_message(&answer, 0);
            assert!(
                message.contains(&format!("user_data.{field}[1]")),
                "{message}"
            );
            assert!(message.contains("hashed format"), "{message}");
        }
    }
    assert!(sandbox.accepted().is_empty());
}

#[test]
fn event_time_window() {
    let sandbox = start();
    let at = |t: i64| {
        let mut e = event("t");
        e["event_time"] = json!(t);
        e
    };
    let now = now();
    assert_eq!(
        per_event(&sandbox, vec![at(now + 200)]).status,
        200,
        "within skew tolerance"
    );
    assert_eq!(
        per_event(&sandbox, vec![at(now - 6 * 86_400)]).status,
        200,
        "six days old"
    );

    let answer = per_event(&sandbox, vec![at(now + 3600)]);
    assert_eq!(answer.status, 422);
    assert!(failure_message(&answer, 0).contains("in the future"));

    let answer = per_event(&sandbox, vec![at(1_678_203_524)]);
    assert_eq!(answer.status, 422);
    let message = failure_message(&answer, 0);
    assert!(
        message.starts_with("Invalid event_timestamp parameter. Given timestamp is in the past. Current timestamp: "),
        "{message}"
    );
    assert!(
        message.ends_with(", Given event_timestamp: 1678203524"),
        "{message}"
    );

    let answer = per_event(&sandbox, vec![at(i64::MAX)]);
    assert_eq!(answer.status, 422);
    // Beyond int64 the schema's `format: int64` rejects the whole request.
    let mut huge = event("big");
    huge["event_time"] = json!(u64::MAX);
    expect_invalid(
        &sandbox,
        &batch(vec![huge]),
        "greater than the maximum of 9223372036854775807 at data[0].event_time",
    );
}

#[test]
fn event_time_limits_are_configurable() {
    let sandbox = start_with(|c| {
        c.future_tolerance_secs = 0;
        c.max_event_age_secs = 60;
    });
    let mut future = event("f");
    future["event_time"] = json!(now() + 30);
    let mut old = event("o");
    old["event_time"] = json!(now() - 120);
    let answer = per_event(&sandbox, vec![future, old]);
    assert_eq!(answer.status, 422);
    assert!(failure_message(&answer, 0).contains("future"));
    assert!(failure_message(&answer, 1).contains("past"));
}

#[test]
fn a_partly_failed_batch_is_422_with_details_and_accepts_the_rest() {
    let sandbox = start();
    let mut bad = event("bad");
    bad["user_data"] = json!({"em": ["plain@example.com"]});
    let answer = per_event(&sandbox, vec![event("good"), bad]);
    assert_eq!(answer.status, 422);
    let json = answer.json();
    assert_eq!(json["code"], 953);
    assert_eq!(
        json["message"],
        "The action could not be processed properly due to some or all data provided being invalid."
    );
    assert_eq!(json["details"]["num_events_received"], 2);
    assert_eq!(json["details"]["num_events_processed"], 1);
    assert_eq!(json["details"]["events"][0], processed());
    assert_eq!(sandbox.times_accepted("good"), 1);
    assert_eq!(sandbox.times_accepted("bad"), 0);
    assert_eq!(
        sandbox.accepted(),
        vec![event("good")],
        "only the good one kept"
    );
    assert_eq!(sandbox.accepted_count(), 1);
    assert_eq!(sandbox.requests()[0].status, 422);
}

#[test]
fn partial_failure_status_can_be_200() {
    let sandbox = start_with(|c| c.partial_failure_status = 200);
    let mut bad = event("bad");
    bad["event_name"] = json!("nope");
    let answer = per_event(&sandbox, vec![event("good"), bad.clone()]);
    assert_eq!(answer.status, 200);
    let json = answer.json();
    assert_eq!(json["num_events_processed"], 1);
    assert_eq!(json["events"][1]["status"], "failed");
    // A batch in which every event failed is still a 422.
    assert_eq!(per_event(&sandbox, vec![bad]).status, 422);
}

#[test]
fn test_mode_answers_the_same_and_records_nothing() {
    let sandbox = start();
    for query in ["test=true", "test=True", "a=1&test=TRUE"] {
        let answer = post_events_to(
            &sandbox,
            &format!("{}?{query}", events_path()),
            &batch(vec![event("t")]),
        );
        assert_eq!(answer.status, 200, "{query}");
        assert_eq!(answer.json()["num_events_processed"], 1);
    }
    assert!(sandbox.accepted().is_empty());
    let requests = sandbox.requests();
    assert!(requests.iter().all(|r| r.test_mode));
    assert_eq!(requests[0].query, "test=true");
    assert_eq!(requests[0].path, events_path());

    let answer = post_events_to(
        &sandbox,
        &format!("{}?test=false", events_path()),
        &batch(vec![event("real")]),
    );
    assert_eq!(answer.status, 200);
    assert_eq!(sandbox.times_accepted("real"), 1);
    assert!(!sandbox.requests()[3].test_mode);
}

#[test]
fn test_mode_processes_only_the_first_20_events() {
    let sandbox = start();
    let events: Vec<Value> = (0..25).map(|i| event(&format!("t{i}"))).collect();
    let answer = post_events_to(
        &sandbox,
        &format!("{}?test=true", events_path()),
        &batch(events),
    );
    assert_eq!(answer.status, 422);
    let details = &answer.json()["details"];
    assert_eq!(details["num_events_received"], 25);
    assert_eq!(details["num_events_processed"], 20);
    assert_eq!(details["events"][19], processed());
    for i in 20..25 {
        assert_eq!(
            details["events"][i]["error_message"],
            "Test requests process only the first 20 events."
        );
    }
    assert!(sandbox.accepted().is_empty());
}

#[test]
fn test_mode_still_validates() {
    let sandbox = start();
    let mut bad = event("b");
    bad["event_time"] = json!(1);
    let answer = post_events_to(
        &sandbox,
        &format!("{}?test=true", events_path()),
        &batch(vec![bad]),
    );
    assert_eq!(answer.status, 422);
    let answer = post_events_to(&sandbox, &format!("{}?test=true", events_path()), "{}");
    assert_eq!(answer.status, 400);
}

#[test]
fn accepted_events_are_kept_as_the_text_they_came_in() {
    let sandbox = start();
    let mut escaped = event("caf\u{e9} \"quoted\"");
    escaped["custom_data"] = json!({"content_name": "line\nbreak \\ \u{1F600}"});
    let events = vec![event("plain"), escaped];
    // Pretty-printed, so each event's text is not what serde_json would write.
    let body = format!(
        "{{\n  \"data\": {}\n}}",
        serde_json::to_string_pretty(&events).unwrap()
    );
    assert_eq!(post_events(&sandbox, &body).status, 200);
    assert_eq!(sandbox.accepted(), events);
    assert_eq!(sandbox.times_accepted("caf\u{e9} \"quoted\""), 1);
}
