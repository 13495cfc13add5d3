//! Sending one coalesced batch upstream and answering each device request in it.
//!
//! Before each call the ad account's budget is spent; over it, every device of the batch gets
//! 429 with a `Retry-After` past the end of the budget window plus a random spread
//! ([`crate::budget::spread_retry_after`]). The SDK keeps its events meanwhile, so nothing
//! is lost.
//!
//! The upstream's answer decides each device's answer, by the wire contract's
//! `classify_status`, the table the SDK reads too:
//! - 200 or 422: cut into per-device results ([`crate::results`]);
//! - 400 or 413 for a batch of several requests: the batch is split in halves and each half
//!   sent again, down to the single request at fault, as the SDK does with its own batches,
//!   so one bad device never fails another's events; a request alone gets the upstream's
//!   answer as it came. The splits of one batch have the SDK's budget
//!   ([`split_budget`]: enough to isolate two bad requests); past it, the groups still
//!   refused get 503 with `Retry-After` and come back in other batches;
//! - 401, 403, 404, 408, 429, 5xx: the same answer (with `Retry-After`) to every device; a
//!   429 or a run of failures also pauses the account's calls ([`crate::upstream_health`]);
//! - a status the API does not give, or a 200 or 422 without one result per event (for a
//!   device alone in its batch too): 502, which the SDK retries.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use conversions_wire::request::request_body_bytes;
use conversions_wire::{classify_status, StatusClass};
use tokio::sync::oneshot;

use crate::batch::{BatchKey, Outcome, Part};
use crate::budget::{spread_retry_after, CallBudget};
use crate::forward::{Upstream, UpstreamError};
use crate::results;
use crate::upstream_health::{retry_after_of, AnswerKind, UpstreamHealth};

type Answers<'a> = Pin<Box<dyn Future<Output = Vec<Outcome>> + Send + 'a>>;

/// Sends batches within the ad accounts' budgets.
pub(crate) struct Dispatcher {
    upstream: Arc<Upstream>,
    budget: Arc<CallBudget>,
    health: Arc<UpstreamHealth>,
}

/// Extra calls one refused batch of `parts` device requests may cost while it is split:
/// enough to isolate two bad requests (a binary search costs two calls a level), as the
/// SDK's own budget. So a batch that every device spoils costs about `4·log2(n)` calls
/// instead of `2n - 1`, each spent from the ad account's budget.
pub(crate) fn split_budget(parts: usize) -> u32 {
    let levels = usize::BITS - parts.max(1).saturating_sub(1).leading_zeros();
    4 * levels
}

impl Dispatcher {
    /// Calls `upstream` while `budget` allows and `health` has no pause.
    pub(crate) fn new(
        upstream: Arc<Upstream>,
        budget: Arc<CallBudget>,
        health: Arc<UpstreamHealth>,
    ) -> Self {
        Dispatcher {
            upstream,
            budget,
            health,
        }
    }

    /// Sends `batch` and answers each of its device requests.
    pub(crate) async fn flush(
        self: Arc<Self>,
        key: BatchKey,
        batch: Vec<(Part, oneshot::Sender<Outcome>)>,
    ) {
        let (parts, replies): (Vec<Part>, Vec<_>) = batch.into_iter().unzip();
        metrics::histogram!(crate::telemetry::BATCH_REQUESTS).record(parts.len() as f64);
        metrics::histogram!(crate::telemetry::BATCH_EVENTS)
            .record(parts.iter().map(|p| p.count).sum::<usize>() as f64);
        let splits_left = AtomicU32::new(split_budget(parts.len()));
        let outcomes = self.send(&key, &parts, &splits_left).await;
        for (reply, outcome) in replies.into_iter().zip(outcomes) {
            // A device that hung up no longer waits for its answer.
            let _ = reply.send(outcome);
        }
    }

