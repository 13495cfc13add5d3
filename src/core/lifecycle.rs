//! App lifecycle: `app_install` once per install and `app_open` on later launches and on
//! returns to the foreground after a long enough time in the background (ARCHITECTURE §7).
//!
//! The caller's thread only builds the candidate events; the store worker decides install or
//! open against the install record in one transaction, so double starts, crashes between
//! recording and delivery, and reopened databases can never produce a second install.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::core::error::Result;
use crate::core::event_builder::{build_event, TrackContext};
use crate::core::model::{Event, EventName};
use crate::core::shared::lock;
use crate::core::worker::Launch;

/// The lifecycle state of one client (one process run).
#[derive(Default)]
pub struct Lifecycle {
    launched: AtomicBool,
    background_since: Mutex<Option<Instant>>,
}

/// A plain event of `name` with an optional fixed id.
pub fn lifecycle_event(name: EventName, event_id: Option<String>) -> Event {
    Event {
        name,
        custom_event_name: None,
        event_id,
        event_time: None,
        event_source_url: None,
        user_data: None,
        custom_data: None,
    }
}

impl Lifecycle {
    /// The launch to record for this process's cold start, or `None` when this client already
    /// saw one (a second `on_launch()` in one process is ignored).
    pub fn launch(
        &self,
        context: &TrackContext,
        install_window: Duration,
        now: i64,
    ) -> Result<Option<Launch>> {
        if self.launched.swap(true, Ordering::SeqCst) {
            return Ok(None);
        }
        *lock(&self.background_since) = None;
        let install_id = uuid::Uuid::new_v4().to_string();
        let install_event =
            lifecycle_event(EventName::AppInstall, Some(install_event_id(&install_id)));
        let existing_user = context.app.first_install_time.is_some_and(|installed| {
            now.saturating_sub(installed) > install_window.as_secs() as i64
        });
        Ok(Some(Launch {
            install: build_event(&install_event, context, now)?,
            install_id,
            open: build_event(&lifecycle_event(EventName::AppOpen, None), context, now)?,
            existing_user,
        }))
    }

    /// Notes that the app went to the background.
    pub fn background(&self) {
        *lock(&self.background_since) = Some(Instant::now());
    }

    /// True when this return to the foreground should record `app_open`.
    pub fn foreground(&self, min_background: Duration) -> bool {
        lock(&self.background_since)
            .take()
            .is_some_and(|since| since.elapsed() >= min_background)
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
        assert!(!lifecycle.foreground(Duration::ZERO), "no background yet");
        lifecycle.background();
        assert!(!lifecycle.foreground(Duration::from_secs(30)));
        assert!(
            !lifecycle.foreground(Duration::ZERO),
            "the background was consumed"
        );
        lifecycle.background();
        assert!(lifecycle.foreground(Duration::ZERO));
    }
}
