//! What a batch is made of: its key, the device requests (parts) in it, and what each part is
//! answered.
//!
//! The coalescer ([`crate::coalesce`]) gathers parts under a key and the dispatcher
//! ([`crate::dispatch`]) sends them and answers each; both speak these types, which sit
//! below both so neither imports the other's (the coalescer hands batches down to the
//! dispatcher; nothing points back up).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use conversions_wire::{MAX_EVENTS_PER_REQUEST, TEST_MODE_EVENTS};

use crate::forward::UpstreamReply;
use crate::upstream_health::Pause;

/// Which batch a device request joins.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct BatchKey {
    /// The ad account of the request's path (its app token is scoped to it).
    pub ad_account: Arc<str>,
    /// `?test=true`.
    pub test: bool,
}

impl BatchKey {
    /// Most events one upstream call for this key carries.
    pub(crate) fn max_events(&self) -> usize {
        if self.test {
            // The API processes only the first 20 events of a test request.
            TEST_MODE_EVENTS
        } else {
            MAX_EVENTS_PER_REQUEST
        }
    }
}

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
    /// Calls for the ad account are paused after upstream 429s or failures, for this long.
    Paused(Pause, Duration),
    /// The upstream refused a group the split budget could not take apart: 503, try again.
    Unsplit,
    /// The upstream did not answer in time (504).
    Timeout,
    /// The upstream could not be reached, or answered something unusable (502).
    Unreachable,
}
