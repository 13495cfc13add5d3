//! Checks of the scale settings: coalescing, the ad account's call budget, Redis, and the
//! caps that keep one instance's connections, requests and memory bounded.
//!
//! Kept apart from [`crate::config`] so that module stays about the settings themselves.
//! Every bound here exists because a value outside it either disables a protection without
//! saying so (a zero cap) or makes the relay fail later instead of at start (a linger longer
//! than the upstream timeout holds every device past its own deadline).

use std::time::Duration;

use crate::config::RelayConfig;

/// Longest accepted linger: device requests are held this long at most.
pub(crate) const MAX_LINGER: Duration = Duration::from_secs(5);

/// Checks the fields [`RelayConfig::validate`] leaves to this module.
pub(crate) fn validate(config: &RelayConfig) -> Result<(), String> {
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
        let bad: [(&str, Change); 8] = [
            ("linger", |c| c.linger = Duration::from_secs(6)),
            ("calls_per_minute", |c| c.calls_per_minute = 0),
            ("instances", |c| c.instances = 0),
            ("calls_per_minute", |c| c.instances = 5000),
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
    }
}
