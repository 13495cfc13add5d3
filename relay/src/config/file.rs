//! Reading configuration from a TOML or JSON file.
//!
//! The file is layered over an existing [`RelayConfig`]: a key that is absent leaves the field
//! as it was, so the command line can apply defaults, then the file, then the environment
//! ([`super::env`]), then its flags. The file schema is a private serde struct with
//! `deny_unknown_fields`, so a misspelt key is an error rather than a silently ignored
//! setting. Error messages name the key, never its value when that value may be a token.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::settings::{AppToken, RelayConfig};
use super::values::{parse_listen, parse_log, parse_log_format, parse_optional_listen, set};

/// Loading a file over the defaults (the settings themselves are in [`super::settings`],
/// which knows nothing of files).
impl RelayConfig {
    /// Loads a configuration file over the defaults. A `.json` file is read as JSON, anything
    /// else as TOML; the keys are listed in the crate's README. The result is not validated
    /// (the conversion token may still come from the environment): see
    /// [`RelayConfig::validate`].
    pub fn from_file(path: &Path) -> Result<Self, String> {
        let mut config = RelayConfig::default();
        apply_file(&mut config, path)?;
        Ok(config)
    }
}

/// The on-disk schema. Durations are given in milliseconds.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    upstream: Option<String>,
    conversion_token: Option<String>,
    app_tokens: Option<Vec<FileAppToken>>,
    trusted_proxies: Option<Vec<String>>,
    max_body_bytes: Option<usize>,
    rate_limit_per_sec: Option<f64>,
    rate_limit_burst: Option<u32>,
    upstream_timeout_ms: Option<u64>,
    upstream_connect_timeout_ms: Option<u64>,
    log: Option<String>,
    log_format: Option<String>,
    metrics_listen: Option<String>,
    ip_table_capacity: Option<usize>,
    global_rate_limit_per_sec: Option<f64>,
    linger_ms: Option<u64>,
    calls_per_minute: Option<u32>,
    allow_calls_above_api_limit: Option<bool>,
    instances: Option<u32>,
    redis_url: Option<String>,
    max_connections: Option<usize>,
    idle_timeout_ms: Option<u64>,
    body_timeout_ms: Option<u64>,
    max_requests_in_flight: Option<usize>,
    max_body_bytes_in_flight: Option<usize>,
    max_body_bytes_in_flight_per_ip: Option<usize>,
    drain_ms: Option<u64>,
    shutdown_grace_ms: Option<u64>,
    worker_threads: Option<usize>,
    sdk_settings: Option<BTreeMap<String, serde_json::Value>>,
    sdk_settings_file: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileAppToken {
    token: String,
    ad_account_id: String,
}

/// Reads `path` and applies every key it sets to `config`.
fn apply_file(config: &mut RelayConfig, path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
    let is_json = path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("json"));
    let file: FileConfig = if is_json {
        serde_json::from_str(&text).map_err(|e| format!("config file {}: {e}", path.display()))?
    } else {
        // The message alone, without toml's quoted source snippet, which could show a token.
        toml::from_str(&text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text.bytes().take(s.start).filter(|b| *b == b'\n').count() + 1);
            match line {
                Some(line) => format!(
                    "config file {} line {line}: {}",
                    path.display(),
                    e.message()
                ),
                None => format!("config file {}: {}", path.display(), e.message()),
            }
        })?
    };
    apply(config, file)
}

fn apply(config: &mut RelayConfig, file: FileConfig) -> Result<(), String> {
    apply_scale(config, &file);
    if let Some(listen) = file.listen {
        config.listen = parse_listen(&listen).map_err(|e| format!("listen: {e}"))?;
    }
    if let Some(upstream) = file.upstream {
        config.upstream = upstream;
    }
    if let Some(token) = file.conversion_token {
        config.conversion_token = token;
    }
    if let Some(tokens) = file.app_tokens {
        config.app_tokens = tokens
            .into_iter()
            .map(|t| AppToken::new(t.token, t.ad_account_id))
            .collect();
    }
    if let Some(proxies) = file.trusted_proxies {
        config.trusted_proxies = proxies;
    }
    if let Some(n) = file.max_body_bytes {
        config.max_body_bytes = n;
    }
    if let Some(rate) = file.rate_limit_per_sec {
        config.rate_limit_per_sec = rate;
    }
    if let Some(burst) = file.rate_limit_burst {
        config.rate_limit_burst = burst;
    }
    if let Some(ms) = file.upstream_timeout_ms {
        config.upstream_timeout = Duration::from_millis(ms);
    }
    if let Some(ms) = file.upstream_connect_timeout_ms {
        config.upstream_connect_timeout = Duration::from_millis(ms);
    }
    if let Some(log) = &file.log {
        config.log = parse_log(log).map_err(|e| format!("log: {e}"))?;
    }
    if let Some(format) = &file.log_format {
        config.log_format = parse_log_format(format).map_err(|e| format!("log_format: {e}"))?;
    }
    if let Some(listen) = &file.metrics_listen {
        config.metrics_listen =
            parse_optional_listen(listen).map_err(|e| format!("metrics_listen: {e}"))?;
    }
    if let Some(settings) = file.sdk_settings {
        config.sdk_settings = settings;
    }
    if let Some(path) = file.sdk_settings_file.filter(|p| !p.trim().is_empty()) {
        config.sdk_settings_file = Some(PathBuf::from(path));
    }
    Ok(())
}

