//! Pausing calls for an ad account the upstream is refusing or failing: an upstream 429
//! stops calls until its `Retry-After`, and a run of 5xx answers (or timeouts, or failed
//! connections) stops them for a growing back-off.
//!
//! Without this, every device request of a minute kept calling an upstream that had said
//! "wait 30 s", and kept hammering one that was down. While an account is paused, devices are
//! answered locally (429 after an upstream 429, 503 after failures) with a `Retry-After`, and
//! the SDK keeps their events, so nothing is lost. The decisions are pure functions of the
//! account's [`Health`], the answer and the time ([`after_answer`], [`paused`]), tested as a
//! table; [`UpstreamHealth`] only keeps one `Health` per configured ad account.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::http::{HeaderValue, StatusCode};

/// Failed answers in a row before calls pause.
pub(crate) const FAILURE_RUN: u32 = 3;

/// Pause after an upstream 429 without a usable `Retry-After`.
const DEFAULT_RATE_LIMIT_PAUSE: Duration = Duration::from_secs(60);

/// Longest pause, whatever the upstream's `Retry-After` says.
const MAX_PAUSE: Duration = Duration::from_secs(600);

/// Longest back-off after failures without a `Retry-After`.
const MAX_FAILURE_BACKOFF: Duration = Duration::from_secs(60);

/// What kind of answer a call got, as far as pausing goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AnswerKind {
    /// Any answer that is neither of the others: the upstream is working.
    Working,
    /// 429.
    RateLimited,
    /// 5xx, a timeout, or no answer at all.
    Failing,
}

impl AnswerKind {
    /// The kind of an upstream status.
    pub(crate) fn of(status: StatusCode) -> Self {
        if status == StatusCode::TOO_MANY_REQUESTS {
            AnswerKind::RateLimited
        } else if status.is_server_error() {
            AnswerKind::Failing
        } else {
            AnswerKind::Working
        }
    }
}

/// Why calls for an account are paused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pause {
    /// The upstream answered 429: devices get 429.
    RateLimited,
    /// The upstream keeps failing: devices get 503.
    Failing,
}

/// One ad account's recent answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Health {
    failures_in_a_row: u32,
    paused: Option<(Pause, Instant)>,
}

/// The account's health after an answer of `kind` (with the upstream's `Retry-After`, if
/// any) at `now`.
pub(crate) fn after_answer(
    health: Health,
    kind: AnswerKind,
    retry_after: Option<Duration>,
    now: Instant,
) -> Health {
    match kind {
        AnswerKind::Working => Health::default(),
        AnswerKind::RateLimited => Health {
            failures_in_a_row: 0,
            paused: Some((
                Pause::RateLimited,
                now + retry_after
                    .unwrap_or(DEFAULT_RATE_LIMIT_PAUSE)
                    .min(MAX_PAUSE),
            )),
        },
        AnswerKind::Failing => {
            let failures = health.failures_in_a_row.saturating_add(1);
            let paused = (failures >= FAILURE_RUN).then(|| {
                let backoff = retry_after.unwrap_or_else(|| failure_backoff(failures));
                (Pause::Failing, now + backoff.min(MAX_PAUSE))
            });
            Health {
                failures_in_a_row: failures,
                paused: paused.or(health.paused),
            }
        }
    }
}

/// 1 s after [`FAILURE_RUN`] failures, doubling with each further one, at most
/// [`MAX_FAILURE_BACKOFF`].
fn failure_backoff(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(FAILURE_RUN).min(6);
    Duration::from_secs(1u64 << doublings).min(MAX_FAILURE_BACKOFF)
}

/// Why and for how long calls are paused at `now`, if they are.
pub(crate) fn paused(health: &Health, now: Instant) -> Option<(Pause, Duration)> {
    let (pause, until) = health.paused?;
    (until > now).then(|| (pause, until - now))
}

/// A `Retry-After` in seconds; an HTTP date or anything else gives `None`.
pub(crate) fn retry_after_of(value: Option<&HeaderValue>) -> Option<Duration> {
    let secs: u64 = value?.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(secs))
}

/// The health of every configured ad account.
pub(crate) struct UpstreamHealth {
    accounts: HashMap<String, Mutex<Health>>,
}