    /// One outcome per part, in order.
    fn send<'a>(
        &'a self,
        key: &'a BatchKey,
        parts: &'a [Part],
        splits_left: &'a AtomicU32,
    ) -> Answers<'a> {
        Box::pin(async move {
            let every = |outcome: Outcome| vec![outcome; parts.len()];
            if let Some((pause, wait)) = self.health.paused(&key.ad_account) {
                return every(Outcome::Paused(pause, wait));
            }
            if let Err(wait) = self.budget.spend(&key.ad_account).await {
                return parts
                    .iter()
                    .map(|_| Outcome::OverBudget(spread_retry_after(wait)))
                    .collect();
            }
            let events: usize = parts.iter().map(|p| p.count).sum();
            let started = std::time::Instant::now();
            let sent = self
                .upstream
                .send(&key.ad_account, key.test, merge(parts))
                .await;
            log_call(key, parts.len(), events, &sent, started.elapsed());
            let reply = match sent {
                Ok(reply) => reply,
                Err(e) => {
                    self.health
                        .record(&key.ad_account, AnswerKind::Failing, None);
                    return every(match e {
                        UpstreamError::Timeout => Outcome::Timeout,
                        UpstreamError::Unreachable => Outcome::Unreachable,
                    });
                }
            };
            self.health.record(
                &key.ad_account,
                AnswerKind::of(reply.status),
                retry_after_of(reply.retry_after.as_ref()),
            );
            match classify_status(reply.status.as_u16()) {
                // Not an answer the API gives: the SDK would not know it.
                StatusClass::Unexpected => every(Outcome::Unreachable),
                StatusClass::EventResults if parts.len() == 1 => {
                    if results::holds_results_for(&reply, parts[0].count) {
                        vec![Outcome::Reply(reply)]
                    } else {
                        every(Outcome::Unreachable)
                    }
                }
                StatusClass::EventResults => {
                    let counts: Vec<usize> = parts.iter().map(|p| p.count).collect();
                    match results::split(&reply, &counts) {
                        Some(answers) => answers.into_iter().map(Outcome::Reply).collect(),
                        None => every(Outcome::Unreachable),
                    }
                }
                _ if parts.len() == 1 => vec![Outcome::Reply(reply)],
                StatusClass::BadRequest | StatusClass::TooLarge => {
                    if !take_split(splits_left) {
                        return every(Outcome::Unsplit);
                    }
                    let (left, right) = parts.split_at(parts.len() / 2);
                    let (mut left, right) = tokio::join!(
                        self.send(key, left, splits_left),
                        self.send(key, right, splits_left)
                    );
                    left.extend(right);
                    left
                }
                _ => every(Outcome::Reply(reply)),
            }
        })
    }
}

/// One log line per upstream call: the ad account, mode, size, answer and latency.
fn log_call(
    key: &BatchKey,
    requests: usize,
    events: usize,
    sent: &Result<crate::forward::UpstreamReply, UpstreamError>,
    latency: Duration,
) {
    let latency_ms = (latency.as_secs_f64() * 100_000.0).round() / 100.0;
    let status = match sent {
        Ok(reply) => reply.status.as_str().to_string(),
        Err(UpstreamError::Timeout) => "timeout".to_string(),
        Err(UpstreamError::Unreachable) => "unreachable".to_string(),
    };
    metrics::counter!(crate::telemetry::UPSTREAM_CALLS, "status" => status).increment(1);
    metrics::histogram!(crate::telemetry::UPSTREAM_LATENCY).record(latency.as_secs_f64());
    match sent {
        Ok(reply) => tracing::info!(
            target: "upstream",
            ad_account = %key.ad_account,
            test = key.test,
            requests,
            events,
            status = reply.status.as_u16(),
            latency_ms,
        ),
        Err(e) => tracing::warn!(
            target: "upstream",
            ad_account = %key.ad_account,
            test = key.test,
            requests,
            events,
            error = ?e,
            latency_ms,
        ),
    }
}

/// Takes one split (two calls) from the batch's budget; false when it is spent.
fn take_split(splits_left: &AtomicU32) -> bool {
    splits_left
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
            left.checked_sub(2)
        })
        .is_ok()
}

/// The request body of every part's events, in order.
fn merge(parts: &[Part]) -> Bytes {
    Bytes::from(request_body_bytes(parts.iter().map(|p| &p.events[..])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_split_budget_is_the_sdk_s() {
        for (parts, budget) in [(1, 0), (2, 4), (3, 8), (16, 16), (32, 20), (1000, 40)] {
            assert_eq!(split_budget(parts), budget, "{parts}");
        }
        let left = AtomicU32::new(split_budget(2));
        assert!(take_split(&left));
        assert!(take_split(&left));
        assert!(!take_split(&left));
    }

    #[test]
    fn parts_merge_into_one_body() {
        let part = |s: &'static str, count| Part {
            events: Bytes::from_static(s.as_bytes()),
            count,
        };
        let body = merge(&[part(r#"{"a":1}"#, 1), part(r#"{"b":2},{"c":3}"#, 2)]);
        let doc: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            doc,
            serde_json::json!({"data": [{"a":1}, {"b":2}, {"c":3}]})
        );
    }
}
