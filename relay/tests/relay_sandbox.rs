//! The relay in front of the sandbox: client IP fill-in, pass-through of the upstream's
//! answers, authentication, limits, and the secrecy of the conversion token.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use app_conversions_relay::{RelayConfig, RelayHandle};
use app_conversions_sandbox::Fault;
use common::*;
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(5);

/// Writes `request` on a fresh connection and reads until the server closes it.
fn raw_http(addr: std::net::SocketAddr, request: &[u8]) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    // The relay may answer and close before reading everything; a failed write is fine.
    let _ = stream.write_all(request);
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply);
    String::from_utf8_lossy(&reply).into_owned()
}

fn ip_of(event: &Value) -> Option<&str> {
    event["user_data"]["client_ip_address"].as_str()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_without_ip_arrives_processed_with_the_peer_ip() {
    let s = setup(|_| {});
    let answer = s.send(vec![event("e-1")]).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.json(),
        json!({"num_events_received": 1, "num_events_processed": 1,
               "events": [{"status": "processed", "error_message": "", "warning_message": ""}]})
    );
    assert!(s.sandbox.wait_for_accepted(1, WAIT));
    let accepted = s.sandbox.accepted();
    assert_eq!(ip_of(&accepted[0]), Some("127.0.0.1"));
    assert_eq!(accepted[0]["user_data"]["client_user_agent"], UA);
    assert_eq!(accepted[0]["custom_data"]["value"], "12.50");

    let line = s.log.lines().pop().unwrap();
    assert!(line.contains(&format!(
        "method=POST path=/v5/ad_accounts/{AD_ACCOUNT}/events test=false status=200 events=1 ips_added=1"
    )));
    assert_log_clean(&s.log.lines());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_ip_is_kept_and_results_stay_in_order() {
    let s = setup(|_| {});
    let mut with_ip = event("has-ip");
    with_ip["user_data"]["client_ip_address"] = json!("198.51.100.4");
    let mut stale = event("stale");
    stale["event_time"] = json!(now() - 30 * 24 * 3600);
    let answer = s.send(vec![event("no-ip"), stale, with_ip]).await;
    // One event fails upstream: the 422 DetailedError comes back as the sandbox sent it.
    assert_eq!(answer.status, 422, "{}", answer.body);
    let body = answer.json();
    assert_eq!(body["code"], 953);
    let statuses: Vec<_> = body["details"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(statuses, ["processed", "failed", "processed"]);

    assert!(s.sandbox.wait_for_accepted(2, WAIT));
    let accepted = s.sandbox.accepted();
    let by_id = |id: &str| {
        accepted
            .iter()
            .find(|e| e["event_id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(ip_of(&by_id("no-ip")), Some("127.0.0.1"));
    assert_eq!(ip_of(&by_id("has-ip")), Some("198.51.100.4"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_is_ignored_from_an_untrusted_peer() {
    let s = setup(|_| {});
    let answer = s
        .post_with(
            Some(APP_TOKEN),
            AD_ACCOUNT,
            "",
            batch(vec![event("xff-untrusted")]),
            &[("x-forwarded-for", "203.0.113.7")],
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(s.sandbox.wait_for_accepted(1, WAIT));
    assert_eq!(ip_of(&s.sandbox.accepted()[0]), Some("127.0.0.1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_is_used_from_a_trusted_peer() {
    let s = setup(|c| c.trusted_proxies = vec!["127.0.0.0/8".to_string(), "10.0.0.0/8".into()]);
    // A forged entry on the left, the client the proxy saw, then an inner proxy.
    let answer = s
        .post_with(
            Some(APP_TOKEN),
            AD_ACCOUNT,
            "",
            batch(vec![event("xff-trusted")]),
            &[("x-forwarded-for", "192.0.2.66, 203.0.113.7, 10.1.2.3")],
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(s.sandbox.wait_for_accepted(1, WAIT));
    assert_eq!(ip_of(&s.sandbox.accepted()[0]), Some("203.0.113.7"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_and_foreign_tokens_get_the_api_bodies() {
    let s = setup(|_| {});
    let body = || batch(vec![event("auth")]);
    let forged = s
        .post(Some("app-token-forged"), AD_ACCOUNT, "", body())
        .await;
    assert_eq!(forged.status, 401);
    assert_eq!(
        forged.body,
        r#"{"code":2,"message":"Authentication failed."}"#
    );
    let missing = s.post(None, AD_ACCOUNT, "", body()).await;
    assert_eq!(missing.status, 401);
    assert_eq!(missing.body, forged.body);
    // The conversion token itself is not an app token.
    let conv = s.post(Some(CONVERSION_TOKEN), AD_ACCOUNT, "", body()).await;
    assert_eq!(conv.status, 401);
    let foreign = s.post(Some(OTHER_APP_TOKEN), AD_ACCOUNT, "", body()).await;
    assert_eq!(foreign.status, 403);
    assert_eq!(
        foreign.body,
        r#"{"code":29,"message":"You are not permitted to access that resource."}"#
    );
    assert!(
        s.sandbox.requests().is_empty(),
        "refused requests reached the upstream"
    );
    assert_log_clean(&s.log.lines());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_429_and_503_pass_through_with_retry_after() {
    let s = setup(|_| {});
    s.sandbox.inject(Fault::Status {
        status: 429,
        retry_after: Some("7".to_string()),
        body: None,
    });
    let limited = s.send(vec![event("busy-1")]).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.headers["retry-after"], "7");
    assert_eq!(limited.json()["code"], 8);

    // A fresh relay: this one now pauses the account's calls for 7 s.
    let s = setup(|_| {});
    s.sandbox.inject(Fault::Status {
        status: 503,
        retry_after: Some("30".to_string()),
        body: Some(r#"{"code":4197,"message":"ramped down"}"#.to_string()),
    });
    let down = s.send(vec![event("busy-2")]).await;
    assert_eq!(down.status, 503);
    assert_eq!(down.headers["retry-after"], "30");
    assert_eq!(down.body, r#"{"code":4197,"message":"ramped down"}"#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_and_too_many_events_are_refused_locally() {
    let s = setup(|c| c.max_body_bytes = 64 * 1024);
    let big: Vec<Value> = (0..400).map(|i| event(&format!("big-{i}"))).collect();
    let answer = s.send(big).await;
    assert_eq!(answer.status, 413);
    assert_eq!(answer.json()["code"], 413);

    // Without Content-Length (chunked), the cap applies while reading.
    let chunk = "x".repeat(40 * 1024);
    let raw = format!(
        "POST /v5/ad_accounts/{AD_ACCOUNT}/events HTTP/1.1\r\nHost: relay\r\n\
         Authorization: Bearer {APP_TOKEN}\r\nTransfer-Encoding: chunked\r\n\
         Connection: close\r\n\r\n{len:x}\r\n{chunk}\r\n{len:x}\r\n{chunk}\r\n0\r\n\r\n",
        len = chunk.len()
    );
    let reply = raw_http(s.relay.local_addr(), raw.as_bytes());
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");
    assert!(s.sandbox.requests().is_empty());

    let s = setup(|_| {});
    let many: Vec<Value> = (0..1001).map(|i| event(&format!("many-{i}"))).collect();
    let answer = s.send(many).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.json()["code"], 4196);
    assert!(answer.json()["message"]
        .as_str()
        .unwrap()
        .starts_with("Invalid request: "));
    let exactly: Vec<Value> = (0..1000).map(|i| event(&format!("max-{i}"))).collect();
    assert_eq!(s.send(exactly).await.status, 200);
    assert_eq!(
        s.sandbox.requests().len(),
        1,
        "only the 1000-event batch went up"
    );

    let junk = s
        .post(Some(APP_TOKEN), AD_ACCOUNT, "", "{not json".into())
        .await;
    assert_eq!(junk.status, 400);
    assert_eq!(junk.json()["code"], 4196);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_mode_is_preserved_and_the_upstream_sees_the_conversion_token() {
    let s = setup(|_| {});
    let answer = s
        .post(
            Some(APP_TOKEN),
            AD_ACCOUNT,
            "?test=true",
            batch(vec![event("t-1")]),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let requests = s.sandbox.requests();
    assert_eq!(requests.len(), 1);
    let seen = &requests[0];
    assert!(seen.test_mode);
    assert_eq!(seen.query, "test=true");
    assert_eq!(seen.path, format!("/v5/ad_accounts/{AD_ACCOUNT}/events"));
    assert_eq!(
        seen.authorization.as_deref(),
        Some(format!("Bearer {CONVERSION_TOKEN}").as_str())
    );
    assert!(!seen.body.contains(APP_TOKEN));
    assert!(
        s.sandbox.accepted().is_empty(),
        "test events are not recorded"
    );
    let line = s.log.lines().pop().unwrap();
    assert!(line.contains("test=true status=200"), "{line}");
    assert_log_clean(&s.log.lines());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_and_slow_upstreams_give_502_and_504() {
    // A port that was just free: nothing listens there.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", free.local_addr().unwrap());
    drop(free);
    let log = app_conversions_relay::RequestLog::new();
    let relay = RelayHandle::start(relay_config(&dead, &log)).unwrap();
    let answer = post_to(
        &client(),
        &relay.base_url(),
        Some(APP_TOKEN),
        AD_ACCOUNT,
        "",
        batch(vec![event("dead")]),
        &[],
    )
    .await;
    assert_eq!(answer.status, 502);
    assert_eq!(answer.json()["code"], 502);
    relay.shutdown();

    let s = setup(|c| c.upstream_timeout = Duration::from_millis(300));
    s.sandbox.inject(Fault::Delay { millis: 2_000 });
    let answer = s.send(vec![event("slow")]).await;
    assert_eq!(answer.status, 504);
    assert_eq!(answer.json()["code"], 504);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_unknown_routes_and_bad_configs() {
    let s = setup(|_| {});
    let health = get(&s.client, format!("{}/healthz", s.relay.base_url())).await;
    assert_eq!(health.status, 200);
    assert_eq!(health.body, "ok");
    let missing = get(&s.client, format!("{}/v5/other", s.relay.base_url())).await;
    assert_eq!(missing.status, 404);

    let bad = RelayConfig::new("http://192.0.2.1", CONVERSION_TOKEN).with_app_token("a", "1");
    let err = RelayHandle::start(bad).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    let no_tokens = RelayConfig::new(s.sandbox.base_url(), CONVERSION_TOKEN);
    assert!(RelayHandle::start(no_tokens).is_err());
}
