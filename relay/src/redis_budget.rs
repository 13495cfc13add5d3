//! The call budget shared by several instances through Redis.
//!
//! One counter per ad account and minute, `app-conversions-relay:calls:{ad_account}:{minute}`,
//! incremented and given a two-minute expiry in one `MULTI`/`EXEC`, so every instance sees
//! the same total and the keys clean themselves up. Redis is on the path of every upstream
//! call, not of every device request (batches are coalesced first), so one round trip per
//! call is cheap.
//!
//! Redis failing must not stall the relay: connecting and each command have short deadlines,
//! and after a failure Redis is left alone for [`RETRY_AFTER_FAILURE`], during which
//! [`RedisBudget::count_call`] answers `None` at once and the caller falls back to its
//! per-instance share. The URL may hold a password, so no error text that could contain it
//! is kept or logged.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use redis::AsyncConnectionConfig;

/// Deadline for connecting to Redis and for each command.
const REDIS_DEADLINE: Duration = Duration::from_millis(250);

/// How long Redis is not asked again after a failure.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(1);

/// Seconds a minute's counter is kept.
const KEY_TTL_SECS: u64 = 120;

/// Admits ARGV[1] into the set KEYS[1] if it is there or the set holds fewer than ARGV[2].
const ADMIT_NAME: &str = r"
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 1 end
if redis.call('SCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('SADD', KEYS[1], ARGV[1])
  return 1
end
return 0
";

/// A Redis connection for the shared budget, made on first use and remade after failures.
pub(crate) struct RedisBudget {
    client: redis::Client,
    connection: tokio::sync::Mutex<Option<MultiplexedConnection>>,
    resting_until: Mutex<Option<Instant>>,
    last_failed: AtomicBool,
}

impl RedisBudget {
    /// A budget counter on `url` (`redis://host:port/db`). Does not connect yet.
    pub(crate) fn new(url: &str) -> Result<Self, String> {
        let client = redis::Client::open(url)
            .map_err(|_| "redis_url: not a redis:// URL (value not shown)".to_string())?;
        Ok(RedisBudget {
            client,
            connection: tokio::sync::Mutex::new(None),
            resting_until: Mutex::new(None),
            last_failed: AtomicBool::new(false),
        })
    }

    /// Counts one call for `ad_account` in `minute`; the total of every instance, or `None`
    /// when Redis cannot answer now.
    pub(crate) async fn count_call(&self, ad_account: &str, minute: u64) -> Option<u64> {
        if lock(&self.resting_until).is_some_and(|until| Instant::now() < until) {
            return None;
        }
        let key = format!("app-conversions-relay:calls:{ad_account}:{minute}");
        match self.incr(&key).await {
            Some(total) => {
                if self.last_failed.swap(false, Ordering::SeqCst) {
                    tracing::info!(
                        target: "redis",
                        "Redis answers again: the call budget is shared from the next minute"
                    );
                }
                Some(total)
            }
            None => {
                if !self.last_failed.swap(true, Ordering::SeqCst) {
                    tracing::warn!(
                        target: "redis",
                        "Redis cannot be reached: the call budget falls back to this instance's share until the minute ends"
                    );
                }
                *lock(&self.resting_until) = Some(Instant::now() + RETRY_AFTER_FAILURE);
                *self.connection.lock().await = None;
                None
            }
        }
    }

    /// Whether `name` may be one of `ad_account`'s custom event names: already in its set, or
    /// added because the set holds fewer than `max`, in one script so instances cannot race
    /// past `max`. The set never expires (an advertiser's names do not). `None` when Redis
    /// cannot answer now.
    pub(crate) async fn admit_name(
        &self,
        ad_account: &str,
        name: &str,
        max: usize,
    ) -> Option<bool> {
        if lock(&self.resting_until).is_some_and(|until| Instant::now() < until) {
            return None;
        }
        let key = format!("app-conversions-relay:custom-names:{ad_account}");
        let answer = match self.connection().await {
            Some(mut connection) => {
                let mut eval = redis::cmd("EVAL");
                eval.arg(ADMIT_NAME).arg(1).arg(&key).arg(name).arg(max);
                let command = eval.query_async::<i64>(&mut connection);
                tokio::time::timeout(REDIS_DEADLINE, command)
                    .await
                    .ok()
                    .and_then(Result::ok)
            }
            None => None,
        };
        if answer.is_none() {
            *lock(&self.resting_until) = Some(Instant::now() + RETRY_AFTER_FAILURE);
            *self.connection.lock().await = None;
        }
        answer.map(|admitted| admitted == 1)
    }

    /// True when the last call to Redis failed (the budget is on the local share).
    pub(crate) fn failing(&self) -> bool {
        self.last_failed.load(Ordering::SeqCst)
    }

    async fn incr(&self, key: &str) -> Option<u64> {
        let mut connection = self.connection().await?;
        let mut pipe = redis::pipe();
        pipe.atomic()
            .incr(key, 1u64)
            .expire(key, KEY_TTL_SECS as i64)
            .ignore();
        let command = pipe.query_async::<(u64,)>(&mut connection);
        match tokio::time::timeout(REDIS_DEADLINE, command).await {
            Ok(Ok((total,))) => Some(total),
            _ => None,
        }
    }

    /// The open connection, or a new one.
    async fn connection(&self) -> Option<MultiplexedConnection> {
        let mut slot = self.connection.lock().await;
        if let Some(connection) = slot.as_ref() {
            return Some(connection.clone());
        }
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(REDIS_DEADLINE))
            .set_response_timeout(Some(REDIS_DEADLINE));
        let connect = self
            .client
            .get_multiplexed_async_connection_with_config(&config);
        let connection = tokio::time::timeout(REDIS_DEADLINE * 2, connect)
            .await
            .ok()?
            .ok()?;
        *slot = Some(connection.clone());
        Some(connection)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}
