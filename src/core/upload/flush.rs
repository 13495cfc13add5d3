//! When a caller waiting in `flush()` gets its answer: a pure function of what the uploader
//! knows after a pass.
//!
//! A flush registers only after the store worker committed every event tracked before it,
//! and carries the worker's answer: the highest row id committed by then (its watermark). Row
//! ids only grow, so the flush is done once the uploader has seen every due row up to the
//! watermark leave the queue or get its outcome stored, i.e. once its `drained_through` mark
//! reaches the watermark.

use crate::core::error::StoreFailure;
use crate::core::model::FlushReport;

/// What the uploader knows at the end of a pass.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    /// Clock time, Unix milliseconds.
    pub now_ms: i64,
    /// Every row up to this id was sent and its outcome stored, or is gone from the queue.
    pub drained_through: i64,
    /// Delivery is held back (backoff or pause) until then.
    pub held_until: Option<i64>,
    /// A backoff reset (network back, new token) is waiting for the next pass: the hold ends.
    pub reset_pending: bool,
    /// Nothing more will be sent for now: collection is disabled or the SDK is stopping.
    pub stopped: bool,
    /// A store call failed in this pass.
    pub storage_error: Option<StoreFailure>,
}

/// Why a waiting flush is answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlushAnswer {
    /// Every event tracked before the flush got its outcome.
    Done,
    /// A backoff or pause lasts past the caller's deadline: waiting would achieve nothing.
    HeldBack,
    /// Collection is disabled or the SDK is stopping.
    Stopped,
    /// The caller's deadline passed.
    TimedOut,
    /// The buffer failed while the caller waited.
    StorageFailed(StoreFailure),
}

/// The answer for a flush with `watermark` and `deadline_ms`, or `None` while it should wait.
pub fn answer(watermark: i64, deadline_ms: i64, progress: &Progress) -> Option<FlushAnswer> {
    if watermark <= progress.drained_through {
        return Some(FlushAnswer::Done);
    }
    if let Some(error) = &progress.storage_error {
        return Some(FlushAnswer::StorageFailed(error.clone()));
    }
    if progress.stopped {
        return Some(FlushAnswer::Stopped);
    }
    let held_past_deadline = progress.held_until.is_some_and(|until| until > deadline_ms);
    if held_past_deadline && !progress.reset_pending {
        return Some(FlushAnswer::HeldBack);
    }
    (progress.now_ms >= deadline_ms).then_some(FlushAnswer::TimedOut)
}

/// The report of a flush that began at delivery totals `start`, answered at `totals` with
/// `remaining` events still waiting: the one place a [`FlushReport`] is assembled, whether
/// the uploader answers or the caller stops waiting first.
pub fn report(
    start: &FlushReport,
    totals: &FlushReport,
    remaining: u64,
    timed_out: bool,
) -> FlushReport {
    FlushReport {
        sent: totals.sent.saturating_sub(start.sent),
        processed: totals.processed.saturating_sub(start.processed),
        failed: totals.failed.saturating_sub(start.failed),
        remaining,
        last_status: totals.last_status,
        timed_out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_000_000;

    fn progress() -> Progress {
        Progress {
            now_ms: NOW,
            drained_through: 10,
            ..Default::default()
        }
    }

    #[test]
    fn done_once_the_watermark_is_drained() {
        assert_eq!(answer(10, NOW + 5, &progress()), Some(FlushAnswer::Done));
        assert_eq!(
            answer(0, NOW + 5, &progress()),
            Some(FlushAnswer::Done),
            "nothing tracked"
        );
        assert_eq!(
            answer(11, NOW + 5, &progress()),
            None,
            "a newer row still waits"
        );
    }

    #[test]
    fn a_hold_past_the_deadline_answers_at_once_unless_a_reset_is_pending() {
        let held = Progress {
            held_until: Some(NOW + 60_000),
            ..progress()
        };
        assert_eq!(answer(11, NOW + 5_000, &held), Some(FlushAnswer::HeldBack));
        assert_eq!(
            answer(11, NOW + 90_000, &held),
            None,
            "the retry comes in time"
        );
        let reset = Progress {
            reset_pending: true,
            ..held
        };
        assert_eq!(answer(11, NOW + 5_000, &reset), None);
    }

    #[test]
    fn a_report_counts_what_happened_since_the_flush_began() {
        let start = FlushReport {
            sent: 5,
            processed: 4,
            failed: 1,
            ..Default::default()
        };
        let totals = FlushReport {
            sent: 9,
            processed: 7,
            failed: 2,
            last_status: Some(200),
            ..Default::default()
        };
        let expected = FlushReport {
            sent: 4,
            processed: 3,
            failed: 1,
            remaining: 6,
            last_status: Some(200),
            timed_out: true,
        };
        assert_eq!(report(&start, &totals, 6, true), expected);
    }

    #[test]
    fn the_deadline_stopping_and_storage_failures_answer() {
        assert_eq!(answer(11, NOW, &progress()), Some(FlushAnswer::TimedOut));
        let stopped = Progress {
            stopped: true,
            ..progress()
        };
        assert_eq!(answer(11, NOW + 5, &stopped), Some(FlushAnswer::Stopped));
        let failed = Progress {
            storage_error: Some(StoreFailure::Storage("disk is full".into())),
            ..progress()
        };
        assert_eq!(
            answer(11, NOW + 5, &failed),
            Some(FlushAnswer::StorageFailed(StoreFailure::Storage(
                "disk is full".into()
            )))
        );
        assert_eq!(
            answer(10, NOW + 5, &failed),
            Some(FlushAnswer::Done),
            "its rows got out"
        );
    }
}
