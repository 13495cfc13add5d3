//! App lifecycle: `app_install` once per install and `app_open` on later launches and on
//! returns to the foreground after a long enough time in the background (ARCHITECTURE §7).
//!
//! The caller's thread only builds the candidate events; the store worker decides install or
//! open against the install record in one transaction, so double starts, crashes between
//! recording and delivery, and reopened databases can never produce a second install.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use crate::core::error::Result;
use crate::core::event_builder::{build_event, TrackContext};
use crate::core::model::{Event, EventName};
use crate::core::sync::lock;
use crate::core::worker::Launch;

/// The lifecycle state of one client (one process run).
#[derive(Default)]
pub struct Lifecycle {
    launched: AtomicBool,
    /// Clock time (Unix milliseconds) the app last went to the background.
    background_since: Mutex<Option<i64>>,
}

/// A plain event of `name` with an optional fixed id.
pub fn lifecycle_event(name: EventName, event_id: Option<String>) -> Event {
    Event {
        event_id,
        ..Event::new(name)
    }
}

impl Lifecycle {
    /// The launch to record for this process's cold start, or `None` when this client already
    /// saw one (a second `on_launch()` in one process is ignored).
    pub fn launch(
        &self,
        context: &TrackContext,
        install_window_secs: i64,
        now: i64,
    ) -> Result<Option<Launch>> {
        if self.launched.swap(true, Ordering::SeqCst) {
            return Ok(None);
        }
        *lock(&self.background_since) = None;
        let install_id = uuid::Uuid::new_v4().to_string();
        let install_event =
            lifecycle_event(EventName::AppInstall, Some(install_event_id(&install_id)));
        let existing_user = context
            .app
            .first_install_time
            .is_some_and(|installed| now.saturating_sub(installed) > install_window_secs);
        Ok(Some(Launch {
            install: build_event(&install_event, context, now)?,
            install_id,
            open: build_event(&lifecycle_event(EventName::AppOpen, None), context, now)?,
            existing_user,
        }))
    }

    /// Notes that the app went to the background at `now_ms`.
    pub fn background(&self, now_ms: i64) {
        *lock(&self.background_since) = Some(now_ms);
    }

    /// True when this return to the foreground at `now_ms` should record `app_open`: the app
    /// was in the background for at least `min_background_ms`.
    pub fn foreground(&self, min_background_ms: i64, now_ms: i64) -> bool {
        lock(&self.background_since)
            .take()
            .is_some_and(|since| now_ms.saturating_sub(since) >= min_background_ms)
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
        assert!(!lifecycle.foreground(0, 1_000), "no background yet");
        lifecycle.background(1_000);
        assert!(!lifecycle.foreground(30_000, 30_999));
        assert!(
            !lifecycle.foreground(0, 31_000),
            "the background was consumed"
        );
        lifecycle.background(40_000);
        assert!(lifecycle.foreground(30_000, 70_000));
    }
}
