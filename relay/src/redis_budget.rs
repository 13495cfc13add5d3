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
//!
//! Each use of Redis (the call budget, the custom-name sets) counts its failed commands in
//! `relay_redis_failures_total{operation}` and logs once per outage: a warning at its first
//! failure after a success, a line when it answers again ([`Outage`]), so a Redis that stays
//! down costs one line, not one per request.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use redis::AsyncConnectionConfig;

use crate::telemetry;

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
    budget: Outage,
    names: Outage,
}

/// What a Redis command's outcome changes in the log of one use of Redis.
#[derive(Debug, PartialEq, Eq)]
enum Change {
    /// The first failure after a success (or since start): warn.
    Failed,
    /// The first success after a failure: say so.
    Recovered,
}

/// The log decision: a line only when the outcome differs from the one before.
fn change(was_failing: bool, ok: bool) -> Option<Change> {
    match (was_failing, ok) {
        (false, false) => Some(Change::Failed),
        (true, true) => Some(Change::Recovered),
        _ => None,
    }
}

/// One use of Redis: whether its last command failed, the metric label of its failures and
/// what its log lines say.
struct Outage {
    failing: AtomicBool,
    operation: &'static str,
    on_failure: &'static str,
    on_recovery: &'static str,
}

impl Outage {
    const fn new(
        operation: &'static str,
        on_failure: &'static str,
        on_recovery: &'static str,
    ) -> Self {
        Outage {
            failing: AtomicBool::new(false),
            operation,
            on_failure,
            on_recovery,
        }
    }

    /// Records a command's outcome: counts a failure, logs a change.
    fn record(&self, ok: bool) {
        if !ok {
            metrics::counter!(telemetry::REDIS_FAILURES, "operation" => self.operation)
                .increment(1);
        }
        match change(self.failing.swap(!ok, Ordering::SeqCst), ok) {
            Some(Change::Failed) => {
                tracing::warn!(target: "redis", operation = self.operation, "{}", self.on_failure);
            }
            Some(Change::Recovered) => {
                tracing::info!(target: "redis", operation = self.operation, "{}", self.on_recovery);
            }
            None => {}
        }
    }
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
            budget: Outage::new(
                "budget",
                "Redis cannot be reached: the call budget falls back to this instance's share until the minute ends",
                "Redis answers again: the call budget is shared from the next minute",
            ),
            names: Outage::new(
                "custom_names",
                "Redis cannot be reached: custom event names are checked against this instance's own table",
                "Redis answers again: custom event names are checked against the shared sets",
            ),
        })
    }

    /// Counts one call for `ad_account` in `minute`; the total of every instance, or `None`
    /// when Redis cannot answer now.
    pub(crate) async fn count_call(&self, ad_account: &str, minute: u64) -> Option<u64> {
        if lock(&self.resting_until).is_some_and(|until| Instant::now() < until) {
            return None;
        }
        let key = format!("app-conversions-relay:calls:{ad_account}:{minute}");
        let total = self.incr(&key).await;
        self.budget.record(total.is_some());
        if total.is_none() {
            self.rest().await;
        }
        total
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
        self.names.record(answer.is_some());
        if answer.is_none() {
            self.rest().await;
        }
        answer.map(|admitted| admitted == 1)
    }

    /// True when the last budget call to Redis failed (the budget is on the local share).
    pub(crate) fn failing(&self) -> bool {
        self.budget.failing.load(Ordering::SeqCst)
    }

    /// After a failure: Redis is left alone for [`RETRY_AFTER_FAILURE`], then reconnected.
    async fn rest(&self) {
        *lock(&self.resting_until) = Some(Instant::now() + RETRY_AFTER_FAILURE);
        *self.connection.lock().await = None;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_change_of_outcome_is_logged() {
        for (was_failing, ok, logged) in [
            (false, true, None),
            (false, false, Some(Change::Failed)),
            (true, false, None),
            (true, true, Some(Change::Recovered)),
        ] {
            assert_eq!(change(was_failing, ok), logged, "{was_failing} {ok}");
        }
    }
}
