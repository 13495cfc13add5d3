//! The store worker's own deadlines, on the monotonic clock: the end of a first launch's wait
//! for the tracking prompt or the install referrer, and the next try of failing storage.
//!
//! Each timer lives on the thread that owns what it times: the worker waits on its channel
//! with the earliest deadline as timeout (no deadline: it sleeps until a command comes, so an
//! idle worker never wakes). Pure and table-tested; the worker reads the clock and asks.

/// How long failing storage is left alone before the worker tries it again, milliseconds.
pub const STORAGE_RETRY_MS: i64 = 2_000;

/// What is due when the worker looks at `now_ms`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    /// The held launch's wait ended: release it.
    pub launch_hold_ended: bool,
    /// Failing storage is due for another try.
    pub storage_retry: bool,
}

/// The worker's deadlines (monotonic milliseconds).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    /// When failing storage is tried again.
    storage_retry_at: Option<i64>,
}

impl Timers {
    /// Storage failed at `now_ms`: try again after a pause (an earlier try stays).
    pub fn storage_failed(&mut self, now_ms: i64) {
        let retry = now_ms.saturating_add(STORAGE_RETRY_MS);
        self.storage_retry_at = Some(self.storage_retry_at.map_or(retry, |at| at.min(retry)));
    }

    /// Storage works again: no retry.
    pub fn storage_ok(&mut self) {
        self.storage_retry_at = None;
    }

    /// The earliest deadline, given the held launch's (`None`: nothing to wake for).
    pub fn next(&self, launch_hold_until: Option<i64>) -> Option<i64> {
        [self.storage_retry_at, launch_hold_until]
            .into_iter()
            .flatten()
            .min()
    }

    /// What is due at `now_ms`; a due storage retry is taken (the worker schedules the next
    /// one if the try fails).
    pub fn take_due(&mut self, launch_hold_until: Option<i64>, now_ms: i64) -> Due {
        let storage_retry = self.storage_retry_at.is_some_and(|at| now_ms >= at);
        if storage_retry {
            self.storage_retry_at = None;
        }
        Due {
            launch_hold_ended: launch_hold_until.is_some_and(|until| now_ms >= until),
            storage_retry,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_000_000;

    #[test]
    fn nothing_scheduled_means_no_wake_up() {
        let mut timers = Timers::default();
        assert_eq!(timers.next(None), None);
        assert_eq!(timers.take_due(None, i64::MAX), Due::default());
    }

    #[test]
    fn failing_storage_is_tried_again_after_a_pause() {
        let mut timers = Timers::default();
        timers.storage_failed(NOW);
        assert_eq!(timers.next(None), Some(NOW + STORAGE_RETRY_MS));
        timers.storage_failed(NOW + 500);
        assert_eq!(
            timers.next(None),
            Some(NOW + STORAGE_RETRY_MS),
            "the earlier try stays"
        );
        assert_eq!(
            timers.take_due(None, NOW + STORAGE_RETRY_MS - 1),
            Due::default()
        );
        let due = timers.take_due(None, NOW + STORAGE_RETRY_MS);
        assert!(due.storage_retry);
        assert_eq!(
            timers.next(None),
            None,
            "taken: the next try is scheduled on failure"
        );
        timers.storage_failed(NOW);
        timers.storage_ok();
        assert_eq!(timers.next(None), None, "storage works again");
    }

    #[test]
    fn the_earliest_deadline_wakes_the_worker() {
        // (storage retry scheduled at, launch hold until, the wake-up)
        let table = [
            (None, Some(NOW + 60_000), Some(NOW + 60_000)),
            (Some(NOW), Some(NOW + 60_000), Some(NOW + STORAGE_RETRY_MS)),
            (Some(NOW), Some(NOW + 1_000), Some(NOW + 1_000)),
            (Some(NOW), None, Some(NOW + STORAGE_RETRY_MS)),
        ];
        for (failed_at, hold, wake) in table {
            let mut timers = Timers::default();
            if let Some(at) = failed_at {
                timers.storage_failed(at);
            }
            assert_eq!(timers.next(hold), wake, "{failed_at:?} {hold:?}");
        }
    }

    #[test]
    fn a_held_launch_is_released_at_its_deadline() {
        let mut timers = Timers::default();
        let hold = Some(NOW + 60_000);
        assert!(!timers.take_due(hold, NOW + 59_999).launch_hold_ended);
        assert!(timers.take_due(hold, NOW + 60_000).launch_hold_ended);
    }
}
