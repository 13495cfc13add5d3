//! Each injectable fault, its effect on the wire, on the request log and on `accepted`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use app_conversions_sandbox::Fault;
use common::*;
use serde_json::json;

fn status(status: u16) -> Fault {
    Fault::Status {
        status,
        retry_after: None,
        body: None,
    }
}

#[test]
fn status_faults_use_the_real_bodies_and_accept_nothing() {
    let sandbox = start();
    let expected = [
        (
            400,
            json!({"code": 4196, "message": "The request was invalid."}),
        ),
        (401, json!({"code": 2, "message": "Authentication failed."})),
        (
            403,
            json!({"code": 29, "message": "You are not permitted to access that resource."}),
        ),
        (
            429,
            json!({"code": 8, "message": "This request exceeded a rate limit. This can happen if the client exceeds one\nof the published rate limits within a short time window."}),
        ),
        (
            503,
            json!({"code": 4197, "message": "The endpoint has been ramped down and is currently not accepting any traffic."}),
        ),
    ];
    for (code, body) in &expected {
        sandbox.inject(status(*code));
        let answer = post_events(&sandbox, &batch(vec![event("f")]));
        assert_eq!(answer.status, *code);
        assert_eq!(answer.json(), *body);
        assert_eq!(answer.header("retry-after"), None);
    }
    for code in [408, 500, 502, 504] {
        sandbox.inject(status(code));
        let answer = post_events(&sandbox, &batch(vec![event("f")]));
        assert_eq!(answer.status, code);
        assert!(answer.json()["code"].is_number());
    }
    assert!(sandbox.accepted().is_empty());
    let statuses: Vec<u16> = sandbox.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [400, 401, 403, 429, 503, 408, 500, 502, 504]);
}

#[test]
fn a_422_fault_fails_every_event_in_details() {
    let sandbox = start();
    sandbox.inject(status(422));
    let answer = post_events(&sandbox, &batch(vec![event("a"), event("b")]));
    assert_eq!(answer.status, 422);
    let json = answer.json();
    assert_eq!(json["code"], 953);
    assert_eq!(json["details"]["num_events_received"], 2);
    assert_eq!(json["details"]["num_events_processed"], 0);
    assert_eq!(json["details"]["events"][1]["status"], "failed");
}

#[test]
fn retry_after_and_custom_bodies_are_sent_verbatim() {
    let sandbox = start();
    let date = "Wed, 21 Oct 2026 07:28:00 GMT";
    sandbox.inject(Fault::Status {
        status: 429,
        retry_after: Some(date.into()),
        body: None,
    });
    sandbox.inject(Fault::Status {
        status: 503,
        retry_after: Some("1".into()),
        body: Some("upstream says no".into()),
    });
    let first = post_events(&sandbox, &batch(vec![event("a")]));
    assert_eq!(
        (first.status, first.header("retry-after")),
        (429, Some(date))
    );
    let second = post_events(&sandbox, &batch(vec![event("a")]));
    assert_eq!(
        (second.status, second.header("retry-after")),
        (503, Some("1"))
    );
    assert_eq!(second.body, b"upstream says no");
}

#[test]
fn faults_apply_once_each_in_order_even_to_bad_requests() {
    let sandbox = start();
    sandbox.inject(status(503));
    sandbox.inject(status(500));
    // A fault decides the answer before authentication.
    let unauthenticated = raw(sandbox.port(), "POST", &events_path(), &[], b"{}");
    assert_eq!(unauthenticated.status, 503);
    assert_eq!(post_events(&sandbox, &batch(vec![event("a")])).status, 500);
    assert_eq!(post_events(&sandbox, &batch(vec![event("a")])).status, 200);
    assert_eq!(sandbox.times_accepted("a"), 1);
}

#[test]
fn control_requests_do_not_consume_faults() {
    let sandbox = start();
    sandbox.inject(status(503));
    let health = raw(sandbox.port(), "GET", "/_sandbox/health", &[], b"");
    assert_eq!(health.status, 200);
    assert_eq!(post_events(&sandbox, &batch(vec![event("a")])).status, 503);
}

#[test]
fn reset_forgets_queued_faults() {
    let sandbox = start();
    sandbox.inject(status(503));
    sandbox.reset();
    assert_eq!(post_events(&sandbox, &batch(vec![event("a")])).status, 200);
}

#[test]
fn delay_answers_normally_after_the_pause() {
    let sandbox = start();
    sandbox.inject(Fault::Delay { millis: 400 });
    let started = Instant::now();
    let answer = post_events(&sandbox, &batch(vec![event("slow")]));
    assert!(started.elapsed() >= Duration::from_millis(400));
    assert_eq!(answer.status, 200);
    assert_eq!(sandbox.times_accepted("slow"), 1);
}

