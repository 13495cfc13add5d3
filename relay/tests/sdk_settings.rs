//! The SDK's remote settings route, `GET /v5/ad_accounts/{id}/sdk-settings`: the app token's
//! authentication as for events, the ad account's versioned document with an `ETag` and
//! `Cache-Control: max-age`, `304` on `If-None-Match`, `{}` for an ad account without
//! settings, and the settings file read again when it changes or on reload (SIGHUP).

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::*;
use serde_json::{json, Value};

/// GETs the settings of `account` with `token` and `If-None-Match: etag`.
fn fetch(
    setup: &Setup,
    account: &str,
    token: Option<&str>,
    etag: Option<&str>,
) -> (u16, Option<String>, Option<String>, String) {
    let url = format!(
        "{}/v5/ad_accounts/{account}/sdk-settings",
        setup.relay.base_url()
    );
    let mut request = setup.client.get(&url);
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    if let Some(etag) = etag {
        request = request.header("If-None-Match", etag);
    }
    let mut response = request.call().unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    };
    let (etag, cache) = (header("etag"), header("cache-control"));
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string().unwrap();
    (status, etag, cache, body)
}

fn write(path: &Path, value: Value) {
    std::fs::write(path, value.to_string()).unwrap();
}

#[test]
fn the_relay_serves_caches_and_answers_304() {
    let setup = setup(|c| {
        c.sdk_settings.insert(
            AD_ACCOUNT.into(),
            json!({"collection_enabled": false, "settings_ttl_secs": 3600}),
        );
    });
    let (status, etag, cache, body) = fetch(&setup, AD_ACCOUNT, Some(APP_TOKEN), None);
    assert_eq!(status, 200);
    let document: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        document,
        json!({"version": 1, "collection_enabled": false, "settings_ttl_secs": 3600})
    );
    assert_eq!(cache.as_deref(), Some("max-age=3600"));
    let etag = etag.unwrap();
    let (status, again, cache, body) = fetch(&setup, AD_ACCOUNT, Some(APP_TOKEN), Some(&etag));
    assert_eq!((status, body.as_str()), (304, ""));
    assert_eq!(again.as_deref(), Some(etag.as_str()));
    assert_eq!(cache.as_deref(), Some("max-age=3600"));
    let (status, _, _, _) = fetch(&setup, AD_ACCOUNT, Some(APP_TOKEN), Some("\"stale\""));
    assert_eq!(status, 200);
}

#[test]
fn the_same_auth_as_events_and_an_account_without_settings_gets_an_empty_document() {
    let setup = setup(|_| {});
    assert_eq!(fetch(&setup, AD_ACCOUNT, None, None).0, 401);
    assert_eq!(fetch(&setup, AD_ACCOUNT, Some("nope"), None).0, 401);
    assert_eq!(
        fetch(&setup, AD_ACCOUNT, Some(OTHER_APP_TOKEN), None).0,
        403
    );
    let (status, etag, cache, body) = fetch(&setup, AD_ACCOUNT, Some(APP_TOKEN), None);
    assert_eq!((status, body.as_str()), (200, "{}"));
    assert!(etag.is_some());
    assert_eq!(cache.as_deref(), Some("max-age=86400"));
    // Nothing went upstream for it.
    assert!(setup.sandbox.requests().is_empty());
}

#[test]
fn the_settings_file_is_read_again_when_it_changes_and_on_reload() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sdk-settings.json");
    write(&file, json!({AD_ACCOUNT: {"max_batch": 100}}));
    let path = file.clone();
    let setup = setup(move |c| {
        c.sdk_settings
            .insert(AD_ACCOUNT.into(), json!({"max_batch": 5}));
        c.sdk_settings
            .insert(OTHER_AD_ACCOUNT.into(), json!({"flush_interval_secs": 600}));
        c.sdk_settings_file = Some(path);
    });
    let document = |account: &str, token: &str| -> Value {
        serde_json::from_str(&fetch(&setup, account, Some(token), None).3).unwrap()
    };
    assert_eq!(
        document(AD_ACCOUNT, APP_TOKEN)["max_batch"],
        100,
        "the file's entry wins"
    );
    assert_eq!(
        document(OTHER_AD_ACCOUNT, OTHER_APP_TOKEN)["flush_interval_secs"],
        600
    );
    // A change (another length) is noticed at the next request.
    write(&file, json!({AD_ACCOUNT: {"collection_enabled": false}}));
    assert_eq!(document(AD_ACCOUNT, APP_TOKEN)["collection_enabled"], false);
    // A broken file keeps what was served, on a change and on a reload (SIGHUP).
    std::fs::write(&file, "{\"549768257474\": [").unwrap();
    assert_eq!(document(AD_ACCOUNT, APP_TOKEN)["collection_enabled"], false);
    let error = setup.relay.reload_sdk_settings().unwrap_err();
    assert!(error.contains("sdk-settings.json"), "{error}");
    assert_eq!(document(AD_ACCOUNT, APP_TOKEN)["collection_enabled"], false);
    write(&file, json!({AD_ACCOUNT: {"collection_enabled": true}}));
    setup.relay.reload_sdk_settings().unwrap();
    assert_eq!(document(AD_ACCOUNT, APP_TOKEN)["collection_enabled"], true);
}

#[test]
fn settings_the_sdk_would_ignore_stop_the_start() {
    for (settings, expected) in [
        (json!(false), "must be an object"),
        (json!({"pad": "x".repeat(5000)}), "more than the 4096"),
    ] {
        let mut config = relay_config(
            "http://127.0.0.1:1",
            &app_conversions_relay::RequestLog::new(),
        );
        config.sdk_settings.insert(AD_ACCOUNT.into(), settings);
        let error = app_conversions_relay::RelayHandle::start(config).unwrap_err();
        assert!(error.to_string().contains(expected), "{error}");
    }
    let mut config = relay_config(
        "http://127.0.0.1:1",
        &app_conversions_relay::RequestLog::new(),
    );
    config.sdk_settings_file = Some("/nonexistent/sdk-settings.json".into());
    let error = app_conversions_relay::RelayHandle::start(config).unwrap_err();
    assert!(error.to_string().contains("sdk settings file"), "{error}");
}