/// The coalescing, budget and cap keys of the file.
fn apply_scale(config: &mut RelayConfig, file: &FileConfig) {
    let ms = Duration::from_millis;
    set(&mut config.ip_table_capacity, file.ip_table_capacity);
    set(
        &mut config.global_rate_limit_per_sec,
        file.global_rate_limit_per_sec,
    );
    set(&mut config.linger, file.linger_ms.map(ms));
    set(&mut config.calls_per_minute, file.calls_per_minute);
    set(
        &mut config.allow_calls_above_api_limit,
        file.allow_calls_above_api_limit,
    );
    set(&mut config.instances, file.instances);
    if let Some(url) = &file.redis_url {
        config.redis_url = Some(url.clone()).filter(|u| !u.is_empty());
    }
    set(&mut config.max_connections, file.max_connections);
    set(&mut config.idle_timeout, file.idle_timeout_ms.map(ms));
    set(&mut config.body_timeout, file.body_timeout_ms.map(ms));
    set(
        &mut config.max_requests_in_flight,
        file.max_requests_in_flight,
    );
    set(
        &mut config.max_body_bytes_in_flight,
        file.max_body_bytes_in_flight,
    );
    set(
        &mut config.max_body_bytes_in_flight_per_ip,
        file.max_body_bytes_in_flight_per_ip,
    );
    set(&mut config.worker_threads, file.worker_threads);
    set(&mut config.drain, file.drain_ms.map(ms));
    if let Some(grace) = file.shutdown_grace_ms {
        config.shutdown_grace = Some(ms(grace));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::LogTarget;
    use std::io::Write;

    fn write(name: &str, text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::File::create(&path)
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        (dir, path)
    }

    #[test]
    fn toml_file_sets_every_key() {
        let (_dir, path) = write(
            "relay.toml",
            r#"
listen = "0.0.0.0:9000"
upstream = "http://127.0.0.1:4000"
conversion_token = "conv"
trusted_proxies = ["10.0.0.0/8"]
max_body_bytes = 1000
rate_limit_per_sec = 2.5
rate_limit_burst = 3
upstream_timeout_ms = 1500
upstream_connect_timeout_ms = 200
log = "off"
linger_ms = 20
calls_per_minute = 600
instances = 2
redis_url = "redis://127.0.0.1:6380/1"
max_connections = 50
idle_timeout_ms = 700

[[app_tokens]]
token = "app"
ad_account_id = "42"
"#,
        );
        let c = RelayConfig::from_file(&path).unwrap();
        assert_eq!(c.listen, "0.0.0.0:9000".parse().unwrap());
        assert_eq!(c.upstream, "http://127.0.0.1:4000");
        assert_eq!(c.conversion_token, "conv");
        assert_eq!(c.app_tokens, vec![AppToken::new("app", "42")]);
        assert_eq!(c.trusted_proxies, vec!["10.0.0.0/8".to_string()]);
        assert_eq!(c.max_body_bytes, 1000);
        assert_eq!(c.rate_limit_per_sec, 2.5);
        assert_eq!(c.rate_limit_burst, 3);
        assert_eq!(c.upstream_timeout, Duration::from_millis(1500));
        assert_eq!(c.upstream_connect_timeout, Duration::from_millis(200));
        assert_eq!(c.log, LogTarget::Off);
        assert_eq!(c.linger, Duration::from_millis(20));
        assert_eq!((c.calls_per_minute, c.instances), (600, 2));
        assert_eq!(c.redis_url.as_deref(), Some("redis://127.0.0.1:6380/1"));
        assert_eq!(c.max_connections, 50);
        assert_eq!(c.idle_timeout, Duration::from_millis(700));
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn json_file_and_defaults() {
        let (_dir, path) = write(
            "relay.json",
            r#"{"app_tokens":[{"token":"app","ad_account_id":"42"}]}"#,
        );
        let c = RelayConfig::from_file(&path).unwrap();
        assert_eq!(c.upstream, crate::config::DEFAULT_UPSTREAM);
        assert_eq!(c.listen, crate::config::DEFAULT_LISTEN);
        assert_eq!(c.app_tokens.len(), 1);
        assert!(c.conversion_token.is_empty());
    }

    #[test]
    fn sdk_settings_per_ad_account_and_their_file() {
        let (_dir, path) = write(
            "relay.toml",
            r#"
sdk_settings_file = "/etc/relay/sdk-settings.json"

[sdk_settings.42]
collection_enabled = false
disabled_sdk_versions = ["<0.2"]
"#,
        );
        let c = RelayConfig::from_file(&path).unwrap();
        assert_eq!(
            c.sdk_settings.get("42"),
            Some(
                &serde_json::json!({"collection_enabled": false, "disabled_sdk_versions": ["<0.2"]})
            )
        );
        assert_eq!(
            c.sdk_settings_file.as_deref(),
            Some(Path::new("/etc/relay/sdk-settings.json"))
        );
    }

    #[test]
    fn unknown_keys_and_missing_files_are_errors() {
        let (_dir, path) = write("relay.toml", "upstrem = \"x\"\n");
        assert!(RelayConfig::from_file(&path)
            .unwrap_err()
            .contains("upstrem"));
        let missing = Path::new("/nonexistent/relay.toml");
        assert!(RelayConfig::from_file(missing)
            .unwrap_err()
            .contains("cannot read"));
    }
}