#[test]
fn a_delayed_request_does_not_stall_others() {
    let sandbox = start();
    sandbox.inject(Fault::Delay { millis: 3000 });
    let port = sandbox.port();
    let slow = std::thread::spawn(move || {
        let body = batch(vec![event("slow")]);
        raw(
            port,
            "POST",
            &events_path(),
            &[("Authorization", "Bearer sandbox-token")],
            body.as_bytes(),
        )
    });
    // Let the slow request take its fault first.
    while sandbox.requests().is_empty() {
        std::thread::sleep(Duration::from_millis(5));
    }
    let started = Instant::now();
    for i in 0..6 {
        assert_eq!(
            post_events(&sandbox, &batch(vec![event(&format!("fast{i}"))])).status,
            200
        );
    }
    assert!(
        started.elapsed() < Duration::from_millis(2000),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(slow.join().unwrap().status, 200);
    assert_eq!(sandbox.accepted().len(), 7);
}

#[test]
fn drop_connection_sends_nothing() {
    let sandbox = start();
    sandbox.inject(Fault::DropConnection);
    let answer = post_events(&sandbox, &batch(vec![event("d")]));
    assert_eq!(answer.status, 0);
    assert!(answer.body.is_empty());
    assert_eq!(sandbox.requests()[0].status, 0);
    assert!(sandbox.requests()[0].body.contains("\"d\""));
    assert!(sandbox.accepted().is_empty());
    assert_eq!(post_events(&sandbox, &batch(vec![event("d")])).status, 200);
}

#[test]
fn reset_mid_response_cuts_the_body_short() {
    let sandbox = start();
    sandbox.inject(Fault::ResetMidResponse);
    let answer = post_events(&sandbox, &batch(vec![event("r"), event("s")]));
    assert_eq!(answer.status, 200);
    assert!(answer.truncated, "{answer:?}");
    assert!(!answer.body.is_empty());
    assert!(serde_json::from_slice::<serde_json::Value>(&answer.body).is_err());
    assert!(sandbox.accepted().is_empty());
    assert_eq!(sandbox.requests()[0].status, 200);
}

#[test]
fn garbage_body_is_not_json() {
    let sandbox = start();
    sandbox.inject(Fault::GarbageBody);
    let answer = post_events(&sandbox, &batch(vec![event("g")]));
    assert_eq!(answer.status, 200);
    assert!(!answer.truncated);
    assert!(serde_json::from_slice::<serde_json::Value>(&answer.body).is_err());
    assert!(sandbox.accepted().is_empty());
}

#[test]
fn huge_body_has_the_requested_size() {
    let sandbox = start();
    let bytes = 12 * 1024 * 1024 + 7;
    sandbox.inject(Fault::HugeBody { bytes });
    let answer = post_events(&sandbox, &batch(vec![event("h")]));
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body.len(), bytes);
    assert!(answer.body.starts_with(b"{\"num_events_received\""));
    assert!(sandbox.accepted().is_empty());
    sandbox.inject(Fault::HugeBody { bytes: 3 });
    assert_eq!(
        post_events(&sandbox, &batch(vec![event("h")])).body,
        b"{\"n"
    );
}

#[test]
fn trickle_sends_the_normal_answer_slowly() {
    let sandbox = start();
    sandbox.inject(Fault::Trickle { bytes_per_sec: 400 });
    let started = Instant::now();
    let answer = post_events(&sandbox, &batch(vec![event("t")]));
    let elapsed = started.elapsed();
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json()["num_events_processed"], 1);
    // Roughly 200 bytes of head and body at 400 bytes per second.
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    assert_eq!(sandbox.times_accepted("t"), 1);
}

#[test]
fn wrong_event_count_returns_one_result_too_few() {
    let sandbox = start();
    sandbox.inject(Fault::WrongEventCount);
    let answer = post_events(&sandbox, &batch(vec![event("a"), event("b"), event("c")]));
    assert_eq!(answer.status, 200);
    let json = answer.json();
    assert_eq!(json["num_events_received"], 3);
    assert_eq!(json["events"].as_array().unwrap().len(), 2);
    assert!(sandbox.accepted().is_empty());
}

#[test]
fn redirect_answers_307_with_location() {
    let sandbox = start();
    sandbox.inject(Fault::Redirect {
        location: "http://127.0.0.1:9/elsewhere".into(),
    });
    let answer = post_events(&sandbox, &batch(vec![event("r")]));
    assert_eq!(answer.status, 307);
    assert_eq!(
        answer.header("location"),
        Some("http://127.0.0.1:9/elsewhere")
    );
    assert!(sandbox.accepted().is_empty());
    assert_eq!(sandbox.requests()[0].status, 307);
}
