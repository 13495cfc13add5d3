//! Request rate limits: a token bucket per client IP, with a bounded key table, and one
//! global bucket for the whole instance.
//!
//! The app token is shipped in every install, so a per-token limit is one cap for the whole
//! install base, which anyone who extracts the token can exhaust for everyone. Buckets are
//! keyed by the client IP the trusted-proxy rules chose instead (an IPv6 client by its /64,
//! the block one subscriber gets), so one abusive source is limited alone.
//!
//! Memory stays bounded whatever the number of sources: the table is split into shards, each
//! holding at most its share of `capacity` buckets. A shard that is full first forgets
//! buckets that have refilled to the burst (forgetting them changes nothing: a new bucket
//! starts full), and if that frees too little, the least recently used eighth. Forgetting an
//! active bucket gives that IP a fresh burst: the price of the bound, paid by the oldest
//! entries first. Each shard has its own mutex, so requests from different IPs rarely contend.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Shards of the IP table.
const SHARDS: usize = 64;

/// Longest wait a refusal reports.
const MAX_WAIT: Duration = Duration::from_secs(3600);

/// A token bucket: up to `burst` requests, refilled at `rate` per second.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl Bucket {
    fn full(burst: f64, now: Instant) -> Self {
        Bucket {
            tokens: burst,
            updated: now,
        }
    }

    /// Takes one request, or says how long until one has refilled.
    fn take(&mut self, rate: f64, burst: f64, now: Instant) -> Result<(), Duration> {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate).min(burst);
        self.updated = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(wait_for((1.0 - self.tokens) / rate))
        }
    }

    /// True when the bucket has refilled to `burst` by `now`, so forgetting it is harmless.
    fn refilled(&self, rate: f64, burst: f64, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens + elapsed * rate >= burst
    }
}

/// `secs` as a wait, at most [`MAX_WAIT`] (and never a panic for huge or odd values).
fn wait_for(secs: f64) -> Duration {
    Duration::try_from_secs_f64(secs)
        .unwrap_or(MAX_WAIT)
        .min(MAX_WAIT)
}

/// The table key of a client: an IPv4 address, or an IPv6 address's /64.
pub(crate) fn key_of(ip: IpAddr) -> u128 {
    match ip.to_canonical() {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6) & !u128::from(u64::MAX),
    }
}

/// Per-client-IP buckets in a table of bounded size.
#[derive(Debug)]
pub(crate) struct IpLimiter {
    rate: f64,
    burst: f64,
    shard_capacity: usize,
    shards: Vec<Mutex<HashMap<u128, Bucket>>>,
}

impl IpLimiter {
    /// Buckets of `burst` refilling at `rate` per second, at most about `capacity` of them;
    /// `rate == 0` disables the limit.
    pub(crate) fn new(rate: f64, burst: u32, capacity: usize) -> Self {
        IpLimiter {
            rate,
            burst: f64::from(burst.max(1)),
            shard_capacity: capacity.div_ceil(SHARDS).max(1),
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }

    /// Takes one request from `ip`'s bucket, or says how long to wait (for `Retry-After`).
    pub(crate) fn check(&self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        if self.rate <= 0.0 {
            return Ok(());
        }
        let key = key_of(ip);
        // Fibonacci hashing spreads neighbouring addresses over the shards.
        let shard_index = (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 64) as usize % SHARDS;
        let mut shard = lock(&self.shards[shard_index]);
        if !shard.contains_key(&key) && shard.len() >= self.shard_capacity {
            self.make_room(&mut shard, now);
        }
        shard
            .entry(key)
            .or_insert_with(|| Bucket::full(self.burst, now))
            .take(self.rate, self.burst, now)
    }

    /// Forgets refilled buckets; if that leaves the shard over 7/8 full, also the least
    /// recently used eighth.
    fn make_room(&self, shard: &mut HashMap<u128, Bucket>, now: Instant) {
        shard.retain(|_, b| !b.refilled(self.rate, self.burst, now));
        let keep = self.shard_capacity - self.shard_capacity.div_ceil(8);
        if shard.len() > keep {
            let mut ages: Vec<Instant> = shard.values().map(|b| b.updated).collect();
            let cut = shard.len() - keep;
            let (_, cutoff, _) = ages.select_nth_unstable(cut - 1);
            let cutoff = *cutoff;
            let mut removed = 0;
            shard.retain(|_, b| {
                let old = b.updated <= cutoff && removed < cut;
                removed += usize::from(old);
                !old
            });
        }
    }

    /// Buckets currently remembered.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).len()).sum()
    }
}

/// One bucket for every request the instance accepts.
#[derive(Debug)]
pub(crate) struct GlobalLimiter {
    rate: f64,
    bucket: Mutex<Bucket>,
}

