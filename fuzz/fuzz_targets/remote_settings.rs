//! Fuzzes the remote settings document (`parse_remote_settings`, then `narrow_remote_settings`)
//! with any bytes and any app configuration: never a panic, and whatever parses can only
//! narrow what the app configured.
#![no_main]

use app_conversions::internals::{narrow_remote_settings, parse_remote_settings, AppTuning};
use app_conversions::SettingSource;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (u32, u16, &[u8])| {
    let (flush_interval_secs, max_batch, bytes) = input;
    let app = AppTuning {
        flush_interval_secs: u64::from(flush_interval_secs % 86_401),
        max_batch: u32::from(max_batch % 1000) + 1,
        flush_interval_source: SettingSource::App,
        max_batch_source: SettingSource::App,
    };
    if let Ok(document) = parse_remote_settings(bytes) {
        let s = narrow_remote_settings(&app, Some(&document), "0.1.0");
        assert!(s.flush_interval_secs >= app.flush_interval_secs);
        assert!((1..=app.max_batch).contains(&s.max_batch));
        assert!((300..=604_800).contains(&s.settings_ttl_secs));
        if document.collection_enabled != Some(false) && document.disabled_sdk_versions.is_empty() {
            assert!(s.collection_enabled);
        }
    }
});
