//! Retry timing in milliseconds: exponential backoff with full jitter, and `Retry-After`
//! (seconds or an HTTP-date). Both are capped, and all arithmetic saturates, so no setting or
//! server-sent number can overflow, go negative or park delivery past the cap.

use std::time::UNIX_EPOCH;

/// The delay before retry number `failures` (1 = first retry): a uniformly random number of
/// milliseconds in `[1, min(max_ms, base_ms * 2^(failures-1))]` ("full jitter"), drawn from
/// `random`.
///
/// Full jitter draws from `(0, ceiling]`; in whole milliseconds that starts at 1, not 0. A
/// zero delay would repeat a failed request in the instant it failed, within the same pass
/// (with a 20 ms base, one failure in 21), even on a test clock that does not move.
pub fn full_jitter(base_ms: i64, max_ms: i64, failures: u32, random: u64) -> i64 {
    let exponent = failures.saturating_sub(1).min(62);
    let ceiling = base_ms
        .max(0)
        .saturating_mul(1i64 << exponent)
        .min(max_ms.max(0));
    if ceiling == 0 {
        return 0;
    }
    (random % ceiling as u64) as i64 + 1
}

/// Parses `Retry-After` as delta-seconds or an HTTP-date, relative to `now_ms`, capped at
/// `max_ms`. `None` when the header is absent or unreadable.
pub fn retry_after_ms(header: Option<&str>, now_ms: i64, max_ms: i64) -> Option<i64> {
    let value = header?.trim();
    let delay = if let Ok(seconds) = value.parse::<u64>() {
        i64::try_from(seconds)
            .unwrap_or(i64::MAX)
            .saturating_mul(1000)
    } else {
        let at = httpdate::parse_http_date(value).ok()?;
        let at_ms = at
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        at_ms.saturating_sub(now_ms).max(0)
    };
    Some(delay.min(max_ms.max(0)))
}

/// Random bits for jitter, without a dedicated RNG dependency: UUID v4 generation is already
/// backed by a fast thread-local RNG.
pub fn random_u64() -> u64 {
    uuid::Uuid::new_v4().as_u128() as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn jitter_stays_under_the_exponential_ceiling() {
        for failures in 1..80 {
            for random in [0, 1, 12345, u64::MAX] {
                let d = full_jitter(100, 10_000, failures, random);
                let ceiling = (100i128 << (failures - 1).min(62)).min(10_000);
                assert!((1..=ceiling as i64).contains(&d), "{failures} {random}");
            }
        }
        assert_eq!(full_jitter(100, 10_000, 3, 399), 400);
        assert_eq!(
            full_jitter(i64::MAX, i64::MAX, 70, i64::MAX as u64 - 1),
            i64::MAX
        );
    }

    #[test]
    fn a_retry_always_waits_at_least_a_millisecond() {
        let mut drawn = std::collections::BTreeSet::new();
        for random in 0..1_000 {
            drawn.insert(full_jitter(20, 60_000, 1, random));
        }
        assert_eq!(
            drawn,
            (1..=20).collect(),
            "every delay from 1 ms to the ceiling, never 0"
        );
        assert_eq!(full_jitter(1, 1, 1, 0), 1, "the smallest settings");
    }

    #[test]
    fn retry_after_seconds_dates_and_caps() {
        let now_ms = 1_700_000_000_000;
        let now = UNIX_EPOCH + Duration::from_millis(now_ms as u64);
        let max = 3_600_000;
        assert_eq!(retry_after_ms(Some("2"), now_ms, max), Some(2_000));
        assert_eq!(retry_after_ms(Some("999999999"), now_ms, max), Some(max));
        assert_eq!(
            retry_after_ms(Some("9223372036854775"), now_ms, max),
            Some(max),
            "a number past i64 milliseconds saturates"
        );
        let date = httpdate::fmt_http_date(now + Duration::from_secs(90));
        assert_eq!(retry_after_ms(Some(&date), now_ms, max), Some(90_000));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(90));
        assert_eq!(retry_after_ms(Some(&past), now_ms, max), Some(0));
        assert_eq!(retry_after_ms(Some("soon"), now_ms, max), None);
        assert_eq!(retry_after_ms(Some("-5"), now_ms, max), None);
        assert_eq!(retry_after_ms(None, now_ms, max), None);
    }
}