impl GlobalLimiter {
    /// `rate` requests per second with one second's worth as burst; `rate == 0` disables.
    pub(crate) fn new(rate: f64, now: Instant) -> Self {
        GlobalLimiter {
            rate,
            bucket: Mutex::new(Bucket::full(rate.max(1.0), now)),
        }
    }

    /// Takes one request, or says how long to wait.
    pub(crate) fn check(&self, now: Instant) -> Result<(), Duration> {
        if self.rate <= 0.0 {
            return Ok(());
        }
        lock(&self.bucket).take(self.rate, self.rate.max(1.0), now)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
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
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn v4(n: u32) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(n))
    }

    #[test]
    fn burst_then_refill_per_ip() {
        let t0 = Instant::now();
        let limiter = IpLimiter::new(2.0, 3, 1000);
        for _ in 0..3 {
            assert_eq!(limiter.check(v4(1), t0), Ok(()));
        }
        let wait = limiter.check(v4(1), t0).unwrap_err();
        assert_eq!(wait, Duration::from_millis(500));
        assert_eq!(retry_after_secs(wait), 1);
        // Another IP has its own bucket.
        assert_eq!(limiter.check(v4(2), t0), Ok(()));
        let t1 = t0 + Duration::from_millis(500);
        assert_eq!(limiter.check(v4(1), t1), Ok(()));
        assert!(limiter.check(v4(1), t1).is_err());
    }

    #[test]
    fn an_ipv6_client_counts_by_its_slash_64() {
        let t0 = Instant::now();
        let limiter = IpLimiter::new(1.0, 2, 1000);
        let a: Ipv6Addr = "2001:db8:1:2::1".parse().unwrap();
        let b: Ipv6Addr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other: Ipv6Addr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(limiter.check(a.into(), t0), Ok(()));
        assert_eq!(limiter.check(b.into(), t0), Ok(()));
        assert!(limiter.check(a.into(), t0).is_err());
        assert_eq!(limiter.check(other.into(), t0), Ok(()));
        // An IPv4-mapped address is the IPv4 client.
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(limiter.check(mapped, t0), Ok(()));
        assert_eq!(limiter.check("10.0.0.1".parse().unwrap(), t0), Ok(()));
        assert!(limiter.check("10.0.0.1".parse().unwrap(), t0).is_err());
    }

    #[test]
    fn a_hundred_thousand_ips_keep_the_table_bounded_and_the_busy_ip_limited() {
        let t0 = Instant::now();
        let capacity = 10_000;
        let limiter = IpLimiter::new(1.0, 5, capacity);
        let busy = v4(0xC000_0201);
        for _ in 0..5 {
            assert_eq!(limiter.check(busy, t0), Ok(()));
        }
        for i in 0..100_000u32 {
            let now = t0 + Duration::from_micros(u64::from(i));
            let _ = limiter.check(v4(0x0A00_0000 + i), now);
            if i % 1_000 == 0 {
                // The busy IP keeps sending, so it stays among the recently used.
                assert!(limiter.check(busy, now).is_err(), "busy IP freed at {i}");
            }
        }
        assert!(limiter.len() <= capacity, "{} buckets", limiter.len());
        assert!(limiter.len() >= capacity / 2, "{} buckets", limiter.len());
    }

    #[test]
    fn refilled_buckets_are_forgotten_first() {
        let t0 = Instant::now();
        let limiter = IpLimiter::new(1.0, 1, SHARDS);
        for i in 0..(SHARDS as u32 * 4) {
            let _ = limiter.check(v4(i), t0);
        }
        assert!(limiter.len() <= SHARDS);
    }

    #[test]
    fn global_cap_and_tiny_rates() {
        let t0 = Instant::now();
        let global = GlobalLimiter::new(3.0, t0);
        for _ in 0..3 {
            assert_eq!(global.check(t0), Ok(()));
        }
        assert!(global.check(t0).is_err());
        assert_eq!(GlobalLimiter::new(0.0, t0).check(t0), Ok(()));
        // A rate no configuration accepts still cannot make a wait panic.
        let tiny = IpLimiter::new(1e-300, 1, 10);
        assert_eq!(tiny.check(v4(1), t0), Ok(()));
        assert_eq!(tiny.check(v4(1), t0), Err(MAX_WAIT));
    }

    #[test]
    fn zero_rate_disables() {
        let limiter = IpLimiter::new(0.0, 1, 10);
        for _ in 0..10 {
            assert_eq!(limiter.check(v4(1), Instant::now()), Ok(()));
        }
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1001)), 2);
        assert_eq!(retry_after_secs(Duration::from_secs(3)), 3);
    }
}
