//! Narrowing: what the SDK follows, from the app's configuration and a remote document. A
//! pure function with table tests. Remote settings can only narrow: turn collection off,
//! lengthen the flush interval (up to a day), lower the batch size (down to 1). A value that
//! would widen what the app configured is clamped to the app's value, so it changes nothing.

use crate::core::config::Settings;
use crate::core::model::ClientConfig;
use crate::core::model::{SettingSource, SettingsInForce};
use crate::core::remote_settings::document::RemoteDocument;
use crate::core::remote_settings::versions::Version;

/// How long a document stays fresh when it does not say, seconds (a day).
pub const DEFAULT_TTL_SECS: u64 = 86_400;
/// The shortest freshness a document may ask for, seconds.
pub const MIN_TTL_SECS: u64 = 300;
/// The longest freshness a document may ask for, seconds (a week).
pub const MAX_TTL_SECS: u64 = 7 * 86_400;
/// The longest flush interval remote settings may set, seconds (a day, as for the app).
pub const MAX_FLUSH_INTERVAL_SECS: u64 = 86_400;

/// What the app configured of the settings remote settings may narrow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppTuning {
    /// `flush_interval_secs` as configured.
    pub flush_interval_secs: u64,
    /// Events per request after the test-mode cap.
    pub max_batch: u32,
    /// Where each came from: the app, or the SDK's default left alone.
    pub flush_interval_source: SettingSource,
    /// Where `max_batch` came from.
    pub max_batch_source: SettingSource,
}

impl AppTuning {
    /// The app's side of `settings`.
    pub fn of(settings: &Settings) -> AppTuning {
        let config = &settings.config;
        let defaults = ClientConfig::new("", "", "", "", config.action_source);
        let source = |is_default: bool| {
            if is_default {
                SettingSource::Default
            } else {
                SettingSource::App
            }
        };
        AppTuning {
            flush_interval_secs: config.flush_interval_secs,
            max_batch: settings.batch_size as u32,
            flush_interval_source: source(
                config.flush_interval_secs == defaults.flush_interval_secs,
            ),
            max_batch_source: source(config.max_batch == defaults.max_batch && !config.test_mode),
        }
    }
}

/// The settings in force for `app` under `remote` (none: the app's alone), for an SDK of
/// version `sdk_version`. Fetch facts (`remote_fetched_at`, the ignored count) are left empty
/// for the caller to fill.
pub fn narrow(
    app: &AppTuning,
    remote: Option<&RemoteDocument>,
    sdk_version: &str,
) -> SettingsInForce {
    let empty = RemoteDocument::default();
    let remote = remote.unwrap_or(&empty);
    let disabled_reason = disabled_reason(remote, sdk_version);
    let (flush_interval_secs, flush_interval_source) = match remote.flush_interval_secs {
        Some(asked) if asked.min(MAX_FLUSH_INTERVAL_SECS) > app.flush_interval_secs => {
            (asked.min(MAX_FLUSH_INTERVAL_SECS), SettingSource::Remote)
        }
        _ => (app.flush_interval_secs, app.flush_interval_source),
    };
    let (max_batch, max_batch_source) = match remote.max_batch {
        Some(asked) if asked.max(1) < u64::from(app.max_batch) => {
            (asked.max(1) as u32, SettingSource::Remote)
        }
        _ => (app.max_batch, app.max_batch_source),
    };
    let (settings_ttl_secs, settings_ttl_source) = match remote.settings_ttl_secs {
        Some(asked) => (
            asked.clamp(MIN_TTL_SECS, MAX_TTL_SECS),
            SettingSource::Remote,
        ),
        None => (DEFAULT_TTL_SECS, SettingSource::Default),
    };
    SettingsInForce {
        collection_enabled: disabled_reason.is_none(),
        collection_enabled_source: if disabled_reason.is_some() {
            SettingSource::Remote
        } else {
            SettingSource::Default
        },
        disabled_reason,
        flush_interval_secs,
        flush_interval_source,
        max_batch,
        max_batch_source,
        settings_ttl_secs,
        settings_ttl_source,
        remote_fetch_enabled: false,
        remote_fetched_at: None,
        remote_documents_ignored: 0,
        last_ignored_reason: None,
    }
}

