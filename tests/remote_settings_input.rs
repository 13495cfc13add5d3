//! Hostile remote settings documents, as property tests over the same entry point as the
//! `remote_settings` fuzz target (`fuzz/`): whatever bytes the app's backend (or anything
//! between it and the device) serves, parsing never panics, a document is taken whole or
//! ignored whole, and what it puts in force can only narrow the app's configuration.
//!
//! Cases per property: 256, `RELIABILITY_PROPTEST_CASES=N` for more.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

use app_conversions::internals::{
    narrow_remote_settings, parse_remote_settings, AppTuning, MAX_DOCUMENT_BYTES,
};
use app_conversions::SettingSource;
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{json, Map, Value};

fn cases() -> u32 {
    std::env::var("RELIABILITY_PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(256)
}

fn app(flush_interval_secs: u64, max_batch: u32) -> AppTuning {
    AppTuning {
        flush_interval_secs,
        max_batch,
        flush_interval_source: SettingSource::App,
        max_batch_source: SettingSource::App,
    }
}

/// Any JSON value, a few levels deep.
fn any_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        "[ -~]{0,12}".prop_map(Value::from),
        prop_oneof![Just("0.1.0"), Just("<0.2"), Just(">=0.1 <9"), Just("x")].prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A document with any of the known fields, each holding any value.
fn any_document() -> impl Strategy<Value = Value> {
    let field = prop_oneof![
        Just("version"),
        Just("collection_enabled"),
        Just("flush_interval_secs"),
        Just("max_batch"),
        Just("disabled_sdk_versions"),
        Just("settings_ttl_secs"),
        Just("later_field"),
    ];
    prop::collection::vec((field, any_value()), 0..7).prop_map(|fields| {
        let mut object = Map::new();
        for (name, value) in fields {
            object.insert(name.to_string(), value);
        }
        Value::Object(object)
    })
}

/// Checks what `bytes` puts in force over an app with `flush` and `batch`: only narrower.
fn check_narrowing(bytes: &[u8], flush: u64, batch: u32) -> Result<bool, TestCaseError> {
    let app = app(flush, batch);
    let Ok(document) = parse_remote_settings(bytes) else {
        return Ok(false);
    };
    prop_assert!(bytes.len() <= MAX_DOCUMENT_BYTES);
    let s = narrow_remote_settings(&app, Some(&document), "0.1.0");
    prop_assert!(s.flush_interval_secs >= flush && s.flush_interval_secs <= flush.max(86_400));
    prop_assert!(s.max_batch >= 1 && s.max_batch <= batch);
    prop_assert!((300..=604_800).contains(&s.settings_ttl_secs));
    if document.collection_enabled != Some(false) && document.disabled_sdk_versions.is_empty() {
        prop_assert!(s.collection_enabled);
    }
    Ok(true)
}

proptest! {
    #![proptest_config(Config { cases: cases(), ..Config::default() })]

    #[test]
    fn any_bytes_never_panic_and_only_narrow(
        bytes in prop::collection::vec(any::<u8>(), 0..6000),
        flush in 0u64..=86_400,
        batch in 1u32..=1000,
    ) {
        check_narrowing(&bytes, flush, batch)?;
    }

    #[test]
    fn documents_of_any_shape_are_taken_whole_or_ignored_whole(
        document in any_document(),
        flush in 0u64..=86_400,
        batch in 1u32..=1000,
    ) {
        let text = document.to_string();
        let taken = check_narrowing(text.as_bytes(), flush, batch)?;
        // Taken only when every known field has its type: a bool switch, whole numbers,
        // a list of strings.
        let typed = |name: &str, ok: fn(&Value) -> bool| document.get(name).map_or(true, |v| v.is_null() || ok(v));
        let well_typed = typed("version", |v| v.as_u64() == Some(1))
            && typed("collection_enabled", Value::is_boolean)
            && typed("flush_interval_secs", Value::is_u64)
            && typed("max_batch", Value::is_u64)
            && typed("settings_ttl_secs", Value::is_u64)
            && typed("disabled_sdk_versions", |v| v.as_array().is_some_and(|l| l.iter().all(Value::is_string)));
        if !well_typed {
            prop_assert!(!taken, "taken despite a wrong type: {text}");
        }
    }

    #[test]
    fn nesting_of_any_depth_never_panics(depth in 0usize..200_000, object in any::<bool>()) {
        let (open, close) = if object { ("{\"a\":", "}") } else { ("[", "]") };
        let text = format!("{{\"x\":{}1{}}}", open.repeat(depth), close.repeat(depth));
        let taken = check_narrowing(text.as_bytes(), 30, 1000)?;
        prop_assert_eq!(taken, depth <= 3 && text.len() <= MAX_DOCUMENT_BYTES);
    }
}
