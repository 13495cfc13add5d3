//! Checks of a finished configuration: the upstream, the tokens, the trusted proxies, the
//! rates and timeouts, and the scale settings (coalescing, the ad account's call budget,
//! Redis, and the caps that keep one instance's connections, requests and memory bounded).
//!
//! Kept apart from [`super::settings`] so that module stays about the settings themselves.
//! Every bound here exists because a value outside it either disables a protection without
//! saying so (a zero cap) or makes the relay fail later instead of at start (a linger longer
//! than the upstream timeout holds every device past its own deadline).

use std::time::Duration;

use super::settings::{RelayConfig, MIN_RATE_PER_SEC};
use super::upstream_url::check_upstream_url;
use crate::client_ip::TrustedProxies;

/// The Conversions API's limit of calls a minute per ad account.
pub(crate) const API_CALLS_PER_MINUTE: u32 = 5_000;

/// Longest accepted linger: device requests are held this long at most.
pub(crate) const MAX_LINGER: Duration = Duration::from_secs(5);

impl RelayConfig {
    /// Checks the finished configuration: an upstream URL that is `https://` (or `http://` on a
    /// loopback host), a conversion token, at least one app token, ad account ids of 1 to 18
    /// digits, no token used twice or equal to the conversion token, parseable trusted proxies,
    /// and positive limits and timeouts. The error names the offending field, never a token.
    pub fn validate(&self) -> Result<(), String> {
        check_upstream_url(&self.upstream)?;
        check_token("conversion_token", &self.conversion_token)?;
        if self.app_tokens.is_empty() {
            return Err("app_tokens: at least one app token is required".to_string());
        }
        for (i, app) in self.app_tokens.iter().enumerate() {
            check_token(&format!("app_tokens[{i}].token"), &app.token)?;
            if !is_ad_account_id(&app.ad_account_id) {
                return Err(format!(
                    "app_tokens[{i}].ad_account_id: expected 1 to 18 digits, got {:?}",
                    app.ad_account_id
                ));
            }
            if app.token == self.conversion_token {
                return Err(format!(
                    "app_tokens[{i}].token: must differ from the conversion token"
                ));
            }
            if self.app_tokens[..i].iter().any(|a| a.token == app.token) {
                return Err(format!(
                    "app_tokens[{i}].token: the same token is listed twice"
                ));
            }
        }
        TrustedProxies::parse(&self.trusted_proxies)?;
        if self.max_body_bytes == 0 {
            return Err("max_body_bytes: must be positive".to_string());
        }
        check_rate("rate_limit_per_sec", self.rate_limit_per_sec)?;
        check_rate("global_rate_limit_per_sec", self.global_rate_limit_per_sec)?;
        if self.rate_limit_per_sec > 0.0 && self.rate_limit_burst == 0 {
            return Err(
                "rate_limit_burst: must be at least 1 when rate limiting is on".to_string(),
            );
        }
        if self.upstream_timeout.is_zero() || self.upstream_connect_timeout.is_zero() {
            return Err("upstream timeouts: must be positive".to_string());
        }
        validate_scale(self)
    }
}

/// A rate is 0 (off) or a finite number of requests per second from [`MIN_RATE_PER_SEC`]
/// up: a smaller one would make its waits longer than any clock can express.
fn check_rate(field: &str, rate: f64) -> Result<(), String> {
    if rate == 0.0 || (rate.is_finite() && (MIN_RATE_PER_SEC..=1e9).contains(&rate)) {
        Ok(())
    } else {
        Err(format!(
            "{field}: must be 0 (off) or a number of requests per second from {MIN_RATE_PER_SEC} to 1e9"
        ))
    }
}

/// True for the API's `ad_account_id` pattern `^\d+$` with at most 18 characters.
pub(crate) fn is_ad_account_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 18 && s.bytes().all(|b| b.is_ascii_digit())
}

/// A token must be non-empty printable ASCII without spaces, so it fits an HTTP header.
fn check_token(field: &str, token: &str) -> Result<(), String> {
    if token.is_empty() {
        return Err(format!("{field}: must be set"));
    }
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!(
            "{field}: must be printable ASCII without spaces (value not shown)"
        ));
    }
    Ok(())
}

