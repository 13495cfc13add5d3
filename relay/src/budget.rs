//! The ad account's call budget: at most `calls_per_minute` upstream calls per ad account,
//! per wall-clock minute.
//!
//! The API allows 5,000 calls a minute per ad account; over it every device would get 429s.
//! Windows are wall-clock minutes (Unix time / 60), so every instance agrees on them without
//! talking: with Redis ([`crate::redis_budget`]) all instances count into one key per ad
//! account and minute. Without Redis, or while Redis cannot be reached, an instance spends at
//! most its share, `calls_per_minute / instances`, counting the calls it already made through
//! Redis in that minute, so a Redis outage never lets the instances together spend more than
//! the budget plus what was spent before the outage in the same minute.
//!
//! The windows live in a table built once from the configured ad accounts (the only ones a
//! device can post for), so a request never allocates here.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::redis_budget::RedisBudget;

/// Length of a budget window.
const WINDOW: Duration = Duration::from_secs(60);

/// How many calls this instance made in one minute.
#[derive(Debug, Default)]
struct Window {
    minute: u64,
    calls: u32,
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

    /// Spends one call for `ad_account` now, or says how long until the window ends.
    pub(crate) async fn spend(&self, ad_account: &str) -> Result<(), Duration> {
        let now = unix_now();
        let minute = now.as_secs() / WINDOW.as_secs();
        let until_next = WINDOW - Duration::from_millis((now.as_millis() % 60_000) as u64);
        let Some(window) = self.windows.get(ad_account) else {
            return Err(until_next);
        };
        let shared = match &self.shared {
            Some(redis) => redis.count_call(ad_account, minute).await,
            None => None,
        };
        let mut window = lock(window);
        if window.minute != minute {
            *window = Window { minute, calls: 0 };
        }
        let allowed = match shared {
            Some(total) => total <= u64::from(self.per_minute),
            None => window.calls < self.share,
        };
        if allowed {
            window.calls += 1;
            Ok(())
        } else {
            Err(until_next)
        }
    }
}

fn unix_now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
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
        let wait = budget.spend("1").await.unwrap_err();
        assert!(wait <= WINDOW && !wait.is_zero(), "{wait:?}");
        // Each ad account has its own budget; unknown accounts have none.
        assert_eq!(budget.spend("2").await, Ok(()));
        assert!(budget.spend("3").await.is_err());
    }
}