impl UpstreamHealth {
    /// Healthy `ad_accounts`.
    pub(crate) fn new<'a>(ad_accounts: impl Iterator<Item = &'a str>) -> Self {
        UpstreamHealth {
            accounts: ad_accounts
                .map(|a| (a.to_string(), Mutex::new(Health::default())))
                .collect(),
        }
    }

    /// Records an answer for `ad_account`.
    pub(crate) fn record(&self, ad_account: &str, kind: AnswerKind, retry_after: Option<Duration>) {
        if let Some(health) = self.accounts.get(ad_account) {
            let mut health = lock(health);
            *health = after_answer(*health, kind, retry_after, Instant::now());
        }
    }

    /// Why and for how long calls for `ad_account` are paused now, if they are.
    pub(crate) fn paused(&self, ad_account: &str) -> Option<(Pause, Duration)> {
        paused(&lock(self.accounts.get(ad_account)?), Instant::now())
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

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn answers_decide_the_pause() {
        let t0 = Instant::now();
        let fresh = Health::default();
        let failing = |n: u32| Health {
            failures_in_a_row: n,
            paused: None,
        };
        use AnswerKind::*;
        // (before, answer, Retry-After, expected pause from t0)
        type Row = (
            Health,
            AnswerKind,
            Option<Duration>,
            Option<(Pause, Duration)>,
        );
        let table: [Row; 9] = [
            (fresh, Working, None, None),
            (
                fresh,
                RateLimited,
                Some(S(30)),
                Some((Pause::RateLimited, S(30))),
            ),
            (fresh, RateLimited, None, Some((Pause::RateLimited, S(60)))),
            (
                fresh,
                RateLimited,
                Some(S(86_400)),
                Some((Pause::RateLimited, S(600))),
            ),
            (fresh, Failing, None, None),
            (failing(1), Failing, None, None),
            (failing(2), Failing, None, Some((Pause::Failing, S(1)))),
            (failing(5), Failing, None, Some((Pause::Failing, S(8)))),
            (
                failing(2),
                Failing,
                Some(S(20)),
                Some((Pause::Failing, S(20))),
            ),
        ];
        for (before, kind, retry_after, expected) in table {
            let after = after_answer(before, kind, retry_after, t0);
            assert_eq!(paused(&after, t0), expected, "{before:?} {kind:?}");
        }
        assert_eq!(failure_backoff(100), MAX_FAILURE_BACKOFF);
    }

    #[test]
    fn a_working_answer_ends_the_run_and_pauses_end_in_time() {
        let t0 = Instant::now();
        let mut health = Health::default();
        for _ in 0..FAILURE_RUN {
            health = after_answer(health, AnswerKind::Failing, None, t0);
        }
        assert!(paused(&health, t0).is_some());
        assert_eq!(paused(&health, t0 + S(1)), None);
        health = after_answer(health, AnswerKind::Working, None, t0 + S(1));
        assert_eq!(health, Health::default());
    }

    #[test]
    fn statuses_and_retry_after_values() {
        assert_eq!(AnswerKind::of(StatusCode::OK), AnswerKind::Working);
        assert_eq!(AnswerKind::of(StatusCode::BAD_REQUEST), AnswerKind::Working);
        assert_eq!(
            AnswerKind::of(StatusCode::TOO_MANY_REQUESTS),
            AnswerKind::RateLimited
        );
        assert_eq!(AnswerKind::of(StatusCode::BAD_GATEWAY), AnswerKind::Failing);
        let value = |s: &'static str| HeaderValue::from_static(s);
        assert_eq!(retry_after_of(Some(&value(" 30 "))), Some(S(30)));
        assert_eq!(
            retry_after_of(Some(&value("Wed, 21 Oct 2015 07:28:00 GMT"))),
            None
        );
        assert_eq!(retry_after_of(None), None);
    }

    #[test]
    fn unknown_accounts_are_never_paused() {
        let health = UpstreamHealth::new(["1"].into_iter());
        health.record("2", AnswerKind::RateLimited, Some(S(30)));
        assert_eq!(health.paused("2"), None);
        health.record("1", AnswerKind::RateLimited, Some(S(30)));
        assert_eq!(health.paused("1").map(|p| p.0), Some(Pause::RateLimited));
    }
}
