//! Per-app-token rate limiting with token buckets.
//!
//! One bucket per configured app token (indexed like the configuration, so no map and no
//! allocation per request), each behind its own small mutex: requests for different app tokens
//! never contend. A bucket holds up to `burst` requests and refills continuously at `rate` per
//! second. A refused request learns how long until one request's worth has refilled, rounded up
//! to whole seconds for `Retry-After`. State is in memory only: with several relay instances
//! behind a load balancer each enforces its own share, which is the usual trade for statelessness.

use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Token buckets, one per app token.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: Vec<Mutex<Bucket>>,
}

impl RateLimiter {
    /// `count` full buckets of `burst` refilling at `rate` per second; `rate == 0` disables.
    pub(crate) fn new(count: usize, rate: f64, burst: u32, now: Instant) -> Self {
        let burst = f64::from(burst.max(1));
        RateLimiter {
            rate,
            burst,
            buckets: (0..count)
                .map(|_| {
                    Mutex::new(Bucket {
                        tokens: burst,
                        updated: now,
                    })
                })
                .collect(),
        }
    }

    /// Takes one request from bucket `index`, or says how long to wait (for `Retry-After`).
    pub(crate) fn check(&self, index: usize, now: Instant) -> Result<(), Duration> {
        if self.rate <= 0.0 {
            return Ok(());
        }
        let Some(bucket) = self.buckets.get(index) else {
            return Ok(());
        };
        let mut bucket = match bucket.lock() {
            Ok(b) => b,
            Err(poisoned) => poisoned.into_inner(),
        };
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.rate).min(self.burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / self.rate))
        }
    }
}

/// Whole seconds for `Retry-After`, at least 1.
pub(crate) fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refill() {
        let t0 = Instant::now();
        let limiter = RateLimiter::new(2, 2.0, 3, t0);
        for _ in 0..3 {
            assert_eq!(limiter.check(0, t0), Ok(()));
        }
        let wait = limiter.check(0, t0).unwrap_err();
        assert_eq!(wait, Duration::from_millis(500));
        assert_eq!(retry_after_secs(wait), 1);
        // Another token has its own bucket.
        assert_eq!(limiter.check(1, t0), Ok(()));
        // Half a second later one request's worth is back, and only one.
        let t1 = t0 + Duration::from_millis(500);
        assert_eq!(limiter.check(0, t1), Ok(()));
        assert!(limiter.check(0, t1).is_err());
        // A long pause refills to the burst, not beyond.
        let t2 = t1 + Duration::from_secs(60);
        for _ in 0..3 {
            assert_eq!(limiter.check(0, t2), Ok(()));
        }
        assert!(limiter.check(0, t2).is_err());
    }

    #[test]
    fn zero_rate_disables() {
        let t0 = Instant::now();
        let limiter = RateLimiter::new(1, 0.0, 1, t0);
        for _ in 0..10 {
            assert_eq!(limiter.check(0, t0), Ok(()));
        }
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1001)), 2);
        assert_eq!(retry_after_secs(Duration::from_secs(3)), 3);
    }
}
