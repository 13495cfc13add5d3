//! Retry timing: exponential backoff with full jitter, and `Retry-After` (seconds or an
//! HTTP-date), both capped so a hostile or broken server cannot park delivery for days.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The delay before retry number `failures` (1 = first retry): a uniformly random duration in
/// `[0, min(max, base * 2^(failures-1))]` ("full jitter"), drawn from `random`.
pub fn full_jitter(base: Duration, max: Duration, failures: u32, random: u64) -> Duration {
    let exponent = failures.saturating_sub(1).min(32);
    let ceiling = base.saturating_mul(1u32 << exponent.min(31)).min(max);
    let ceiling_ms = ceiling.as_millis() as u64;
    if ceiling_ms == 0 {
        return Duration::ZERO;
    }
    Duration::from_millis(random % (ceiling_ms + 1))
}

/// Parses `Retry-After` as delta-seconds or an HTTP-date, relative to `now`, capped at `max`.
/// `None` when the header is absent or unreadable.
pub fn retry_after(header: Option<&str>, now: SystemTime, max: Duration) -> Option<Duration> {
    let value = header?.trim();
    let delay = if let Ok(seconds) = value.parse::<u64>() {
        Duration::from_secs(seconds)
    } else {
        let at = httpdate::parse_http_date(value).ok()?;
        at.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(delay.min(max))
}

/// Random bits for jitter, without a dedicated RNG dependency: UUID v4 generation is already
/// backed by a fast thread-local RNG.
pub fn random_u64() -> u64 {
    uuid::Uuid::new_v4().as_u128() as u64
}

/// Milliseconds since the Unix epoch.
pub fn unix_now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_under_the_exponential_ceiling() {
        let base = Duration::from_millis(100);
        let max = Duration::from_secs(10);
        for failures in 1..40 {
            for random in [0, 1, 12345, u64::MAX] {
                let d = full_jitter(base, max, failures, random);
                let ceiling = (100u128 << (failures - 1).min(31)).min(10_000);
                assert!(d.as_millis() <= ceiling, "{failures} {random}");
            }
        }
        assert_eq!(full_jitter(base, max, 3, 400), Duration::from_millis(400));
    }

    #[test]
    fn retry_after_seconds_dates_and_caps() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let max = Duration::from_secs(3600);
        assert_eq!(
            retry_after(Some("2"), now, max),
            Some(Duration::from_secs(2))
        );
        assert_eq!(retry_after(Some("999999999"), now, max), Some(max));
        let date = httpdate::fmt_http_date(now + Duration::from_secs(90));
        assert_eq!(
            retry_after(Some(&date), now, max),
            Some(Duration::from_secs(90))
        );
        let past = httpdate::fmt_http_date(now - Duration::from_secs(90));
        assert_eq!(retry_after(Some(&past), now, max), Some(Duration::ZERO));
        assert_eq!(retry_after(Some("soon"), now, max), None);
        assert_eq!(retry_after(None, now, max), None);
    }
}
