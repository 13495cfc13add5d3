//! Sending one coalesced batch upstream and answering each device request in it.
//!
//! Before each call the ad account's budget is spent; over it, every device of the batch gets
//! 429 with a `Retry-After` past the end of the budget window plus a random spread
//! ([`crate::budget::spread_retry_after`]). The SDK keeps its events meanwhile, so nothing
//! is lost.
//!
//! The upstream's answer decides each device's answer:
//! - 200 or 422: cut into per-device results ([`crate::results`]);
//! - 400 or 413 for a batch of several requests: the batch is split in halves and each half
//!   sent again, down to the single request at fault, as the SDK does with its own batches,
//!   so one bad device never fails another's events; a request alone gets the upstream's
//!   answer as it came;
//! - 401, 403, 404, 408, 429, 5xx: the same answer (with `Retry-After`) to every device;
//! - any other status, or an answer that cannot be cut: 502, which the SDK retries.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::body::Bytes;
use axum::http::StatusCode;
use tokio::sync::oneshot;

use crate::budget::{spread_retry_after, CallBudget};
use crate::coalesce::BatchKey;
use crate::forward::{is_expected_status, Upstream, UpstreamError, UpstreamReply};
use crate::results;

/// One device request's events inside a batch.
#[derive(Debug, Clone)]
pub(crate) struct Part {
    /// The events as JSON array members without the brackets: `{...},{...}`.
    pub events: Bytes,
    /// How many events.
    pub count: usize,
}

/// What a device request is answered.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    /// The upstream's answer for this device (its own slice, or the batch's shared answer).
    Reply(UpstreamReply),
    /// The ad account's budget is spent: 429 with this `Retry-After`, in seconds.
    OverBudget(u64),
    /// The upstream did not answer in time (504).
    Timeout,
    /// The upstream could not be reached, or answered something unusable (502).
    Unreachable,
}

type Answers<'a> = Pin<Box<dyn Future<Output = Vec<Outcome>> + Send + 'a>>;

/// Sends batches within the ad accounts' budgets.
pub(crate) struct Dispatcher {
    upstream: Arc<Upstream>,
    budget: Arc<CallBudget>,
}

impl Dispatcher {
    /// Calls `upstream` while `budget` allows.
    pub(crate) fn new(upstream: Arc<Upstream>, budget: Arc<CallBudget>) -> Self {
        Dispatcher { upstream, budget }
    }

    /// Sends `batch` and answers each of its device requests.
    pub(crate) async fn flush(
        self: Arc<Self>,
        key: BatchKey,
        batch: Vec<(Part, oneshot::Sender<Outcome>)>,
    ) {
        let (parts, replies): (Vec<Part>, Vec<_>) = batch.into_iter().unzip();
        let outcomes = self.send(&key, &parts).await;
        for (reply, outcome) in replies.into_iter().zip(outcomes) {
            // A device that hung up no longer waits for its answer.
            let _ = reply.send(outcome);
        }
    }

    /// One outcome per part, in order.
    fn send<'a>(&'a self, key: &'a BatchKey, parts: &'a [Part]) -> Answers<'a> {
        Box::pin(async move {
            let every = |outcome: Outcome| vec![outcome; parts.len()];
            if let Err(wait) = self.budget.spend(&key.ad_account).await {
                return parts
                    .iter()
                    .map(|_| Outcome::OverBudget(spread_retry_after(wait)))
                    .collect();
            }
            let reply = match self
                .upstream
                .send(&key.ad_account, key.test, merge(parts))
                .await
            {
                Ok(reply) => reply,
                Err(UpstreamError::Timeout) => return every(Outcome::Timeout),
                Err(UpstreamError::Unreachable) => return every(Outcome::Unreachable),
            };
            if !is_expected_status(reply.status) {
                return every(Outcome::Unreachable);
            }
            if parts.len() == 1 {
                return vec![Outcome::Reply(reply)];
            }
            match reply.status {
                StatusCode::BAD_REQUEST | StatusCode::PAYLOAD_TOO_LARGE => {
                    let (left, right) = parts.split_at(parts.len() / 2);
                    let (mut left, right) =
                        tokio::join!(self.send(key, left), self.send(key, right));
                    left.extend(right);
                    left
                }
                StatusCode::OK | StatusCode::UNPROCESSABLE_ENTITY => {
                    let counts: Vec<usize> = parts.iter().map(|p| p.count).collect();
                    match results::split(&reply, &counts) {
                        Some(answers) => answers.into_iter().map(Outcome::Reply).collect(),
                        None => every(Outcome::Unreachable),
                    }
                }
                _ => every(Outcome::Reply(reply)),
            }
        })
    }
}

/// `{"data":[` + each part's events + `]}`.
fn merge(parts: &[Part]) -> Bytes {
    let len = parts.iter().map(|p| p.events.len() + 1).sum::<usize>() + 10;
    let mut body = Vec::with_capacity(len);
    body.extend_from_slice(b"{\"data\":[");
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(&part.events);
    }
    body.extend_from_slice(b"]}");
    Bytes::from(body)
}

#[cfg(test)]
mod tests {
    use super::*;

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
