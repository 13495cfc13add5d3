//! App lifecycle on the caller's side: which cold starts and returns to the foreground count,
//! and what was seen while collection was disabled (docs/ARCHITECTURE.md §6, §7).
//!
//! The caller's thread only notes the moment; the store worker decides install or open against
//! the install record and the install sidecar ([`crate::core::install`]), so double starts,
//! crashes, recoveries and consent given late can never produce a second install. A return to
//! the foreground missed while collection was disabled is remembered here for the process and
//! recorded as app_open when consent comes back; a missed launch is held by the worker.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use crate::core::model::{Event, EventName};
use crate::core::sync::lock;

/// The lifecycle state of one client (one process run).
#[derive(Default)]
pub struct Lifecycle {
    launched: AtomicBool,
    /// Monotonic clock time (milliseconds) the app last went to the background: a change of
    /// the wall clock during the background neither makes nor loses an app_open.
    background_since: Mutex<Option<i64>>,
    missed: Mutex<Missed>,
}

/// What was seen while collection was disabled.
#[derive(Default)]
struct Missed {
    /// The cold start itself (the worker holds it until consent).
    launch: bool,
    /// A return to the foreground that would have recorded app_open.
    open: bool,
}

/// A plain event of `name` with an optional fixed id and time.
pub fn lifecycle_event(
    name: EventName,
    event_id: Option<String>,
    event_time: Option<i64>,
) -> Event {
    Event {
        event_id,
        event_time,
        ..Event::new(name)
    }
}

impl Lifecycle {
    /// True for this process's first cold start (a second `on_launch()` in one process is
    /// ignored); notes whether collection was enabled then.
    pub fn launch(&self, collection_enabled: bool) -> bool {
        if self.launched.swap(true, Ordering::SeqCst) {
            return false;
        }
        *lock(&self.background_since) = None;
        lock(&self.missed).launch = !collection_enabled;
        true
    }

    /// Notes that the app went to the background at `now_ms`.
    pub fn background(&self, now_ms: i64) {
        *lock(&self.background_since) = Some(now_ms);
    }

    /// True when this return to the foreground at `now_ms` should record `app_open` now: the
    /// app was in the background for at least `min_background_ms` and collection is enabled.
    /// With collection disabled such a return is remembered (unless the launch itself waits).
    pub fn foreground(
        &self,
        min_background_ms: i64,
        now_ms: i64,
        collection_enabled: bool,
    ) -> bool {
        let long_enough = lock(&self.background_since)
            .take()
            .is_some_and(|since| now_ms.saturating_sub(since) >= min_background_ms);
        if long_enough && !collection_enabled {
            let mut missed = lock(&self.missed);
            missed.open = !missed.launch;
            return false;
        }
        long_enough
    }

    /// Collection was just enabled: true when a return to the foreground was missed and should
    /// record app_open now. Forgets what was missed (the worker records a missed launch).
    pub fn consent_given(&self) -> bool {
        std::mem::take(&mut *lock(&self.missed)).open
    }
}

/// The app_install event id for an install record: stable for the life of the install.
pub fn install_event_id(install_id: &str) -> String {
    format!("app_install-{install_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreground_needs_a_long_enough_background() {
        let lifecycle = Lifecycle::default();
        assert!(!lifecycle.foreground(0, 1_000, true), "no background yet");
        lifecycle.background(1_000);
        assert!(!lifecycle.foreground(30_000, 30_999, true));
        assert!(
            !lifecycle.foreground(0, 31_000, true),
            "the background was consumed"
        );
        lifecycle.background(40_000);
        assert!(lifecycle.foreground(30_000, 70_000, true));
    }

    #[test]
    fn a_foreground_missed_without_consent_is_an_open_when_consent_comes() {
        let lifecycle = Lifecycle::default();
        assert!(lifecycle.launch(true));
        assert!(!lifecycle.launch(true), "one launch per process");
        lifecycle.background(0);
        assert!(!lifecycle.foreground(30_000, 60_000, false));
        assert!(lifecycle.consent_given());
        assert!(!lifecycle.consent_given(), "recorded once");
    }

    #[test]
    fn a_missed_launch_covers_the_foregrounds_after_it() {
        let lifecycle = Lifecycle::default();
        assert!(lifecycle.launch(false));
        lifecycle.background(0);
        assert!(!lifecycle.foreground(30_000, 60_000, false));
        assert!(
            !lifecycle.consent_given(),
            "the held launch is the one event"
        );
    }
}