/// Checks the scale settings.
fn validate_scale(config: &RelayConfig) -> Result<(), String> {
    if config.linger > MAX_LINGER {
        return Err(format!(
            "linger: must be at most {} ms",
            MAX_LINGER.as_millis()
        ));
    }
    if config.calls_per_minute == 0 {
        return Err("calls_per_minute: must be at least 1".to_string());
    }
    if config.instances == 0 {
        return Err("instances: must be at least 1".to_string());
    }
    if config.calls_per_minute > API_CALLS_PER_MINUTE && !config.allow_calls_above_api_limit {
        return Err(format!(
            "calls_per_minute: {} is above the API's {API_CALLS_PER_MINUTE} calls a minute per ad account; \
             every call over it would be refused with 429 (set allow_calls_above_api_limit = true \
             only if Pinterest raised your ad account's limit)",
            config.calls_per_minute
        ));
    }
    if config.calls_per_minute < config.instances {
        return Err(
            "calls_per_minute: must be at least the number of instances, so each has a share"
                .to_string(),
        );
    }
    if let Some(url) = &config.redis_url {
        // The message never repeats the URL: it may hold a password.
        if !(url.starts_with("redis://") || url.starts_with("rediss://"))
            || redis::Client::open(url.as_str()).is_err()
        {
            return Err("redis_url: not a redis:// URL (value not shown)".to_string());
        }
    }
    for (field, value) in [
        ("ip_table_capacity", config.ip_table_capacity),
        ("max_connections", config.max_connections),
        ("max_requests_in_flight", config.max_requests_in_flight),
    ] {
        if value == 0 {
            return Err(format!("{field}: must be at least 1"));
        }
    }
    if config.max_body_bytes_in_flight < config.max_body_bytes {
        return Err(
            "max_body_bytes_in_flight: must be at least max_body_bytes, or no large request could ever be served"
                .to_string(),
        );
    }
    if config.max_body_bytes_in_flight_per_ip < config.max_body_bytes {
        return Err(
            "max_body_bytes_in_flight_per_ip: must be at least max_body_bytes, or no large request could ever be served"
                .to_string(),
        );
    }
    if config.idle_timeout.is_zero() || config.body_timeout.is_zero() {
        return Err("idle_timeout and body_timeout: must be positive".to_string());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> RelayConfig {
        RelayConfig::new("http://127.0.0.1:9", "conv-secret").with_app_token("app-1", "123")
    }

    #[test]
    fn scale_settings_are_checked() {
        assert_eq!(valid().validate(), Ok(()));
        type Change = fn(&mut RelayConfig);
        let bad: [(&str, Change); 9] = [
            ("linger", |c| c.linger = Duration::from_secs(6)),
            ("calls_per_minute", |c| c.calls_per_minute = 0),
            ("instances", |c| c.instances = 0),
            ("calls_per_minute", |c| c.instances = 5000),
            ("calls_per_minute", |c| c.calls_per_minute = 900_000),
            ("redis_url", |c| c.redis_url = Some("http://:pw@x".into())),
            ("max_connections", |c| c.max_connections = 0),
            ("max_body_bytes_in_flight", |c| {
                c.max_body_bytes_in_flight = 1
            }),
            ("idle_timeout", |c| c.idle_timeout = Duration::ZERO),
        ];
        for (field, change) in bad {
            let mut c = valid();
            change(&mut c);
            let err = c.validate().unwrap_err();
            assert!(err.contains(field), "{field}: {err}");
            assert!(!err.contains("pw@"), "{err}");
        }
        let mut c = valid();
        c.redis_url = Some("redis://127.0.0.1:6379/0".into());
        assert_eq!(c.validate(), Ok(()));
        c.calls_per_minute = 5_000;
        assert_eq!(c.validate(), Ok(()));
        c.calls_per_minute = 9_000;
        c.allow_calls_above_api_limit = true;
        assert_eq!(c.validate(), Ok(()));
    }
}

#[cfg(test)]
mod finished_config_tests {
    use super::*;

    fn valid() -> RelayConfig {
        RelayConfig::new("http://127.0.0.1:9", "conv-secret").with_app_token("app-1", "123")
    }

    #[test]
    fn a_complete_config_validates() {
        assert_eq!(valid().validate(), Ok(()));
    }

    #[test]
    fn missing_pieces_are_named() {
        let mut c = valid();
        c.conversion_token.clear();
        assert!(c.validate().unwrap_err().contains("conversion_token"));
        let mut c = valid();
        c.app_tokens.clear();
        assert!(c.validate().unwrap_err().contains("app_tokens"));
        let c = valid().with_app_token("app-2", "12x");
        assert!(c.validate().unwrap_err().contains("ad_account_id"));
        let c = valid().with_app_token("app-1", "456");
        assert!(c.validate().unwrap_err().contains("twice"));
        let c = valid().with_app_token("conv-secret", "456");
        assert!(c.validate().unwrap_err().contains("differ"));
    }

    #[test]
    fn plain_http_is_only_for_loopback() {
        let mut c = valid();
        c.upstream = "http://api.pinterest.com".into();
        assert!(c.validate().is_err());
        c.upstream = "https://api.pinterest.com".into();
        assert_eq!(c.validate(), Ok(()));
        c.upstream = "http://localhost:8080".into();
        assert!(c.validate().is_err());
        c.upstream = "http://[::1]:8080/".into();
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn limits_are_checked() {
        let mut c = valid();
        c.rate_limit_per_sec = f64::NAN;
        assert!(c.validate().is_err());
        c.rate_limit_per_sec = 1e-300;
        assert!(c.validate().unwrap_err().contains("rate_limit_per_sec"));
        c.rate_limit_per_sec = MIN_RATE_PER_SEC;
        assert_eq!(c.validate(), Ok(()));
        c.global_rate_limit_per_sec = f64::INFINITY;
        assert!(c
            .validate()
            .unwrap_err()
            .contains("global_rate_limit_per_sec"));
        let mut c = valid();
        c.rate_limit_burst = 0;
        assert!(c.validate().is_err());
        c.rate_limit_per_sec = 0.0;
        assert_eq!(c.validate(), Ok(()));
        let mut c = valid();
        c.trusted_proxies = vec!["10.0.0.0/33".into()];
        assert!(c.validate().is_err());
    }

    #[test]
    fn debug_output_hides_tokens() {
        let text = format!("{:?}", valid());
        assert!(!text.contains("conv-secret"));
        assert!(!text.contains("app-1"));
        assert!(text.contains("<redacted>"));
    }
}
