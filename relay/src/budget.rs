//! The ad account's call budget: at most `calls_per_minute` upstream calls per ad account,
//! per wall-clock minute.
//!
//! The API allows 5,000 calls a minute per ad account; over it every device would get 429s.
//! Windows are wall-clock minutes (Unix time / 60), so every instance agrees on them without
//! talking: with Redis ([`crate::redis_budget`]) all instances count into one key per ad
//! account and minute. Without Redis, or while Redis cannot be reached, an instance spends at
//! most its share, `calls_per_minute / instances`, counting the calls it already made through
//! Redis in that minute, so a Redis outage never lets the instances together spend more than
//! the budget plus what was spent before the outage in the same minute. After any Redis
//! failure the instance stays on its share until the minute ends, even if Redis answers
//! again: a Redis that restarted empty would otherwise count the minute from zero, and every
//! restart would add up to a whole budget more.
//!
//! The windows live in a table built once from the configured ad accounts (the only ones a
//! device can post for), so a request never allocates here. Once a call was refused in a
//! minute, the budget is known to be spent until the minute ends ([`CallBudget::spent_for`]),
//! so devices are refused at once, before their bodies are read or wait for a batch.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::limit::retry_after_secs;
use crate::redis_budget::RedisBudget;
use crate::telemetry;

/// Length of a budget window.
const WINDOW: Duration = Duration::from_secs(60);

/// Largest random delay added to an over-budget `Retry-After`, in seconds.
pub(crate) const RETRY_SPREAD_SECS: u64 = 30;

/// How many calls this instance made in one minute, whether one was refused, and whether
/// Redis failed in it.
#[derive(Debug, Default)]
struct Window {
    minute: u64,
    calls: u32,
    refused: bool,
    redis_failed: bool,
}

/// The call budget of every configured ad account.
pub(crate) struct CallBudget {
    per_minute: u32,
    share: u32,
    windows: HashMap<String, Mutex<Window>>,
    shared: Option<RedisBudget>,
}

impl CallBudget {
    /// A budget of `per_minute` calls for each of `ad_accounts`, shared by `instances`
    /// through `shared` when given.
    pub(crate) fn new<'a>(
        per_minute: u32,
        instances: u32,
        ad_accounts: impl Iterator<Item = &'a str>,
        shared: Option<RedisBudget>,
    ) -> Self {
        CallBudget {
            per_minute,
            share: per_minute / instances.max(1),
            windows: ad_accounts
                .map(|a| (a.to_string(), Mutex::new(Window::default())))
                .collect(),
            shared,
        }
    }

    /// When a call for `ad_account` was already refused this minute: how long until the
    /// window ends.
    pub(crate) fn spent_for(&self, ad_account: &str) -> Option<Duration> {
        let (minute, until_next) = window_now();
        let window = lock(self.windows.get(ad_account)?);
        (window.minute == minute && window.refused).then_some(until_next)
    }

    /// Spends one call for `ad_account` now, or says how long until the window ends.
    pub(crate) async fn spend(&self, ad_account: &str) -> Result<(), Duration> {
        let (minute, until_next) = window_now();
        let Some(window) = self.windows.get(ad_account) else {
            return Err(until_next);
        };
        let shared = match &self.shared {
            Some(redis) => redis.count_call(ad_account, minute).await,
            None => None,
        };
        let mut window = lock(window);
        if window.minute != minute {
            *window = Window {
                minute,
                ..Window::default()
            };
        }
        if shared.is_none() && self.shared.is_some() {
            window.redis_failed = true;
        }
        let allowed = match shared {
            Some(total) if !window.redis_failed => total <= u64::from(self.per_minute),
            _ => window.calls < self.share,
        };
        let used = match shared {
            Some(total) if !window.redis_failed => total.min(u64::from(u32::MAX)) as u32,
            _ => window.calls + u32::from(allowed),
        };
        let limit = match shared {
            Some(_) if !window.redis_failed => self.per_minute,
            _ => self.share,
        };
        metrics::gauge!(telemetry::BUDGET_USED, "ad_account" => ad_account.to_string())
            .set(f64::from(used.min(limit)));
        metrics::gauge!(telemetry::BUDGET_LEFT, "ad_account" => ad_account.to_string())
            .set(f64::from(limit.saturating_sub(used)));
        if let Some(redis) = &self.shared {
            metrics::gauge!(telemetry::REDIS_SHARED).set(if redis.failing() { 0.0 } else { 1.0 });
        }
        if allowed {
            window.calls += 1;
            Ok(())
        } else {
            if !window.refused {
                tracing::warn!(
                    target: "budget",
                    ad_account,
                    calls_per_minute = self.per_minute,
                    local_share = shared.is_none() || window.redis_failed,
                    "call budget spent for this minute: devices get 429 until it ends"
                );
            }
            window.refused = true;
            Err(until_next)
        }
    }
}

impl CallBudget {
    /// `None` without Redis; else whether the last Redis call worked (`"shared"`) or failed
    /// (`"fallback"`, the local share).
    pub(crate) fn redis_state(&self) -> Option<&'static str> {
        let redis = self.shared.as_ref()?;
        Some(if redis.failing() {
            "fallback"
        } else {
            "shared"
        })
    }
}

/// `Retry-After` seconds for a device refused for the budget: past the window's end, spread
/// at random over the next [`RETRY_SPREAD_SECS`] so the devices' retries do not all land in
/// the same second.
pub(crate) fn spread_retry_after(until_window_end: Duration) -> u64 {
    retry_after_secs(until_window_end) + fastrand::u64(0..=RETRY_SPREAD_SECS)
}

/// The current minute (Unix time / 60) and the time until it ends.
fn window_now() -> (u64, Duration) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let minute = now.as_secs() / WINDOW.as_secs();
    let until_next = WINDOW - Duration::from_millis((now.as_millis() % 60_000) as u64);
    (minute, until_next)
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_local_budget_stops_at_its_share_until_the_minute_ends() {
        let budget = CallBudget::new(10, 2, ["1", "2"].into_iter(), None);
        for _ in 0..5 {
            assert_eq!(budget.spend("1").await, Ok(()));
        }
        assert_eq!(budget.spent_for("1"), None);
        let wait = budget.spend("1").await.unwrap_err();
        assert!(wait <= WINDOW && !wait.is_zero(), "{wait:?}");
        assert!(budget.spent_for("1").is_some());
        assert_eq!(budget.spent_for("2"), None);
        // Each ad account has its own budget; unknown accounts have none.
        assert_eq!(budget.spend("2").await, Ok(()));
        assert!(budget.spend("3").await.is_err());
    }

    #[test]
    fn over_budget_waits_spread_past_the_window() {
        let waits: Vec<u64> = (0..200)
            .map(|_| spread_retry_after(Duration::from_millis(2500)))
            .collect();
        assert!(waits
            .iter()
            .all(|w| (3..=3 + RETRY_SPREAD_SECS).contains(w)));
        let distinct: std::collections::HashSet<_> = waits.iter().collect();
        assert!(distinct.len() > 10, "{distinct:?}");
    }
}