/// Why `remote` turns this SDK off, if it does: the kill switch, or a version rule that
/// `sdk_version` meets.
fn disabled_reason(remote: &RemoteDocument, sdk_version: &str) -> Option<String> {
    if remote.collection_enabled == Some(false) {
        return Some("turned off by remote settings (collection_enabled is false)".into());
    }
    let version = Version::parse(sdk_version)?;
    remote
        .disabled_sdk_versions
        .iter()
        .find(|rule| rule.matches(version))
        .map(|rule| {
            format!(
                "turned off by remote settings (SDK version {version} is in disabled_sdk_versions: \"{}\")",
                rule.text
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::remote_settings::document::parse;

    const APP: AppTuning = AppTuning {
        flush_interval_secs: 60,
        max_batch: 100,
        flush_interval_source: SettingSource::App,
        max_batch_source: SettingSource::App,
    };

    fn in_force(document: &str) -> SettingsInForce {
        narrow(&APP, Some(&parse(document.as_bytes()).unwrap()), "0.1.0")
    }

    #[test]
    fn without_a_document_the_app_configuration_is_in_force() {
        let s = narrow(&APP, None, "0.1.0");
        assert!(s.collection_enabled && s.disabled_reason.is_none());
        assert_eq!(
            (s.flush_interval_secs, s.flush_interval_source),
            (60, SettingSource::App)
        );
        assert_eq!((s.max_batch, s.max_batch_source), (100, SettingSource::App));
        assert_eq!(
            (s.settings_ttl_secs, s.settings_ttl_source),
            (86_400, SettingSource::Default)
        );
        assert_eq!(s, in_force("{}"));
    }

    #[test]
    fn remote_settings_narrow_and_never_widen() {
        // (document, flush interval in force and its source, max batch and its source)
        type Case = (&'static str, (u64, SettingSource), (u32, SettingSource));
        let cases: [Case; 9] = [
            (
                r#"{"flush_interval_secs":600}"#,
                (600, SettingSource::Remote),
                (100, SettingSource::App),
            ),
            (
                r#"{"flush_interval_secs":10}"#,
                (60, SettingSource::App),
                (100, SettingSource::App),
            ),
            (
                r#"{"flush_interval_secs":60}"#,
                (60, SettingSource::App),
                (100, SettingSource::App),
            ),
            (
                r#"{"flush_interval_secs":0}"#,
                (60, SettingSource::App),
                (100, SettingSource::App),
            ),
            (
                r#"{"flush_interval_secs":99999999999}"#,
                (86_400, SettingSource::Remote),
                (100, SettingSource::App),
            ),
            (
                r#"{"max_batch":10}"#,
                (60, SettingSource::App),
                (10, SettingSource::Remote),
            ),
            (
                r#"{"max_batch":1000}"#,
                (60, SettingSource::App),
                (100, SettingSource::App),
            ),
            (
                r#"{"max_batch":0}"#,
                (60, SettingSource::App),
                (1, SettingSource::Remote),
            ),
            (
                r#"{"max_batch":18446744073709551615}"#,
                (60, SettingSource::App),
                (100, SettingSource::App),
            ),
        ];
        for (document, flush, batch) in cases {
            let s = in_force(document);
            assert_eq!(
                (s.flush_interval_secs, s.flush_interval_source),
                flush,
                "{document}"
            );
            assert_eq!((s.max_batch, s.max_batch_source), batch, "{document}");
            assert!(s.collection_enabled, "{document}");
        }
    }

    #[test]
    fn collection_is_turned_off_by_the_switch_or_a_listed_version_only() {
        let cases = [
            (
                r#"{"collection_enabled":false}"#,
                Some("collection_enabled is false"),
            ),
            (r#"{"collection_enabled":true}"#, None),
            (
                r#"{"disabled_sdk_versions":["0.1.0"]}"#,
                Some("SDK version 0.1.0 is in disabled_sdk_versions: \"0.1.0\""),
            ),
            (
                r#"{"disabled_sdk_versions":["0.0.9", "<0.2"]}"#,
                Some("\"<0.2\""),
            ),
            (r#"{"disabled_sdk_versions":[">=0.1.1"]}"#, None),
            (r#"{"disabled_sdk_versions":[]}"#, None),
        ];
        for (document, reason) in cases {
            let s = in_force(document);
            assert_eq!(s.collection_enabled, reason.is_none(), "{document}");
            match reason {
                Some(part) => {
                    let said = s.disabled_reason.unwrap();
                    assert!(
                        said.contains("remote settings") && said.contains(part),
                        "{said}"
                    );
                    assert_eq!(s.collection_enabled_source, SettingSource::Remote);
                }
                None => assert_eq!(s.collection_enabled_source, SettingSource::Default),
            }
        }
    }

    #[test]
    fn the_ttl_is_bounded() {
        for (document, ttl) in [
            (r#"{"settings_ttl_secs":3600}"#, 3600),
            (r#"{"settings_ttl_secs":0}"#, MIN_TTL_SECS),
            (r#"{"settings_ttl_secs":99999999999}"#, MAX_TTL_SECS),
        ] {
            let s = in_force(document);
            assert_eq!(
                (s.settings_ttl_secs, s.settings_ttl_source),
                (ttl, SettingSource::Remote)
            );
        }
    }
}
